using Incubator.Domain.Accounts;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Incubator.Domain.Data.Configurations;

internal sealed class AppUserConfiguration : IEntityTypeConfiguration<AppUser>
{
    public void Configure(EntityTypeBuilder<AppUser> b)
    {
        b.Property(u => u.DisplayName).HasMaxLength(100);
        b.Property(u => u.PreferredCulture).HasMaxLength(16);
    }
}

internal sealed class ApiTokenConfiguration : IEntityTypeConfiguration<ApiToken>
{
    public void Configure(EntityTypeBuilder<ApiToken> b)
    {
        b.Property(t => t.UserId).HasMaxLength(450).IsRequired();
        b.Property(t => t.Name).HasMaxLength(100).IsRequired();
        b.Property(t => t.Prefix).HasMaxLength(16).IsRequired();
        b.Property(t => t.Hash).HasMaxLength(64).IsRequired();
        b.HasIndex(t => t.Hash).IsUnique();
        b.HasIndex(t => t.UserId);
        b.HasOne<AppUser>().WithMany().HasForeignKey(t => t.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class SiteSettingsConfiguration : IEntityTypeConfiguration<SiteSettings>
{
    public void Configure(EntityTypeBuilder<SiteSettings> b)
    {
        b.Property(s => s.Id).ValueGeneratedNever();
        b.Property(s => s.Registration).HasConversion<string>().HasMaxLength(16);
        b.Property(s => s.UpdatedById).HasMaxLength(450);
    }
}

internal sealed class SignInFailureConfiguration : IEntityTypeConfiguration<SignInFailure>
{
    public void Configure(EntityTypeBuilder<SignInFailure> b)
    {
        b.Property(f => f.Address).HasMaxLength(64).IsRequired();
        b.Property(f => f.AccountKey).HasMaxLength(64).IsRequired();
        b.HasIndex(f => new { f.Address, f.At });
        b.HasIndex(f => new { f.AccountKey, f.At });
        b.HasIndex(f => f.At);
    }
}
