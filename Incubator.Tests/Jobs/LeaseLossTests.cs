using Incubator.Domain.Jobs;
using Incubator.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Incubator.Tests.Jobs;

/// <summary>A worker that is alive but let its lease lapse (a stalled heartbeat: long GC pause, a database busy for
/// longer than the lease) must not end up running the job twice at once.</summary>
public sealed class LeaseLossTests
{
    private const int Steps = 20;

    private static async Task ExpireLeaseAsync(JobTestHost host, Guid jobId)
    {
        await using var db = await host.Db.CreateDbContextAsync();
        var past = DateTimeOffset.UtcNow.AddSeconds(-1);
        var n = await db.Jobs.Where(j => j.Id == jobId && j.State == JobState.Running)
            .ExecuteUpdateAsync(s => s.SetProperty(j => j.LeaseExpiresAt, past));
        Assert.Equal(1, n);
    }

    [Fact]
    public async Task When_another_worker_takes_over_a_lapsed_lease_the_old_worker_stops_and_every_step_is_done_once()
    {
        using var folder = new TempFolder("incubator-jobs-lease-loss");
        // Long leases: the old worker renews only every 10 s, so the lapse we make below stays lapsed.
        await using var alpha = await JobTestHost.CreateAsync(folder.Path, "worker-alpha");
        await using var beta = await JobTestHost.CreateAsync(folder.Path, "worker-beta", migrate: false);
        var projectId = await alpha.CreateProjectAsync();
        var job = await alpha.Queue.EnqueueInternalAsync(null, projectId, DiagnosticsJob.KindName, "contested", new DiagnosticsJob.Payload(Steps, 50));
        await alpha.StartWorkerAsync();
        await alpha.WaitForJobAsync(job.Id, j => j.LeaseOwner == "worker-alpha" && j.Progress > 0, "running on alpha");

        await ExpireLeaseAsync(alpha, job.Id);
        await beta.StartWorkerAsync();

        var done = await beta.WaitForJobAsync(job.Id, j => j.IsFinished, "finished");
        await Task.WhenAll(alpha.StopWorkerAsync(), beta.StopWorkerAsync());
        var log = await beta.GetLogAsync(job.Id);
        var because = JobTestHost.Describe(done) + "\n" + JobTestHost.FormatLog(log);

        Assert.True(done.State == JobState.Succeeded, because);
        Assert.Equal(2, done.Attempts);
        Assert.True(Enumerable.Range(1, Steps).SequenceEqual(DiagnosticsLog.Steps(log)), because);
        var resumedAfter = Assert.Single(DiagnosticsLog.ResumedAfter(log));
        Assert.True(resumedAfter >= 1, because);
        Assert.Single(log, l => l.Message == "Job succeeded.");
    }

    [Fact]
    public async Task A_worker_never_reclaims_a_job_it_is_still_running_when_its_own_lease_lapsed()
    {
        await using var host = await JobTestHost.CreateAsync(workerName: "only-worker");
        var projectId = await host.CreateProjectAsync();
        var job = await host.Queue.EnqueueInternalAsync(null, projectId, DiagnosticsJob.KindName, "lapsed", new DiagnosticsJob.Payload(Steps, 50));
        await host.StartWorkerAsync();
        await host.WaitForJobAsync(job.Id, j => j.State == JobState.Running && j.Progress > 0, "running with progress");

        await ExpireLeaseAsync(host, job.Id);

        var done = await host.WaitForJobAsync(job.Id, j => j.IsFinished, "finished");
        await host.StopWorkerAsync();
        var log = await host.GetLogAsync(job.Id);
        var because = JobTestHost.Describe(done) + "\n" + JobTestHost.FormatLog(log);

        Assert.True(done.State == JobState.Succeeded, because);
        Assert.True(Enumerable.Range(1, Steps).SequenceEqual(DiagnosticsLog.Steps(log)), "each step once, in order: " + because);
        Assert.True(done.Attempts == 1, because);
        Assert.Empty(DiagnosticsLog.ResumedAfter(log));
    }
}
