using System.Collections.Concurrent;
using Incubator.Domain.Common.Events;

namespace Incubator.Tests.Infrastructure;

/// <summary>Records what one subscription of the live events receives. Delivery runs on the subscription's own loop,
/// after the publisher has moved on, so tests wait for what they expect (<see cref="WaitForAsync{T}"/>) or for every
/// event published so far (<see cref="SettledAsync"/>) before they assert.</summary>
internal sealed class EventSink : IDisposable
{
    private const string BarrierPrefix = "test-barrier:";

    /// <summary>Only a guard against hanging forever; nothing is asserted about how long delivery takes.</summary>
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(60);

    private readonly IRunEvents _bus;
    private readonly Guid? _project;
    private readonly IDisposable _subscription;
    private readonly ConcurrentQueue<RunEvent> _events = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _barriers = new();

    public EventSink(IRunEvents bus, Guid? project = null)
    {
        _bus = bus;
        _project = project;
        _subscription = project is { } p ? bus.Subscribe(p, Record) : bus.SubscribeAll(Record);
    }

    public IReadOnlyList<RunEvent> Events => [.. _events];

    public IReadOnlyList<T> Of<T>() where T : RunEvent => _events.OfType<T>().ToList();

    private Task Record(RunEvent e)
    {
        if (e is ProjectChanged { What: var what } && what.StartsWith(BarrierPrefix, StringComparison.Ordinal))
        {
            if (_barriers.TryRemove(what, out var barrier)) barrier.TrySetResult();
        }
        else
        {
            _events.Enqueue(e);
        }
        return Task.CompletedTask;
    }

    /// <summary>The first recorded event of type <typeparamref name="T"/> that matches.</summary>
    public async Task<T> WaitForAsync<T>(Func<T, bool>? match = null) where T : RunEvent
    {
        var deadline = DateTime.UtcNow + Guard;
        while (true)
        {
            if (_events.OfType<T>().FirstOrDefault(e => match?.Invoke(e) ?? true) is { } found) return found;
            if (DateTime.UtcNow > deadline)
                throw new Xunit.Sdk.XunitException($"No matching {typeof(T).Name} arrived; received: {string.Join(", ", _events.Select(e => e.GetType().Name))}");
            await Task.Delay(20);
        }
    }

    /// <summary>Returns once everything published before the call has reached this subscription: a marker published
    /// now comes after it (one subscription's events are delivered in order). Lets a test assert that something was
    /// NOT published.</summary>
    public async Task SettledAsync()
    {
        var marker = BarrierPrefix + Guid.NewGuid().ToString("N");
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _barriers[marker] = arrived;
        await _bus.PublishAsync(new ProjectChanged(_project ?? Guid.NewGuid(), marker));
        await arrived.Task.WaitAsync(Guard);
    }

    public void Dispose() => _subscription.Dispose();
}
