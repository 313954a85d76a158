using Incubator.Domain.Labelling;
using Incubator.Domain.Projects;
using Incubator.Domain.Review;
using Incubator.Domain.Tasks;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Incubator.Domain.Data.Configurations;

internal sealed class LabellingRunConfiguration : IEntityTypeConfiguration<LabellingRun>
{
    public void Configure(EntityTypeBuilder<LabellingRun> b)
    {
        b.Property(r => r.CorpusName).HasMaxLength(200);
        b.Property(r => r.ConnectionName).HasMaxLength(200);
        b.Property(r => r.Model).HasMaxLength(200);
        b.Property(r => r.RejectedJson).HasMaxLength(2000);
        b.Property(r => r.CreatedById).HasMaxLength(450);
        b.HasIndex(r => new { r.TaskId, r.CreatedAt });
        b.HasOne<Project>().WithMany().HasForeignKey(r => r.ProjectId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<ClassifierTask>().WithMany().HasForeignKey(r => r.TaskId).OnDelete(DeleteBehavior.Cascade);
        // A corpus can be deleted after labelling: its runs (and their candidates) stay, as lineage by name.
        b.HasOne<Incubator.Domain.Mining.Corpus>().WithMany().HasForeignKey(r => r.CorpusId).OnDelete(DeleteBehavior.SetNull);
        // The candidates it wrote keep their place in the queue when a run is removed with its task.
        b.HasMany<Candidate>().WithOne().HasForeignKey(c => c.LabellingRunId).OnDelete(DeleteBehavior.SetNull);
    }
}
