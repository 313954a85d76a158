using Incubator.Domain.Accounts;
using Incubator.Domain.Datasets;
using Incubator.Domain.Projects;
using Incubator.Domain.Tasks;
using Incubator.Domain.Training;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Incubator.Domain.Data.Configurations;

internal sealed class DatasetVersionConfiguration : IEntityTypeConfiguration<DatasetVersion>
{
    public void Configure(EntityTypeBuilder<DatasetVersion> b)
    {
        b.Property(d => d.ContentHash).HasMaxLength(64).IsRequired();
        b.Property(d => d.CreatedById).HasMaxLength(450);
        b.HasIndex(d => new { d.TaskId, d.Number }).IsUnique();
        b.HasIndex(d => d.ProjectId);
        b.HasIndex(d => d.WriterId);
        // A version still being written is not there yet for anyone (docs/decisions/0028-write-discipline.md).
        b.HasQueryFilter(d => d.WriterId == null);
        b.HasOne<Project>().WithMany().HasForeignKey(d => d.ProjectId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<ClassifierTask>().WithMany().HasForeignKey(d => d.TaskId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class DatasetItemConfiguration : IEntityTypeConfiguration<DatasetItem>
{
    public void Configure(EntityTypeBuilder<DatasetItem> b)
    {
        b.Property(i => i.Label).HasMaxLength(64).IsRequired();
        b.Property(i => i.Split).HasConversion<string>().HasMaxLength(16);
        b.HasIndex(i => new { i.DatasetVersionId, i.Ordinal }).IsUnique();
        b.HasOne<DatasetVersion>().WithMany().HasForeignKey(i => i.DatasetVersionId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class GoldSetConfiguration : IEntityTypeConfiguration<GoldSet>
{
    public void Configure(EntityTypeBuilder<GoldSet> b)
    {
        b.Property(g => g.FileName).HasMaxLength(260);
        b.Property(g => g.ContentHash).HasMaxLength(64);
        b.Property(g => g.CreatedById).HasMaxLength(450);
        b.HasIndex(g => g.TaskId);
        b.HasOne<Project>().WithMany().HasForeignKey(g => g.ProjectId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<ClassifierTask>().WithMany().HasForeignKey(g => g.TaskId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class GoldItemConfiguration : IEntityTypeConfiguration<GoldItem>
{
    public void Configure(EntityTypeBuilder<GoldItem> b)
    {
        b.Property(i => i.Label).HasMaxLength(64).IsRequired();
        b.HasIndex(i => i.GoldSetId);
        b.HasOne<GoldSet>().WithMany().HasForeignKey(i => i.GoldSetId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class ModelVersionConfiguration : IEntityTypeConfiguration<ModelVersion>
{
    public void Configure(EntityTypeBuilder<ModelVersion> b)
    {
        b.Property(m => m.RequestedFamily).HasMaxLength(16);
        b.Property(m => m.Family).HasMaxLength(16);
        b.Property(m => m.Encoder).HasMaxLength(16);
        b.Property(m => m.ModelCardLanguage).HasMaxLength(8);
        b.Property(m => m.State).HasConversion<string>().HasMaxLength(16);
        b.Property(m => m.BundleSha256).HasMaxLength(64);
        b.Property(m => m.Error).HasMaxLength(2000);
        b.Property(m => m.CreatedById).HasMaxLength(450);
        b.Property(m => m.PublishedById).HasMaxLength(450);
        b.Property(m => m.RetiredById).HasMaxLength(450);
        b.HasIndex(m => new { m.TaskId, m.Number }).IsUnique();
        b.HasIndex(m => new { m.ProjectId, m.State });
        b.HasIndex(m => m.JobId);
        b.HasOne<Project>().WithMany().HasForeignKey(m => m.ProjectId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<ClassifierTask>().WithMany().HasForeignKey(m => m.TaskId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<DatasetVersion>().WithMany().HasForeignKey(m => m.DatasetVersionId).OnDelete(DeleteBehavior.Restrict);
    }
}
