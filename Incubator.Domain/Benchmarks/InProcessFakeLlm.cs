using System.Text.Encodings.Web;
using System.Text.Json;
using Incubator.Domain.Generation;
using Incubator.Domain.Llm;

namespace Incubator.Domain.Benchmarks;

/// <summary>A benchmark and test double, never a model: an in-process <see cref="ILlmClient"/> that answers every call
/// with one valid all-labels-at-once JSON object (<c>{"label": "sample", ...}</c>), a different English sentence per
/// label and per call, after an optional fixed latency. It ignores the prompt; the sentences are assembled from word
/// lists by a generator seeded with (seed, call number, label position), so runs are repeatable and samples are
/// distinct enough to pass exact and near-duplicate checks (MiniLM and character n-grams). Usage is a length-based
/// estimate (about four characters per token) and flagged as estimated. Used by the generation benchmarks; the portal
/// never registers it.</summary>
internal sealed class InProcessFakeLlm : ILlmClient
{
    private static readonly JsonSerializerOptions s_json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static readonly string[] s_openers = ["Hi,", "Hello team,", "Quick question:", "Urgent:", "Good morning,", "Hey,", "Sorry to bother you,", "FYI,", "Please help:", "Dear support,", "Update:", "Hi there,"];
    private static readonly string[] s_subjects = ["my manager", "our accountant", "the new intern", "a customer in Osaka", "my neighbour", "the night shift", "our lawyer", "my son", "the warehouse crew", "a supplier from Lyon", "the front desk", "our designer", "the school office", "my landlord", "the sales lead", "a volunteer"];
    private static readonly string[] s_verbs = ["cannot open", "was charged twice for", "keeps losing", "asked about", "wants to cancel", "could not find", "accidentally deleted", "is waiting on", "reported a fault in", "needs a copy of", "was locked out of", "tried to upgrade"];
    private static readonly string[] s_objects = ["the March invoice", "the mobile app", "the shared calendar", "the CSV export", "yesterday's order", "the admin dashboard", "the login page", "the gift voucher", "the backup drive", "the loyalty card", "the delivery slot", "the family plan", "the printer driver", "the refund form", "the VPN profile", "the parking permit"];
    private static readonly string[] s_times = ["since Monday", "after the update", "before the deadline", "every single morning", "on the new laptop", "during the storm", "at the end of the month", "while travelling", "right after lunch", "for three days now", "since the office move", "twice this week"];
    private static readonly string[] s_tails = ["and is upset.", "and nothing works.", "so we are stuck.", "which costs us money.", "and support never replied.", "so please call back.", "and the error says 503.", "and the page just spins.", "so I need a fix today.", "and we tried restarting.", "which never happened before.", "and I have a screenshot."];

    private readonly IReadOnlyList<string> _labels;
    private readonly TimeSpan _latency;
    private readonly int _seed;
    private int _calls;

    /// <param name="labels">The label names every answer holds, in this order.</param>
    /// <param name="latency">Simulated time to first (and only) token; zero answers synchronously.</param>
    /// <param name="seed">Changes every generated sentence.</param>
    public InProcessFakeLlm(IReadOnlyList<string> labels, TimeSpan latency = default, int seed = 1)
    {
        ArgumentNullException.ThrowIfNull(labels);
        if (labels.Count == 0) throw new ArgumentException("At least one label is needed.", nameof(labels));
        ArgumentOutOfRangeException.ThrowIfLessThan(latency, TimeSpan.Zero);
        _labels = labels.ToArray();
        _latency = latency;
        _seed = seed;
    }

    /// <summary>Calls answered or in flight so far.</summary>
    public int Calls => Volatile.Read(ref _calls);

    public Task<LlmResponse> CompleteAsync(LlmRequest request, CancellationToken ct) => RespondAsync(request, null, ct);

    public Task<LlmResponse> StreamAsync(LlmRequest request, Func<string, ValueTask> onText, CancellationToken ct) => RespondAsync(request, onText, ct);

    /// <summary>The answer to call number <paramref name="call"/> (1-based): one JSON object, one sentence per label.</summary>
    public string Answer(int call)
    {
        var sample = new Dictionary<string, string>(_labels.Count, StringComparer.Ordinal);
        for (var i = 0; i < _labels.Count; i++) sample[_labels[i]] = Sentence(call, i);
        return JsonSerializer.Serialize(sample, s_json);
    }

    private string Sentence(int call, int label)
    {
        // A fixed arithmetic mix (not HashCode.Combine, which is randomised per process) keeps runs repeatable.
        var rng = new Random(unchecked(_seed * 1_000_003 + call * 7_919 + label * 104_729));
        string Pick(string[] words) => words[rng.Next(words.Length)];
        return $"{Pick(s_openers)} {Pick(s_subjects)} {Pick(s_verbs)} {Pick(s_objects)} {Pick(s_times)} (ticket {call * 10 + label}) {Pick(s_tails)}";
    }

    private async Task<LlmResponse> RespondAsync(LlmRequest request, Func<string, ValueTask>? onText, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        var call = Interlocked.Increment(ref _calls);
        if (_latency > TimeSpan.Zero) await Task.Delay(_latency, ct);
        ct.ThrowIfCancellationRequested();
        var text = Answer(call);
        if (onText is not null) await onText(text);
        var usage = new LlmUsage(((request.System?.Length ?? 0) + (request.User?.Length ?? 0)) / 4, text.Length / 4, Estimated: true);
        return new LlmResponse(text, usage, "stop", false);
    }
}
