using Incubator.Domain.Review;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Incubator.Domain.Embeddings;
using Incubator.Domain.Jobs;
using Incubator.Domain.Llm;
using Incubator.Domain.Tasks;
using Microsoft.Extensions.Logging;

namespace Incubator.Domain.Generation;

public sealed record GenerationSettings(
    int PerLabel,
    double Oversample = 3,
    int Concurrency = 4,
    long? BudgetTokens = null,
    decimal? BudgetMoney = null,
    int Seed = 1,
    int Demonstrations = 3,
    double? NearDuplicateThreshold = null,
    bool Stream = true)
{
    /// <summary>How long a run whose endpoint stopped answering keeps retrying (with back-off) before it fails.</summary>
    public TimeSpan EndpointWait { get; init; } = GenerationEngine.DefaultEndpointWait;

    /// <summary>The most calls the run makes; null: the estimate's worst case, raised in proportion when the budget is
    /// raised above its default.</summary>
    public int? MaxCalls { get; init; }

    /// <summary>Answers in a row that asked for a label and brought no new sample for it before its pool counts as no
    /// longer growing.</summary>
    public int StallAfter { get; init; } = GenerationEngine.DefaultStallAfter;
}

/// <summary>A sample already known to the task (any run, or mining), used for dedup; and this run's own pool.</summary>
public sealed record KnownSample(Guid Id, string Label, string Text, CandidateStage Stage, int Round, bool FromThisRun);

public sealed record GenerationState(
    int Round,
    IReadOnlyList<KnownSample> Known,
    IReadOnlyList<IReadOnlyDictionary<string, string>> PreviousCentres,
    GenerationFeedback? Feedback,
    long InputTokens,
    long OutputTokens,
    decimal Cost,
    int Calls)
{
    /// <summary>Instruction-to-data pairs grown from the team's other approved tasks, offered to the demonstration bank
    /// beside the built-in ones (empty when the project opts out, and for memory-backed runs).</summary>
    public IReadOnlyList<Demonstration> TeamDemonstrations { get; init; } = [];

    /// <summary>Calls of earlier process lives that failed (a run that never got one answer fails fast).</summary>
    public int FailedCalls { get; init; }
}

public sealed record LabelDiversity(DiversityStats Before, DiversityStats After, int Pool, int Selected);

/// <summary>One selection's diversity: <see cref="Round"/> is how many selections the run had made before it.</summary>
public sealed record RoundStats(int Round, IReadOnlyDictionary<string, LabelDiversity> Labels);

/// <summary>Where the engine keeps what it produces: the database for portal runs (every accepted sample is a row the
/// moment it is shown), memory for the CLI.</summary>
public interface IGenerationStore
{
    Task<GenerationState> LoadAsync(CancellationToken ct);

    Task<Guid> AddCandidateAsync(string label, string text, string normalizedText, int round, bool ambiguous, CancellationToken ct);

    Task AddRejectedAsync(RejectedPiece piece, int round, CancellationToken ct);

    Task MarkAmbiguousAsync(IReadOnlyCollection<Guid> ids, CancellationToken ct);

    /// <summary>Adds one call's usage (and the samples it brought for labels already full, which are not kept) to the
    /// run's totals and returns the new totals.</summary>
    Task<(long InputTokens, long OutputTokens, decimal Cost)> RecordCallAsync(LlmUsage usage, decimal cost, bool failed, int surplus, CancellationToken ct);

    /// <summary>One label's pool is closed: <paramref name="selection"/>'s selected samples (in selection order) become
    /// <see cref="CandidateStage.Selected"/>, the rest <see cref="CandidateStage.Reserve"/>, in one write.</summary>
    Task CompleteSelectionAsync(string label, DiversitySelectionIds selection, RoundStats stats, CancellationToken ct);

    /// <summary>The run is over: how it ended.</summary>
    Task FinishAsync(RunEnd end, CancellationToken ct);
}

public sealed record DiversitySelectionIds(IReadOnlyList<Guid> Selected, IReadOnlyList<Guid> Reserve);

/// <summary>What watchers see while the engine works (the portal turns these into live events).</summary>
public interface IGenerationObserver
{
    Task SampleAcceptedAsync(Guid id, string label, string text, int round, bool ambiguous);

    Task SampleRejectedAsync(RejectedPiece piece, int round);

    Task ProgressAsync(GenerationProgress progress);

    /// <summary>The endpoint stopped answering (<paramref name="waiting"/> says what it said last and how long the run
    /// keeps trying), or — with null — answers again.</summary>
    Task EndpointAsync(EndpointWaiting? waiting) => Task.CompletedTask;
}

/// <summary>The run is waiting for its endpoint: the last error, and how long it keeps retrying in all.</summary>
public sealed record EndpointWaiting(string LastError, TimeSpan Limit);

/// <param name="Goal">Per label: the pool target while the label is still filling, 0 once its pool is closed.</param>
/// <param name="UsefulPerSecond">Samples that joined an open pool per second, over the last minute of work.</param>
/// <param name="Missing">Samples the open pools still need: with <paramref name="UsefulPerSecond"/>, the time left.</param>
/// <param name="Fraction">0..1 of the work: a closed label counts whole, an open one by how full its pool is.</param>
public sealed record GenerationProgress(
    int Round,
    IReadOnlyDictionary<string, int> Pool,
    IReadOnlyDictionary<string, int> Selected,
    int Target,
    long InputTokens,
    long OutputTokens,
    decimal Cost,
    int Calls,
    double AcceptedPerSecond,
    IReadOnlyDictionary<string, int> Goal,
    double UsefulPerSecond,
    int Missing,
    double Fraction);

public sealed record GenerationSummary(
    int Accepted,
    int Selected,
    int Reserve,
    IReadOnlyDictionary<RejectReason, int> RejectedByReason,
    long InputTokens,
    long OutputTokens,
    decimal Cost,
    int Calls,
    int FailedCalls,
    RunEnd End,
    int Surplus,
    TimeSpan Elapsed,
    IReadOnlyDictionary<string, LabelDiversity> Diversity)
{
    public RunOutcome Outcome => End.Outcome;

    /// <summary>The English sentence of the end (null when completed).</summary>
    public string? StopReason => End.Note?.Message;
}

/// <param name="Calls">Expected calls: every label's pool filled side by side, plus the usual share of rejected pieces.</param>
/// <param name="WorstCalls">The most calls the run makes without a raised budget (its call cap).</param>
/// <param name="DefaultBudgetTokens">The budget a run gets when its author sets none: the worst case's tokens.</param>
public sealed record GenerationEstimate(int Calls, long InputTokens, long OutputTokens, decimal Cost, int WorstCalls, long WorstInputTokens,
    long WorstOutputTokens, decimal WorstCost, long DefaultBudgetTokens)
{
    public long Tokens => InputTokens + OutputTokens;

    public long WorstTokens => WorstInputTokens + WorstOutputTokens;
}

/// <summary>The Incubator loop, proportional (docs/decisions/0021-proportional-generation.md). Every label has a pool
/// target (what it still needs × the oversampling factor). Calls ask for the labels whose pools are still short — all of
/// them in one object while two or more are, a single one alone with the others shown as what it is not — concurrently
/// up to the profile's limit; output is parsed tolerantly, validated, deduplicated, and each accepted sample is stored at
/// once. A label's pool closes as soon as it is full, or when it stops growing (its last answers brought nothing new):
/// it is clustered with k = what the label still needs, the sample nearest each centre is selected and the rest kept in
/// reserve — right then, not at the end of a round. Samples for closed labels are not stored. The run stops at the
/// targets, at the budget, at its call cap, or when the endpoint is gone; it says which, per label.</summary>
public sealed class GenerationEngine
{
    /// <summary>The call cap (and the default budget) is this many times the expected cost.</summary>
    public const double WorstCaseFactor = 3;

    public const int DefaultStallAfter = 8;

    public static readonly TimeSpan DefaultEndpointWait = TimeSpan.FromMinutes(10);

    /// <summary>Pauses between two tries while the endpoint is away: from the first (1 s, or a twentieth of a shorter
    /// wait) doubling up to the longest (30 s, or a quarter of a shorter wait).</summary>
    internal static (TimeSpan First, TimeSpan Longest) ProbeDelays(TimeSpan wait) =>
        (TimeSpan.FromTicks(Math.Min(TimeSpan.TicksPerSecond, wait.Ticks / 20)), TimeSpan.FromTicks(Math.Min(30 * TimeSpan.TicksPerSecond, wait.Ticks / 4)));

    /// <summary>4xx answers in a row (other than 401, 403, 408, 429) after which the endpoint counts as refusing the requests.</summary>
    public const int MaxRefusals = 3;

    private readonly DemonstrationBank _bank;
    private readonly EmbedderSelector _embedders;
    private readonly ILogger<GenerationEngine> _logger;
    private readonly TimeProvider _time;

    public GenerationEngine(DemonstrationBank bank, EmbedderSelector embedders, ILogger<GenerationEngine> logger, TimeProvider? time = null)
    {
        _bank = bank;
        _embedders = embedders;
        _logger = logger;
        _time = time ?? TimeProvider.System;
    }

    public GenerationEstimate Estimate(TaskSpec spec, GenerationSettings settings, LlmProfile profile)
    {
        var demos = _bank.Nearest(spec, settings.Demonstrations);
        var prompt = PromptBuilder.Build(spec, demos, [], null, settings.Seed);
        // A call brings one sample for each label it asks for; the pools are the target times the oversampling factor,
        // plus ~15% for rejected pieces.
        var calls = (int)Math.Ceiling(settings.PerLabel * Math.Max(1, settings.Oversample) * 1.15);
        var wordsPerSample = spec.Preferences.MaxWords ?? spec.Preferences.MaxChars / 2 ?? 40;
        var outputPerCall = spec.Labels.Count * (int)Math.Ceiling(wordsPerSample * 1.4 + 8);
        var perCall = LlmCost.EstimateTokens(prompt.System + prompt.User, Math.Min(outputPerCall, profile.MaxOutputTokens));
        var usage = new LlmUsage(perCall.InputTokens * calls, perCall.OutputTokens * calls, true);
        var worstCalls = (int)Math.Ceiling(calls * WorstCaseFactor);
        var worst = new LlmUsage(perCall.InputTokens * worstCalls, perCall.OutputTokens * worstCalls, true);
        return new GenerationEstimate(calls, usage.InputTokens, usage.OutputTokens, LlmCost.Cost(usage, profile),
            worstCalls, worst.InputTokens, worst.OutputTokens, LlmCost.Cost(worst, profile), worst.InputTokens + worst.OutputTokens);
    }

    /// <summary>The most calls a run may make: the worst case, raised in proportion when its budget is above the default.</summary>
    public static int CallCap(GenerationEstimate e, GenerationSettings settings)
    {
        if (settings.MaxCalls is { } explicitCap) return Math.Max(1, explicitCap);
        var scale = 1.0;
        if (settings.BudgetTokens is { } t && e.DefaultBudgetTokens > 0) scale = Math.Max(scale, (double)t / e.DefaultBudgetTokens);
        if (settings.BudgetMoney is { } m && e.WorstCost > 0) scale = Math.Max(scale, (double)(m / e.WorstCost));
        return (int)Math.Min(int.MaxValue, Math.Ceiling(e.WorstCalls * scale));
    }

    public async Task<GenerationSummary> RunAsync(TaskSpec spec, ILlmClient client, LlmProfile profile, GenerationSettings settings,
        IGenerationStore store, IGenerationObserver observer, CancellationToken ct)
    {
        if (settings.PerLabel < 1) throw new ArgumentOutOfRangeException(nameof(settings), "PerLabel must be at least 1.");
        var run = new Run(this, spec, client, profile, settings, store, observer, ct);
        return await run.ExecuteAsync();
    }

    /// <summary>HashCode.Combine is randomised per process; seeds must be the same after a restart so a resumed run
    /// clusters and varies its prompts exactly as the first process would have.</summary>
    internal static int StableSeed(int seed, int round, string part)
    {
        var hash = 2166136261u;
        foreach (var b in System.Text.Encoding.UTF8.GetBytes($"{seed}|{round}|{part}"))
            hash = (hash ^ b) * 16777619u;
        return (int)(hash & 0x7fffffff);
    }

    private static string Excerpt(string s) => s.Length <= 60 ? s : s[..57] + "...";

    /// <summary>One run: its state lives here, guarded by <see cref="_gate"/> (every call's output is processed under it,
    /// so dedup sees every earlier sample); selections are serialised by <see cref="_selecting"/> and run outside the
    /// gate, so clustering one label never holds up the calls of the others.</summary>
    private sealed class Run
    {
        private readonly GenerationEngine _engine;
        private readonly TaskSpec _spec;
        private readonly ILlmClient _client;
        private readonly LlmProfile _profile;
        private readonly GenerationSettings _settings;
        private readonly IGenerationStore _store;
        private readonly CancellationToken _ct;
        private readonly List<string> _labels;
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly SemaphoreSlim _gate = new(1, 1);
        private readonly SemaphoreSlim _selecting = new(1, 1);
        private readonly Notifications _notifications;

        // Per label, under the gate.
        private readonly Dictionary<string, List<Guid>> _pool;
        private readonly Dictionary<string, int> _selected;
        private readonly Dictionary<string, int> _goal;
        private readonly Dictionary<string, int> _inFlight;
        private readonly Dictionary<string, bool> _closed;
        private readonly Dictionary<string, int> _barren;
        private readonly Dictionary<string, int> _barrenRepeats;
        private readonly Dictionary<string, LabelShortfall> _shortfalls = new();
        private readonly Dictionary<string, int> _selections = new();

        private DedupIndex _index = null!;
        private readonly Dictionary<string, Guid> _idsByNormalized = new(StringComparer.Ordinal);
        private readonly Dictionary<Guid, float[]> _vectors = new();
        private readonly Dictionary<Guid, string> _texts = new();
        private ITextEmbedder _embedder = null!;
        private bool _characterTokens;
        private IReadOnlyList<Demonstration> _demos = [];
        private List<string> _demoTexts = [];
        private GenerationState _state = null!;
        private List<IReadOnlyDictionary<string, string>> _centres = [];
        private readonly Dictionary<string, List<string>> _recent = new();
        private readonly Dictionary<string, LabelDiversity> _diversity = new();
        private readonly ConcurrentDictionary<RejectReason, int> _rejectedByReason = new();
        private readonly Queue<long> _useful = new();

        private (long InputTokens, long OutputTokens, decimal Cost) _totals;
        private int _round;
        private int _calls;
        private int _failedCalls;
        private int _launchedHere;
        private int _callsInFlight;
        private int _accepted;
        private int _reserve;
        private int _surplus;
        private int _duplicates;
        private int _cap;
        private bool _answered;
        private int _refusals;
        private ShortReason? _stop;
        private string? _stopDetail;
        private JobNote? _stopNote;
        private RunFailure? _failure;
        private string? _failureDetail;
        // Waiting for the endpoint: since when, until when, and when the next try may go out.
        private long? _waitingSince;
        private TimeSpan _probeDelay;
        private long _nextProbeAt;
        private string? _lastError;

        public Run(GenerationEngine engine, TaskSpec spec, ILlmClient client, LlmProfile profile, GenerationSettings settings,
            IGenerationStore store, IGenerationObserver observer, CancellationToken ct)
        {
            (_engine, _spec, _client, _profile, _settings, _store, _ct) = (engine, spec, client, profile, settings, store, ct);
            _labels = spec.Labels.Select(l => l.Name).ToList();
            _pool = _labels.ToDictionary(l => l, _ => new List<Guid>());
            _selected = _labels.ToDictionary(l => l, _ => 0);
            _goal = _labels.ToDictionary(l => l, _ => 0);
            _inFlight = _labels.ToDictionary(l => l, _ => 0);
            _closed = _labels.ToDictionary(l => l, _ => false);
            _barren = _labels.ToDictionary(l => l, _ => 0);
            _barrenRepeats = _labels.ToDictionary(l => l, _ => 0);
            // Watchers are told outside the gate: what they are told is collected under it (so it is consistent and
            // in order) and handed over after it is released, so a slow watcher never holds up the other calls.
            _notifications = new Notifications(observer);
        }

        private TimeProvider Time => _engine._time;

        private int Target => _settings.PerLabel;

        public async Task<GenerationSummary> ExecuteAsync()
        {
            await LoadAsync();
            // Labels that are already full need nothing; the others fill a pool of (still needed × oversampling).
            foreach (var label in _labels)
            {
                var need = Math.Max(0, Target - _selected[label]);
                _closed[label] = need == 0;
                _goal[label] = need == 0 ? 0 : (int)Math.Ceiling(need * Math.Max(1, _settings.Oversample));
            }
            var estimate = _engine.Estimate(_spec, _settings, _profile);
            _cap = CallCap(estimate, _settings);
            // Pools a previous process life left full (it stopped between the last sample and the selection).
            await SelectAsync(Close(_labels.Where(l => !_closed[l] && _pool[l].Count >= _goal[l]).ToList(), reason: null));
            Report();
            await _notifications.FlushAsync();

            var running = new List<Task>();
            while (true)
            {
                _ct.ThrowIfCancellationRequested();
                await LaunchAsync(running);
                if (running.Count == 0)
                {
                    if (await WaitBeforeNextTryAsync()) continue;
                    break;
                }
                var done = await Task.WhenAny(running);
                running.Remove(done);
                await done;
            }
            await Task.WhenAll(running);

            // Whatever is still open ends now: the budget, the cap or a failure stopped it. What it has is selected —
            // it was paid for.
            var open = _labels.Where(l => !_closed[l]).ToList();
            if (open.Count > 0) await SelectAsync(Close(open, _failure is not null ? ShortReason.Failure : _stop ?? ShortReason.Unusable));

            var end = End();
            await _notifications.FlushAsync();
            await _store.FinishAsync(end, CancellationToken.None);
            return new GenerationSummary(_accepted, _selected.Values.Sum(), _reserve, new Dictionary<RejectReason, int>(_rejectedByReason),
                _totals.InputTokens, _totals.OutputTokens, _totals.Cost, _calls, _failedCalls, end, _surplus, _clock.Elapsed,
                new Dictionary<string, LabelDiversity>(_diversity));
        }

        private async Task LoadAsync()
        {
            _state = await _store.LoadAsync(_ct);
            _embedder = _engine._embedders.ForLanguage(_spec.Preferences.Language);
            _characterTokens = TaskSpecValidator.CountsCharacters(_spec.Preferences.Language);
            _demos = _engine._bank.Nearest(_spec, _settings.Demonstrations, _state.TeamDemonstrations);
            _demoTexts = _demos.SelectMany(d => d.Samples.Values)
                .Concat(_spec.Labels.SelectMany(l => l.Examples.Concat(l.CounterExamples))).ToList();

            // Everything the task already has takes part in dedup, whichever run or source it came from.
            _index = new DedupIndex(_settings.NearDuplicateThreshold ?? DedupIndex.ThresholdFor(_embedder.Name));
            var known = _state.Known;
            if (known.Count > 0)
            {
                var embedded = _embedder.Embed(known.Select(k => k.Text).ToList());
                for (var i = 0; i < known.Count; i++)
                {
                    var k = known[i];
                    _index.Add(k.Label, k.Text, embedded[i]);
                    _idsByNormalized.TryAdd(TextNormalizer.Normalize(k.Text), k.Id);
                    _vectors[k.Id] = embedded[i];
                    _texts[k.Id] = k.Text;
                }
            }
            foreach (var k in known.Where(k => k.FromThisRun))
            {
                if (!_pool.ContainsKey(k.Label)) continue;
                if (k.Stage == CandidateStage.Selected) _selected[k.Label]++;
                else if (k.Stage == CandidateStage.Pool) _pool[k.Label].Add(k.Id);
                else if (k.Stage == CandidateStage.Reserve) _reserve++;
            }
            _round = _state.Round;
            foreach (var row in _state.PreviousCentres)
                foreach (var (label, text) in row)
                    if (_pool.ContainsKey(label))
                    {
                        var list = _recent.TryGetValue(label, out var l) ? l : _recent[label] = [];
                        if (list.Count < 3) list.Add(text);
                    }
            _centres = Centres();
            _totals = (_state.InputTokens, _state.OutputTokens, _state.Cost);
            _calls = _state.Calls;
            _answered = _state.Calls > _state.FailedCalls;
        }

        /// <summary>Launches calls while there is room, a label whose pool (with what the calls in flight will bring) is
        /// short, and no reason to stop. While the endpoint is away, one try at a time, no sooner than its back-off.</summary>
        private async Task LaunchAsync(List<Task> running)
        {
            await _gate.WaitAsync(CancellationToken.None);
            try
            {
                var room = _waitingSince is null ? Math.Max(1, _settings.Concurrency) : 1;
                while (running.Count < room && _stop is null && _failure is null)
                {
                    if (_waitingSince is not null && Time.GetTimestamp() < _nextProbeAt) break;
                    var ask = _labels.Where(l => !_closed[l] && _pool[l].Count + _inFlight[l] < _goal[l]).ToList();
                    if (ask.Count == 0) break;
                    if (_calls + _callsInFlight >= _cap)
                    {
                        _stop = ShortReason.Cap;
                        break;
                    }
                    foreach (var l in ask) _inFlight[l]++;
                    _callsInFlight++;
                    var seed = StableSeed(_settings.Seed, _round, (_state.Calls + _launchedHere).ToString(CultureInfo.InvariantCulture));
                    _launchedHere++;
                    var prompt = PromptBuilder.Build(_spec, _demos, _centres, _state.Feedback, seed, ask.Count == _labels.Count ? null : ask);
                    running.Add(CallAsync(prompt, ask));
                }
            }
            finally
            {
                _gate.Release();
            }
        }

        /// <summary>Nothing is running: true when the run is waiting for its endpoint and the next try is due after a
        /// pause (taken here); false when the run is over.</summary>
        private async Task<bool> WaitBeforeNextTryAsync()
        {
            if (_waitingSince is null || _stop is not null || _failure is not null) return false;
            if (_labels.All(l => _closed[l])) return false;
            var wait = Time.GetElapsedTime(Time.GetTimestamp(), _nextProbeAt);
            if (wait > TimeSpan.Zero) await Task.Delay(wait, Time, _ct);
            return true;
        }

        private async Task CallAsync(GenerationPrompt prompt, IReadOnlyList<string> asked)
        {
            LlmResponse response;
            try
            {
                var request = new LlmRequest(prompt.System, prompt.User, JsonMode: true);
                response = _settings.Stream
                    ? await _client.StreamAsync(request, _ => ValueTask.CompletedTask, _ct)
                    : await _client.CompleteAsync(request, _ct);
            }
            catch (OperationCanceledException) when (_ct.IsCancellationRequested)
            {
                throw;
            }
            catch (SpendingCapReachedException ex)
            {
                // No call was made: the run stops here with the cap as its reason (calls in flight still finish).
                await CapReachedAsync(ex, asked);
                return;
            }
            catch (Exception ex)
            {
                await FailedCallAsync(ex, asked);
                return;
            }

            var parsed = OutputParser.Parse(response.Text, _labels);
            // Embedding happens outside the gate: it is the slow part and needs no shared state.
            var candidates = new List<(ParsedPiece Piece, float[] Vector)>();
            var invalid = new List<RejectedPiece>(parsed.Rejected);
            var valid = new List<ParsedPiece>();
            foreach (var piece in parsed.Accepted)
            {
                if (SampleValidator.Check(piece, _spec, _demoTexts) is { } rejection) invalid.Add(rejection);
                else valid.Add(piece);
            }
            if (valid.Count > 0)
            {
                var embedded = _embedder.Embed(valid.Select(v => v.Text).ToList());
                for (var i = 0; i < valid.Count; i++) candidates.Add((valid[i], embedded[i]));
            }

            List<(string Label, List<Guid> Ids, ShortReason? Reason)> closing;
            await _gate.WaitAsync(CancellationToken.None);
            try
            {
                _calls++;
                _callsInFlight--;
                _answered = true;
                _refusals = 0;
                var wasWaiting = _waitingSince is not null;
                _waitingSince = null;
                if (wasWaiting) _notifications.Add(o => o.EndpointAsync(null));
                foreach (var l in asked) _inFlight[l]--;
                var round = _round;
                var surplus = 0;
                var newFor = new HashSet<string>();
                var repeatsFor = new HashSet<string>();
                foreach (var r in invalid)
                {
                    // A piece for a label that is already full is not kept, not even as a rejection.
                    if (r.Label is { } rl && _closed.TryGetValue(rl, out var isClosed) && isClosed)
                    {
                        surplus++;
                        continue;
                    }
                    _rejectedByReason.AddOrUpdate(r.Reason, 1, (_, n) => n + 1);
                    await _store.AddRejectedAsync(r, round, CancellationToken.None);
                    _notifications.Add(o => o.SampleRejectedAsync(r, round));
                }
                foreach (var (piece, vector) in candidates)
                {
                    var label = piece.Label;
                    if (_closed[label] || _pool[label].Count >= _goal[label])
                    {
                        surplus++;
                        continue;
                    }
                    var verdict = _index.Check(label, piece.Text, vector);
                    if (verdict.Reject is { } reason)
                    {
                        var r = new RejectedPiece(label, piece.Text, reason,
                            verdict.MatchedText is null ? null : SampleNotes.Similar(verdict.Similarity, Excerpt(verdict.MatchedText), verdict.MatchedLabel));
                        _rejectedByReason.AddOrUpdate(reason, 1, (_, n) => n + 1);
                        _duplicates++;
                        repeatsFor.Add(label);
                        await _store.AddRejectedAsync(r, round, CancellationToken.None);
                        _notifications.Add(o => o.SampleRejectedAsync(r, round));
                        continue;
                    }
                    var normalized = TextNormalizer.Normalize(piece.Text);
                    var id = await _store.AddCandidateAsync(label, piece.Text, normalized, round, verdict.Ambiguous, CancellationToken.None);
                    if (verdict.Ambiguous && verdict.MatchedText is not null
                        && _idsByNormalized.TryGetValue(TextNormalizer.Normalize(verdict.MatchedText), out var other))
                        await _store.MarkAmbiguousAsync([other], CancellationToken.None);
                    _index.Add(label, piece.Text, vector);
                    _idsByNormalized.TryAdd(normalized, id);
                    _vectors[id] = vector;
                    _texts[id] = piece.Text;
                    _pool[label].Add(id);
                    _accepted++;
                    newFor.Add(label);
                    _useful.Enqueue(Time.GetTimestamp());
                    var (text, ambiguous) = (piece.Text, verdict.Ambiguous);
                    _notifications.Add(o => o.SampleAcceptedAsync(id, label, text, round, ambiguous));
                }
                _surplus += surplus;
                var cost = LlmCost.Cost(response.Usage, _profile);
                _totals = await _store.RecordCallAsync(response.Usage, cost, failed: false, surplus, CancellationToken.None);

                // A label this call asked for and got nothing new for is one answer closer to "no longer growing".
                foreach (var l in asked.Where(l => !_closed[l]))
                {
                    if (newFor.Contains(l))
                    {
                        _barren[l] = 0;
                        _barrenRepeats[l] = 0;
                        continue;
                    }
                    _barren[l]++;
                    if (repeatsFor.Contains(l)) _barrenRepeats[l]++;
                }
                var full = _labels.Where(l => !_closed[l] && _pool[l].Count >= _goal[l]).ToList();
                var stalled = _labels.Where(l => !_closed[l] && !full.Contains(l) && _barren[l] >= _settings.StallAfter).ToList();
                closing = Close(full, reason: null);
                foreach (var l in stalled)
                    closing.AddRange(Close([l], _barrenRepeats[l] * 2 >= _barren[l] ? ShortReason.Repeats : ShortReason.Unusable));
                if (BudgetReached()) _stop ??= ShortReason.Budget;
                Report();
            }
            finally
            {
                _gate.Release();
            }
            await _notifications.FlushAsync();
            await SelectAsync(closing);
        }

        private async Task FailedCallAsync(Exception ex, IReadOnlyList<string> asked)
        {
            // Retries already happened inside the client: this call has failed for good.
            var message = ex is LlmException ? ex.Message : $"{ex.GetType().Name}: {ex.Message}";
            Logger.LogWarning("Generation call failed after retries: {Error}", message);
            await _gate.WaitAsync(CancellationToken.None);
            try
            {
                _failedCalls++;
                _calls++;
                _callsInFlight--;
                foreach (var l in asked) _inFlight[l]--;
                _totals = await _store.RecordCallAsync(new LlmUsage(0, 0, false), 0, failed: true, surplus: 0, CancellationToken.None);
                _lastError = message;
                var status = (ex as LlmException)?.StatusCode;
                if (status is 401 or 403)
                {
                    Fail(RunFailure.AuthRefused, message);
                }
                else if (status is >= 400 and < 500 and not 408 and not 429)
                {
                    // The endpoint is there and says no to the request itself: waiting will not change that.
                    if (!_answered || ++_refusals >= MaxRefusals) Fail(RunFailure.Refused, message);
                }
                else if (!_answered)
                {
                    // Never one answer: nothing suggests it will come back; say so now rather than in ten minutes.
                    Fail(RunFailure.Unreachable, message);
                }
                else
                {
                    var now = Time.GetTimestamp();
                    var (first, longest) = ProbeDelays(_settings.EndpointWait);
                    if (_waitingSince is null)
                    {
                        _waitingSince = now;
                        _probeDelay = first;
                        Logger.LogWarning("The endpoint stopped answering; waiting up to {Limit} for it to come back", _settings.EndpointWait);
                    }
                    else
                    {
                        _probeDelay = TimeSpan.FromTicks(Math.Min(_probeDelay.Ticks * 2, longest.Ticks));
                    }
                    if (Time.GetElapsedTime(_waitingSince.Value, now) >= _settings.EndpointWait)
                    {
                        Fail(RunFailure.Unreachable, message);
                    }
                    else
                    {
                        _nextProbeAt = now + (long)(_probeDelay.TotalSeconds * Time.TimestampFrequency);
                        var waiting = new EndpointWaiting(message, _settings.EndpointWait);
                        _notifications.Add(o => o.EndpointAsync(waiting));
                    }
                }
                Report();
            }
            finally
            {
                _gate.Release();
            }
            await _notifications.FlushAsync();
        }

        private ILogger Logger => _engine._logger;

        private async Task CapReachedAsync(SpendingCapReachedException cap, IReadOnlyList<string> asked)
        {
            await _gate.WaitAsync(CancellationToken.None);
            try
            {
                _callsInFlight--;
                foreach (var l in asked) _inFlight[l]--;
                if (_stop is null)
                {
                    _stop = ShortReason.SpendingCap;
                    _stopDetail = cap.Message;
                    _stopNote = cap.Note;
                }
                Report();
            }
            finally
            {
                _gate.Release();
            }
            await _notifications.FlushAsync();
        }

        private void Fail(RunFailure failure, string detail)
        {
            if (_failure is not null) return;
            _failure = failure;
            _failureDetail = detail;
        }

        private bool BudgetReached() =>
            (_settings.BudgetTokens is { } t && _totals.InputTokens + _totals.OutputTokens >= t)
            || (_settings.BudgetMoney is { } m && _totals.Cost >= m);

        /// <summary>Under the gate (or before any call): closes the labels' pools and returns what to select from.</summary>
        private List<(string Label, List<Guid> Ids, ShortReason? Reason)> Close(IReadOnlyList<string> labels, ShortReason? reason)
        {
            var result = new List<(string, List<Guid>, ShortReason?)>();
            foreach (var l in labels)
            {
                _closed[l] = true;
                result.Add((l, _pool[l].ToList(), reason));
            }
            return result;
        }

        /// <summary>Self-diversification for closed labels, one at a time: k = what the label still needs; the sample
        /// nearest each centre is selected, the rest kept in reserve. A label that ends with fewer than its target is
        /// recorded with the reason its pool closed.</summary>
        private async Task SelectAsync(List<(string Label, List<Guid> Ids, ShortReason? Reason)> closing)
        {
            foreach (var (label, ids, reason) in closing)
            {
                await _selecting.WaitAsync(CancellationToken.None);
                try
                {
                    var need = Math.Max(0, Target - _selected[label]);
                    var want = Math.Min(need, ids.Count);
                    IReadOnlyList<Guid> chosenIds = [];
                    IReadOnlyList<Guid> reserveIds = [];
                    LabelDiversity? diversity = null;
                    if (ids.Count > 0)
                    {
                        var labelVectors = ids.Select(id => _vectors[id]).ToList();
                        var labelTexts = ids.Select(id => _texts[id]).ToList();
                        var chosen = Diversifier.Select(labelVectors, want, StableSeed(_settings.Seed, _round, label));
                        var before = DiversityMetrics.Compute(labelTexts, labelVectors, chosen.Assignments, _characterTokens);
                        var after = DiversityMetrics.Compute(chosen.Selected.Select(i => labelTexts[i]).ToList(),
                            chosen.Selected.Select(i => labelVectors[i]).ToList(), null, _characterTokens);
                        diversity = new LabelDiversity(before, after, ids.Count, chosen.Selected.Count);
                        chosenIds = chosen.Selected.Select(i => ids[i]).ToList();
                        reserveIds = chosen.Reserve.Select(i => ids[i]).ToList();
                        var number = _selections.GetValueOrDefault(label);
                        await _store.CompleteSelectionAsync(label, new DiversitySelectionIds(chosenIds, reserveIds),
                            new RoundStats(number, new Dictionary<string, LabelDiversity> { [label] = diversity }), CancellationToken.None);
                    }
                    await _gate.WaitAsync(CancellationToken.None);
                    try
                    {
                        _selections[label] = _selections.GetValueOrDefault(label) + 1;
                        _selected[label] += chosenIds.Count;
                        _reserve += reserveIds.Count;
                        _pool[label].Clear();
                        _goal[label] = 0;
                        if (diversity is not null) _diversity[label] = diversity;
                        if (_selected[label] < Target)
                            _shortfalls[label] = new LabelShortfall(label, _selected[label], Target, reason ?? ShortReason.Unusable);
                        // The selected samples, side by side with the other labels', become "already have" examples.
                        if (chosenIds.Count > 0) _recent[label] = chosenIds.Take(3).Select(id => _texts[id]).ToList();
                        _centres = Centres();
                        Report();
                    }
                    finally
                    {
                        _gate.Release();
                    }
                    await _notifications.FlushAsync();
                }
                finally
                {
                    _selecting.Release();
                }
            }
        }

        /// <summary>Up to three rows of the labels' latest selected samples, side by side.</summary>
        private List<IReadOnlyDictionary<string, string>> Centres()
        {
            var rows = new List<IReadOnlyDictionary<string, string>>();
            for (var i = 0; i < 3; i++)
            {
                var row = _labels.Where(l => _recent.TryGetValue(l, out var t) && i < t.Count).ToDictionary(l => l, l => _recent[l][i]);
                if (row.Count > 0) rows.Add(row);
            }
            return rows;
        }

        private RunEnd End()
        {
            var shortfalls = _labels.Where(_shortfalls.ContainsKey).Select(l => _shortfalls[l]).ToList();
            TimeSpan? waited = _waitingSince is { } since ? Time.GetElapsedTime(since) : null;
            if (_failure is { } failure)
                return new RunEnd(RunOutcome.Failed, shortfalls, ShortReason.Failure, failure, _failureDetail, _answered, _calls, _cap,
                    failure == RunFailure.Unreachable && _answered ? waited ?? _settings.EndpointWait : null);
            if (shortfalls.Count == 0) return RunEnd.Complete with { Calls = _calls, CallCap = _cap };
            var kept = _selected.Values.Sum() + _reserve;
            if (kept == 0 && _duplicates == 0)
                return new RunEnd(RunOutcome.Failed, shortfalls, ShortReason.Unusable, RunFailure.NoUsableOutput, null, _answered, _calls, _cap);
            // The run-wide stop explains every label it closed; otherwise the most common reason among the labels.
            var reason = _stop ?? shortfalls.GroupBy(s => s.Reason).OrderByDescending(g => g.Count()).ThenBy(g => g.Key).First().Key;
            return new RunEnd(RunOutcome.StoppedShort, shortfalls, reason, null, reason == ShortReason.SpendingCap ? _stopDetail : null, _answered, _calls, _cap)
            {
                Cap = reason == ShortReason.SpendingCap ? _stopNote : null,
            };
        }

        /// <summary>Under the gate (or where no call can change the counters).</summary>
        private void Report()
        {
            var now = Time.GetTimestamp();
            var window = TimeSpan.FromSeconds(60);
            while (_useful.Count > 0 && Time.GetElapsedTime(_useful.Peek(), now) > window) _useful.Dequeue();
            var span = Math.Min(window.TotalSeconds, _clock.Elapsed.TotalSeconds);
            var useful = span > 0 ? _useful.Count / span : 0;
            var rate = _clock.Elapsed.TotalSeconds > 0 ? _accepted / _clock.Elapsed.TotalSeconds : 0;
            var missing = _labels.Where(l => !_closed[l]).Sum(l => Math.Max(0, _goal[l] - _pool[l].Count));
            var fraction = _labels.Count == 0 ? 1 : _labels.Average(l =>
            {
                if (_closed[l] && _pool[l].Count == 0) return 1.0;
                var need = Math.Max(0, Target - _selected[l]);
                var filled = _goal[l] == 0 ? 1.0 : Math.Min(1.0, _pool[l].Count / (double)_goal[l]);
                return Math.Min(1.0, (_selected[l] + need * filled) / Target);
            });
            var progress = new GenerationProgress(_round, _pool.ToDictionary(p => p.Key, p => p.Value.Count), new Dictionary<string, int>(_selected),
                Target, _totals.InputTokens, _totals.OutputTokens, _totals.Cost, _calls, rate,
                _labels.ToDictionary(l => l, l => _closed[l] ? 0 : _goal[l]), useful, missing, fraction);
            _notifications.Add(o => o.ProgressAsync(progress));
        }
    }

    /// <summary>Observer calls queued in the order they were decided (under the engine's gate) and made in that order
    /// by whichever call flushes first; a flush returns once everything queued before it has been delivered.</summary>
    private sealed class Notifications(IGenerationObserver observer)
    {
        private readonly ConcurrentQueue<Func<IGenerationObserver, Task>> _queue = new();
        private readonly SemaphoreSlim _delivering = new(1, 1);

        public void Add(Func<IGenerationObserver, Task> call) => _queue.Enqueue(call);

        public async Task FlushAsync()
        {
            await _delivering.WaitAsync(CancellationToken.None);
            try
            {
                while (_queue.TryDequeue(out var call)) await call(observer);
            }
            finally
            {
                _delivering.Release();
            }
        }
    }
}
