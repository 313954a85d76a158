using Incubator.Domain.Mining;
using Incubator.Domain.Projects;
using Incubator.Domain.Tasks;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Incubator.Domain.Data.Configurations;

internal sealed class CorpusConfiguration : IEntityTypeConfiguration<Corpus>
{
    public void Configure(EntityTypeBuilder<Corpus> b)
    {
        b.Property(c => c.Name).HasMaxLength(200).IsRequired();
        b.Property(c => c.FileName).HasMaxLength(260);
        b.Property(c => c.Format).HasConversion<string>().HasMaxLength(8);
        b.Property(c => c.Encoding).HasMaxLength(32);
        b.Property(c => c.Language).HasMaxLength(16);
        b.Property(c => c.Embedder).HasMaxLength(64);
        b.Property(c => c.CreatedById).HasMaxLength(450);
        b.Property(c => c.State).HasConversion<string>().HasMaxLength(16);
        b.HasIndex(c => new { c.ProjectId, c.CreatedAt });
        b.HasIndex(c => new { c.State, c.ImportExpiresAt });
        b.HasOne<Project>().WithMany().HasForeignKey(c => c.ProjectId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class CorpusTextConfiguration : IEntityTypeConfiguration<CorpusText>
{
    public void Configure(EntityTypeBuilder<CorpusText> b)
    {
        b.HasIndex(t => new { t.CorpusId, t.Ordinal }).IsUnique();
        b.HasOne<Corpus>().WithMany().HasForeignKey(t => t.CorpusId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class CorpusEmbeddingBatchConfiguration : IEntityTypeConfiguration<CorpusEmbeddingBatch>
{
    public void Configure(EntityTypeBuilder<CorpusEmbeddingBatch> b)
    {
        b.Property(e => e.Embedder).HasMaxLength(64);
        b.HasIndex(e => new { e.CorpusId, e.Embedder, e.StartOrdinal }).IsUnique();
        b.HasOne<Corpus>().WithMany().HasForeignKey(e => e.CorpusId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class MiningRunConfiguration : IEntityTypeConfiguration<MiningRun>
{
    public void Configure(EntityTypeBuilder<MiningRun> b)
    {
        b.Property(r => r.CorpusName).HasMaxLength(200);
        b.Property(r => r.Embedder).HasMaxLength(64);
        b.Property(r => r.CreatedById).HasMaxLength(450);
        b.HasIndex(r => new { r.TaskId, r.CreatedAt });
        b.HasOne<Project>().WithMany().HasForeignKey(r => r.ProjectId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<ClassifierTask>().WithMany().HasForeignKey(r => r.TaskId).OnDelete(DeleteBehavior.Cascade);
        // A corpus can be deleted after mining: its runs (and their candidates) stay, as lineage by name.
        b.HasOne<Corpus>().WithMany().HasForeignKey(r => r.CorpusId).OnDelete(DeleteBehavior.SetNull);
    }
}
