using System.Collections.Concurrent;

namespace Incubator.Domain.Llm;

/// <summary>Waits between retries and for rate limits. Everything that sleeps in the LLM layer goes through here, so
/// tests replace it (and record what would have been waited) instead of sleeping.</summary>
public class LlmDelay(TimeProvider time)
{
    public virtual Task DelayAsync(TimeSpan delay, CancellationToken ct) =>
        delay <= TimeSpan.Zero ? Task.CompletedTask : Task.Delay(delay, time, ct);
}

/// <summary>One limiter per profile, owned by DI (a singleton), so every client made for the same profile shares the
/// same parallelism cap and request budget, however many runs use it at once.</summary>
public sealed class LlmLimiterRegistry(TimeProvider time, LlmDelay delay) : IDisposable
{
    private readonly ConcurrentDictionary<string, LlmProfileLimiter> _limiters = new(StringComparer.Ordinal);

    public LlmProfileLimiter For(LlmProfile profile) =>
        _limiters.GetOrAdd(Key(profile), _ => new LlmProfileLimiter(profile.MaxConcurrency, profile.RequestsPerMinute, time, delay));

    /// <summary>The limits are part of the key: an edited connection gets a fresh limiter instead of the old caps.</summary>
    internal static string Key(LlmProfile p) =>
        $"{(p.Id is { } id ? id.ToString("N") : $"{p.Provider}|{p.Endpoint}|{p.Model}")}|c{p.MaxConcurrency}|r{p.RequestsPerMinute}";

    public void Dispose()
    {
        foreach (var limiter in _limiters.Values) limiter.Dispose();
        _limiters.Clear();
    }
}

public sealed class LlmProfileLimiter : IDisposable
{
    private readonly SemaphoreSlim _slots;
    private readonly RequestWindow? _window;
    private readonly TimeProvider _time;
    private readonly LlmDelay _delay;

    internal LlmProfileLimiter(int maxConcurrency, int? requestsPerMinute, TimeProvider time, LlmDelay delay)
    {
        var slots = Math.Clamp(maxConcurrency, 1, LlmConnectionRules.MaxConcurrencyLimit);
        _slots = new SemaphoreSlim(slots, slots);
        _window = requestsPerMinute is > 0 ? new RequestWindow(requestsPerMinute.Value, TimeSpan.FromMinutes(1)) : null;
        _time = time;
        _delay = delay;
    }

    public int Available => _slots.CurrentCount;

    /// <summary>Holds one of the profile's parallel slots until the returned handle is disposed (after the whole
    /// answer, stream included, has been read).</summary>
    public async Task<IDisposable> EnterAsync(CancellationToken ct)
    {
        await _slots.WaitAsync(ct).ConfigureAwait(false);
        return new Slot(_slots);
    }

    /// <summary>Takes one request from the per-minute budget, waiting until one is free. Called for every HTTP
    /// attempt, retries included, because the provider counts those too.</summary>
    public async Task WaitForRequestBudgetAsync(CancellationToken ct)
    {
        if (_window is null) return;
        while (true)
        {
            var wait = _window.TryAcquire(_time.GetUtcNow());
            if (wait is null) return;
            await _delay.DelayAsync(wait.Value, ct).ConfigureAwait(false);
        }
    }

    public void Dispose() => _slots.Dispose();

    private sealed class Slot(SemaphoreSlim slots) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) slots.Release();
        }
    }
}

/// <summary>A sliding window of request start times: at most <c>limit</c> starts in any <c>window</c>.</summary>
internal sealed class RequestWindow(int limit, TimeSpan window)
{
    private readonly Queue<DateTimeOffset> _starts = new();
    private readonly Lock _lock = new();

    /// <summary>Null when a request may start now (and records it); otherwise how long to wait before asking again.</summary>
    public TimeSpan? TryAcquire(DateTimeOffset now)
    {
        lock (_lock)
        {
            while (_starts.Count > 0 && _starts.Peek() <= now - window) _starts.Dequeue();
            if (_starts.Count < limit)
            {
                _starts.Enqueue(now);
                return null;
            }
            var wait = _starts.Peek() + window - now;
            return wait > TimeSpan.Zero ? wait : TimeSpan.FromMilliseconds(1);
        }
    }
}
