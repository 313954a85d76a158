using Incubator.Domain.Common;
using Incubator.Domain.Jobs;
using Incubator.Domain.Projects;

namespace Incubator.Tests.Jobs;

public sealed class JobPauseTests
{
    [Fact]
    public async Task Pausing_a_running_job_keeps_its_checkpoint_and_resuming_finishes_every_step_exactly_once()
    {
        await using var host = await JobTestHost.CreateAsync();
        var projectId = await host.CreateProjectAsync();
        var author = await host.CreateUserAsync(projectId, ProjectRole.Author, "author");
        var job = await host.Queue.EnqueueAsync(author, projectId, DiagnosticsJob.KindName, "pausable", new DiagnosticsJob.Payload(30, 40));
        await host.StartWorkerAsync();
        await host.WaitForJobAsync(job.Id, j => j.State == JobState.Running && j.Progress > 0, "running with progress");

        await host.Queue.PauseAsync(author, job.Id);
        var paused = await host.WaitForJobAsync(job.Id, j => j.State == JobState.Paused, "Paused");
        Assert.Null(paused.LeaseOwner);
        Assert.False(paused.PauseRequested);
        Assert.Equal(0, paused.Attempts);
        Assert.True(paused.Progress is > 0 and < 1);
        var stepsAtPause = DiagnosticsLog.Steps(await host.GetLogAsync(job.Id)).Count;
        Assert.Equal(JobTestHost.Json(new DiagnosticsJob.Checkpoint(stepsAtPause)), paused.Checkpoint);

        // A paused job is not picked up again by the worker on its own.
        Assert.Null(await host.Worker.TryClaimAsync(CancellationToken.None));

        await host.Queue.ResumeAsync(author, job.Id);
        var done = await host.WaitForJobAsync(job.Id, j => j.State == JobState.Succeeded, "Succeeded");
        var log = await host.WaitForFinishLineAsync(job.Id);
        Assert.Equal(Enumerable.Range(1, 30), DiagnosticsLog.Steps(log));
        Assert.Equal([stepsAtPause], DiagnosticsLog.ResumedAfter(log));
        Assert.Contains(log, l => l.Message == "Job paused.");
        Assert.Equal(1, done.Attempts);
    }

    [Fact]
    public async Task A_queued_job_pauses_at_once_a_paused_job_can_be_cancelled_and_only_authors_pause()
    {
        await using var host = await JobTestHost.CreateAsync();
        var projectId = await host.CreateProjectAsync();
        var author = await host.CreateUserAsync(projectId, ProjectRole.Author, "author");
        var reviewer = await host.CreateUserAsync(projectId, ProjectRole.Reviewer, "reviewer");
        var job = await host.Queue.EnqueueAsync(author, projectId, DiagnosticsJob.KindName, "queued", new DiagnosticsJob.Payload(3, 0));

        await Assert.ThrowsAsync<ForbiddenException>(() => host.Queue.PauseAsync(reviewer, job.Id));
        Assert.Equal(JobState.Queued, (await host.GetJobAsync(job.Id)).State);

        var view = await host.Queue.PauseAsync(author, job.Id);
        Assert.Equal(JobState.Paused, view.State);
        await Assert.ThrowsAsync<ForbiddenException>(() => host.Queue.ResumeAsync(reviewer, job.Id));

        var cancelled = await host.Queue.CancelAsync(author, job.Id);
        Assert.Equal(JobState.Cancelled, cancelled.State);
        Assert.Empty(await host.GetLogAsync(job.Id));
    }
}
