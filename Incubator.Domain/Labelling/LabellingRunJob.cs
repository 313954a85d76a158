using System.Globalization;
using System.Text.Json;
using Incubator.Domain.Common;
using Incubator.Domain.Common.Events;
using Incubator.Domain.Data;
using Incubator.Domain.Generation;
using Incubator.Domain.Jobs;
using Incubator.Domain.Llm;
using Incubator.Domain.Mining;
using Incubator.Domain.Review;
using Incubator.Domain.Tasks;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Incubator.Domain.Labelling;

/// <summary>Runs a <see cref="LabellingRun"/> as a durable job (docs/decisions/0037-llm-labels-a-corpus.md). First it
/// scores the corpus with the miner and fixes the texts to label (committed with the run, once). Then one call per
/// batch, one batch at a time: each batch's candidates, counters and the checkpoint (the next batch) are one
/// transaction, so a restart resumes at the first batch not committed and never pays for a text twice. A failed call
/// after answers makes the job wait (back-off, the same limit and notes as generation runs); a budget or a spending cap
/// ends it Stopped short with what it did; refused credentials or an endpoint that never answered end it Failed.</summary>
public sealed class LabellingRunJob(
    IDbContextFactory<IncubatorDbContext> dbFactory,
    LlmConnectionService connections,
    LlmClientFactory clients,
    SpendingGuard spending,
    CorpusStore corpora,
    IRunEvents events,
    IOptions<GenerationOptions> generationOptions,
    ILogger<LabellingRunJob> logger,
    TimeProvider time) : IJobHandler
{
    public const string KindName = "labelling.run";

    /// <summary>Agreeing candidates rank after every disagreeing one of the task's LLM-labelled candidates.</summary>
    public const int AgreementRankOffset = 1_000_000;

    public sealed record Payload(Guid RunId);

    /// <param name="NextBatch">The first batch not yet committed.</param>
    public sealed record Checkpoint(int NextBatch);

    public string Kind => KindName;

    /// <summary>Every way the run fails carries a note (docs/decisions/0020-truthful-outcomes.md): the known ones their
    /// own, anything unforeseen its error's text (<see cref="JobFailures"/>), so the labelling page always has a reason to show.</summary>
    public Task RunAsync(JobContext context) => JobFailures.WithNoteAsync(context, () => RunCoreAsync(context), LabelNotes.Error);

    private async Task RunCoreAsync(JobContext context)
    {
        var ct = context.CancellationToken;
        var payload = context.ReadPayload<Payload>();
        LabellingRun run;
        TaskSpec spec;
        HashSet<string> existing;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            run = await db.LabellingRuns.AsNoTracking().SingleAsync(r => r.Id == payload.RunId, ct);
            var version = await db.TaskVersions.AsNoTracking().SingleAsync(v => v.TaskId == run.TaskId && v.Number == run.TaskVersionNumber, ct);
            spec = TaskJson.Parse(version.SpecJson);
            existing = (await db.Candidates.AsNoTracking().Where(c => c.TaskId == run.TaskId && c.LabellingRunId != run.Id)
                .Select(c => c.NormalizedText).ToListAsync(ct)).ToHashSet(StringComparer.Ordinal);
        }
        var corpus = run.CorpusId is { } cid ? await corpora.FindAsync(cid, ct) : null;
        if (corpus is null) throw new JobFailedException(LabelNotes.CorpusGone());
        var labels = spec.Labels.Select(l => l.Name).ToList();

        var sample = run.SampleJson is null ? null : JsonSerializer.Deserialize<List<SampleItem>>(run.SampleJson, JsonOptions);
        if (sample is null)
        {
            sample = await ChooseAsync(context, run, spec, corpus, labels, existing);
            var json = JsonSerializer.Serialize(sample, JsonOptions);
            await context.CommitAsync(0, ProgressNotes.LabellingChosen(sample.Count), new Checkpoint(0),
                log: ProgressNotes.LabellingChose(sample.Count, corpus.TextCount, run.Limit is not null,
                    string.Join(", ", labels.Select(l => $"{l} {sample.Count(s => s.MinerLabel == l)}"))),
                extraWrites: db => db.LabellingRuns.Where(r => r.Id == run.Id)
                    .ExecuteUpdateAsync(s => s.SetProperty(r => r.SampleJson, json).SetProperty(r => r.SampleSize, sample.Count)));
            run.SampleSize = sample.Count;
        }

        if (sample.Count == 0) throw new JobFailedException(LabelNotes.NothingToLabel(corpus.TextCount));
        LlmProfile profile;
        try
        {
            profile = await connections.GetProfileForSystemAsync(run.ConnectionId, ct);
        }
        catch (NotFoundException)
        {
            throw new JobFailedException(LabelNotes.ConnectionGone());
        }
        var client = clients.Create(profile);
        if (await connections.IsSiteWideAsync(run.ConnectionId, ct))
            client = spending.Guard(client, new SpendingScope(run.CreatedById ?? "", run.ProjectId, run.ConnectionId), profile);

        var batches = sample.Chunk(Math.Max(1, run.BatchSize)).ToList();
        var next = context.ReadCheckpoint<Checkpoint>()?.NextBatch ?? 0;
        await context.LogAsync(next == 0
            ? ProgressNotes.LabellingStarted(sample.Count, batches.Count, run.BatchSize, profile.Name, profile.Model)
            : ProgressNotes.LabellingResuming(next + 1, batches.Count, run.TextsDone));
        var waiter = new EndpointWaiter(context.SetWaitingAsync, generationOptions.Value.EndpointWait, time, answered: run.Calls > 0, ct);
        var rejected = JsonSerializer.Deserialize<Dictionary<LabelRejectReason, int>>(run.RejectedJson, JsonOptions) ?? [];
        for (var b = next; b < batches.Count; b++)
        {
            ct.ThrowIfCancellationRequested();
            if (run.BudgetTokens is { } bt && run.InputTokens + run.OutputTokens >= bt || run.BudgetMoney is { } bm && run.Cost >= bm)
            {
                var budget = LabelNotes.Budget(run.TextsDone, run.SampleSize);
                context.StopShort(budget);
                await context.LogAsync(budget);
                return;
            }
            var batch = batches[b];
            var ordinals = batch.Select(s => s.Ordinal).ToList();
            var texts = await corpora.TextsAsync(corpus.Id, ordinals, ct);
            var request = CorpusLabeller.Request(spec, ordinals.Select(o => texts.TryGetValue(o, out var t) ? t.Text : "").ToList(), profile);
            LlmResponse response;
            try
            {
                response = await waiter.CallAsync(client, request, ex => logger.LogWarning("Labelling call failed after retries: {Error}", ex.Message));
            }
            catch (SpendingCapReachedException cap)
            {
                var note = LabelNotes.SpendingCap(run.TextsDone, run.SampleSize, cap.Message, cap.Note);
                await context.LogAsync(note);
                context.StopShort(note);
                return;
            }

            var result = CorpusLabeller.Parse(response.Text, ordinals, labels);
            var now = time.GetUtcNow();
            var candidates = new List<Candidate>();
            var minerOf = batch.ToDictionary(s => s.Ordinal, s => s.MinerLabel);
            var verdicts = new List<TextVerdict>();
            int agreedSoFar = run.Labelled - run.Disagreed, disagreedSoFar = run.Disagreed;
            foreach (var v in result.Texts)
            {
                if (v.Label is null || !texts.TryGetValue(v.Ordinal, out var row))
                {
                    verdicts.Add(v);
                    continue;
                }
                var normalized = TextNormalizer.Normalize(row.Text);
                if (!existing.Add(normalized))
                {
                    verdicts.Add(v with { Label = null, Rejected = LabelRejectReason.AlreadyQueued });
                    continue;
                }
                verdicts.Add(v);
                var agrees = minerOf[v.Ordinal] == v.Label;
                candidates.Add(new Candidate
                {
                    Id = Guid.NewGuid(), ProjectId = run.ProjectId, TaskId = run.TaskId, TaskVersionNumber = run.TaskVersionNumber, LabellingRunId = run.Id,
                    Label = v.Label, MinerLabel = minerOf[v.Ordinal], Text = row.Text, NormalizedText = normalized, Source = CandidateSource.LlmLabelled,
                    Stage = CandidateStage.Selected, Status = CandidateStatus.Pending, CreatedAt = Candidate.InWriteOrder(now, candidates.Count),
                    // Disagreements first: the queue's default order (and the LLM-labelled view) shows them before agreements.
                    SpreadRank = agrees ? AgreementRankOffset + agreedSoFar++ : disagreedSoFar++,
                });
            }
            foreach (var reason in verdicts.Where(v => v.Rejected is not null).Select(v => v.Rejected!.Value).Concat(result.Pieces.Select(p => p.Reason)))
                rejected[reason] = rejected.GetValueOrDefault(reason) + 1;
            run.TextsDone += batch.Length;
            run.Labelled += candidates.Count;
            run.Disagreed += candidates.Count(c => c.MinerLabel != c.Label);
            run.NoneOfThese += verdicts.Count(v => v.NoneOfThese);
            run.InputTokens += response.Usage.InputTokens;
            run.OutputTokens += response.Usage.OutputTokens;
            run.Cost += LlmCost.Cost(response.Usage, profile);
            run.Calls++;
            var rejectedJson = JsonSerializer.Serialize(rejected, JsonOptions);
            var snapshot = (run.TextsDone, run.Labelled, run.Disagreed, run.NoneOfThese, run.InputTokens, run.OutputTokens, run.Cost, run.Calls);
            var problems = verdicts.Where(v => v.Rejected is not null).Select(v => $"text {v.Ordinal + 1}: {v.Rejected} ({v.Detail})")
                .Concat(result.Pieces.Select(p => $"{p.Reason} ({p.Detail})")).ToList();
            await context.CommitAsync((b + 1) / (double)batches.Count, ProgressNotes.Labelling(run.TextsDone, run.SampleSize),
                new Checkpoint(b + 1),
                log: problems.Count == 0
                    ? ProgressNotes.LabellingBatch(b + 1, batches.Count, candidates.Count, verdicts.Count(v => v.NoneOfThese))
                    : ProgressNotes.LabellingBatchRejected(b + 1, batches.Count, candidates.Count, verdicts.Count(v => v.NoneOfThese), problems.Count,
                        string.Join("; ", problems.Take(20)) + (problems.Count > 20 ? "; …" : "")),
                extraWrites: async db =>
                {
                    db.Candidates.AddRange(candidates);
                    await db.LabellingRuns.Where(r => r.Id == run.Id).ExecuteUpdateAsync(s => s
                        .SetProperty(r => r.TextsDone, snapshot.TextsDone).SetProperty(r => r.Labelled, snapshot.Labelled)
                        .SetProperty(r => r.Disagreed, snapshot.Disagreed).SetProperty(r => r.NoneOfThese, snapshot.NoneOfThese)
                        .SetProperty(r => r.RejectedJson, rejectedJson).SetProperty(r => r.InputTokens, snapshot.InputTokens)
                        .SetProperty(r => r.OutputTokens, snapshot.OutputTokens).SetProperty(r => r.Cost, snapshot.Cost)
                        .SetProperty(r => r.Calls, snapshot.Calls));
                });
            await events.PublishAsync(new LabellingProgressed(run.ProjectId, run.Id, run.TaskId, run.TextsDone, run.SampleSize, run.Labelled,
                run.Disagreed, run.NoneOfThese, rejected.Values.Sum(), run.InputTokens + run.OutputTokens, run.Cost), CancellationToken.None);
        }
        await context.CommitAsync(1, ProgressNotes.LabellingDone(run.Labelled, run.Disagreed, run.NoneOfThese, rejected.Values.Sum()));
        // Every text answered and none labelled: nothing reached the queue, which is not what was asked for.
        if (run.Labelled == 0) throw new JobFailedException(LabelNotes.NoneLabelled(run.TextsDone, run.NoneOfThese, rejected.Values.Sum()));
    }

    /// <summary>Scores every text of the corpus with the miner (stored vectors where the embeddings job wrote them) and
    /// chooses the texts to label among those the task does not hold yet (no call is paid for a text already queued).</summary>
    private async Task<List<SampleItem>> ChooseAsync(JobContext context, LabellingRun run, TaskSpec spec, Corpus corpus, IReadOnlyList<string> labels,
        HashSet<string> existing)
    {
        var embedder = corpora.EmbedderFor(corpus);
        var scorer = new MiningScorer(spec, embedder);
        var ordinals = new List<int>();
        var queued = new HashSet<int>();
        var lastCommit = time.GetTimestamp();
        await foreach (var (texts, vectors) in corpora.VectorsAsync(corpus.Id, embedder, context.CancellationToken))
        {
            for (var i = 0; i < texts.Count; i++)
            {
                // Every text takes part in the miner's view (its scores are relative to the corpus), queued ones too.
                scorer.Add(texts[i].Ordinal, vectors[i]);
                if (existing.Contains(TextNormalizer.Normalize(texts[i].Text))) queued.Add(ordinals.Count);
                ordinals.Add(texts[i].Ordinal);
            }
            if (time.GetElapsedTime(lastCommit) >= TimeSpan.FromSeconds(1))
            {
                lastCommit = time.GetTimestamp();
                await context.CommitAsync(0, ProgressNotes.LabellingScored(ordinals.Count, corpus.TextCount));
            }
        }
        var probabilities = scorer.Probabilities(labels);
        var keep = Enumerable.Range(0, ordinals.Count).Where(i => !queued.Contains(i)).ToList();
        if (queued.Count > 0) await context.LogAsync(ProgressNotes.LabellingAlreadyQueued(queued.Count));
        return CorpusLabeller.Choose(keep.Select(i => ordinals[i]).ToList(), keep.Select(i => probabilities[i]).ToList(), labels, run.Limit).ToList();
    }

    internal static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
    };
}

/// <summary>A labelling run's endpoint trouble (the job's and the `label` verb's), the generation run's way (docs/decisions/0020-truthful-outcomes.md):
/// refused credentials fail at once; an endpoint that never answered fails at once; 4xx refusals three times in a row
/// fail; otherwise the job waits — pauses doubling from 1 s to 30 s, the job marked waiting with the last error — and
/// fails when the endpoint stays away longer than the limit.</summary>
public sealed class EndpointWaiter(Func<JobNote?, Task> setWaiting, TimeSpan limit, TimeProvider time, bool answered, CancellationToken ct)
{
    private long? _since;
    private TimeSpan _delay;
    private int _refusals;
    private bool _answered = answered;

    /// <summary>Makes the call until it is answered, waiting between tries; throws <see cref="JobFailedException"/> when
    /// the run should end, and lets anything else (a spending cap, a cancellation) through.</summary>
    public async Task<LlmResponse> CallAsync(ILlmClient client, LlmRequest request, Action<Exception>? failed = null)
    {
        while (true)
        {
            try
            {
                var response = await client.CompleteAsync(request, ct);
                await AnsweredAsync();
                return response;
            }
            catch (Exception ex) when ((ex is LlmException or HttpRequestException) && !ct.IsCancellationRequested)
            {
                failed?.Invoke(ex);
                await FailedAsync(ex);
            }
        }
    }

    private async Task AnsweredAsync()
    {
        _answered = true;
        _refusals = 0;
        if (_since is null) return;
        _since = null;
        await setWaiting(null);
    }

    /// <summary>Waits before the next try, or throws <see cref="JobFailedException"/> when the job should end.</summary>
    private async Task FailedAsync(Exception ex)
    {
        var message = ex.Message;
        var status = (ex as LlmException)?.StatusCode;
        if (status is 401 or 403) throw Fail(RunFailure.AuthRefused, message);
        if (status is >= 400 and < 500 and not 408 and not 429 && (!_answered || ++_refusals >= GenerationEngine.MaxRefusals))
            throw Fail(RunFailure.Refused, message);
        if (!_answered) throw Fail(RunFailure.Unreachable, message);
        var now = time.GetTimestamp();
        var (first, longest) = GenerationEngine.ProbeDelays(limit);
        if (_since is null)
        {
            _since = now;
            _delay = first;
        }
        else
        {
            _delay = TimeSpan.FromTicks(Math.Min(_delay.Ticks * 2, longest.Ticks));
        }
        if (time.GetElapsedTime(_since.Value, now) >= limit) throw Fail(RunFailure.Unreachable, message, limit);
        await setWaiting(RunNotes.Waiting(message, limit));
        await Task.Delay(_delay, time, ct);
    }

    private static JobFailedException Fail(RunFailure failure, string detail, TimeSpan? waited = null) =>
        new(new RunEnd(RunOutcome.Failed, [], ShortReason.Failure, failure, detail, Answered: waited is not null, WaitedFor: waited).Note!);
}
