using System.Collections.Concurrent;
using System.Threading.Channels;

namespace Incubator.Domain.Jobs;

/// <summary>In-process fast path between the queue and the worker: "there is new work" and "cancel this job now".
/// It only shortens waits; the database stays the source of truth, so another instance still finds queued work
/// and cancel requests by polling.</summary>
public sealed class JobSignals
{
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly ConcurrentDictionary<Guid, CancellationTokenSource> _running = new();

    public void WorkAvailable() => _wake.Writer.TryWrite(true);

    public async Task WaitForWorkAsync(TimeSpan timeout, CancellationToken ct)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        try
        {
            await _wake.Reader.ReadAsync(cts.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            // The poll interval elapsed: look at the database anyway.
        }
    }

    internal void Register(Guid jobId, CancellationTokenSource cts) => _running[jobId] = cts;

    internal void Unregister(Guid jobId) => _running.TryRemove(jobId, out _);

    /// <summary>Returns true when this process was running the job and has been told to stop it.</summary>
    internal bool RequestCancel(Guid jobId)
    {
        if (!_running.TryGetValue(jobId, out var cts)) return false;
        try
        {
            cts.Cancel();
            return true;
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
    }
}
