using Incubator.Domain.Projects;
using Incubator.Domain.Tasks;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Incubator.Domain.Data.Configurations;

internal sealed class ClassifierTaskConfiguration : IEntityTypeConfiguration<ClassifierTask>
{
    public void Configure(EntityTypeBuilder<ClassifierTask> b)
    {
        b.ToTable("Tasks");
        b.Property(t => t.Name).HasMaxLength(200).IsRequired();
        b.Property(t => t.SourceTemplate).HasMaxLength(200);
        b.Property(t => t.CurrentVersion).IsConcurrencyToken();
        b.HasIndex(t => new { t.ProjectId, t.Name });
        b.HasOne<Project>().WithMany().HasForeignKey(t => t.ProjectId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class TaskVersionConfiguration : IEntityTypeConfiguration<TaskVersion>
{
    public void Configure(EntityTypeBuilder<TaskVersion> b)
    {
        b.HasIndex(v => new { v.TaskId, v.Number }).IsUnique();
        b.Property(v => v.ContentHash).HasMaxLength(64);
        b.Property(v => v.Comment).HasMaxLength(400);
        b.HasOne<ClassifierTask>().WithMany().HasForeignKey(v => v.TaskId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class TaskTemplateConfiguration : IEntityTypeConfiguration<TaskTemplate>
{
    public void Configure(EntityTypeBuilder<TaskTemplate> b)
    {
        b.Property(t => t.Name).HasMaxLength(200).IsRequired();
        b.Property(t => t.Description).HasMaxLength(1000);
        b.Property(t => t.Language).HasMaxLength(16);
        b.HasIndex(t => t.ProjectId);
        b.HasOne<Project>().WithMany().HasForeignKey(t => t.ProjectId).OnDelete(DeleteBehavior.Cascade);
    }
}
