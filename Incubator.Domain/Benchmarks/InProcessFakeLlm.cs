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
    private readonly string? _scarce;
    private readonly int _scarceWays;
    private readonly bool _followPrompt;
    private int _calls;

    /// <param name="labels">The label names every answer holds, in this order.</param>
    /// <param name="latency">Simulated time to first (and only) token; zero answers synchronously.</param>
    /// <param name="seed">Changes every generated sentence.</param>
    /// <param name="scarce">A label written in only <paramref name="scarceWays"/> different sentences (as a model that has
    /// few ideas for it): after those, every sample for it repeats one.</param>
    /// <param name="followPrompt">Write only the labels the prompt asks for (as a model following it does), instead of
    /// every label every time.</param>
    public InProcessFakeLlm(IReadOnlyList<string> labels, TimeSpan latency = default, int seed = 1, string? scarce = null, int scarceWays = 0,
        bool followPrompt = false)
    {
        ArgumentNullException.ThrowIfNull(labels);
        if (labels.Count == 0) throw new ArgumentException("At least one label is needed.", nameof(labels));
        ArgumentOutOfRangeException.ThrowIfLessThan(latency, TimeSpan.Zero);
        _labels = labels.ToArray();
        _latency = latency;
        _seed = seed;
        _scarce = scarce;
        _scarceWays = scarceWays;
        _followPrompt = followPrompt;
    }

    /// <summary>Calls answered or in flight so far.</summary>
    public int Calls => Volatile.Read(ref _calls);

    public Task<LlmResponse> CompleteAsync(LlmRequest request, CancellationToken ct) => RespondAsync(request, null, ct);

    public Task<LlmResponse> StreamAsync(LlmRequest request, Func<string, ValueTask> onText, CancellationToken ct) => RespondAsync(request, onText, ct);

    /// <summary>The answer to call number <paramref name="call"/> (1-based): one JSON object, one sentence per label
    /// (per label asked for, when <paramref name="asked"/> is given).</summary>
    public string Answer(int call, IReadOnlyCollection<string>? asked = null)
    {
        var sample = new Dictionary<string, string>(_labels.Count, StringComparer.Ordinal);
        for (var i = 0; i < _labels.Count; i++)
        {
            if (asked is not null && !asked.Contains(_labels[i])) continue;
            sample[_labels[i]] = _labels[i] == _scarce && _scarceWays > 0 ? Sentence(call % _scarceWays + 1, i) : Sentence(call, i);
        }
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
        var text = Answer(call, _followPrompt ? PromptBuilder.AskedLabels(request.System ?? "", _labels).ToHashSet(StringComparer.Ordinal) : null);
        if (onText is not null) await onText(text);
        var usage = new LlmUsage(((request.System?.Length ?? 0) + (request.User?.Length ?? 0)) / 4, text.Length / 4, Estimated: true);
        return new LlmResponse(text, usage, "stop", false);
    }
}
