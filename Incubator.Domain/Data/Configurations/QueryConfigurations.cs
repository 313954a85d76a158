using Incubator.Domain.Mining.Query;
using Incubator.Domain.Projects;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Incubator.Domain.Data.Configurations;

internal sealed class QueryRunConfiguration : IEntityTypeConfiguration<QueryRun>
{
    public void Configure(EntityTypeBuilder<QueryRun> b)
    {
        b.Property(r => r.Kind).HasConversion<string>().HasMaxLength(16);
        b.Property(r => r.CorpusName).HasMaxLength(200);
        b.Property(r => r.Expression).HasMaxLength(QueryParser.MaxLength);
        b.Property(r => r.CreatedById).HasMaxLength(450);
        b.HasIndex(r => r.ProjectId);
        b.HasOne<Project>().WithMany().HasForeignKey(r => r.ProjectId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class QueryHitConfiguration : IEntityTypeConfiguration<QueryHit>
{
    public void Configure(EntityTypeBuilder<QueryHit> b)
    {
        b.Property(h => h.Label).HasMaxLength(200);
        // Paging and export read a run's rows in corpus order; the label filter reads one label's rows.
        b.HasIndex(h => new { h.RunId, h.Ordinal }).IsUnique();
        b.HasIndex(h => new { h.RunId, h.Label, h.Ordinal });
        b.HasOne<QueryRun>().WithMany().HasForeignKey(h => h.RunId).OnDelete(DeleteBehavior.Cascade);
    }
}
