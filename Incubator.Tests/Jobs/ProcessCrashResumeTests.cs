using Incubator.Domain.Jobs;
using Incubator.Tests.Infrastructure;

namespace Incubator.Tests.Jobs;

/// <summary>The durability promise end to end: the real executable is killed mid-job (no graceful shutdown) and a
/// fresh start of it finishes the job from its last checkpoint, doing every step exactly once.</summary>
[Collection(HeavyCollection.Name)]
public sealed class ProcessCrashResumeTests
{
    private const int Steps = 30;

    [Fact]
    public async Task A_job_interrupted_by_a_killed_process_resumes_after_restart_and_runs_every_step_exactly_once()
    {
        using var app = await CrashHarness.MigrateAsync("incubator-jobs-crash");
        await app.RunAsync(async () =>
        {
            // The test reaches the same database file the way a second instance would, without a worker.
            await using var db = await JobTestHost.CreateAsync(app.DataDirectory, "test-observer", migrate: false);
            var projectId = await db.CreateProjectAsync("crash test");
            var job = await db.Queue.EnqueueInternalAsync(null, projectId, DiagnosticsJob.KindName, "survive a crash", new DiagnosticsJob.Payload(Steps, 200));

            var first = app.Start("first run");
            await WaitForAsync(db, job.Id, j => j.State == JobState.Running && j.Progress >= 0.2, "running with progress >= 0.2", first);

            first.Kill();
            Assert.True(first.HasExited, "the first process should be gone after the kill");

            var afterCrash = await db.GetJobAsync(job.Id);
            var crashLog = await db.GetLogAsync(job.Id);
            var because = JobTestHost.Describe(afterCrash) + "\n" + JobTestHost.FormatLog(crashLog);
            Assert.True(afterCrash.State == JobState.Running, "a crash must leave the job Running (nobody finished or released it): " + because);
            Assert.NotNull(afterCrash.LeaseOwner);
            Assert.Equal(1, afterCrash.Attempts);
            Assert.True(afterCrash.Progress is >= 0.2 and < 1, because);
            var stepsBeforeCrash = DiagnosticsLog.Steps(crashLog);
            var k = stepsBeforeCrash.Count;
            Assert.Equal(Enumerable.Range(1, k), stepsBeforeCrash);
            Assert.Equal(JobTestHost.Json(new DiagnosticsJob.Checkpoint(k)), afterCrash.Checkpoint);

            var second = app.Start("second run");
            var done = await WaitForAsync(db, job.Id, j => j.IsFinished, "finished", second);
            var log = await db.WaitForFinishLineAsync(job.Id);
            because = JobTestHost.Describe(done) + "\n" + JobTestHost.FormatLog(log);

            Assert.True(done.State == JobState.Succeeded, because);
            Assert.Equal(2, done.Attempts);
            Assert.Equal(1.0, done.Progress);
            Assert.Null(done.LeaseOwner);
            Assert.Equal(Enumerable.Range(1, Steps), DiagnosticsLog.Steps(log));
            Assert.Equal([k], DiagnosticsLog.ResumedAfter(log));
            var resumeAt = log.FindIndex(l => l.Message == $"Resuming after step {k} of {Steps}.");
            var nextStepAt = log.FindIndex(l => l.Message == $"Step {k + 1} done.");
            Assert.True(resumeAt < nextStepAt, because);
            Assert.Equal("Job succeeded.", log[^1].Message);
        });
    }

    private static async Task<Job> WaitForAsync(JobTestHost db, Guid jobId, Func<Job, bool> condition, string what, AppProcess process)
    {
        Job? last = null;
        await Poll.UntilAsync(async () =>
        {
            last = await db.GetJobAsync(jobId);
            if (condition(last)) return true;
            if (process.HasExited) throw new Xunit.Sdk.XunitException($"The app exited while waiting for the job to be {what}; row: {JobTestHost.Describe(last)}");
            return false;
        }, TimeSpan.FromSeconds(60), async () => $"job never became {what}; row: {JobTestHost.Describe(last)}; log:\n{JobTestHost.FormatLog(await db.GetLogAsync(jobId))}");
        return last!;
    }
}
