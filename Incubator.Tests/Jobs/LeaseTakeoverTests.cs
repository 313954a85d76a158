using Incubator.Tests.Infrastructure;
using Incubator.Domain.Data;
using Incubator.Domain.Jobs;

namespace Incubator.Tests.Jobs;

/// <summary>A worker that died leaves its job Running under a lease; once the lease expires another worker takes
/// the job over and resumes from the checkpoint. A live lease is never taken.</summary>
public sealed class LeaseTakeoverTests
{
    [Theory]
    [MemberData(nameof(TestServers.Providers), MemberType = typeof(TestServers))]
    public async Task A_running_job_whose_lease_expired_is_taken_over_and_resumed_from_its_checkpoint(DatabaseProvider provider)
    {
        await using var host = await JobTestHost.CreateAsync(provider: provider);
        var projectId = await host.CreateProjectAsync();
        var checkpoint = JobTestHost.Json(new DiagnosticsJob.Checkpoint(3));
        Assert.Equal("""{"done":3}""", checkpoint);
        var now = JobTestHost.UtcNowMs();
        var orphan = await host.InsertJobAsync(new Job
        {
            Id = Guid.NewGuid(), ProjectId = projectId, Kind = DiagnosticsJob.KindName, Title = "orphaned", State = JobState.Running,
            Payload = JobTestHost.Json(new DiagnosticsJob.Payload(6, 10)), Checkpoint = checkpoint, Progress = 0.5,
            LeaseOwner = "dead-worker", LeaseExpiresAt = now.AddMinutes(-1), Attempts = 1,
            CreatedAt = now.AddMinutes(-5), StartedAt = now.AddMinutes(-5),
        });

        await host.StartWorkerAsync();
        var done = await host.WaitForJobAsync(orphan.Id, j => j.IsFinished, "finished");
        await host.StopWorkerAsync();
        var log = await host.GetLogAsync(orphan.Id);
        var because = JobTestHost.Describe(done) + "\n" + JobTestHost.FormatLog(log);

        Assert.True(done.State == JobState.Succeeded, because);
        Assert.Equal(2, done.Attempts);
        Assert.Null(done.LeaseOwner);
        Assert.Equal(1.0, done.Progress);
        Assert.Equal(JobTestHost.Json(new DiagnosticsJob.Checkpoint(6)), done.Checkpoint);
        Assert.Equal(now.AddMinutes(-5), done.StartedAt); // the first attempt's start is kept
        Assert.Equal([4, 5, 6], DiagnosticsLog.Steps(log));
        Assert.Equal([3], DiagnosticsLog.ResumedAfter(log));
        var resumeLine = Assert.Single(log, l => l.Message == "Resuming after step 3 of 6.");
        Assert.True(log.IndexOf(resumeLine) < log.FindIndex(l => l.Message == "Step 4 done."), because);
        Assert.Equal("Job succeeded.", log[^1].Message);
    }

    [Fact]
    public async Task A_job_abandoned_more_often_than_its_max_attempts_is_failed_instead_of_run_again()
    {
        await using var host = await JobTestHost.CreateAsync();
        var projectId = await host.CreateProjectAsync();
        var now = JobTestHost.UtcNowMs();
        var poison = await host.InsertJobAsync(new Job
        {
            Id = Guid.NewGuid(), ProjectId = projectId, Kind = DiagnosticsJob.KindName, Title = "crashes its worker", State = JobState.Running,
            Payload = JobTestHost.Json(new DiagnosticsJob.Payload(6, 10)), Checkpoint = JobTestHost.Json(new DiagnosticsJob.Checkpoint(3)),
            LeaseOwner = "dead-worker", LeaseExpiresAt = now.AddMinutes(-1), Attempts = 5, MaxAttempts = 5,
            CreatedAt = now.AddMinutes(-5), StartedAt = now.AddMinutes(-5),
        });

        await host.StartWorkerAsync();
        var done = await host.WaitForJobAsync(poison.Id, j => j.IsFinished, "finished");
        var log = await host.WaitForFinishLineAsync(poison.Id);

        Assert.True(done.State == JobState.Failed, JobTestHost.Describe(done));
        Assert.Equal(6, done.Attempts);
        Assert.Equal("Gave up after 5 attempts: the job was interrupted every time.", done.Error);
        Assert.Empty(DiagnosticsLog.Steps(log)); // the handler never ran again
        Assert.Empty(DiagnosticsLog.ResumedAfter(log));
        Assert.Equal("error", Assert.Single(log).Level);
    }

    [Theory]
    [MemberData(nameof(TestServers.Providers), MemberType = typeof(TestServers))]
    public async Task A_running_job_whose_lease_is_still_live_is_not_claimed_by_another_worker(DatabaseProvider provider)
    {
        await using var host = await JobTestHost.CreateAsync(provider: provider);
        var projectId = await host.CreateProjectAsync();
        var now = JobTestHost.UtcNowMs();
        var held = await host.InsertJobAsync(new Job
        {
            Id = Guid.NewGuid(), ProjectId = projectId, Kind = DiagnosticsJob.KindName, Title = "held elsewhere", State = JobState.Running,
            Payload = JobTestHost.Json(new DiagnosticsJob.Payload(6, 10)), Checkpoint = JobTestHost.Json(new DiagnosticsJob.Checkpoint(3)),
            Progress = 0.5, LeaseOwner = "alive-worker", LeaseExpiresAt = now.AddMinutes(10), Attempts = 1,
            CreatedAt = now.AddMinutes(-5), StartedAt = now.AddMinutes(-5), Version = 7,
        });
        var other = host.CreateExtraWorker("other-worker");

        Assert.Null(await other.TryClaimAsync(CancellationToken.None));

        // With a newer queued job next to it, the claim takes that one and still leaves the held job alone,
        // although the held job is older.
        var queued = await host.Queue.EnqueueInternalAsync(null, projectId, DiagnosticsJob.KindName, "queued", new DiagnosticsJob.Payload(1, 0));
        var claimed = await other.TryClaimAsync(CancellationToken.None);
        Assert.NotNull(claimed);
        Assert.Equal(queued.Id, claimed.Id);
        Assert.Null(await other.TryClaimAsync(CancellationToken.None));

        // And a running worker loop, polling all the while, leaves it alone too.
        var sentinel = await host.Queue.EnqueueInternalAsync(null, projectId, DiagnosticsJob.KindName, "sentinel", new DiagnosticsJob.Payload(1, 0));
        await host.StartWorkerAsync();
        await host.WaitForJobAsync(sentinel.Id, j => j.State == JobState.Succeeded, "Succeeded");
        await host.StopWorkerAsync();

        var row = await host.GetJobAsync(held.Id);
        Assert.Equal(JobState.Running, row.State);
        Assert.Equal("alive-worker", row.LeaseOwner);
        Assert.Equal(1, row.Attempts);
        Assert.Equal(7, row.Version);
        Assert.Equal(now.AddMinutes(10), row.LeaseExpiresAt);
        Assert.Empty(await host.GetLogAsync(held.Id));
    }

    [Fact]
    public async Task A_worker_that_stops_gracefully_hands_its_running_job_back_and_the_next_start_resumes_it()
    {
        using var folder = new Incubator.Tests.Infrastructure.TempFolder("incubator-jobs-handback");
        Guid jobId;
        int k;
        await using (var first = await JobTestHost.CreateAsync(folder.Path, "first-life"))
        {
            var projectId = await first.CreateProjectAsync();
            jobId = (await first.Queue.EnqueueInternalAsync(null, projectId, DiagnosticsJob.KindName, "interrupted", new DiagnosticsJob.Payload(40, 50))).Id;
            await first.StartWorkerAsync();
            await first.WaitForJobAsync(jobId, j => j.State == JobState.Running && j.Progress > 0, "running with progress");
            await first.StopWorkerAsync();

            var handedBack = await first.GetJobAsync(jobId);
            var log = await first.GetLogAsync(jobId);
            var because = JobTestHost.Describe(handedBack) + "\n" + JobTestHost.FormatLog(log);
            // Back in the queue at once (no waiting for the lease to expire), with its checkpoint kept.
            Assert.True(handedBack.State == JobState.Queued, because);
            Assert.Null(handedBack.LeaseOwner);
            Assert.Null(handedBack.LeaseExpiresAt);
            Assert.False(handedBack.CancelRequested);
            // A deliberate stop does not count as an attempt: only crashes move a job towards MaxAttempts.
            Assert.Equal(0, handedBack.Attempts);
            k = DiagnosticsLog.Steps(log).Count;
            Assert.True(k is >= 1 and < 40, because);
            Assert.Equal(JobTestHost.Json(new DiagnosticsJob.Checkpoint(k)), handedBack.Checkpoint);
        }

        await using var second = await JobTestHost.CreateAsync(folder.Path, "second-life", migrate: false);
        await second.StartWorkerAsync();
        var done = await second.WaitForJobAsync(jobId, j => j.IsFinished, "finished");
        var finalLog = await second.WaitForFinishLineAsync(jobId);
        Assert.True(done.State == JobState.Succeeded, JobTestHost.Describe(done) + "\n" + JobTestHost.FormatLog(finalLog));
        Assert.Equal(1, done.Attempts);
        Assert.Equal(Enumerable.Range(1, 40), DiagnosticsLog.Steps(finalLog));
        Assert.Equal([k], DiagnosticsLog.ResumedAfter(finalLog));
    }
}
