using Incubator.Domain.Generation;
using Incubator.Domain.Projects;
using Incubator.Domain.Review;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Incubator.Domain.Data.Configurations;

internal sealed class ReviewEventConfiguration : IEntityTypeConfiguration<ReviewEvent>
{
    public void Configure(EntityTypeBuilder<ReviewEvent> b)
    {
        b.Property(e => e.UserId).HasMaxLength(450);
        b.Property(e => e.Kind).HasConversion<string>().HasMaxLength(16);
        b.Property(e => e.StatusBefore).HasConversion<string>().HasMaxLength(16);
        b.Property(e => e.StatusAfter).HasConversion<string>().HasMaxLength(16);
        b.Property(e => e.Reason).HasConversion<string>().HasMaxLength(16);
        b.Property(e => e.ReasonBefore).HasConversion<string>().HasMaxLength(16);
        b.Property(e => e.LabelBefore).HasMaxLength(64).IsRequired();
        b.Property(e => e.LabelAfter).HasMaxLength(64).IsRequired();
        b.Property(e => e.Comment).HasMaxLength(1000);
        b.Property(e => e.ReviewReasonBefore).HasMaxLength(1000);
        b.HasIndex(e => new { e.CandidateId, e.Id });
        b.HasIndex(e => new { e.ProjectId, e.Id });
        // Per-person progress on a task (who decided how much), read on every live update of the review pages.
        b.HasIndex(e => new { e.TaskId, e.UserId });
        b.HasOne<Project>().WithMany().HasForeignKey(e => e.ProjectId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<Candidate>().WithMany().HasForeignKey(e => e.CandidateId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class SpotCheckConfiguration : IEntityTypeConfiguration<Incubator.Domain.Review.SpotCheck>
{
    public void Configure(EntityTypeBuilder<Incubator.Domain.Review.SpotCheck> b)
    {
        b.HasIndex(s => s.RunId);
        b.HasOne<Incubator.Domain.Generation.GenerationRun>().WithMany().HasForeignKey(s => s.RunId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class SpotCheckItemConfiguration : IEntityTypeConfiguration<Incubator.Domain.Review.SpotCheckItem>
{
    public void Configure(EntityTypeBuilder<Incubator.Domain.Review.SpotCheckItem> b)
    {
        b.HasKey(i => new { i.SpotCheckId, i.CandidateId });
        b.HasOne<Incubator.Domain.Review.SpotCheck>().WithMany().HasForeignKey(i => i.SpotCheckId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<Incubator.Domain.Review.Candidate>().WithMany().HasForeignKey(i => i.CandidateId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class ReviewPolicyConfiguration : IEntityTypeConfiguration<ReviewPolicy>
{
    public void Configure(EntityTypeBuilder<ReviewPolicy> b)
    {
        b.HasKey(p => p.TaskId);
        b.Property(p => p.UpdatedById).HasMaxLength(450);
        b.HasOne<Incubator.Domain.Tasks.ClassifierTask>().WithOne().HasForeignKey<ReviewPolicy>(p => p.TaskId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<Project>().WithMany().HasForeignKey(p => p.ProjectId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class ReviewLeaseConfiguration : IEntityTypeConfiguration<ReviewLease>
{
    public void Configure(EntityTypeBuilder<ReviewLease> b)
    {
        b.Property(l => l.UserId).HasMaxLength(450).IsRequired();
        b.HasIndex(l => new { l.CandidateId, l.UserId }).IsUnique();
        b.HasIndex(l => new { l.TaskId, l.UserId });
        b.HasIndex(l => new { l.TaskId, l.ExpiresAt });
        b.HasOne<Candidate>().WithMany().HasForeignKey(l => l.CandidateId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class ReviewPresenceEntryConfiguration : IEntityTypeConfiguration<ReviewPresenceEntry>
{
    public void Configure(EntityTypeBuilder<ReviewPresenceEntry> b)
    {
        b.ToTable("ReviewPresence");
        b.Property(p => p.Display).HasMaxLength(256).IsRequired();
        b.Property(p => p.Instance).HasMaxLength(200).IsRequired();
        b.HasIndex(p => new { p.TaskId, p.ExpiresAt });
        b.HasOne<Tasks.ClassifierTask>().WithMany().HasForeignKey(p => p.TaskId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class ReviewVoteConfiguration : IEntityTypeConfiguration<ReviewVote>
{
    public void Configure(EntityTypeBuilder<ReviewVote> b)
    {
        b.Ignore(v => v.Category);
        b.Property(v => v.UserId).HasMaxLength(450).IsRequired();
        b.Property(v => v.Status).HasConversion<string>().HasMaxLength(16);
        b.Property(v => v.Reason).HasConversion<string>().HasMaxLength(16);
        b.Property(v => v.Label).HasMaxLength(64).IsRequired();
        b.Property(v => v.Comment).HasMaxLength(1000);
        b.HasIndex(v => new { v.CandidateId, v.UserId }).IsUnique();
        b.HasIndex(v => new { v.TaskId, v.CandidateId });
        b.HasOne<Candidate>().WithMany().HasForeignKey(v => v.CandidateId).OnDelete(DeleteBehavior.Cascade);
    }
}
