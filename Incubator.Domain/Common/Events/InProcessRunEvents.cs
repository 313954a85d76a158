using System.Diagnostics.Metrics;
using System.Threading.Channels;
using Incubator.Domain.Common.Observability;
using Microsoft.Extensions.Logging;

namespace Incubator.Domain.Common.Events;

/// <summary>In-process fan-out that never makes the publisher wait. Each subscriber has its own bounded buffer and its
/// own reader loop: publishing only appends to the buffers. Progress-type events (<see cref="RunEvent.LatestWinsKey"/>)
/// replace the one of the same key still waiting, so a slow subscriber skips intermediate progress; every other event
/// is kept in order, and when a buffer is full the oldest of those is dropped, counted and logged. A failing
/// subscriber is logged and skipped: a closed browser tab must never break a job.</summary>
public sealed class InProcessRunEvents : IRunEvents
{
    /// <summary>Events one subscriber may have waiting. Generation publishes a few hundred per second at most; a page
    /// that cannot keep up for seconds loses its oldest samples rather than holding the process's memory.</summary>
    public const int DefaultCapacity = 1024;

    private readonly ILogger _logger;
    private readonly int _capacity;
    private readonly Counter<long>? _dropped;
    private readonly Lock _gate = new();
    private Mailbox[] _mailboxes = [];

    public InProcessRunEvents(ILogger<InProcessRunEvents> logger, IMeterFactory? meters = null)
        : this(logger, DefaultCapacity, meters)
    {
    }

    internal InProcessRunEvents(ILogger logger, int capacity, IMeterFactory? meters = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _logger = logger;
        _capacity = capacity;
        _dropped = meters?.Create(IncubatorTelemetry.MeterName).CreateCounter<long>("incubator.events.dropped", "{event}",
            "Live events a slow subscriber lost because its buffer was full");
    }

    public ValueTask PublishAsync(RunEvent e, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(e);
        foreach (var m in Volatile.Read(ref _mailboxes))
            if (m.Project is not { } p || p == e.ProjectId) m.Post(e);
        return ValueTask.CompletedTask;
    }

    public void DeliverRemote(RunEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        foreach (var m in Volatile.Read(ref _mailboxes))
            if (!m.LocalOnly && (m.Project is not { } p || p == e.ProjectId)) m.Post(e);
    }

    public IDisposable Subscribe(Guid projectId, Func<RunEvent, Task> handler) => Add(new Mailbox(this, projectId, handler, null));

    public IDisposable SubscribeAll(Func<RunEvent, Task> handler) => Add(new Mailbox(this, null, handler, null));

    public IDisposable SubscribeLocal(Func<RunEvent, Task> handler) => Add(new Mailbox(this, null, handler, null, localOnly: true));

    public IDisposable SubscribeBatches(Guid projectId, Func<IReadOnlyList<RunEvent>, Task> handler) => Add(new Mailbox(this, projectId, null, handler));

    private Mailbox Add(Mailbox m)
    {
        ArgumentNullException.ThrowIfNull(m);
        lock (_gate) _mailboxes = [.. _mailboxes, m];
        m.Start();
        return m;
    }

    private void Remove(Mailbox m)
    {
        lock (_gate) _mailboxes = _mailboxes.Where(x => x != m).ToArray();
    }

    /// <summary>One subscriber: its waiting events (superseded progress replaced in place of being appended) and the
    /// loop that hands them over. Disposing it ends the loop; events still waiting are discarded.</summary>
    private sealed class Mailbox(InProcessRunEvents bus, Guid? project, Func<RunEvent, Task>? each, Func<IReadOnlyList<RunEvent>, Task>? batches,
        bool localOnly = false)
        : IDisposable
    {
        private readonly Lock _gate = new();
        private readonly LinkedList<RunEvent> _pending = new();
        private readonly Dictionary<(Type, Guid), LinkedListNode<RunEvent>> _latest = new();
        private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1)
        {
            FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true,
        });
        private readonly CancellationTokenSource _stop = new();
        private int _droppedSinceReport;
        private volatile bool _closed;

        public Guid? Project => project;

        public bool LocalOnly => localOnly;

        public void Start() => _ = Task.Run(RunAsync);

        public void Post(RunEvent e)
        {
            string? dropped = null;
            lock (_gate)
            {
                if (_closed) return;
                if (e.LatestWinsKey() is { } key)
                {
                    // Moved to the end rather than replaced in place: after "paused, queued" a newer progress tick must
                    // come after them, not where the superseded one stood.
                    var slot = (e.GetType(), key);
                    if (_latest.Remove(slot, out var superseded)) _pending.Remove(superseded);
                    _latest[slot] = _pending.AddLast(e);
                }
                else
                {
                    _pending.AddLast(e);
                }
                if (_pending.Count > bus._capacity) dropped = DropOldestLocked();
            }
            if (dropped is not null) bus._dropped?.Add(1, new KeyValuePair<string, object?>("event", dropped));
            _wake.Writer.TryWrite(true);
        }

        /// <summary>The oldest event that is a fact of its own goes first; progress waiting ahead of it is at most one
        /// per key and is worth more (it is the latest state).</summary>
        private string DropOldestLocked()
        {
            var victim = _pending.First!;
            for (var n = _pending.First; n is not null; n = n.Next)
            {
                if (n.Value.LatestWinsKey() is null)
                {
                    victim = n;
                    break;
                }
            }
            if (victim.Value.LatestWinsKey() is { } key) _latest.Remove((victim.Value.GetType(), key));
            _pending.Remove(victim);
            _droppedSinceReport++;
            return victim.Value.GetType().Name;
        }

        private (RunEvent[]? Batch, int Dropped) Take()
        {
            lock (_gate)
            {
                var dropped = _droppedSinceReport;
                _droppedSinceReport = 0;
                if (_pending.Count == 0) return (null, dropped);
                var batch = new RunEvent[_pending.Count];
                _pending.CopyTo(batch, 0);
                _pending.Clear();
                _latest.Clear();
                return (batch, dropped);
            }
        }

        private async Task RunAsync()
        {
            var reader = _wake.Reader;
            try
            {
                while (await reader.WaitToReadAsync(_stop.Token))
                {
                    reader.TryRead(out _);
                    var (batch, dropped) = Take();
                    // Logged here, on the subscriber's loop, so a full buffer costs the publisher nothing but a count.
                    if (dropped > 0)
                        bus._logger.LogWarning("A slow subscriber of {ProjectId} missed {Count} live events: its buffer of {Capacity} was full",
                            project?.ToString() ?? "every project", dropped, bus._capacity);
                    if (batch is null || _closed) continue;
                    if (batches is not null)
                    {
                        try
                        {
                            await batches(batch);
                        }
                        catch (Exception ex)
                        {
                            bus._logger.LogWarning(ex, "A subscriber failed on a batch of {Count} events for project {ProjectId}", batch.Length, project);
                        }
                        continue;
                    }
                    foreach (var e in batch)
                    {
                        if (_closed) return;
                        try
                        {
                            await each!(e);
                        }
                        catch (Exception ex)
                        {
                            bus._logger.LogWarning(ex, "A subscriber failed on {EventType} for project {ProjectId}", e.GetType().Name, e.ProjectId);
                        }
                    }
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
            }
        }

        public void Dispose()
        {
            lock (_gate)
            {
                if (_closed) return;
                _closed = true;
                _pending.Clear();
                _latest.Clear();
            }
            bus.Remove(this);
            _stop.Cancel();
            _wake.Writer.TryComplete();
        }
    }
}
