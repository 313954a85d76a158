using Incubator.Domain.Common;
using Incubator.Domain.Data;
using Incubator.Domain.Datasets;
using Incubator.Domain.Embeddings;
using Incubator.Domain.Review;
using Incubator.Domain.Jobs;
using Incubator.Domain.Mining;
using Incubator.Domain.Projects;
using Incubator.Domain.Tasks;
using Incubator.Domain.Training;
using Incubator.Tests.Infrastructure;
using Incubator.Tests.Jobs;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.Data;

/// <summary>A dataset version too large for one short transaction (a self-training's pseudo-labelled pool) is written in
/// batches into a version nobody sees, published by the job's last commit, and removed when its job ends without
/// publishing it — on both providers.</summary>
public sealed class DatasetWriterTests
{
    private sealed record Arranged(JobTestHost Host, Guid ProjectId, Guid TaskId, string Viewer) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => Host.DisposeAsync();
    }

    private static async Task<Arranged> ArrangeAsync(DatabaseProvider provider)
    {
        var host = await JobTestHost.CreateAsync(settings: await TestServers.DatabaseSettingsAsync(provider), configure: s =>
            s.AddIncubatorEmbeddings().AddIncubatorReview(JobTestHost.NoSettings).AddIncubatorMining().AddIncubatorTraining());
        var projectId = await host.CreateProjectAsync("dataset writer");
        var viewer = await host.CreateUserAsync(projectId, ProjectRole.Viewer, "viewer");
        var taskId = Guid.NewGuid();
        await using var db = await host.Db.CreateDbContextAsync();
        db.Tasks.Add(new ClassifierTask { Id = taskId, ProjectId = projectId, Name = "t", CurrentVersion = 1, CreatedAt = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow });
        // A frozen version 1 the written one must follow.
        db.DatasetVersions.Add(Version(projectId, taskId, 1));
        await db.SaveChangesAsync();
        return new Arranged(host, projectId, taskId, viewer);
    }

    private static DatasetVersion Version(Guid projectId, Guid taskId, int count) => new()
    {
        Id = Guid.NewGuid(), ProjectId = projectId, TaskId = taskId, Number = 1, TaskVersionNumber = 1, ContentHash = Guid.NewGuid().ToString("N"),
        Count = count, CreatedAt = DateTimeOffset.UtcNow,
    };

    private static List<DatasetItem> Items(int count) =>
        Enumerable.Range(0, count).Select(i => new DatasetItem { Ordinal = i, Label = i % 2 == 0 ? "joy" : "anger", Text = $"text {i}", Split = DatasetSplit.Train }).ToList();

    private static async Task<Guid> AddJobAsync(JobTestHost host, Guid projectId, JobState state)
    {
        await using var db = await host.Db.CreateDbContextAsync();
        var job = new Job { Id = Guid.NewGuid(), ProjectId = projectId, Kind = SelfTrainingJob.KindName, Title = "self-training", State = state, CreatedAt = DateTimeOffset.UtcNow };
        db.Jobs.Add(job);
        await db.SaveChangesAsync();
        return job.Id;
    }

    [Theory]
    [MemberData(nameof(TestServers.Providers), MemberType = typeof(TestServers))]
    public async Task A_version_being_written_is_seen_by_nobody_until_the_jobs_last_commit_numbers_and_publishes_it(DatabaseProvider provider)
    {
        await using var a = await ArrangeAsync(provider);
        var jobId = await AddJobAsync(a.Host, a.ProjectId, JobState.Running);
        var count = DbBatches.Rows * 2 + 7; // three batches, the last one short
        var id = await DatasetWriter.WriteAsync(a.Host.Db, jobId, Version(a.ProjectId, a.TaskId, count), Items(count), CancellationToken.None);

        var datasets = a.Host.Services.GetRequiredService<DatasetService>();
        Assert.Equal([1], (await datasets.ListAsync(a.Viewer, a.TaskId)).Select(v => v.Number));
        await Assert.ThrowsAsync<ForbiddenException>(() => datasets.GetAsync(a.Viewer, id));
        await using (var db = await a.Host.Db.CreateDbContextAsync())
        {
            var hidden = await db.DatasetVersions.IgnoreQueryFilters().SingleAsync(d => d.Id == id);
            Assert.Equal(jobId, hidden.WriterId);
            Assert.True(hidden.Number < 0, "a placeholder number no published version can have");
            Assert.Equal(Enumerable.Range(0, count), await db.DatasetItems.Where(i => i.DatasetVersionId == id).OrderBy(i => i.Ordinal).Select(i => i.Ordinal).ToListAsync());
            Assert.Equal(0, await DatasetWriter.SweepAsync(a.Host.Db, DateTimeOffset.UtcNow)); // its job is still running
        }

        await using (var db = await a.Host.Db.CreateDbContextAsync())
        await using (var tx = await db.Database.BeginTransactionAsync())
        {
            Assert.Equal(2, await DatasetWriter.PublishAsync(db, id, a.TaskId));
            await tx.CommitAsync();
        }
        Assert.Equal([2, 1], (await datasets.ListAsync(a.Viewer, a.TaskId)).Select(v => v.Number));
        Assert.Equal(count, (await datasets.GetAsync(a.Viewer, id)).Count);
        await using (var db = await a.Host.Db.CreateDbContextAsync())
        {
            Assert.Null((await db.DatasetVersions.SingleAsync(d => d.Id == id)).WriterId);
            await Assert.ThrowsAsync<InvalidOperationException>(() => DatasetWriter.PublishAsync(db, id, a.TaskId)); // only once
        }
        await a.Host.Services.GetRequiredService<CorpusImportSweeper>().SweepAsync();
        Assert.Equal(2, (await datasets.ListAsync(a.Viewer, a.TaskId)).Count); // a published version is never swept
    }

    [Theory]
    [MemberData(nameof(TestServers.Providers), MemberType = typeof(TestServers))]
    public async Task What_an_interrupted_job_wrote_goes_at_its_next_attempt_or_once_it_has_ended(DatabaseProvider provider)
    {
        await using var a = await ArrangeAsync(provider);
        var retried = await AddJobAsync(a.Host, a.ProjectId, JobState.Running);
        var first = await DatasetWriter.WriteAsync(a.Host.Db, retried, Version(a.ProjectId, a.TaskId, 30), Items(30), CancellationToken.None);
        var second = await DatasetWriter.WriteAsync(a.Host.Db, retried, Version(a.ProjectId, a.TaskId, 40), Items(40), CancellationToken.None);
        var failed = await AddJobAsync(a.Host, a.ProjectId, JobState.Running);
        var orphan = await DatasetWriter.WriteAsync(a.Host.Db, failed, Version(a.ProjectId, a.TaskId, 50), Items(50), CancellationToken.None);
        await using (var db = await a.Host.Db.CreateDbContextAsync())
        {
            // The second attempt replaced the first one's rows; the other job's version is its own.
            Assert.Equal(new[] { second, orphan }.Order(), (await db.DatasetVersions.IgnoreQueryFilters().Where(d => d.WriterId != null).Select(d => d.Id).ToListAsync()).Order());
            Assert.False(await db.DatasetVersions.IgnoreQueryFilters().AnyAsync(d => d.Id == first));
            Assert.Equal(0, await db.DatasetItems.CountAsync(i => i.DatasetVersionId == first));
            Assert.Equal(90, await db.DatasetItems.CountAsync());
            await db.Jobs.Where(j => j.Id == failed).ExecuteUpdateAsync(s => s.SetProperty(j => j.State, JobState.Failed));
        }

        await a.Host.Services.GetRequiredService<CorpusImportSweeper>().SweepAsync();
        await using (var db = await a.Host.Db.CreateDbContextAsync())
        {
            Assert.Equal([second], await db.DatasetVersions.IgnoreQueryFilters().Where(d => d.WriterId != null).Select(d => d.Id).ToListAsync());
            Assert.Equal(40, await db.DatasetItems.CountAsync());
            Assert.Equal(1, await db.DatasetVersions.CountAsync()); // the frozen version 1 is untouched
            await db.Jobs.Where(j => j.Id == retried).ExecuteDeleteAsync(); // a job that is gone cannot publish either
        }
        Assert.Equal(1, await DatasetWriter.SweepAsync(a.Host.Db, DateTimeOffset.UtcNow));
        await using (var db = await a.Host.Db.CreateDbContextAsync())
            Assert.Equal(0, await db.DatasetItems.CountAsync());
    }
}
