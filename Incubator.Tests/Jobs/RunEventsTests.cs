using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Incubator.Domain.Common.Events;
using Incubator.Domain.Common.Observability;
using Incubator.Domain.Jobs;
using Incubator.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Incubator.Tests.Jobs;

/// <summary>The in-process event bus: the publisher never waits for a subscriber; each subscriber gets its own buffer,
/// in order, with progress coalesced (latest wins) and, when full, the oldest facts dropped and counted.</summary>
public sealed class RunEventsTests
{
    private static readonly Guid ProjectA = Guid.NewGuid();
    private static readonly Guid ProjectB = Guid.NewGuid();
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(60);

    private static JobChanged JobEvent(Guid project, string title, JobState state = JobState.Queued, Guid? jobId = null, double progress = 0) =>
        new(project, jobId ?? Guid.NewGuid(), DiagnosticsJob.KindName, title, state, progress, null, null, DateTimeOffset.UtcNow);

    private static SampleAccepted Sample(int i, Guid? run = null) => new(ProjectA, run ?? Guid.Empty, Guid.NewGuid(), "billing", $"text {i}", 0, false);

    private static RunProgress Progress(Guid run, int calls) =>
        new(ProjectA, run, 0, new Dictionary<string, int>(), new Dictionary<string, int>(), 10, calls, 0, 0m, calls, 0);

    /// <summary>A subscriber that records what it gets and, while <see cref="Gate"/> is closed, blocks inside its
    /// handler on the first event (<see cref="Entered"/> says when it got there).</summary>
    private sealed class BlockedSubscriber
    {
        public TaskCompletionSource Gate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ConcurrentQueue<RunEvent> Received { get; } = new();

        public async Task Handle(RunEvent e)
        {
            Received.Enqueue(e);
            Entered.TrySetResult();
            await Gate.Task;
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition, Func<string> describe)
    {
        var deadline = DateTime.UtcNow + Guard;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new Xunit.Sdk.XunitException("Timed out: " + describe());
            await Task.Delay(10);
        }
    }

    [Fact]
    public async Task Project_subscribers_get_only_their_project_and_subscribe_all_gets_everything()
    {
        var events = new InProcessRunEvents(new CapturingLogger<InProcessRunEvents>());
        using var a = new EventSink(events, ProjectA);
        using var b = new EventSink(events, ProjectB);
        using var all = new EventSink(events);

        var e1 = JobEvent(ProjectA, "one");
        var e2 = new ProjectChanged(ProjectB, "renamed");
        var e3 = JobEvent(ProjectA, "three");
        var e4 = JobEvent(Guid.NewGuid(), "nobody's project");
        foreach (var e in new RunEvent[] { e1, e2, e3, e4 }) await events.PublishAsync(e);
        await Task.WhenAll(a.SettledAsync(), b.SettledAsync(), all.SettledAsync());

        Assert.Equal([e1, e3], a.Events);
        Assert.Equal([e2], b.Events);
        Assert.Equal([e1, e2, e3, e4], all.Events);
    }

    [Fact]
    public async Task A_subscriber_blocked_in_its_handler_does_not_hold_up_publishing_or_the_other_subscribers()
    {
        var events = new InProcessRunEvents(new CapturingLogger<InProcessRunEvents>());
        var blocked = new BlockedSubscriber();
        using var slow = events.Subscribe(ProjectA, blocked.Handle);
        using var fast = new EventSink(events, ProjectA);

        await events.PublishAsync(Sample(0));
        await blocked.Entered.Task.WaitAsync(Guard);
        // Every publish returns completed while the slow subscriber stays blocked on its first event.
        for (var i = 1; i <= 1000; i++)
            Assert.True(events.PublishAsync(Sample(i)).IsCompletedSuccessfully);
        await fast.SettledAsync();

        Assert.False(blocked.Gate.Task.IsCompleted);
        Assert.Single(blocked.Received);
        Assert.Equal(Enumerable.Range(0, 1001).Select(i => $"text {i}"), fast.Of<SampleAccepted>().Select(s => s.Text));
        blocked.Gate.SetResult();
    }

    [Fact]
    public async Task A_slow_subscriber_gets_only_the_latest_progress_of_each_run_and_every_other_event_in_order()
    {
        var events = new InProcessRunEvents(new CapturingLogger<InProcessRunEvents>());
        var blocked = new BlockedSubscriber();
        using var sub = events.Subscribe(ProjectA, blocked.Handle);
        var runX = Guid.NewGuid();
        var runY = Guid.NewGuid();
        var first = Sample(0);
        await events.PublishAsync(first);
        await blocked.Entered.Task.WaitAsync(Guard);

        var samples = new List<SampleAccepted>();
        for (var i = 1; i <= 100; i++)
        {
            await events.PublishAsync(Progress(runX, i));
            if (i % 2 == 0) await events.PublishAsync(Progress(runY, i));
            var s = Sample(i, runX);
            samples.Add(s);
            await events.PublishAsync(s);
        }
        blocked.Gate.SetResult();
        // 1 + 100 samples + the latest progress of each run.
        await WaitUntilAsync(() => blocked.Received.Count >= 103, () => $"{blocked.Received.Count} received");
        await Task.Delay(100); // room for anything wrongly delivered twice
        var received = blocked.Received.ToList();

        Assert.Equal(103, received.Count);
        Assert.Equal([first, .. samples], received.OfType<SampleAccepted>());
        var progress = received.OfType<RunProgress>().ToList();
        Assert.Equal([(runX, 100L), (runY, 100L)], progress.Select(p => (p.RunId, p.InputTokens)));
        // Each run's latest report stands where it was published: after the samples published before it.
        Assert.Equal(samples[^2], received[^4]);
        Assert.IsType<RunProgress>(received[^3]);
        Assert.IsType<RunProgress>(received[^2]);
        Assert.Equal(samples[^1], received[^1]);
    }

    [Fact]
    public async Task A_newer_progress_tick_comes_after_the_transitions_it_follows()
    {
        var events = new InProcessRunEvents(new CapturingLogger<InProcessRunEvents>());
        var blocked = new BlockedSubscriber();
        using var sub = events.Subscribe(ProjectA, blocked.Handle);
        await events.PublishAsync(Sample(0));
        await blocked.Entered.Task.WaitAsync(Guard);
        var job = Guid.NewGuid();

        await events.PublishAsync(JobEvent(ProjectA, "t", JobState.Running, job, 0.3));
        await events.PublishAsync(JobEvent(ProjectA, "t", JobState.Paused, job, 0.3));
        await events.PublishAsync(JobEvent(ProjectA, "t", JobState.Queued, job, 0.3));
        await events.PublishAsync(JobEvent(ProjectA, "t", JobState.Running, job, 0.6));
        await events.PublishAsync(JobEvent(ProjectA, "t", JobState.Succeeded, job, 1));
        blocked.Gate.SetResult();
        await WaitUntilAsync(() => blocked.Received.Count >= 5, () => $"{blocked.Received.Count} received");

        Assert.Equal([(JobState.Paused, 0.3), (JobState.Queued, 0.3), (JobState.Running, 0.6), (JobState.Succeeded, 1.0)],
            blocked.Received.OfType<JobChanged>().Select(j => (j.State, j.Progress)));
    }

    [Fact]
    public async Task When_a_slow_subscribers_buffer_is_full_the_oldest_events_are_dropped_counted_and_logged()
    {
        await using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meters = services.GetRequiredService<IMeterFactory>();
        long dropped = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Scope == meters && instrument.Name == "incubator.events.dropped") l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref dropped, value));
        listener.Start();
        var logger = new CapturingLogger<InProcessRunEvents>();
        var events = new InProcessRunEvents(logger, capacity: 10, meters);
        var blocked = new BlockedSubscriber();
        using var sub = events.Subscribe(ProjectA, blocked.Handle);
        await events.PublishAsync(Sample(0));
        await blocked.Entered.Task.WaitAsync(Guard);

        var run = Guid.NewGuid();
        await events.PublishAsync(Progress(run, 1));
        for (var i = 1; i <= 25; i++) await events.PublishAsync(Sample(i));
        blocked.Gate.SetResult();
        await WaitUntilAsync(() => blocked.Received.Count >= 11, () => $"{blocked.Received.Count} received");
        await WaitUntilAsync(() => logger.Entries.Any(x => x.Level == LogLevel.Warning), () => "no warning logged");

        // Ten fit: the progress report (kept: it is the latest state) and the nine newest samples.
        Assert.Equal(["text 0", .. Enumerable.Range(17, 9).Select(i => $"text {i}")], blocked.Received.OfType<SampleAccepted>().Select(s => s.Text));
        Assert.Single(blocked.Received.OfType<RunProgress>());
        Assert.Equal(16, Interlocked.Read(ref dropped));
        Assert.Contains(logger.Entries, x => x.Level == LogLevel.Warning && x.Message.Contains("missed 16 live events", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Disposing_a_subscription_ends_its_loop_and_drops_what_was_waiting_for_it_only()
    {
        var events = new InProcessRunEvents(new CapturingLogger<InProcessRunEvents>());
        var blocked = new BlockedSubscriber();
        var sub = events.Subscribe(ProjectA, blocked.Handle);
        using var other = new EventSink(events, ProjectA);
        var before = Sample(0);
        await events.PublishAsync(before);
        await blocked.Entered.Task.WaitAsync(Guard);
        await events.PublishAsync(Sample(1)); // waiting in the blocked subscriber's buffer

        sub.Dispose();
        sub.Dispose(); // twice is harmless
        blocked.Gate.SetResult();
        var after = Sample(2);
        await events.PublishAsync(after);
        await other.SettledAsync();
        await Task.Delay(200); // room for anything wrongly delivered after the dispose

        Assert.Equal([before], blocked.Received);
        Assert.Equal(["text 0", "text 1", "text 2"], other.Of<SampleAccepted>().Select(s => s.Text));
    }

    [Fact]
    public async Task A_throwing_subscriber_is_logged_and_skipped_and_the_others_still_receive()
    {
        var logger = new CapturingLogger<InProcessRunEvents>();
        var events = new InProcessRunEvents(logger);
        // Registered first, so a broken fan-out would stop before the good ones whatever the enumeration order.
        using var throwsAtOnce = events.Subscribe(ProjectA, _ => throw new InvalidOperationException("sync boom"));
        using var throwsLater = events.SubscribeAll(async _ =>
        {
            await Task.Yield();
            throw new InvalidOperationException("async boom");
        });
        using var good = new EventSink(events, ProjectA);
        using var goodAll = new EventSink(events);

        var e1 = JobEvent(ProjectA, "one");
        var e2 = JobEvent(ProjectA, "two");
        await events.PublishAsync(e1);
        await events.PublishAsync(e2);
        await Task.WhenAll(good.SettledAsync(), goodAll.SettledAsync());
        // Both failing subscribers log (each sink's barrier is an event too, so a count alone could be reached by one of them).
        await WaitUntilAsync(() => logger.Entries.Any(x => x.Level == LogLevel.Warning && x.Exception?.Message == "sync boom")
            && logger.Entries.Any(x => x.Level == LogLevel.Warning && x.Exception?.Message == "async boom"), () => $"{logger.Entries.Count} log entries");

        Assert.Equal([e1, e2], good.Events);
        Assert.Equal([e1, e2], goodAll.Events);
        Assert.Contains(logger.Entries, x => x.Exception?.Message == "sync boom");
        Assert.Contains(logger.Entries, x => x.Exception?.Message == "async boom");
    }

    [Fact]
    public async Task A_batch_subscriber_gets_everything_that_arrived_while_it_handled_the_previous_batch_in_one_call()
    {
        var events = new InProcessRunEvents(new CapturingLogger<InProcessRunEvents>());
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var batches = new ConcurrentQueue<IReadOnlyList<RunEvent>>();
        using var sub = events.SubscribeBatches(ProjectA, async batch =>
        {
            batches.Enqueue(batch);
            entered.TrySetResult();
            await gate.Task;
        });
        await events.PublishAsync(Sample(0));
        await entered.Task.WaitAsync(Guard);
        var run = Guid.NewGuid();
        for (var i = 1; i <= 20; i++)
        {
            await events.PublishAsync(Sample(i));
            await events.PublishAsync(Progress(run, i));
        }

        gate.SetResult();
        await WaitUntilAsync(() => batches.Count >= 2, () => $"{batches.Count} batches");
        var second = batches.ElementAt(1);

        Assert.Single(batches.First());
        Assert.Equal(21, second.Count);
        Assert.Equal(Enumerable.Range(1, 20).Select(i => $"text {i}"), second.OfType<SampleAccepted>().Select(s => s.Text));
        Assert.Equal(20L, Assert.Single(second.OfType<RunProgress>()).Calls);
    }
}

internal sealed class CapturingLogger<T> : ILogger<T>
{
    public ConcurrentQueue<(LogLevel Level, string Message, Exception? Exception)> Entries { get; } = new();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Entries.Enqueue((logLevel, formatter(state, exception), exception));
}
