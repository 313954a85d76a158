using System.Collections.Concurrent;
using Incubator.Domain.Data;
using Incubator.Domain.Datasets;
using Incubator.Domain.Jobs;
using Incubator.Domain.Tasks;
using Incubator.Domain.Training;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.Jobs;

/// <summary>A job kind whose owner row has a state of its own closes it whichever way the job ends without finishing —
/// the handler throws, the worker gives up — inside the transaction that ends the job; a succeeded or paused job
/// leaves the owner to its handler; a closer that fails never holds back the job's own end. And rows the old way left
/// open are closed once by a migration.</summary>
public sealed class JobOwnerTests
{
    /// <summary>Its "owner" is the project's description, which the closer rewrites.</summary>
    private sealed class OwnedJob(Recorder recorder) : IJobHandler, IJobOwnerCloser
    {
        public const string KindName = "test.owned";

        public sealed record Payload(string Mode);

        public string Kind => KindName;

        public Task RunAsync(JobContext context) => context.ReadPayload<Payload>().Mode switch
        {
            "succeed" => Task.CompletedTask,
            _ => throw new InvalidOperationException("boom in the handler"),
        };

        public async Task<bool> CloseOwnerAsync(JobEnd end, IncubatorDbContext db)
        {
            // What this transaction sees of the job: already ended, not yet committed.
            recorder.InTransaction.Enqueue((db.Database.CurrentTransaction is not null,
                await db.Jobs.AsNoTracking().Where(j => j.Id == end.Job.Id).Select(j => j.State).SingleAsync()));
            if (end.ReadPayload<Payload>().Mode == "closer-throws") throw new InvalidOperationException("the closer broke");
            await db.Projects.Where(p => p.Id == end.Job.ProjectId)
                .ExecuteUpdateAsync(s => s.SetProperty(p => p.Description, $"closed {end.State}: {end.Error}"));
            return true;
        }

        public Task OwnerClosedAsync(JobEnd end)
        {
            recorder.AfterCommit.Enqueue(end.Job.Id);
            return Task.CompletedTask;
        }
    }

    private sealed class Recorder
    {
        public ConcurrentQueue<(bool HasTransaction, JobState JobStateSeen)> InTransaction { get; } = new();

        public ConcurrentQueue<Guid> AfterCommit { get; } = new();
    }

    /// <summary>A host with the owned job kind, a project, and the worker started on one job (queued by
    /// <paramref name="queue"/>); returns once the job has ended.</summary>
    private sealed record Ran(JobTestHost Host, Recorder Recorder, Guid ProjectId, Job Job) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => Host.DisposeAsync();
    }

    private static async Task<Ran> RunAsync(Func<JobTestHost, Guid, Task<Guid>> queue)
    {
        var recorder = new Recorder();
        var host = await JobTestHost.CreateAsync(configure: s => s.AddSingleton(recorder).AddJobHandler<OwnedJob>(OwnedJob.KindName));
        var projectId = await host.CreateProjectAsync();
        var jobId = await queue(host, projectId);
        await host.StartWorkerAsync();
        var job = await host.WaitForJobAsync(jobId, j => j.IsFinished, "finished");
        await host.WaitForFinishLineAsync(jobId);
        return new Ran(host, recorder, projectId, job);
    }

    private static Func<JobTestHost, Guid, Task<Guid>> Queued(string mode) => async (host, projectId) =>
        (await host.Queue.EnqueueInternalAsync(null, projectId, OwnedJob.KindName, mode, new OwnedJob.Payload(mode))).Id;

    private static async Task<string> DescriptionAsync(JobTestHost host, Guid projectId)
    {
        await using var db = await host.Db.CreateDbContextAsync();
        return await db.Projects.Where(p => p.Id == projectId).Select(p => p.Description).SingleAsync();
    }

    [Fact]
    public async Task A_failing_handler_closes_its_owner_in_the_transaction_that_fails_the_job()
    {
        await using var run = await RunAsync(Queued("throw"));
        await Poll.UntilAsync(() => Task.FromResult(!run.Recorder.AfterCommit.IsEmpty), TimeSpan.FromSeconds(30), () => Task.FromResult("no after-commit call"));

        Assert.Equal(JobState.Failed, run.Job.State);
        Assert.Equal("closed Failed: boom in the handler", await DescriptionAsync(run.Host, run.ProjectId));
        Assert.Equal([(true, JobState.Failed)], run.Recorder.InTransaction);
        Assert.Equal([run.Job.Id], run.Recorder.AfterCommit);
    }

    [Fact]
    public async Task A_job_given_up_after_too_many_interruptions_closes_its_owner_too()
    {
        await using var run = await RunAsync(async (host, projectId) => (await host.InsertJobAsync(new Job
        {
            Id = Guid.NewGuid(), ProjectId = projectId, Kind = OwnedJob.KindName, Title = "crashed often", State = JobState.Queued,
            Payload = JobTestHost.Json(new OwnedJob.Payload("succeed")), Attempts = 5, MaxAttempts = 5, CreatedAt = DateTimeOffset.UtcNow,
        })).Id);

        Assert.Equal(JobState.Failed, run.Job.State);
        Assert.StartsWith("closed Failed: Gave up after 5 attempts", await DescriptionAsync(run.Host, run.ProjectId));
    }

    [Fact]
    public async Task A_succeeded_job_leaves_its_owner_to_its_handler()
    {
        await using var run = await RunAsync(Queued("succeed"));

        Assert.Equal(JobState.Succeeded, run.Job.State);
        Assert.Equal("", await DescriptionAsync(run.Host, run.ProjectId));
        Assert.Empty(run.Recorder.InTransaction);
    }

    [Fact]
    public async Task A_closer_that_throws_does_not_hold_back_the_jobs_end()
    {
        await using var run = await RunAsync(Queued("closer-throws"));

        Assert.Equal((JobState.Failed, "boom in the handler"), (run.Job.State, run.Job.Error));
        Assert.Equal("Job failed: boom in the handler", (await run.Host.GetLogAsync(run.Job.Id))[^1].Message);
        Assert.Single(run.Recorder.InTransaction);
        Assert.Empty(run.Recorder.AfterCommit);
        Assert.Equal("", await DescriptionAsync(run.Host, run.ProjectId));
    }

    [Fact]
    public async Task The_migration_closes_model_versions_whose_jobs_ended_the_old_way()
    {
        await using var host = await JobTestHost.CreateAsync(migrate: false);
        await using var db = await host.Db.CreateDbContextAsync();
        var migrator = db.GetService<IMigrator>();
        await migrator.MigrateAsync("20261128222353_QueryRuns");
        var now = DateTimeOffset.UtcNow;
        // Projects and jobs have columns the schema at this migration does not (yet) have: their rows are written as
        // that schema knows them. (EF stores Guids as upper-case text; the timestamps are not read here.)
        var projectId = Guid.NewGuid();
        var projectKey = projectId.ToString().ToUpperInvariant();
        await db.Database.ExecuteSqlInterpolatedAsync(
            $"INSERT INTO \"Projects\" (\"Id\", \"Name\", \"Description\", \"IsArchived\", \"CreatedAt\", \"CreatedById\", \"UseTeamDemonstrations\") VALUES ({projectKey}, 'jobs test', '', 0, 0, '', 1)");
        var task = new ClassifierTask { Id = Guid.NewGuid(), ProjectId = projectId, Name = "t", CurrentVersion = 1, CreatedAt = now, UpdatedAt = now };
        var dataset = new DatasetVersion { Id = Guid.NewGuid(), ProjectId = projectId, TaskId = task.Id, Number = 1, TaskVersionNumber = 1, CreatedAt = now };
        db.Tasks.Add(task);
        db.DatasetVersions.Add(dataset);
        var models = new Dictionary<JobState, Guid>();
        var number = 0;
        foreach (var state in new[] { JobState.Cancelled, JobState.Failed, JobState.Running, JobState.Succeeded })
        {
            var jobId = Guid.NewGuid();
            var (jobKey, stateName, error) = (jobId.ToString().ToUpperInvariant(), state.ToString(), state == JobState.Failed ? "out of memory" : null);
            await db.Database.ExecuteSqlInterpolatedAsync(
                $"INSERT INTO \"Jobs\" (\"Id\", \"ProjectId\", \"Kind\", \"Title\", \"State\", \"Progress\", \"Payload\", \"Attempts\", \"MaxAttempts\", \"Error\", \"CancelRequested\", \"PauseRequested\", \"CreatedAt\", \"Version\") VALUES ({jobKey}, {projectKey}, {TrainingJob.KindName}, 'train', {stateName}, 0, '{{}}', 0, 5, {error}, 0, 0, 0, 0)");
            var model = new ModelVersion { Id = Guid.NewGuid(), ProjectId = projectId, TaskId = task.Id, DatasetVersionId = dataset.Id, Number = ++number,
                RequestedFamily = "sparse", State = state == JobState.Succeeded ? ModelVersionState.Draft : ModelVersionState.Training, JobId = jobId, CreatedAt = now };
            db.ModelVersions.Add(model);
            models[state] = model.Id;
        }
        await db.SaveChangesAsync();

        await migrator.MigrateAsync();

        var rows = await db.ModelVersions.AsNoTracking().ToDictionaryAsync(m => m.Id);
        Assert.Equal((ModelVersionState.Cancelled, (string?)null), (rows[models[JobState.Cancelled]].State, rows[models[JobState.Cancelled]].Error));
        Assert.Equal((ModelVersionState.Failed, "out of memory"), (rows[models[JobState.Failed]].State, rows[models[JobState.Failed]].Error));
        Assert.Equal(ModelVersionState.Training, rows[models[JobState.Running]].State);
        Assert.Equal(ModelVersionState.Draft, rows[models[JobState.Succeeded]].State);
    }
}
