using Incubator.Domain.Common.Events;
using System.Collections.Concurrent;
using Incubator.Domain.Jobs;
using Microsoft.Extensions.Logging;

namespace Incubator.Tests.Jobs;

public sealed class RunEventsTests
{
    private static readonly Guid ProjectA = Guid.NewGuid();
    private static readonly Guid ProjectB = Guid.NewGuid();

    private static JobChanged JobEvent(Guid project, string title) =>
        new(project, Guid.NewGuid(), DiagnosticsJob.KindName, title, JobState.Running, 0.5, null, null, DateTimeOffset.UtcNow);

    private static Func<RunEvent, Task> Into(ConcurrentQueue<RunEvent> sink) => e =>
    {
        sink.Enqueue(e);
        return Task.CompletedTask;
    };

    [Fact]
    public async Task Project_subscribers_get_only_their_project_and_subscribe_all_gets_everything()
    {
        var events = new InProcessRunEvents(new CapturingLogger<InProcessRunEvents>());
        ConcurrentQueue<RunEvent> a = new(), b = new(), all = new();
        using var subA = events.Subscribe(ProjectA, Into(a));
        using var subB = events.Subscribe(ProjectB, Into(b));
        using var subAll = events.SubscribeAll(Into(all));

        var e1 = JobEvent(ProjectA, "one");
        var e2 = new ProjectChanged(ProjectB, "renamed");
        var e3 = JobEvent(ProjectA, "three");
        var e4 = JobEvent(Guid.NewGuid(), "nobody's project");
        foreach (var e in new RunEvent[] { e1, e2, e3, e4 }) await events.PublishAsync(e);

        Assert.Equal([e1, e3], a);
        Assert.Equal([e2], b);
        Assert.Equal([e1, e2, e3, e4], all);
    }

    [Fact]
    public async Task Disposing_a_subscription_stops_delivery_to_it_only()
    {
        var events = new InProcessRunEvents(new CapturingLogger<InProcessRunEvents>());
        ConcurrentQueue<RunEvent> first = new(), second = new(), all = new();
        var subFirst = events.Subscribe(ProjectA, Into(first));
        using var subSecond = events.Subscribe(ProjectA, Into(second));
        var subAll = events.SubscribeAll(Into(all));

        var before = JobEvent(ProjectA, "before");
        await events.PublishAsync(before);
        subFirst.Dispose();
        subFirst.Dispose(); // twice is harmless
        subAll.Dispose();
        var after = JobEvent(ProjectA, "after");
        await events.PublishAsync(after);

        Assert.Equal([before], first);
        Assert.Equal([before], all);
        Assert.Equal([before, after], second);
    }

    [Fact]
    public async Task A_throwing_subscriber_is_logged_and_skipped_and_the_others_still_receive()
    {
        var logger = new CapturingLogger<InProcessRunEvents>();
        var events = new InProcessRunEvents(logger);
        ConcurrentQueue<RunEvent> good = new(), goodAll = new();
        // Registered first, so a broken fan-out would stop before the good ones whatever the enumeration order.
        using var throwsAtOnce = events.Subscribe(ProjectA, _ => throw new InvalidOperationException("sync boom"));
        using var throwsLater = events.SubscribeAll(async _ =>
        {
            await Task.Yield();
            throw new InvalidOperationException("async boom");
        });
        using var subGood = events.Subscribe(ProjectA, Into(good));
        using var subGoodAll = events.SubscribeAll(Into(goodAll));

        var e1 = JobEvent(ProjectA, "one");
        var e2 = JobEvent(ProjectA, "two");
        await events.PublishAsync(e1);
        await events.PublishAsync(e2);

        Assert.Equal([e1, e2], good);
        Assert.Equal([e1, e2], goodAll);
        Assert.Equal(4, logger.Entries.Count(x => x.Level == LogLevel.Warning));
        Assert.Contains(logger.Entries, x => x.Exception?.Message == "sync boom");
        Assert.Contains(logger.Entries, x => x.Exception?.Message == "async boom");
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
