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
        b.HasOne<Incubator.Domain.Generation.Candidate>().WithMany().HasForeignKey(i => i.CandidateId).OnDelete(DeleteBehavior.Cascade);
    }
}
