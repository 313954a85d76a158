using System.Security.Cryptography;
using System.Text.Json;
using Incubator.Domain.Common.Events;
using Incubator.Domain.Data;
using Incubator.Domain.Datasets;
using Incubator.Domain.Embeddings;
using Incubator.Domain.Generation;
using Incubator.Domain.Jobs;
using Incubator.Domain.Projects;
using Incubator.Domain.Review;
using Incubator.Domain.Tasks;
using Incubator.Domain.Training;
using Microsoft.EntityFrameworkCore;

namespace Incubator.Domain.Mining;

/// <summary>Self-training as a durable job (docs/decisions/0036-self-training-in-the-portal.md): the source mining run's
/// candidates are the seeds — pending ones as the miner labelled them, approved or corrected ones as a reviewer did
/// (weighted above pseudo-labels), rejected ones left out — the corpus is the pool and the miner's view checks the
/// model (<see cref="SelfTrainer"/>). Each round is committed to the run and announced. At the end one transaction
/// publishes the training rows as a dataset version, writes the model version (Draft, an ordinary one: bundle, card, playground)
/// and the final model's least certain pool texts as pending candidates of this run. The dataset's rows (as many as the
/// pool's pseudo-labels) go first, in short transactions, into a version nobody sees until that last commit publishes
/// it (<see cref="DatasetWriter"/>). An interrupted job trains again from the start; its files carry the run's id, its
/// half-written dataset is removed by its next attempt (or the sweeper) and the rest is written in the one last commit,
/// so nothing doubles.</summary>
public sealed class SelfTrainingJob(IDbContextFactory<IncubatorDbContext> dbFactory, CorpusStore store, CorpusEmbedders embedders, ModelStore models,
    IRunEvents events, TimeProvider time, ICardNotes? cardNotes = null) : IJobHandler
{
    public const string KindName = "mining.self-train";

    /// <summary>Without an uploaded gold set, this share of the task's approved samples is held out to measure the model
    /// on human labels (when every label has at least two), the rest are reviewed seeds.</summary>
    public const double ApprovedHeldOutShare = 0.3;

    /// <param name="CardLanguage">The model card's language, that of the person who started it ("en", "ja"); null (queued
    /// before cards had a language): English.</param>
    public sealed record Payload(Guid RunId, int Rounds, int Uncertain, string? CardLanguage = null);

    public string Kind => KindName;

    /// <summary>Anything the job does not foresee fails it with <see cref="SelfTrainingNotes.Error"/> (the error's text as
    /// data), so the page always has a reason to say in the reader's language.</summary>
    public Task RunAsync(JobContext context) => JobFailures.WithNoteAsync(context, () => RunCoreAsync(context), SelfTrainingNotes.Error);

    private async Task RunCoreAsync(JobContext context)
    {
        var ct = context.CancellationToken;
        var payload = context.ReadPayload<Payload>();
        var started = time.GetTimestamp();
        MiningRun run;
        TaskSpec spec;
        List<Candidate> mined;
        List<LabeledText> approved;
        HashSet<string> existing;
        (Guid Id, string Name, List<LabeledText> Rows)? goldSet = null;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            run = await db.MiningRuns.AsNoTracking().SingleAsync(r => r.Id == payload.RunId, ct);
            if (run.ModelVersionId is not null) return; // finished before a restart
            var version = await db.TaskVersions.AsNoTracking().SingleAsync(v => v.TaskId == run.TaskId && v.Number == run.TaskVersionNumber, ct);
            spec = TaskJson.Parse(version.SpecJson);
            // In the order mining wrote them: the seeds' order decides the seeded splits, which must not depend on how the
            // database happens to return rows.
            mined = await db.Candidates.AsNoTracking().Where(c => c.MiningRunId == run.SourceRunId).OrderBy(c => c.CreatedAt).ThenBy(c => c.Label).ThenBy(c => c.SpreadRank)
                .ThenBy(c => c.Text).ToListAsync(ct);
            approved = (await db.Candidates.AsNoTracking().Where(c => c.TaskId == run.TaskId && c.Status == CandidateStatus.Approved)
                    .OrderBy(c => c.CreatedAt).ThenBy(c => c.Id).Select(c => new { c.Label, Text = c.EditedText ?? c.Text }).ToListAsync(ct))
                .Select(c => new LabeledText(c.Label, c.Text)).ToList();
            existing = (await db.Candidates.AsNoTracking().Where(c => c.TaskId == run.TaskId).Select(c => c.NormalizedText).ToListAsync(ct)).ToHashSet(StringComparer.Ordinal);
            var gold = (await db.GoldSets.AsNoTracking().Where(g => g.TaskId == run.TaskId).ToListAsync(ct)).OrderByDescending(g => g.CreatedAt).FirstOrDefault();
            if (gold is not null)
                goldSet = (gold.Id, gold.FileName, await db.GoldItems.AsNoTracking().Where(i => i.GoldSetId == gold.Id).OrderBy(i => i.Id)
                    .Select(i => new LabeledText(i.Label, i.Text)).ToListAsync(ct));
        }
        var corpus = run.CorpusId is { } cid ? await store.FindAsync(cid, ct) : null;
        if (corpus is null) throw new JobFailedException(SelfTrainingNotes.CorpusGone());
        var labels = spec.Labels.Select(l => l.Name).ToList();
        var embedder = embedders.ByName(corpus.Embedder);
        var charNgrams = embedder.Name == CharNgramEmbedder.RepresentationName;

        // Gold: the uploaded gold set, else a held-out share of the approved samples; never trained on.
        var reviewed = approved.Where(a => labels.Contains(a.Label)).ToList();
        List<LabeledText>? goldRows = null;
        string? goldName = null;
        var heldOut = false;
        if (goldSet is { } g)
        {
            goldRows = g.Rows.Where(r => labels.Contains(r.Label)).ToList();
            goldName = g.Name;
        }
        else if (reviewed.GroupBy(r => r.Label).Count(x => x.Count() >= 2) >= 2 && reviewed.GroupBy(r => r.Label).All(x => x.Count() >= 2))
        {
            (reviewed, goldRows) = StratifiedSplit.Split(reviewed, ApprovedHeldOutShare, 1);
            goldName = SelfTrainingNotes.HeldOutGold().Message;
            heldOut = true;
        }
        var goldTexts = goldRows?.Select(r => r.Text).ToHashSet(StringComparer.Ordinal) ?? [];
        var seeds = mined.Where(c => c.Status == CandidateStatus.Pending && labels.Contains(c.Label))
            .Select((c, i) => new MinedCandidate(c.Label, i, c.Text, 0, c.MiningScore ?? 0)).ToList();
        var rejected = mined.Where(c => c.Status == CandidateStatus.Rejected).Select(c => c.Text).ToHashSet(StringComparer.Ordinal);
        rejected.UnionWith(goldTexts);
        var (weight, rejectedCount) = (new SelfTrainingOptions().ReviewedWeight, mined.Count(c => c.Status == CandidateStatus.Rejected));
        await context.LogAsync(goldRows is null
            ? SelfTrainingNotes.Started(spec.Name, corpus.Name, corpus.TextCount, embedder.Name, seeds.Count, reviewed.Count, weight, rejectedCount)
            : heldOut
                ? SelfTrainingNotes.StartedHeldOut(spec.Name, corpus.Name, corpus.TextCount, embedder.Name, seeds.Count, reviewed.Count, weight, rejectedCount, goldRows.Count)
                : SelfTrainingNotes.StartedGold(spec.Name, corpus.Name, corpus.TextCount, embedder.Name, seeds.Count, reviewed.Count, weight, rejectedCount, goldName!, goldRows.Count));

        var scorer = new MiningScorer(spec, embedder);
        var pool = new List<string>(corpus.TextCount);
        // English rounds run on the corpus's stored MiniLM vectors (no embedding again); character n-grams need none.
        var poolVectors = charNgrams ? null : new List<float[]>(corpus.TextCount);
        await foreach (var (texts, vectors) in store.VectorsAsync(corpus.Id, embedder, ct))
        {
            for (var i = 0; i < texts.Count; i++)
            {
                scorer.Add(texts[i].Ordinal, vectors[i]);
                pool.Add(texts[i].Text);
                poolVectors?.Add(vectors[i]);
            }
        }
        await context.CommitAsync(0.05, SelfTrainingNotes.Scored(pool.Count));

        var options = SelfTrainingOptions.For(english: !charNgrams) with { MaxRounds = payload.Rounds };
        var rounds = new List<SelfTrainingRoundView>();
        SelfTrainingResult result;
        try
        {
            result = await Task.Run(() => SelfTrainer.Run(labels, pool, seeds, options, charNgrams ? null : scorer.Probabilities(labels), log: null,
                onRound: (round, _) => RoundDone(round).GetAwaiter().GetResult(), ct, reviewed, rejected, poolVectors, embedder.Embed,
                rawPrior: charNgrams ? null : options.RawViewIfUsed(scorer, labels)), ct);
        }
        catch (TrainingDataException) when (labels.Any(l => seeds.Count(s => s.Label == l) + reviewed.Count(r => r.Label == l) < 2))
        {
            var few = labels.Where(l => seeds.Count(s => s.Label == l) + reviewed.Count(r => r.Label == l) < 2).ToList();
            throw new JobFailedException(few is [var only] && only == spec.OtherLabel?.Name
                ? SelfTrainingNotes.TooFewOtherSeeds(only)
                : SelfTrainingNotes.TooFewSeeds(string.Join(", ", few)));
        }
        ct.ThrowIfCancellationRequested();
        // English pools choose their miner's view and label shares from the raw view's own label counts over the pool: the
        // log says which.
        if (result.RawLean is { } lean && options.RawLeanAbove is { } threshold && result.EmbeddingRounds)
            await context.LogAsync(result.RawView ? SelfTrainingNotes.RawView(lean, threshold, result.FinalShare)
                : result.Curriculum ? SelfTrainingNotes.EvenViewCurriculum(lean, threshold, SelfTrainer.CurriculumSteps(options.MaxRounds))
                : SelfTrainingNotes.EvenView(lean, threshold));

        var model = result.Training.Model;
        var training = result.Training;
        if (goldRows is { Count: > 0 })
            training = new TrainingResult
            {
                Model = model, ChosenFamily = training.ChosenFamily, Validation = training.Validation, Gold = Evaluation.Evaluate(model, goldRows),
                Compared = training.Compared, Log = training.Log, Refitted = training.Refitted, Pooled = training.Pooled, Choice = training.Choice, ChoiceNote = training.ChoiceNote,
            };
        await context.CommitAsync(0.85, SelfTrainingNotes.ChoosingUncertain());
        // The final model's least certain pool texts (1 − (p1 − p2), as active learning scores them), new to the task.
        var fresh = pool.Where(t => existing.Add(TextNormalizer.Normalize(t))).ToList();
        var predictions = await Task.Run(() => model.Predict(fresh), ct);
        var uncertain = Enumerable.Range(0, fresh.Count)
            .Select(i => (Text: fresh[i], predictions[i].Label, Uncertainty: Uncertainty(predictions[i].Probabilities)))
            .OrderByDescending(x => x.Uncertainty).ThenBy(x => x.Text, StringComparer.Ordinal).Take(payload.Uncertain).ToList();

        var modelId = run.Id;
        var projectName = "";
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
            projectName = await db.Projects.Where(p => p.Id == run.ProjectId).Select(p => p.Name).SingleAsync(ct);
        var best = result.Best;
        var language = CardLanguages.Parse(payload.CardLanguage);
        // Both languages (decision 0012, amendment card22): the starter's is model-card.md, the other beside it.
        var cards = ModelCards.Write(language, lang => ModelCardBuilder.Write(ModelCardInput.For(CardLanguages.SelfTrainedTitle(spec.Name, lang), training, result.Options, goldName, time.GetUtcNow(),
            new SelfTrainingCardSource(spec, corpus.Name, pool.Count, best.SeedRows, result.HeldOutSeeds, result.PseudoLabels, result.RowsPerLabel,
                result.TrainRows.Count, result.ValidationRows.Count, rounds.Select(r => r.Note.Message + (r.Round == result.BestRound ? " (kept)" : "")).ToList(), MinersView: !charNgrams)
            {
                Origin = $"project {projectName}, mining run of {corpus.Name}",
                OriginProject = projectName,
                OriginCorpus = corpus.Name,
                RoundNotes = rounds.Select(r => (r.Note, r.Round == result.BestRound)).ToList(),
                ReviewedSeeds = best.ReviewedRows,
                ReviewedWeight = options.ReviewedWeight,
                EmbeddingRounds = result.EmbeddingRounds,
                ProportionalShares = result.CountedShares,
                RawView = result.RawView,
                RawLean = result.RawLean,
                FinalShare = result.FinalShare,
                CurriculumRounds = result.Curriculum ? options.MaxRounds : 0,
            }), lang, cardNotes is null ? null : note => cardNotes.Say(note, lang)));
        var onnx = await Task.Run(() => model.ExportOnnx(), ct);
        await models.WriteAsync(models.ModelPath(run.ProjectId, modelId), s => { model.Save(s); return Task.CompletedTask; }, ct);
        await models.WriteAsync(models.BundlePath(run.ProjectId, modelId), s =>
        {
            ModelBundle.Write(s, model, BundleInfo.For(spec.Name, "self-trained", cards), onnx);
            return Task.CompletedTask;
        }, ct);
        string sha;
        long bytes;
        await using (var f = File.OpenRead(models.BundlePath(run.ProjectId, modelId)))
        {
            bytes = f.Length;
            sha = Convert.ToHexStringLower(await SHA256.HashDataAsync(f, ct));
        }

        // The rows the model was trained on, once each (reviewed rows are repeated only inside training).
        var seen = new HashSet<(string, string)>();
        var items = result.TrainRows.Select(r => (Row: r, Split: DatasetSplit.Train)).Concat(result.ValidationRows.Select(r => (Row: r, Split: DatasetSplit.Validation)))
            .Where(x => seen.Add((x.Row.Label, x.Row.Text))).OrderBy(x => x.Row.Label, StringComparer.Ordinal).ThenBy(x => x.Row.Text, StringComparer.Ordinal).ToList();
        var counts = items.GroupBy(x => x.Row.Label).OrderBy(x => x.Key, StringComparer.Ordinal).ToDictionary(x => x.Key, x => x.Count());
        var now = time.GetUtcNow();
        var candidates = uncertain.Select((u, i) => new Candidate
        {
            Id = Guid.NewGuid(), ProjectId = run.ProjectId, TaskId = run.TaskId, TaskVersionNumber = run.TaskVersionNumber, MiningRunId = run.Id,
            Label = u.Label, Text = u.Text, NormalizedText = TextNormalizer.Normalize(u.Text), Source = CandidateSource.Mining, Stage = CandidateStage.Selected,
            Status = CandidateStatus.Pending, Uncertainty = Math.Round(u.Uncertainty, 4), CreatedAt = Candidate.InWriteOrder(now, i), SpreadRank = i,
        }).ToList();
        // The dataset can hold as many rows as the corpus: written in short transactions, invisible until the last commit.
        var datasetId = await DatasetWriter.WriteAsync(dbFactory, context.JobId, new DatasetVersion
        {
            Id = Guid.NewGuid(), ProjectId = run.ProjectId, TaskId = run.TaskId, TaskVersionNumber = run.TaskVersionNumber,
            ContentHash = DatasetService.ContentHash(items.Select(x => (x.Row.Label, x.Row.Text))), Count = items.Count,
            CountsJson = JsonSerializer.Serialize(counts),
            LineageJson = JsonSerializer.Serialize(new DatasetLineage(run.TaskVersionNumber, [], [], 0, items.Count, 0, 0, 0)),
            Seed = options.Seed, ValidationShare = 0.2, TrainCount = items.Count(x => x.Split == DatasetSplit.Train),
            ValidationCount = items.Count(x => x.Split == DatasetSplit.Validation), CreatedAt = now, CreatedById = run.CreatedById,
        }, items.Select((x, i) => new DatasetItem { Ordinal = i, Label = x.Row.Label, Text = x.Row.Text, Split = x.Split }).ToList(), ct);
        var seconds = time.GetElapsedTime(started).TotalSeconds;
        var noGain = payload.Rounds > 0 && result.BestRound == 0;
        await context.CommitAsync(1, SelfTrainingNotes.Ready(result.BestRound, candidates.Count),
            log: training.Gold is { } scored
                ? heldOut
                    ? SelfTrainingNotes.KeptHeldOut(result.BestRound, options.MaxRounds, best.SeedRows, result.PseudoLabels, best.ReviewedRows, ModelFamilies.Name(model.Family),
                        scored.Accuracy, candidates.Count)
                    : SelfTrainingNotes.KeptGold(result.BestRound, options.MaxRounds, best.SeedRows, result.PseudoLabels, best.ReviewedRows, ModelFamilies.Name(model.Family),
                        scored.Accuracy, candidates.Count, goldName!)
                : SelfTrainingNotes.KeptAgreement(result.BestRound, options.MaxRounds, best.SeedRows, result.PseudoLabels, best.ReviewedRows, ModelFamilies.Name(model.Family),
                    training.Validation.Accuracy, candidates.Count),
            extraWrites: async db =>
            {
                var datasetNumber = await DatasetWriter.PublishAsync(db, datasetId, run.TaskId);
                var number = (await db.ModelVersions.Where(m => m.TaskId == run.TaskId).MaxAsync(m => (int?)m.Number) ?? 0) + 1;
                db.ModelVersions.Add(new ModelVersion
                {
                    Id = modelId, ProjectId = run.ProjectId, TaskId = run.TaskId, Number = number, DatasetVersionId = datasetId, GoldSetId = goldSet?.Id,
                    RequestedFamily = ModelFamilies.Name(model.Family), Family = ModelFamilies.Chosen(training),
                    Encoder = ModelFamilies.EncoderFact(model.Encoder), Seed = options.Seed, State = ModelVersionState.Draft,
                    JobId = context.JobId, Accuracy = training.Validation.Accuracy, MacroF1 = training.Validation.MacroF1,
                    GoldAccuracy = training.Gold?.Accuracy, GoldMacroF1 = training.Gold?.MacroF1,
                    ValidationJson = JsonSerializer.Serialize(StoredReport.From(model.Labels, training.Validation), TrainingService.Json),
                    GoldJson = training.Gold is null ? null : JsonSerializer.Serialize(StoredReport.From(model.Labels, training.Gold), TrainingService.Json),
                    ComparedJson = "[]", ModelCard = cards.Card, ModelCardLanguage = CardLanguages.Code(cards.Language), OtherModelCard = cards.OtherCard, BundleSha256 = sha, BundleBytes = bytes,
                    TrainingSeconds = seconds,
                    CreatedAt = now, CreatedById = run.CreatedById,
                });
                db.Candidates.AddRange(candidates);
                db.Activity.Add(new ActivityEntry { ProjectId = run.ProjectId, UserId = run.CreatedById, At = now, Kind = ActivityKinds.DatasetFrozen, Detail = DatasetNotes.Detail(DatasetNotes.SelfTrained(spec.Name, datasetNumber)) });
                await db.MiningRuns.Where(r => r.Id == run.Id).ExecuteUpdateAsync(s => s
                    .SetProperty(r => r.ModelVersionId, modelId)
                    .SetProperty(r => r.CandidatesCreated, candidates.Count));
            });
        if (noGain) context.StopShort(SelfTrainingNotes.NoGain(result.Rounds.Count - 1));
        await events.PublishAsync(new ModelChanged(run.ProjectId, modelId, run.TaskId, ModelVersionState.Draft), CancellationToken.None);
        foreach (var c in candidates)
            await events.PublishAsync(new SampleAccepted(run.ProjectId, run.Id, c.Id, c.Label, c.Text, 0, false), CancellationToken.None);

        async Task RoundDone(SelfTrainingRound round)
        {
            rounds.Add(new SelfTrainingRoundView(round.Round, payload.Rounds, Math.Round(round.Agreement, 4), round.Improved, round.PseudoLabels));
            var note = rounds[^1].Note;
            var json = JsonSerializer.Serialize(rounds, MiningService.JsonOptions);
            await context.CommitAsync(0.05 + 0.75 * (round.Round + 1) / (payload.Rounds + 1.0), note, log: note,
                extraWrites: db => db.MiningRuns.Where(r => r.Id == run.Id).ExecuteUpdateAsync(s => s.SetProperty(r => r.SummaryJson, json)));
            await events.PublishAsync(new SelfTrainingRoundDone(run.ProjectId, run.Id, run.TaskId, round.Round, payload.Rounds, round.Agreement, round.Improved,
                round.PseudoLabels), CancellationToken.None);
        }
    }

    /// <summary>1 − (p1 − p2): 1 is a coin toss between two labels, 0 a sure call.</summary>
    private static double Uncertainty(float[] p)
    {
        if (p.Length < 2) return 0;
        var sorted = p.OrderDescending().ToArray();
        return 1 - (sorted[0] - sorted[1]);
    }
}
