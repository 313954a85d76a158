using Incubator.Tests.Infrastructure;
using Incubator.Domain.Data;
using Incubator.Domain.Common;
using Incubator.Domain.Jobs;
using Incubator.Domain.Projects;

namespace Incubator.Tests.Jobs;

public sealed class JobCancelTests
{
    [Fact]
    public async Task Cancelling_a_running_job_stops_it_and_keeps_the_steps_it_already_committed()
    {
        await using var host = await JobTestHost.CreateAsync();
        var projectId = await host.CreateProjectAsync();
        var author = await host.CreateUserAsync(projectId, ProjectRole.Author, "author");
        var job = await host.Queue.EnqueueAsync(author, projectId, DiagnosticsJob.KindName, "long count", new DiagnosticsJob.Payload(200, 50));
        await host.StartWorkerAsync();
        await host.WaitForJobAsync(job.Id, j => j.State == JobState.Running && j.Progress > 0, "running with progress");

        var view = await host.Queue.CancelAsync(author, job.Id);
        Assert.True(view.CancelRequested);
        Assert.NotEqual(JobState.Succeeded, view.State);

        var cancelled = await host.WaitForJobAsync(job.Id, j => j.State == JobState.Cancelled, "Cancelled");
        // Stopping the worker waits for the job's task to end, so nothing can write to the log after this point.
        await host.StopWorkerAsync();
        var final = await host.GetJobAsync(job.Id);
        var log = await host.GetLogAsync(job.Id);
        var because = JobTestHost.Describe(final) + "\n" + JobTestHost.FormatLog(log);

        Assert.Equal(JobState.Cancelled, final.State);
        Assert.True(final.Progress < 1, because);
        Assert.Equal(cancelled.Progress, final.Progress);
        Assert.Equal(cancelled.Checkpoint, final.Checkpoint);
        Assert.NotNull(final.FinishedAt);
        Assert.Null(final.LeaseOwner);
        Assert.Null(final.Error);
        Assert.Equal(1, final.Attempts);

        var steps = DiagnosticsLog.Steps(log);
        var k = steps.Count;
        Assert.True(k >= 1, because);
        Assert.True(k < 200, because);
        Assert.Equal(Enumerable.Range(1, k), steps);
        Assert.Equal(JobTestHost.Json(new DiagnosticsJob.Checkpoint(k)), final.Checkpoint);
        Assert.Equal((double)k / 200, final.Progress, 10);

        // The finish line is the last thing written: no step was logged after the job was cancelled.
        var last = log[^1];
        Assert.Equal("Job cancelled.", last.Message);
        Assert.Single(log, l => l.Message == "Job cancelled.");
        Assert.DoesNotContain(log, l => l.Level == "error");
    }

    [Theory]
    [MemberData(nameof(TestServers.Providers), MemberType = typeof(TestServers))]
    public async Task A_cancel_made_on_another_instance_reaches_the_worker_through_the_database(DatabaseProvider provider)
    {
        using var folder = new Incubator.Tests.Infrastructure.TempFolder("incubator-jobs-remote-cancel");
        await using var workerHost = await JobTestHost.CreateAsync(folder.Path, "worker-instance", provider: provider);
        // A web-only instance: its JobSignals know nothing of the job, so the cancel can only travel via the row.
        await using var webHost = await JobTestHost.CreateAsync(folder.Path, "web-instance", settings: workerHost.DatabaseSettings, migrate: false);
        var projectId = await workerHost.CreateProjectAsync();
        var author = await workerHost.CreateUserAsync(projectId, ProjectRole.Author, "author");
        var job = await webHost.Queue.EnqueueAsync(author, projectId, DiagnosticsJob.KindName, "long count", new DiagnosticsJob.Payload(200, 50));
        await workerHost.StartWorkerAsync();
        await workerHost.WaitForJobAsync(job.Id, j => j.State == JobState.Running && j.Progress > 0, "running with progress");

        await webHost.Queue.CancelAsync(author, job.Id);

        var cancelled = await workerHost.WaitForJobAsync(job.Id, j => j.State == JobState.Cancelled, "Cancelled");
        await workerHost.StopWorkerAsync();
        var log = await workerHost.GetLogAsync(job.Id);
        var steps = DiagnosticsLog.Steps(log);
        Assert.True(steps.Count is >= 1 and < 200, JobTestHost.FormatLog(log));
        Assert.Equal(Enumerable.Range(1, steps.Count), steps);
        Assert.True(cancelled.Progress < 1);
        Assert.Equal("Job cancelled.", log[^1].Message);
    }

    [Fact]
    public async Task Cancelling_a_queued_job_cancels_it_at_once_and_the_worker_never_runs_it()
    {
        await using var host = await JobTestHost.CreateAsync();
        var projectId = await host.CreateProjectAsync();
        var author = await host.CreateUserAsync(projectId, ProjectRole.Author, "author");
        var job = await host.Queue.EnqueueAsync(author, projectId, DiagnosticsJob.KindName, "never runs", new DiagnosticsJob.Payload(3, 0));

        var view = await host.Queue.CancelAsync(author, job.Id);

        Assert.Equal(JobState.Cancelled, view.State);
        Assert.True(view.CancelRequested);
        var row = await host.GetJobAsync(job.Id);
        Assert.Equal(JobState.Cancelled, row.State);
        Assert.NotNull(row.FinishedAt);

        // Start the worker and let it finish a later job: it has certainly looked at the queue by then.
        await host.StartWorkerAsync();
        var sentinel = await host.Queue.EnqueueAsync(author, projectId, DiagnosticsJob.KindName, "sentinel", new DiagnosticsJob.Payload(1, 0));
        await host.WaitForJobAsync(sentinel.Id, j => j.State == JobState.Succeeded, "Succeeded");

        row = await host.GetJobAsync(job.Id);
        Assert.Equal(JobState.Cancelled, row.State);
        Assert.Equal(0, row.Attempts);
        Assert.Null(row.StartedAt);
        Assert.Null(row.LeaseOwner);
        Assert.Equal(0, row.Progress);
        Assert.Empty(await host.GetLogAsync(job.Id));
    }

    [Fact]
    public async Task Only_an_author_or_higher_may_cancel_and_a_refused_cancel_leaves_the_job_alone()
    {
        await using var host = await JobTestHost.CreateAsync();
        var projectId = await host.CreateProjectAsync();
        var otherProject = await host.CreateProjectAsync("other");
        var viewer = await host.CreateUserAsync(projectId, ProjectRole.Viewer, "viewer");
        var reviewer = await host.CreateUserAsync(projectId, ProjectRole.Reviewer, "reviewer");
        var outsider = await host.CreateUserAsync(projectId, null, "outsider");
        var authorElsewhere = await host.CreateUserAsync(otherProject, ProjectRole.Owner, "owner-elsewhere");
        var job = await host.Queue.EnqueueInternalAsync(null, projectId, DiagnosticsJob.KindName, "keep going", new DiagnosticsJob.Payload(3, 0));
        var before = await host.GetJobAsync(job.Id);

        foreach (var user in new[] { viewer, reviewer, outsider, authorElsewhere, "no-such-user" })
        {
            await Assert.ThrowsAsync<ForbiddenException>(() => host.Queue.CancelAsync(user, job.Id));
            var row = await host.GetJobAsync(job.Id);
            Assert.Equal(JobState.Queued, row.State);
            Assert.False(row.CancelRequested);
            Assert.Equal(before.Version, row.Version);
        }
        // An unknown job id is refused the same way, without saying whether it exists.
        await Assert.ThrowsAsync<ForbiddenException>(() => host.Queue.CancelAsync(viewer, Guid.NewGuid()));

        await host.StartWorkerAsync();
        var done = await host.WaitForJobAsync(job.Id, j => j.IsFinished, "finished");
        Assert.Equal(JobState.Succeeded, done.State);
        Assert.Equal([1, 2, 3], DiagnosticsLog.Steps(await host.GetLogAsync(job.Id)));
    }

    [Fact]
    public async Task A_viewer_cannot_cancel_a_running_job()
    {
        await using var host = await JobTestHost.CreateAsync();
        var projectId = await host.CreateProjectAsync();
        var viewer = await host.CreateUserAsync(projectId, ProjectRole.Viewer, "viewer");
        var outsider = await host.CreateUserAsync(projectId, null, "outsider");
        var job = await host.Queue.EnqueueInternalAsync(null, projectId, DiagnosticsJob.KindName, "count", new DiagnosticsJob.Payload(20, 20));
        await host.StartWorkerAsync();
        await host.WaitForJobAsync(job.Id, j => j.State == JobState.Running && j.Progress > 0, "running with progress");

        await Assert.ThrowsAsync<ForbiddenException>(() => host.Queue.CancelAsync(viewer, job.Id));
        await Assert.ThrowsAsync<ForbiddenException>(() => host.Queue.CancelAsync(outsider, job.Id));
        Assert.False((await host.GetJobAsync(job.Id)).CancelRequested);

        var done = await host.WaitForJobAsync(job.Id, j => j.IsFinished, "finished");
        Assert.Equal(JobState.Succeeded, done.State);
        Assert.False(done.CancelRequested);
        Assert.Equal(Enumerable.Range(1, 20), DiagnosticsLog.Steps(await host.GetLogAsync(job.Id)));
    }
}
