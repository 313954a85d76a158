using System.Collections.Concurrent;
using Incubator.Domain.Llm;

namespace Incubator.Tests.Generation;

/// <summary>An in-process ILlmClient for engine tests: answers from a function of the call number, with optional
/// latency, and counts calls and the most requests in flight at once.</summary>
internal sealed class ScriptedLlmClient(Func<int, LlmRequest, string> answer, TimeSpan? latency = null, int tokensPerCall = 100) : ILlmClient
{
    private int _calls;
    private int _inFlight;
    private int _maxInFlight;

    public int Calls => _calls;

    public int MaxInFlight => _maxInFlight;

    public ConcurrentQueue<LlmRequest> Requests { get; } = new();

    public Task<LlmResponse> CompleteAsync(LlmRequest request, CancellationToken ct) => RespondAsync(request, null, ct);

    public Task<LlmResponse> StreamAsync(LlmRequest request, Func<string, ValueTask> onText, CancellationToken ct) => RespondAsync(request, onText, ct);

    private async Task<LlmResponse> RespondAsync(LlmRequest request, Func<string, ValueTask>? onText, CancellationToken ct)
    {
        var n = Interlocked.Increment(ref _calls);
        var now = Interlocked.Increment(ref _inFlight);
        int seen;
        while ((seen = _maxInFlight) < now && Interlocked.CompareExchange(ref _maxInFlight, now, seen) != seen)
        {
        }
        try
        {
            Requests.Enqueue(request);
            if (latency is { } l && l > TimeSpan.Zero) await Task.Delay(l, ct);
            var text = answer(n, request);
            if (onText is not null) await onText(text);
            return new LlmResponse(text, new LlmUsage(tokensPerCall, tokensPerCall / 2, false), "stop", false);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }
}
