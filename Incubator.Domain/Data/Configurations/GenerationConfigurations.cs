using Incubator.Domain.Review;
using Incubator.Domain.Generation;
using Incubator.Domain.Projects;
using Incubator.Domain.Tasks;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Incubator.Domain.Data.Configurations;

internal sealed class GenerationRunConfiguration : IEntityTypeConfiguration<GenerationRun>
{
    public void Configure(EntityTypeBuilder<GenerationRun> b)
    {
        b.Property(r => r.ConnectionName).HasMaxLength(200);
        b.Property(r => r.Model).HasMaxLength(200);
        b.Property(r => r.StopReason).HasMaxLength(1000);
        b.Property(r => r.Outcome).HasConversion<string>().HasMaxLength(16);
        b.HasIndex(r => new { r.ProjectId, r.CreatedAt });
        b.HasIndex(r => r.TaskId);
        b.HasOne<Project>().WithMany().HasForeignKey(r => r.ProjectId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<ClassifierTask>().WithMany().HasForeignKey(r => r.TaskId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class CandidateConfiguration : IEntityTypeConfiguration<Candidate>
{
    public void Configure(EntityTypeBuilder<Candidate> b)
    {
        b.Property(c => c.Label).HasMaxLength(64).IsRequired();
        b.Property(c => c.Source).HasConversion<string>().HasMaxLength(16);
        b.Property(c => c.Stage).HasConversion<string>().HasMaxLength(16);
        b.Property(c => c.Status).HasConversion<string>().HasMaxLength(16);
        b.Property(c => c.ReviewReason).HasMaxLength(1000);
        b.Property(c => c.OriginalLabel).HasMaxLength(64);
        b.Property(c => c.MinerLabel).HasMaxLength(64);
        b.Property(c => c.RejectionReason).HasConversion<string>().HasMaxLength(16);
        b.Property(c => c.ReviewedById).HasMaxLength(450);
        b.Property(c => c.Version).IsConcurrencyToken();
        b.HasIndex(c => new { c.TaskId, c.NormalizedText });
        // Review listing: newest/oldest first, and by label or status, over a task's (possibly 1,000,000) candidates. The
        // Id ends each key because it ends each sort, so a page is read off the index without sorting the task
        // (docs/decisions/0028-write-discipline.md). Search has its own trigram indexes on PostgreSQL.
        b.HasIndex(c => new { c.TaskId, c.CreatedAt, c.Id });
        b.HasIndex(c => new { c.TaskId, c.Label, c.CreatedAt, c.Id });
        b.HasIndex(c => new { c.RunId, c.Stage });
        b.HasIndex(c => new { c.TaskId, c.Status, c.CreatedAt, c.Id });
        b.HasOne<Project>().WithMany().HasForeignKey(c => c.ProjectId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<ClassifierTask>().WithMany().HasForeignKey(c => c.TaskId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<GenerationRun>().WithMany().HasForeignKey(c => c.RunId).OnDelete(DeleteBehavior.SetNull);
        b.HasIndex(c => new { c.MiningRunId, c.CreatedAt });
        b.HasIndex(c => new { c.TaskId, c.Uncertainty });
        // The queue's default order: the main view (selected) spread over labels, rank by rank.
        b.HasIndex(c => new { c.TaskId, c.Stage, c.SpreadRank, c.Label });
        b.HasOne<Incubator.Domain.Mining.MiningRun>().WithMany().HasForeignKey(c => c.MiningRunId).OnDelete(DeleteBehavior.SetNull);
    }
}

internal sealed class RejectedSampleConfiguration : IEntityTypeConfiguration<RejectedSample>
{
    public void Configure(EntityTypeBuilder<RejectedSample> b)
    {
        b.Property(r => r.Label).HasMaxLength(200);
        b.Property(r => r.Reason).HasConversion<string>().HasMaxLength(32);
        b.Property(r => r.Detail).HasMaxLength(1000);
        b.Property(r => r.DetailNote).HasMaxLength(2000);
        b.HasIndex(r => new { r.RunId, r.Id });
        b.HasOne<GenerationRun>().WithMany().HasForeignKey(r => r.RunId).OnDelete(DeleteBehavior.Cascade);
    }
}
