using System.Diagnostics.Metrics;
using Incubator.Domain.Common.Observability;

namespace Incubator.Domain.Llm;

/// <summary>LLM calls as metrics: how long each took (waiting for a concurrency slot and retries included) and the
/// tokens it used, by provider, model and outcome. Token counts say whether the provider reported them or they were
/// estimated from the text's length.</summary>
public sealed class LlmMetrics
{
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _tokens;

    public LlmMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(IncubatorTelemetry.MeterName);
        _duration = meter.CreateHistogram<double>("incubator.llm.duration", "s", "Time of one LLM call from request to answer, retries included");
        _tokens = meter.CreateCounter<long>("incubator.llm.tokens", "{token}", "Tokens of LLM calls, by direction (input or output)");
    }

    internal void Record(LlmProfile profile, TimeSpan elapsed, string outcome, LlmUsage? usage)
    {
        var provider = new KeyValuePair<string, object?>("provider", profile.Provider.ToString());
        var model = new KeyValuePair<string, object?>("model", profile.Model);
        _duration.Record(elapsed.TotalSeconds, provider, model, new KeyValuePair<string, object?>("outcome", outcome));
        if (usage is null) return;
        var estimated = new KeyValuePair<string, object?>("estimated", usage.Estimated);
        _tokens.Add(usage.InputTokens, provider, model, estimated, new KeyValuePair<string, object?>("direction", "input"));
        _tokens.Add(usage.OutputTokens, provider, model, estimated, new KeyValuePair<string, object?>("direction", "output"));
    }
}

/// <summary>Records every call of the client it wraps in <see cref="LlmMetrics"/>.</summary>
internal sealed class MeteredLlmClient(ILlmClient inner, LlmProfile profile, LlmMetrics metrics, TimeProvider time) : ILlmClient
{
    public Task<LlmResponse> CompleteAsync(LlmRequest request, CancellationToken ct) => MeasureAsync(() => inner.CompleteAsync(request, ct), ct);

    public Task<LlmResponse> StreamAsync(LlmRequest request, Func<string, ValueTask> onText, CancellationToken ct) =>
        MeasureAsync(() => inner.StreamAsync(request, onText, ct), ct);

    private async Task<LlmResponse> MeasureAsync(Func<Task<LlmResponse>> call, CancellationToken ct)
    {
        var started = time.GetTimestamp();
        try
        {
            var response = await call().ConfigureAwait(false);
            metrics.Record(profile, time.GetElapsedTime(started), response.Truncated ? "truncated" : "ok", response.Usage);
            return response;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            metrics.Record(profile, time.GetElapsedTime(started), "cancelled", null);
            throw;
        }
        catch
        {
            metrics.Record(profile, time.GetElapsedTime(started), "error", null);
            throw;
        }
    }
}
