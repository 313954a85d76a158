using System.Collections.Concurrent;
using Incubator.Domain.Common.Events;
using Incubator.Domain.Jobs;
using Incubator.Domain.Projects;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.Jobs;

/// <summary>A job's end says what the user got (docs/decisions/0020-truthful-outcomes.md): Stopped short and Failed carry
/// a note (a code to localise, the English message, the data), the row, the view, the event, the log and the activity
/// feed agree; a running job can wait for its endpoint and say so.</summary>
public sealed class JobOutcomeTests
{
    private static readonly JobNote Short = new("Test.Short", "Stopped short: a 3/5.", "a 3/5", 2);
    private static readonly JobNote Reason = new("Test.Failed", "Failed: the endpoint never answered: refused", "refused");
    private static readonly JobNote Wait = new("Test.Waiting", "Waiting for the endpoint: refused", "refused", 10);

    private sealed class ShortJob : IJobHandler
    {
        public const string KindName = "test.short";

        public string Kind => KindName;

        public async Task RunAsync(JobContext context)
        {
            await context.CommitAsync(0.7, new JobNote("Test.MostOfIt", "most of it"));
            context.StopShort(Short);
        }
    }

    private sealed class ReasonedFailJob : IJobHandler
    {
        public const string KindName = "test.reasoned-fail";

        public string Kind => KindName;

        public Task RunAsync(JobContext context) => throw new JobFailedException(Reason);
    }

    /// <summary>Waits for its endpoint until the test opens <see cref="Back"/>, then finishes.</summary>
    private sealed class WaitingJob : IJobHandler
    {
        public const string KindName = "test.waiting";

        public static readonly TaskCompletionSource Back = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string Kind => KindName;

        public async Task RunAsync(JobContext context)
        {
            await context.SetWaitingAsync(Wait);
            await context.CommitAsync(0.2, new JobNote("Test.StillWaiting", "still waiting"));
            await Back.Task.WaitAsync(context.CancellationToken);
            await context.SetWaitingAsync(null);
            await context.CommitAsync(1, new JobNote("Test.Done", "done"));
        }
    }

    private static Task<JobTestHost> HostAsync() => JobTestHost.CreateAsync(configure: s =>
    {
        s.AddJobHandler<ShortJob>(ShortJob.KindName);
        s.AddJobHandler<ReasonedFailJob>(ReasonedFailJob.KindName);
        s.AddJobHandler<WaitingJob>(WaitingJob.KindName);
    });

    /// <summary>Collects the project's job events until disposed.</summary>
    private static IDisposable Watch(JobTestHost host, Guid projectId, ConcurrentQueue<JobChanged> seen) =>
        host.Services.GetRequiredService<IRunEvents>().Subscribe(projectId, e =>
        {
            if (e is JobChanged c) seen.Enqueue(c);
            return Task.CompletedTask;
        });

    private static async Task<List<ActivityEntry>> ActivityAsync(JobTestHost host, Guid projectId)
    {
        await using var db = await host.Db.CreateDbContextAsync();
        return await db.Activity.AsNoTracking().Where(a => a.ProjectId == projectId).OrderBy(a => a.Id).ToListAsync();
    }

    [Fact]
    public async Task A_handler_that_stops_short_ends_the_job_stopped_short_with_its_note_everywhere()
    {
        await using var host = await HostAsync();
        var projectId = await host.CreateProjectAsync();
        var viewer = await host.CreateUserAsync(projectId, ProjectRole.Viewer, "viewer");
        var seen = new ConcurrentQueue<JobChanged>();
        using var sub = Watch(host, projectId, seen);
        var job = await host.Queue.EnqueueInternalAsync(null, projectId, ShortJob.KindName, "short one", new { });

        await host.StartWorkerAsync();
        var done = await host.WaitForJobAsync(job.Id, j => j.IsFinished, "finished");
        var log = await host.WaitForFinishLineAsync(job.Id);

        Assert.Equal(JobState.StoppedShort, done.State);
        Assert.True(done.IsFinished);
        Assert.Equal(0.7, done.Progress); // not 100 %: it did not do everything
        Assert.Null(done.Error);
        Assert.Equal($"Job stopped short: {Short.Message}", log[^1].Message);
        var view = await host.Queue.GetAsync(viewer, job.Id);
        Assert.Equal((JobState.StoppedShort, Short), (view.State, view.Note));
        var listed = Assert.Single((await host.Queue.ListAsync(viewer, projectId, 0, 10)).Items);
        Assert.Equal(Short, listed.Note);
        Assert.Equal(["a 3/5", "2"], view.Note!.Args);
        await Poll.UntilAsync(() => Task.FromResult(seen.Any(c => c.State == JobState.StoppedShort)), TimeSpan.FromSeconds(30), () => Task.FromResult(string.Join("\n", seen)));
        Assert.Equal(Short, seen.Single(c => c.State == JobState.StoppedShort).Note);
        var ended = Assert.Single(await ActivityAsync(host, projectId), a => a.Kind == ActivityKinds.JobStoppedShort);
        Assert.Equal("short one", ended.Detail);
        // Finished: never claimed again.
        Assert.Equal(1, (await host.GetJobAsync(job.Id)).Attempts);
    }

    [Fact]
    public async Task A_handler_that_fails_with_a_reason_ends_failed_with_the_note_and_its_message_as_the_error()
    {
        await using var host = await HostAsync();
        var projectId = await host.CreateProjectAsync();
        var job = await host.Queue.EnqueueInternalAsync(null, projectId, ReasonedFailJob.KindName, "fails", new { });

        await host.StartWorkerAsync();
        var done = await host.WaitForJobAsync(job.Id, j => j.IsFinished, "finished");
        var log = await host.WaitForFinishLineAsync(job.Id);

        Assert.Equal((JobState.Failed, Reason.Message), (done.State, done.Error));
        Assert.Equal(Reason, JobQueue.ToView(done, null).Note);
        Assert.Equal($"Job failed: {Reason.Message}", log[^1].Message);
        Assert.Single(await ActivityAsync(host, projectId), a => a.Kind == ActivityKinds.JobFailed && a.Detail == "fails");
    }

    [Fact]
    public async Task A_waiting_job_says_so_with_its_note_until_it_works_again_and_completes()
    {
        await using var host = await HostAsync();
        var projectId = await host.CreateProjectAsync();
        var seen = new ConcurrentQueue<JobChanged>();
        using var sub = Watch(host, projectId, seen);
        var job = await host.Queue.EnqueueInternalAsync(null, projectId, WaitingJob.KindName, "waits", new { });

        await host.StartWorkerAsync();
        var waiting = await host.WaitForJobAsync(job.Id, j => j.Progress == 0.2, "waiting with progress");
        var view = JobQueue.ToView(waiting, null);
        Assert.True(view.Waiting);
        Assert.Equal((JobState.Running, Wait), (view.State, view.Note));
        Assert.NotNull(view.WaitingSince);
        Assert.Contains((await host.GetLogAsync(job.Id)), l => l.Level == "warning" && l.Message == Wait.Message);
        // A progress tick while waiting still says "waiting": the page must not flip back to "running".
        await Poll.UntilAsync(() => Task.FromResult(seen.Any(c => c.Progress == 0.2)), TimeSpan.FromSeconds(30), () => Task.FromResult(string.Join("\n", seen)));
        Assert.All(seen.Where(c => c.State == JobState.Running && c.Progress >= 0.2 || c.Note == Wait), c => Assert.True(c.Waiting && c.Note == Wait, c.ToString()));

        WaitingJob.Back.SetResult();
        var done = await host.WaitForJobAsync(job.Id, j => j.IsFinished, "finished");
        Assert.Equal(JobState.Succeeded, done.State);
        Assert.Null(done.WaitingSince);
        Assert.Null(done.NoteJson);
        await Poll.UntilAsync(() => Task.FromResult(seen.Any(c => c.State == JobState.Succeeded)), TimeSpan.FromSeconds(30), () => Task.FromResult(string.Join("\n", seen)));
        Assert.Contains(seen, c => c is { State: JobState.Running, Waiting: false, Note: null });
        Assert.Single(await ActivityAsync(host, projectId), a => a.Kind == ActivityKinds.JobCompleted && a.Detail == "waits");
    }
}
