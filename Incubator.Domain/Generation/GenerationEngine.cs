using Incubator.Domain.Review;
using System.Collections.Concurrent;
using System.Diagnostics;
using Incubator.Domain.Embeddings;
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
    bool Stream = true);

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
}

public sealed record LabelDiversity(DiversityStats Before, DiversityStats After, int Pool, int Selected);

public sealed record RoundStats(int Round, IReadOnlyDictionary<string, LabelDiversity> Labels);

/// <summary>Where the engine keeps what it produces: the database for portal runs (every accepted sample is a row the
/// moment it is shown), memory for the CLI.</summary>
public interface IGenerationStore
{
    Task<GenerationState> LoadAsync(CancellationToken ct);

    Task<Guid> AddCandidateAsync(string label, string text, string normalizedText, int round, bool ambiguous, CancellationToken ct);

    Task AddRejectedAsync(RejectedPiece piece, int round, CancellationToken ct);

    Task MarkAmbiguousAsync(IReadOnlyCollection<Guid> ids, CancellationToken ct);

    /// <summary>Adds one call's usage to the run's totals and returns the new totals.</summary>
    Task<(long InputTokens, long OutputTokens, decimal Cost)> RecordCallAsync(LlmUsage usage, decimal cost, bool failed, CancellationToken ct);

    Task CompleteRoundAsync(int round, IReadOnlyDictionary<string, DiversitySelectionIds> selection, RoundStats stats, CancellationToken ct);

    Task StopAsync(string reason, CancellationToken ct);
}

public sealed record DiversitySelectionIds(IReadOnlyList<Guid> Selected, IReadOnlyList<Guid> Reserve);

/// <summary>What watchers see while the engine works (the portal turns these into live events).</summary>
public interface IGenerationObserver
{
    Task SampleAcceptedAsync(Guid id, string label, string text, int round, bool ambiguous);

    Task SampleRejectedAsync(RejectedPiece piece, int round);

    Task ProgressAsync(GenerationProgress progress);
}

public sealed record GenerationProgress(
    int Round,
    IReadOnlyDictionary<string, int> Pool,
    IReadOnlyDictionary<string, int> Selected,
    int Target,
    long InputTokens,
    long OutputTokens,
    decimal Cost,
    int Calls,
    double AcceptedPerSecond);

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
    string? StopReason,
    TimeSpan Elapsed,
    IReadOnlyDictionary<string, LabelDiversity> Diversity);

public sealed record GenerationEstimate(int Calls, long InputTokens, long OutputTokens, decimal Cost);

/// <summary>The Incubator loop: per round, oversample every label with all-labels-at-once calls (concurrent up to the
/// profile's limit), parse tolerantly, validate, dedup, store each accepted sample at once; then per label cluster the
/// pool with k = the label's remaining need, keep the sample nearest each centre and put the rest in reserve; centres
/// become "already have" examples for the next round. Stops at the targets, at the budget, or when the model keeps
/// failing to produce a label.</summary>
public sealed class GenerationEngine(DemonstrationBank bank, EmbedderSelector embedders, ILogger<GenerationEngine> logger)
{
    /// <summary>How many calls per missing sample before giving up on a label the model will not write.</summary>
    public const int MaxCallsPerNeededSample = 6;

    public GenerationEstimate Estimate(TaskSpec spec, GenerationSettings settings, LlmProfile profile)
    {
        var demos = bank.Nearest(spec, settings.Demonstrations);
        var prompt = PromptBuilder.Build(spec, demos, [], null, settings.Seed);
        // One call yields one sample per label; the pool is the target times the oversampling factor, plus ~15% for
        // rejected pieces.
        var calls = (int)Math.Ceiling(settings.PerLabel * Math.Max(1, settings.Oversample) * 1.15);
        var wordsPerSample = spec.Preferences.MaxWords ?? spec.Preferences.MaxChars / 2 ?? 40;
        var outputPerCall = spec.Labels.Count * (int)Math.Ceiling(wordsPerSample * 1.4 + 8);
        var perCall = LlmCost.EstimateTokens(prompt.System + prompt.User, Math.Min(outputPerCall, profile.MaxOutputTokens));
        var usage = new LlmUsage(perCall.InputTokens * calls, perCall.OutputTokens * calls, true);
        return new GenerationEstimate(calls, usage.InputTokens, usage.OutputTokens, LlmCost.Cost(usage, profile));
    }

    public async Task<GenerationSummary> RunAsync(TaskSpec spec, ILlmClient client, LlmProfile profile, GenerationSettings settings,
        IGenerationStore store, IGenerationObserver observer, CancellationToken ct)
    {
        if (settings.PerLabel < 1) throw new ArgumentOutOfRangeException(nameof(settings), "PerLabel must be at least 1.");
        var clock = Stopwatch.StartNew();
        var labels = spec.Labels.Select(l => l.Name).ToList();
        var embedder = embedders.ForLanguage(spec.Preferences.Language);
        var characterTokens = TaskSpecValidator.CountsCharacters(spec.Preferences.Language);
        var state = await store.LoadAsync(ct);
        var demos = bank.Nearest(spec, settings.Demonstrations, state.TeamDemonstrations);
        var demoTexts = demos.SelectMany(d => d.Samples.Values)
            .Concat(spec.Labels.SelectMany(l => l.Examples.Concat(l.CounterExamples))).ToList();

        // Everything the task already has takes part in dedup, whichever run or source it came from.
        var index = new DedupIndex(settings.NearDuplicateThreshold ?? DedupIndex.ThresholdFor(embedder.Name));
        var idsByNormalized = new Dictionary<string, Guid>(StringComparer.Ordinal);
        var vectors = new Dictionary<Guid, float[]>();
        if (state.Known.Count > 0)
        {
            var embedded = embedder.Embed(state.Known.Select(k => k.Text).ToList());
            for (var i = 0; i < state.Known.Count; i++)
            {
                var k = state.Known[i];
                index.Add(k.Label, k.Text, embedded[i]);
                idsByNormalized.TryAdd(TextNormalizer.Normalize(k.Text), k.Id);
                vectors[k.Id] = embedded[i];
            }
        }

        var pool = labels.ToDictionary(l => l, _ => new List<Guid>());
        var selected = labels.ToDictionary(l => l, _ => 0);
        var reserve = 0;
        foreach (var k in state.Known.Where(k => k.FromThisRun))
        {
            if (!pool.ContainsKey(k.Label)) continue;
            if (k.Stage == CandidateStage.Selected) selected[k.Label]++;
            else if (k.Stage == CandidateStage.Pool && k.Round == state.Round) pool[k.Label].Add(k.Id);
            else if (k.Stage == CandidateStage.Reserve) reserve++;
        }
        var texts = state.Known.ToDictionary(k => k.Id, k => k.Text);

        var round = state.Round;
        var centres = state.PreviousCentres.ToList();
        var totals = (state.InputTokens, state.OutputTokens, state.Cost);
        var calls = state.Calls;
        var failedCalls = 0;
        // Failure ratio is judged on this process's calls only: after a resume the saved total would dilute it.
        var callsHere = 0;
        var accepted = 0;
        var rejectedByReason = new ConcurrentDictionary<RejectReason, int>();
        var diversity = new Dictionary<string, LabelDiversity>();
        string? stopReason = null;
        var gate = new SemaphoreSlim(1, 1);
        // Watchers are told outside the gate: what they are told is collected under it (so it is consistent and in
        // order) and handed over after it is released, so a slow watcher never holds up the other calls.
        var notifications = new Notifications(observer);

        bool BudgetReached() =>
            (settings.BudgetTokens is { } t && totals.InputTokens + totals.OutputTokens >= t)
            || (settings.BudgetMoney is { } m && totals.Cost >= m);

        // Call only where no other call can change the counters: under the gate, or between rounds.
        void Report()
        {
            var rate = clock.Elapsed.TotalSeconds > 0 ? accepted / clock.Elapsed.TotalSeconds : 0;
            var progress = new GenerationProgress(round, pool.ToDictionary(p => p.Key, p => p.Value.Count),
                new Dictionary<string, int>(selected), settings.PerLabel, totals.InputTokens, totals.OutputTokens, totals.Cost, calls, rate);
            notifications.Add(o => o.ProgressAsync(progress));
        }

        while (stopReason is null)
        {
            ct.ThrowIfCancellationRequested();
            var need = labels.ToDictionary(l => l, l => Math.Max(0, settings.PerLabel - selected[l]));
            if (need.Values.All(n => n == 0)) break;
            var goal = need.ToDictionary(n => n.Key, n => n.Value == 0 ? 0 : (int)Math.Ceiling(n.Value * Math.Max(1, settings.Oversample)));
            bool Short() => labels.Any(l => pool[l].Count < goal[l]);
            var maxCalls = MaxCallsPerNeededSample * goal.Values.Max() + settings.Concurrency;
            var roundCalls = 0;
            var feedback = state.Feedback;
            Report();
            await notifications.FlushAsync();

            // Fill the pool with concurrent calls; each call's output is processed under one lock so dedup sees
            // every earlier sample.
            var running = new List<Task>();
            // A call in flight is expected to bring one sample per label, so only the shortfall not already covered
            // by calls in flight is launched; otherwise every call that returns while the last wave is out starts
            // another one, and a round at concurrency 8 pays for up to 7 calls whose samples it does not need. If
            // calls come back with rejected pieces, the outer loop launches the remainder.
            bool ShortBeyondRunning()
            {
                var inFlight = running.Count(t => !t.IsCompleted);
                return labels.Any(l => pool[l].Count + inFlight < goal[l]);
            }
            while (Short() && stopReason is null)
            {
                while (running.Count < Math.Max(1, settings.Concurrency) && ShortBeyondRunning() && roundCalls < maxCalls && stopReason is null)
                {
                    var seed = StableSeed(settings.Seed, round, roundCalls.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    roundCalls++;
                    var prompt = PromptBuilder.Build(spec, demos, centres, feedback, seed);
                    running.Add(CallAsync(prompt));
                }
                if (running.Count == 0)
                {
                    stopReason = $"The model did not produce enough usable samples for: {string.Join(", ", labels.Where(l => pool[l].Count < goal[l]))} after {roundCalls} calls.";
                    break;
                }
                var done = await Task.WhenAny(running);
                running.Remove(done);
                await done;
            }
            await Task.WhenAll(running);

            async Task CallAsync(GenerationPrompt prompt)
            {
                LlmResponse response;
                try
                {
                    var request = new LlmRequest(prompt.System, prompt.User, JsonMode: true);
                    response = settings.Stream
                        ? await client.StreamAsync(request, _ => ValueTask.CompletedTask, ct)
                        : await client.CompleteAsync(request, ct);
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    throw;
                }
                catch (SpendingCapReachedException ex)
                {
                    // No call was made: the run stops here with the cap as its reason (calls in flight still finish).
                    await gate.WaitAsync(CancellationToken.None);
                    try
                    {
                        stopReason ??= ex.Message;
                    }
                    finally
                    {
                        gate.Release();
                    }
                    return;
                }
                catch (Exception ex)
                {
                    // Retries already happened inside the client; one failed call does not end the run.
                    logger.LogWarning("Generation call failed after retries: {Error}", ex.Message);
                    await gate.WaitAsync(CancellationToken.None);
                    try
                    {
                        failedCalls++;
                        calls++;
                        callsHere++;
                        totals = await store.RecordCallAsync(new LlmUsage(0, 0, false), 0, failed: true, CancellationToken.None);
                        if (failedCalls >= 5 && failedCalls > callsHere / 2)
                            stopReason = $"Most calls to the model fail: {ex.Message}";
                    }
                    finally
                    {
                        gate.Release();
                    }
                    return;
                }

                var parsed = OutputParser.Parse(response.Text, labels);
                // Embedding happens outside the lock: it is the slow part and needs no shared state.
                var candidates = new List<(ParsedPiece Piece, float[] Vector)>();
                var invalid = new List<RejectedPiece>(parsed.Rejected);
                var valid = new List<ParsedPiece>();
                foreach (var piece in parsed.Accepted)
                {
                    if (SampleValidator.Check(piece, spec, demoTexts) is { } rejection) invalid.Add(rejection);
                    else valid.Add(piece);
                }
                if (valid.Count > 0)
                {
                    var embedded = embedder.Embed(valid.Select(v => v.Text).ToList());
                    for (var i = 0; i < valid.Count; i++) candidates.Add((valid[i], embedded[i]));
                }

                await gate.WaitAsync(CancellationToken.None);
                var callRound = round;
                try
                {
                    calls++;
                    callsHere++;
                    var cost = LlmCost.Cost(response.Usage, profile);
                    totals = await store.RecordCallAsync(response.Usage, cost, failed: false, CancellationToken.None);
                    foreach (var r in invalid)
                    {
                        rejectedByReason.AddOrUpdate(r.Reason, 1, (_, n) => n + 1);
                        await store.AddRejectedAsync(r, round, CancellationToken.None);
                        notifications.Add(o => o.SampleRejectedAsync(r, callRound));
                    }
                    foreach (var (piece, vector) in candidates)
                    {
                        var verdict = index.Check(piece.Label, piece.Text, vector);
                        if (verdict.Reject is { } reason)
                        {
                            var r = new RejectedPiece(piece.Label, piece.Text, reason,
                                verdict.MatchedText is null ? "" : $"{verdict.Similarity:0.000} similar to \"{Excerpt(verdict.MatchedText)}\" ({verdict.MatchedLabel})");
                            rejectedByReason.AddOrUpdate(reason, 1, (_, n) => n + 1);
                            await store.AddRejectedAsync(r, round, CancellationToken.None);
                            notifications.Add(o => o.SampleRejectedAsync(r, callRound));
                            continue;
                        }
                        var normalized = TextNormalizer.Normalize(piece.Text);
                        var id = await store.AddCandidateAsync(piece.Label, piece.Text, normalized, round, verdict.Ambiguous, CancellationToken.None);
                        if (verdict.Ambiguous && verdict.MatchedText is not null
                            && idsByNormalized.TryGetValue(TextNormalizer.Normalize(verdict.MatchedText), out var other))
                            await store.MarkAmbiguousAsync([other], CancellationToken.None);
                        index.Add(piece.Label, piece.Text, vector);
                        idsByNormalized.TryAdd(normalized, id);
                        vectors[id] = vector;
                        texts[id] = piece.Text;
                        pool[piece.Label].Add(id);
                        accepted++;
                        var (label, text, ambiguous) = (piece.Label, piece.Text, verdict.Ambiguous);
                        notifications.Add(o => o.SampleAcceptedAsync(id, label, text, callRound, ambiguous));
                    }
                    if (BudgetReached()) stopReason ??= "The budget was reached.";
                    Report();
                }
                finally
                {
                    gate.Release();
                }
                await notifications.FlushAsync();
            }

            if (stopReason is not null && pool.Values.All(p => p.Count == 0)) break;

            // Self-diversification: per label, k = what is still needed; the sample nearest each centre is shown,
            // the rest are kept in reserve.
            var selection = new Dictionary<string, DiversitySelectionIds>();
            diversity.Clear();
            foreach (var label in labels)
            {
                var ids = pool[label];
                if (ids.Count == 0) continue;
                var labelVectors = ids.Select(id => vectors[id]).ToList();
                var labelTexts = ids.Select(id => texts[id]).ToList();
                var want = Math.Min(need[label], ids.Count);
                var chosen = want == 0 ? new DiversitySelection([], Enumerable.Range(0, ids.Count).ToList(), new int[ids.Count])
                    : Diversifier.Select(labelVectors, want, StableSeed(settings.Seed, round, label));
                var before = DiversityMetrics.Compute(labelTexts, labelVectors, chosen.Assignments, characterTokens);
                var after = DiversityMetrics.Compute(chosen.Selected.Select(i => labelTexts[i]).ToList(),
                    chosen.Selected.Select(i => labelVectors[i]).ToList(), null, characterTokens);
                diversity[label] = new LabelDiversity(before, after, ids.Count, chosen.Selected.Count);
                selection[label] = new DiversitySelectionIds(chosen.Selected.Select(i => ids[i]).ToList(), chosen.Reserve.Select(i => ids[i]).ToList());
            }
            await store.CompleteRoundAsync(round, selection, new RoundStats(round, diversity), CancellationToken.None);
            foreach (var (label, s) in selection)
            {
                selected[label] += s.Selected.Count;
                reserve += s.Reserve.Count;
                pool[label].Clear();
            }
            // Centre samples of this round, written side by side per label, become "already have" examples.
            var byLabel = selection.ToDictionary(s => s.Key, s => s.Value.Selected.Select(id => texts[id]).ToList());
            for (var i = 0; i < 3; i++)
            {
                var row = byLabel.Where(b => i < b.Value.Count).ToDictionary(b => b.Key, b => b.Value[i]);
                if (row.Count > 0) centres.Add(row);
            }
            if (centres.Count > 6) centres.RemoveRange(0, centres.Count - 6);
            round++;
            Report();
            await notifications.FlushAsync();
        }

        await notifications.FlushAsync();
        if (stopReason is not null) await store.StopAsync(stopReason, CancellationToken.None);
        return new GenerationSummary(accepted, selected.Values.Sum(), reserve, new Dictionary<RejectReason, int>(rejectedByReason),
            totals.InputTokens, totals.OutputTokens, totals.Cost, calls, failedCalls, stopReason, clock.Elapsed, diversity);
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
}
