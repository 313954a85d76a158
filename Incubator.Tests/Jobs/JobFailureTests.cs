using Incubator.Domain.Common.Events;
using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Incubator.Domain.Jobs;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.Jobs;

public sealed class JobFailureTests
{
    [Fact]
    public async Task A_handler_that_throws_fails_the_job_with_its_message_keeps_committed_work_and_is_not_retried()
    {
        await using var host = await JobTestHost.CreateAsync(configure: s => s.AddJobHandler<FailingJob>(FailingJob.KindName));
        var projectId = await host.CreateProjectAsync();
        var seen = new ConcurrentQueue<JobChanged>();
        using var sub = host.Services.GetRequiredService<IRunEvents>().Subscribe(projectId, e =>
        {
            if (e is JobChanged c) seen.Enqueue(c);
            return Task.CompletedTask;
        });
        var message = $"boom {Guid.NewGuid():N}";
        var job = await host.Queue.EnqueueInternalAsync(null, projectId, FailingJob.KindName, "fails", new FailingJob.Payload(message));

        await host.StartWorkerAsync();
        var failed = await host.WaitForJobAsync(job.Id, j => j.IsFinished, "finished");
        var log = await host.WaitForFinishLineAsync(job.Id);
        var because = JobTestHost.Describe(failed) + "\n" + JobTestHost.FormatLog(log);

        Assert.True(failed.State == JobState.Failed, because);
        Assert.Equal(message, failed.Error);
        Assert.Equal(0.5, failed.Progress); // what was committed before the exception is kept
        Assert.Equal("""{"half":true}""", failed.Checkpoint);
        Assert.Null(failed.LeaseOwner);
        Assert.NotNull(failed.FinishedAt);
        Assert.Equal(["Half way there.", $"Job failed: {message}"], log.Select(l => l.Message));
        Assert.Equal(["info", "error"], log.Select(l => l.Level));

        // Watchers were told, with the error.
        await Poll.UntilAsync(() => Task.FromResult(seen.Any(c => c.JobId == job.Id && c.State == JobState.Failed)),
            TimeSpan.FromSeconds(30), () => Task.FromResult(string.Join("\n", seen)));
        Assert.Equal(message, seen.Single(c => c.JobId == job.Id && c.State == JobState.Failed).Error);

        // A failure is final: the worker goes on with later work and never claims the failed job again.
        var sentinel = await host.Queue.EnqueueInternalAsync(null, projectId, DiagnosticsJob.KindName, "sentinel", new DiagnosticsJob.Payload(1, 0));
        await host.WaitForJobAsync(sentinel.Id, j => j.State == JobState.Succeeded, "Succeeded");
        var after = await host.GetJobAsync(job.Id);
        Assert.Equal(JobState.Failed, after.State);
        Assert.Equal(1, after.Attempts);
    }

    [Fact]
    public async Task A_job_of_a_kind_this_build_does_not_know_fails_with_a_clear_message()
    {
        await using var host = await JobTestHost.CreateAsync();
        var projectId = await host.CreateProjectAsync();
        var job = await host.InsertJobAsync(new Job
        {
            Id = Guid.NewGuid(), ProjectId = projectId, Kind = "no.such.kind", Title = "from a newer version", State = JobState.Queued,
            Payload = "{}", CreatedAt = DateTimeOffset.UtcNow,
        });

        await host.StartWorkerAsync();
        var failed = await host.WaitForJobAsync(job.Id, j => j.IsFinished, "finished");
        var log = await host.WaitForFinishLineAsync(job.Id);

        Assert.True(failed.State == JobState.Failed, JobTestHost.Describe(failed));
        Assert.Equal("This version of Incubator has no handler for job kind 'no.such.kind'.", failed.Error);
        Assert.Equal(1, failed.Attempts);
        Assert.Null(failed.LeaseOwner);
        var line = Assert.Single(log);
        Assert.Equal("error", line.Level);
        Assert.Contains("no.such.kind", line.Message);
    }

    [Fact]
    public async Task Enqueueing_an_unknown_kind_is_refused_up_front()
    {
        await using var host = await JobTestHost.CreateAsync();
        var projectId = await host.CreateProjectAsync();
        var ex = await Assert.ThrowsAsync<Incubator.Domain.Common.DomainValidationException>(
            () => host.Queue.EnqueueInternalAsync(null, projectId, "no.such.kind", "x", new { }));
        Assert.Contains(DiagnosticsJob.KindName, ex.Message); // it lists the kinds that do exist
        await using var db = await host.Db.CreateDbContextAsync();
        Assert.False(await db.Jobs.AnyAsync());
    }
}
