using Incubator.Domain.Review;
using Incubator.Domain.Common.Events;
using System.Text.Json;
using Incubator.Domain.Data;
using Incubator.Domain.Embeddings;
using Incubator.Domain.Generation;
using Incubator.Domain.Jobs;
using Incubator.Domain.Tasks;
using Microsoft.EntityFrameworkCore;

namespace Incubator.Domain.Mining;

/// <summary>Scores a corpus against a task (see <see cref="MiningScorer"/>) and writes the chosen texts as pending
/// candidates (source Mining, linked to the run) in transactions of <see cref="DbBatches.Rows"/>, <see cref="DbBatches.Yield"/> apart so waiting writers get in — up to 2,000 per label in
/// one transaction would hold the write lock for seconds — then the run's counts with the job's final checkpoint.
/// Scoring is cheap next to embedding (the vectors are cached by the corpus's embeddings job), so an interrupted run
/// scores again from the start and writes only the candidates its earlier attempt did not: each text once.</summary>
public sealed class MiningRunJob(IDbContextFactory<IncubatorDbContext> dbFactory, CorpusStore store, CorpusEmbedders embedders, IRunEvents events,
    TimeProvider time) : IJobHandler
{
    public const string KindName = "mining.run";

    public sealed record Payload(Guid RunId);

    public sealed record Checkpoint(bool Written);

    public string Kind => KindName;

    /// <summary>The run's corpus was deleted before it ran: a reason in the reader's language, not a bare exception.</summary>
    public static JobNote CorpusGone() => new("Mining.Failed.CorpusGone", "Failed: the corpus of this mining run was deleted.");

    /// <summary>Anything the job does not foresee fails it with <see cref="MiningNotes.Error"/>, so the page always has a
    /// reason to say in the reader's language.</summary>
    public Task RunAsync(JobContext context) => JobFailures.WithNoteAsync(context, () => RunCoreAsync(context), MiningNotes.Error);

    private async Task RunCoreAsync(JobContext context)
    {
        var ct = context.CancellationToken;
        var payload = context.ReadPayload<Payload>();
        if (context.ReadCheckpoint<Checkpoint>() is { Written: true })
        {
            // Interrupted after its last commit: it ends as it would have, from the counts it wrote.
            await EndAgainAsync(context, payload.RunId);
            return;
        }
        MiningRun run;
        TaskSpec spec;
        HashSet<string> existing;
        Dictionary<string, Guid> written;
        Dictionary<string, IReadOnlyList<string>> approved;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            run = await db.MiningRuns.AsNoTracking().SingleAsync(r => r.Id == payload.RunId, ct);
            var version = await db.TaskVersions.AsNoTracking().SingleAsync(v => v.TaskId == run.TaskId && v.Number == run.TaskVersionNumber, ct);
            spec = TaskJson.Parse(version.SpecJson);
            // What an interrupted attempt of this run wrote is mined again (and not written twice), not avoided.
            existing = (await db.Candidates.AsNoTracking().Where(c => c.TaskId == run.TaskId && c.MiningRunId != run.Id).Select(c => c.NormalizedText).ToListAsync(ct))
                .ToHashSet(StringComparer.Ordinal);
            written = (await db.Candidates.AsNoTracking().Where(c => c.MiningRunId == run.Id).Select(c => new { c.NormalizedText, c.Id }).ToListAsync(ct))
                .ToDictionary(c => c.NormalizedText, c => c.Id, StringComparer.Ordinal);
            approved = (await db.Candidates.AsNoTracking().Where(c => c.TaskId == run.TaskId && c.Status == CandidateStatus.Approved)
                    .Select(c => new { c.Label, Text = c.EditedText ?? c.Text }).ToListAsync(ct))
                .GroupBy(c => c.Label).ToDictionary(g => g.Key, g => (IReadOnlyList<string>)g.Select(c => c.Text).Take(500).ToList());
        }
        var corpus = run.CorpusId is { } cid ? await store.FindAsync(cid, ct) : null;
        if (corpus is null) throw new JobFailedException(CorpusGone());
        var embedder = embedders.ByName(corpus.Embedder);
        await context.LogAsync(ProgressNotes.MiningStarted(corpus.TextCount, corpus.Name, embedder.Name,
            embedder.Name == CharNgramEmbedder.RepresentationName, approved.Values.Sum(a => a.Count)));

        var scorer = new MiningScorer(spec, embedder, approved);
        var model = QuickModel.Train(approved.ToDictionary(a => a.Key, a => (IReadOnlyList<float[]>)embedder.Embed(a.Value.ToArray())));
        var lastCommit = time.GetTimestamp();
        await foreach (var (texts, vectors) in store.VectorsAsync(corpus.Id, embedder, ct))
        {
            for (var i = 0; i < texts.Count; i++) scorer.Add(texts[i].Ordinal, vectors[i]);
            if (time.GetElapsedTime(lastCommit) >= TimeSpan.FromSeconds(1))
            {
                lastCommit = time.GetTimestamp();
                await context.CommitAsync(0.95 * scorer.Count / Math.Max(1, corpus.TextCount), ProgressNotes.MiningScored(scorer.Count, corpus.TextCount));
            }
        }
        var mined = await scorer.SelectAsync(run.PerLabel, run.Margin,
            async ordinals => (await store.TextsAsync(corpus.Id, ordinals, ct)).ToDictionary(kv => kv.Key, kv => kv.Value.Text),
            text => existing.Contains(TextNormalizer.Normalize(text)));
        var now = time.GetUtcNow();
        var candidates = new List<Candidate>();
        // Each label's mined samples get ranks 0, 1, 2… so the queue's default order spreads them over the labels.
        var ranks = new Dictionary<string, int>(StringComparer.Ordinal);
        var uncertain = model is null ? null : embedder.Embed(mined.Select(m => m.Text).ToArray());
        for (var i = 0; i < mined.Count; i++)
        {
            var m = mined[i];
            var normalized = TextNormalizer.Normalize(m.Text);
            if (!existing.Add(normalized)) continue;
            candidates.Add(new Candidate
            {
                Id = Guid.NewGuid(), ProjectId = run.ProjectId, TaskId = run.TaskId, TaskVersionNumber = run.TaskVersionNumber, MiningRunId = run.Id,
                Label = m.Label, Text = m.Text, NormalizedText = normalized, Source = CandidateSource.Mining, Stage = CandidateStage.Selected,
                Status = CandidateStatus.Pending, MiningScore = Math.Round(m.Margin, 4), Uncertainty = uncertain is null ? null : model!.Predict(uncertain[i]).Uncertainty,
                CreatedAt = Candidate.InWriteOrder(now, i), // distinct, stable order in the queue
                SpreadRank = ranks[m.Label] = ranks.GetValueOrDefault(m.Label, -1) + 1,
            });
        }
        var perLabel = spec.Labels.ToDictionary(l => l.Name, l => candidates.Count(c => c.Label == l.Name));
        var ranked = scorer.Rank(run.Margin);
        var summary = JsonSerializer.Serialize(spec.Labels.Select(l => new { label = l.Name, created = perLabel[l.Name], eligible = ranked.TryGetValue(l.Name, out var r) ? r.Count : 0 }),
            MiningService.JsonOptions);
        var toWrite = new List<Candidate>();
        foreach (var c in candidates)
        {
            if (written.TryGetValue(c.NormalizedText, out var id)) c.Id = id; // written by an earlier attempt: announced as it is
            else toWrite.Add(c);
        }
        await DbBatches.InsertAsync(dbFactory, toWrite, ct, pause: DbBatches.Yield);
        await context.CommitAsync(1, ProgressNotes.MiningDone(candidates.Count, corpus.TextCount), new Checkpoint(true),
            log: ProgressNotes.MiningCreated(candidates.Count, string.Join(", ", perLabel.Select(p => $"{p.Key} {p.Value}"))),
            extraWrites: async db =>
            {
                await db.MiningRuns.Where(r => r.Id == run.Id).ExecuteUpdateAsync(s => s
                    .SetProperty(r => r.CandidatesCreated, written.Count + toWrite.Count)
                    .SetProperty(r => r.ApprovedUsed, scorer.ApprovedUsed)
                    .SetProperty(r => r.SummaryJson, summary));
            });
        foreach (var c in candidates)
            await events.PublishAsync(new SampleAccepted(run.ProjectId, run.Id, c.Id, c.Label, c.Text, 0, false), CancellationToken.None);
        // No candidate at all is not what the user asked for: the run fails, saying why; none for some labels stops it short.
        if (Shortfall(spec, perLabel, ranked.ToDictionary(r => r.Key, r => r.Value.Count), scorer.Count, run.Margin) is { } shortfall)
        {
            if (candidates.Count == 0) throw new JobFailedException(shortfall);
            context.StopShort(shortfall);
        }
    }

    private sealed record LabelSummary(string Label, int Created, int Eligible);

    /// <summary>The end of a run whose last commit was made by an earlier attempt: its summary (per label, created and
    /// chosen) says whether it fell short, as the attempt itself would have said. The texts read are the corpus's.</summary>
    private async Task EndAgainAsync(JobContext context, Guid runId)
    {
        await using var db = await dbFactory.CreateDbContextAsync(context.CancellationToken);
        var run = await db.MiningRuns.AsNoTracking().SingleAsync(r => r.Id == runId, context.CancellationToken);
        var version = await db.TaskVersions.AsNoTracking().SingleAsync(v => v.TaskId == run.TaskId && v.Number == run.TaskVersionNumber, context.CancellationToken);
        if (run.SummaryJson is null) return; // written before runs kept a summary: nothing to judge by
        var summary = JsonSerializer.Deserialize<List<LabelSummary>>(run.SummaryJson, MiningService.JsonOptions) ?? [];
        var texts = run.CorpusId is { } cid ? await db.Corpora.Where(c => c.Id == cid).Select(c => c.TextCount).SingleOrDefaultAsync(context.CancellationToken) : 0;
        if (Shortfall(TaskJson.Parse(version.SpecJson), summary.ToDictionary(s => s.Label, s => s.Created), summary.ToDictionary(s => s.Label, s => s.Eligible),
                texts, run.Margin) is not { } shortfall) return;
        if (run.CandidatesCreated == 0) throw new JobFailedException(shortfall);
        context.StopShort(shortfall);
    }

    /// <summary>Null when every label of the task got candidates; else why not (<see cref="MiningNotes"/>): nothing at all
    /// (no text passed the miner's rule, or every one it chose is already a candidate of the task), or which labels got
    /// none and what the miner chose for them.</summary>
    internal static JobNote? Shortfall(TaskSpec spec, IReadOnlyDictionary<string, int> created, IReadOnlyDictionary<string, int> chosen, int texts, double margin)
    {
        var without = spec.Labels.Select(l => l.Name).Where(l => created.GetValueOrDefault(l) == 0).ToList();
        if (without.Count == 0) return null;
        int Chosen(string label) => chosen.GetValueOrDefault(label);
        if (without.Count == spec.Labels.Count)
        {
            var total = without.Sum(Chosen);
            return total == 0 ? MiningNotes.NothingChosen(texts, margin, spec.OtherLabel is not null) : MiningNotes.AllQueued(texts, total, margin);
        }
        return MiningNotes.NoneFor(string.Join(", ", without), created.Values.Sum(), texts, margin, string.Join(", ", without.Select(l => $"{l} {Chosen(l)}")));
    }
}
