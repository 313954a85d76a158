using Incubator.Domain.Jobs;
using Incubator.Domain.Projects;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Incubator.Domain.Data.Configurations;

internal sealed class JobConfiguration : IEntityTypeConfiguration<Job>
{
    public void Configure(EntityTypeBuilder<Job> b)
    {
        b.Property(j => j.Kind).HasMaxLength(64).IsRequired();
        b.Property(j => j.Title).HasMaxLength(200);
        b.Property(j => j.TitleNoteJson).HasMaxLength(2000);
        b.Property(j => j.State).HasConversion<string>().HasMaxLength(16);
        b.Property(j => j.ProgressMessage).HasMaxLength(400);
        b.Property(j => j.ProgressNoteJson).HasMaxLength(2000);
        b.Property(j => j.LeaseOwner).HasMaxLength(200);
        b.Property(j => j.Error).HasMaxLength(4000);
        b.Property(j => j.NoteJson).HasMaxLength(8000);
        b.Property(j => j.Version).IsConcurrencyToken();
        b.HasIndex(j => new { j.State, j.LeaseExpiresAt });
        // The claim: queued jobs oldest first (docs/decisions/0028-write-discipline.md).
        b.HasIndex(j => new { j.State, j.CreatedAt });
        b.HasIndex(j => new { j.ProjectId, j.CreatedAt });
        b.HasOne<Project>().WithMany().HasForeignKey(j => j.ProjectId).OnDelete(DeleteBehavior.Cascade);
        b.Ignore(j => j.IsFinished);
    }
}

internal sealed class JobLogEntryConfiguration : IEntityTypeConfiguration<JobLogEntry>
{
    public void Configure(EntityTypeBuilder<JobLogEntry> b)
    {
        b.HasIndex(l => new { l.JobId, l.Id });
        b.Property(l => l.Level).HasMaxLength(16);
        b.Property(l => l.Message).HasMaxLength(4000);
        b.Property(l => l.NoteJson).HasMaxLength(8000);
        b.HasOne<Job>().WithMany().HasForeignKey(l => l.JobId).OnDelete(DeleteBehavior.Cascade);
    }
}
