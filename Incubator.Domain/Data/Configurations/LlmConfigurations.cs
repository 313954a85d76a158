using Incubator.Domain.Llm;
using Incubator.Domain.Projects;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Incubator.Domain.Data.Configurations;

internal sealed class LlmConnectionConfiguration : IEntityTypeConfiguration<LlmConnection>
{
    public void Configure(EntityTypeBuilder<LlmConnection> b)
    {
        b.Property(c => c.Name).HasMaxLength(LlmConnectionRules.MaxNameLength).IsRequired();
        b.Property(c => c.Provider).HasConversion<string>().HasMaxLength(32);
        b.Property(c => c.Endpoint).HasMaxLength(LlmConnectionRules.MaxEndpointLength).IsRequired();
        b.Property(c => c.Model).HasMaxLength(LlmConnectionRules.MaxModelLength).IsRequired();
        // Data Protection output is base64url of the encrypted payload: several times the key's length.
        b.Property(c => c.ApiKeyProtected).HasMaxLength(4000);
        b.Property(c => c.EndpointProtected).HasMaxLength(4000);
        b.Property(c => c.CreatedById).HasMaxLength(450);
        // SQLite has no decimal type; EF stores decimals as TEXT, which keeps them exact.
        b.Property(c => c.InputPricePerMillion).HasPrecision(18, 6);
        b.Property(c => c.OutputPricePerMillion).HasPrecision(18, 6);
        b.HasIndex(c => c.ProjectId);
        b.HasOne<Project>().WithMany().HasForeignKey(c => c.ProjectId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class LlmConnectionTestConfiguration : IEntityTypeConfiguration<LlmConnectionTest>
{
    public void Configure(EntityTypeBuilder<LlmConnectionTest> b)
    {
        b.HasKey(t => t.ConnectionId);
        b.Property(t => t.Error).HasMaxLength(2000);
    }
}

internal sealed class LlmSpendConfiguration : IEntityTypeConfiguration<LlmSpend>
{
    public void Configure(EntityTypeBuilder<LlmSpend> b)
    {
        b.Property(s => s.UserId).HasMaxLength(450).IsRequired();
        b.HasIndex(s => new { s.UserId, s.At });
        b.HasIndex(s => new { s.ProjectId, s.At });
        b.HasOne<Project>().WithMany().HasForeignKey(s => s.ProjectId).OnDelete(DeleteBehavior.Cascade);
    }
}
