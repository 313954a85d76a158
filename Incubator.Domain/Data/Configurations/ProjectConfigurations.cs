using Incubator.Domain.Accounts;
using Incubator.Domain.Projects;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Incubator.Domain.Data.Configurations;

internal sealed class ProjectConfiguration : IEntityTypeConfiguration<Project>
{
    public void Configure(EntityTypeBuilder<Project> b)
    {
        b.Property(p => p.Name).HasMaxLength(ProjectRules.MaxNameLength).IsRequired();
        b.Property(p => p.Description).HasMaxLength(ProjectRules.MaxDescriptionLength);
        b.Property(p => p.CreatedById).HasMaxLength(450);
        b.HasMany(p => p.Members).WithOne(m => m.Project).HasForeignKey(m => m.ProjectId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class ProjectMemberConfiguration : IEntityTypeConfiguration<ProjectMember>
{
    public void Configure(EntityTypeBuilder<ProjectMember> b)
    {
        b.HasKey(m => new { m.ProjectId, m.UserId });
        b.HasIndex(m => m.UserId);
        b.Property(m => m.Role).HasConversion<string>().HasMaxLength(16);
        b.HasOne(m => m.User).WithMany().HasForeignKey(m => m.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class ActivityEntryConfiguration : IEntityTypeConfiguration<ActivityEntry>
{
    public void Configure(EntityTypeBuilder<ActivityEntry> b)
    {
        b.HasIndex(a => new { a.ProjectId, a.Id });
        b.Property(a => a.Kind).HasMaxLength(64);
        b.Property(a => a.Detail).HasMaxLength(ActivityEntry.DetailMaxLength);
        b.HasOne<Project>().WithMany().HasForeignKey(a => a.ProjectId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class InvitationConfiguration : IEntityTypeConfiguration<Invitation>
{
    public void Configure(EntityTypeBuilder<Invitation> b)
    {
        b.Property(i => i.Role).HasConversion<string>().HasMaxLength(16);
        b.Property(i => i.Email).HasMaxLength(256);
        b.Property(i => i.TokenHash).HasMaxLength(64).IsRequired();
        b.Property(i => i.CreatedById).HasMaxLength(450).IsRequired();
        b.Property(i => i.AcceptedById).HasMaxLength(450);
        b.HasIndex(i => i.TokenHash).IsUnique();
        b.HasIndex(i => i.ProjectId);
        b.HasOne<Project>().WithMany().HasForeignKey(i => i.ProjectId).OnDelete(DeleteBehavior.Cascade);
    }
}
