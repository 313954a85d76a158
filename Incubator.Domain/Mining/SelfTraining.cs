using System.Globalization;
using Incubator.Domain.Training;

namespace Incubator.Domain.Mining;

/// <summary>How self-training runs. See docs/decisions/0032-self-training.md for why these defaults.</summary>
public sealed record SelfTrainingOptions
{
    /// <summary>Rounds of pseudo-labelling after the seed model (round 0). The loop stops earlier when the held-out
    /// agreement stops improving.</summary>
    public int MaxRounds { get; init; } = 4;

    /// <summary>Share of each label's mined seeds kept out of training to measure agreement (seeded, stratified).</summary>
    public double HeldOutShare { get; init; } = 0.2;

    /// <summary>Pseudo-labels per label in round r are at most this share of the pool divided by the number of labels,
    /// doubling each round (round 1: the share, round 2: twice it…), capped at the whole pool.</summary>
    public double FirstRoundShare { get; init; } = 0.1;

    /// <summary>A round must raise the agreement by more than this to count as an improvement.</summary>
    public double MinGain { get; init; } = 0.0;

    public int Seed { get; init; } = 1;

    public bool StopOnView { get; init; } = true;

    public ModelFamily Family { get; init; } = ModelFamily.Sparse;

    /// <summary>The final family for English pools (MiniLM embeddings exist): see the decision for the measurement.</summary>
    public const ModelFamily EnglishFinalFamily = ModelFamily.Hybrid;

    /// <summary>The family of the model handed back, trained once on the best round's rows; null: the rounds' model.</summary>
    public ModelFamily? FinalFamily { get; init; }

    /// <summary>How many times each reviewed text (approved or corrected by a person) counts in every round's training
    /// rows, where a mined seed or a pseudo-label counts once: a person's label outweighs the machine's.</summary>
    public int ReviewedWeight { get; init; } = 5;
}

/// <summary>One round as it happened: what the model was trained on and how it agreed with the held-out seeds.</summary>
public sealed record SelfTrainingRound(int Round, int SeedRows, int PseudoLabels, IReadOnlyDictionary<string, int> RowsPerLabel, double Agreement, bool Improved)
{
    /// <summary>Reviewed texts in the round's training rows (each counted <see cref="SelfTrainingOptions.ReviewedWeight"/> times).</summary>
    public int ReviewedRows { get; init; }

    public double SeedAgreement { get; init; }

    public double? ViewAgreement { get; init; }
}

public sealed record SelfTrainingResult(
    TrainingResult Training, TrainingOptions Options, IReadOnlyList<SelfTrainingRound> Rounds, int BestRound, int HeldOutSeeds,
    IReadOnlyList<LabeledText> TrainRows, IReadOnlyList<LabeledText> ValidationRows)
{
    public SelfTrainingRound Best => Rounds[BestRound];
}

/// <summary>Self-training from mined seeds, with no human label: a model trained on the mined seeds (minus a held-out
/// part) labels the whole pool; the most confident texts of each label, the same number for every label, join the seeds
/// and the model is trained again, with twice as many pseudo-labels each round. After each round the model labels the
/// held-out seeds; when that agreement stops improving the loop stops and the best round's model is the result.</summary>
public static class SelfTrainer
{
    /// <param name="reviewed">Texts a person labelled (approved or corrected candidates): they replace a mined seed of the
    /// same text, are never pseudo-labelled, and join every round's training rows <see cref="SelfTrainingOptions.ReviewedWeight"/>
    /// times. <paramref name="excluded"/>: texts a reviewer rejected — never a seed, never a pseudo-label.</param>
    /// <param name="poolPrior">Optional: for each pool text (same order), another view's probabilities over
    /// <paramref name="labels"/> — the miner's <see cref="MiningScorer.Probabilities"/>. Pseudo-labels then come from the
    /// average of the model and this view, so two views that err differently check each other.</param>
    public static SelfTrainingResult Run(IReadOnlyList<string> labels, IReadOnlyList<string> pool, IReadOnlyList<MinedCandidate> seeds,
        SelfTrainingOptions options, IReadOnlyList<float[]>? poolPrior = null, IProgress<string>? log = null, Action<SelfTrainingRound, TrainedClassifier>? onRound = null, CancellationToken ct = default,
        IReadOnlyList<LabeledText>? reviewed = null, IReadOnlySet<string>? excluded = null)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentNullException.ThrowIfNull(seeds);
        ArgumentNullException.ThrowIfNull(options);
        reviewed = (reviewed ?? []).Where(r => labels.Contains(r.Label)).ToList();
        var reviewedTexts = reviewed.Select(r => r.Text).ToHashSet(StringComparer.Ordinal);
        // A person's word replaces the miner's: a reviewed text is no mined seed, a rejected one is none at all.
        seeds = seeds.Where(s => !reviewedTexts.Contains(s.Text) && excluded?.Contains(s.Text) != true).ToList();
        var missing = labels.Where(l => seeds.Count(s => s.Label == l) + reviewed.Count(r => r.Label == l) < 2).ToList();
        if (missing.Count > 0)
            throw new TrainingDataException($"Self-training needs at least 2 mined seeds for every label; too few for {string.Join(", ", missing)}. Lower --margin or add texts to the pool.");
        var weighted = Enumerable.Repeat(reviewed, Math.Max(1, options.ReviewedWeight)).SelectMany(r => r).ToList();

        var seedRows = seeds.Select(s => new LabeledText(s.Label, s.Text)).ToList();
        var (trainSeeds, heldOut) = StratifiedSplit.Split(seedRows, options.HeldOutShare, options.Seed);
        var heldOutTexts = heldOut.Select(h => h.Text).ToHashSet(StringComparer.Ordinal);
        var seedTexts = trainSeeds.Select(s => s.Text).ToHashSet(StringComparer.Ordinal);
        // Pseudo-labels come from the pool minus every seed: seeds keep their mined label, held-out seeds stay unseen.
        if (poolPrior is not null && poolPrior.Count != pool.Count) throw new ArgumentException("One prior per pool text.", nameof(poolPrior));
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var candidateIndex = Enumerable.Range(0, pool.Count).Where(i => !heldOutTexts.Contains(pool[i]) && !seedTexts.Contains(pool[i])
            && !reviewedTexts.Contains(pool[i]) && excluded?.Contains(pool[i]) != true && seen.Add(pool[i])).ToList();
        // With a second view, a seeded share of the pool is held out too and labelled by that view alone: agreement with it
        // measures the model on ordinary texts, not only on the prototypical ones mining picks.
        var viewHeldOut = new List<LabeledText>();
        if (poolPrior is not null)
        {
            var shuffled = candidateIndex.ToArray();
            new Random(options.Seed).Shuffle(shuffled);
            var take = (int)Math.Round(shuffled.Length * options.HeldOutShare / 2);
            var held = shuffled.Take(take).ToHashSet();
            viewHeldOut = held.Order().Select(i => new LabeledText(labels[Array.IndexOf(poolPrior[i], poolPrior[i].Max())], pool[i])).ToList();
            candidateIndex = candidateIndex.Where(i => !held.Contains(i)).ToList();
        }
        var candidates = candidateIndex.Select(i => pool[i]).ToList();
        var trainingOptions = new TrainingOptions(options.Family, options.Seed);
        var trainer = new ClassifierTrainer();

        var rounds = new List<SelfTrainingRound>();
        (TrainingResult Result, List<LabeledText> Train, List<LabeledText> Validation)? best = null;
        var bestRound = 0;
        var rows = trainSeeds;
        var pseudo = 0;
        for (var round = 0; round <= options.MaxRounds; round++)
        {
            ct.ThrowIfCancellationRequested();
            var (train, validation) = StratifiedSplit.Split(rows, 0.2, options.Seed);
            train = [.. train, .. weighted];
            var result = trainer.Train(labels, train, validation, gold: null, trainingOptions, progress: null, ct);
            var seedAgreement = Agreement(result.Model, heldOut);
            var viewAgreement = viewHeldOut.Count == 0 ? (double?)null : Agreement(result.Model, viewHeldOut);
            var agreement = options.StopOnView && viewAgreement is { } v ? v : seedAgreement;
            var improved = best is null || agreement > rounds[bestRound].Agreement + options.MinGain;
            var record = new SelfTrainingRound(round, trainSeeds.Count, pseudo,
                labels.ToDictionary(l => l, l => rows.Count(r => r.Label == l) + reviewed.Count(r => r.Label == l), StringComparer.Ordinal), agreement, improved)
            {
                ReviewedRows = reviewed.Count,
                SeedAgreement = seedAgreement,
                ViewAgreement = viewAgreement,
            };
            rounds.Add(record);
            onRound?.Invoke(record, result.Model);
            log?.Report(string.Create(CultureInfo.InvariantCulture,
                $"round {round}: {trainSeeds.Count} seeds + {pseudo} pseudo-labels, held-out agreement {agreement:0.000}{(improved ? "" : " (no better: stop)")}"));
            if (!improved) break;
            best = (result, train, validation);
            bestRound = round;
            if (round == options.MaxRounds || candidates.Count == 0) break;

            // Pseudo-labels for the next round, from this round's model.
            var predictions = result.Model.Predict(candidates);
            var modelIndex = labels.Select(l => result.Model.Labels.ToList().IndexOf(l)).ToArray();
            var byLabel = labels.ToDictionary(l => l, _ => new List<(string Text, float P)>(), StringComparer.Ordinal);
            for (var i = 0; i < candidates.Count; i++)
            {
                if (poolPrior is null)
                {
                    byLabel[predictions[i].Label].Add((candidates[i], predictions[i].Probability));
                    continue;
                }
                var prior = poolPrior[candidateIndex[i]];
                var modelP = predictions[i].Probabilities;
                var bestLabel = 0;
                var bestP = -1f;
                for (var j = 0; j < labels.Count; j++)
                {
                    var pj = (modelP[modelIndex[j]] + prior[j]) / 2;
                    if (pj > bestP) (bestLabel, bestP) = (j, pj);
                }
                byLabel[labels[bestLabel]].Add((candidates[i], bestP));
            }
            var target = (int)Math.Ceiling(candidates.Count / (double)labels.Count * Math.Min(1.0, options.FirstRoundShare * Math.Pow(2, round)));
            // The same number for every label: a model that leans to one label must not teach itself to lean further.
            var take = Math.Min(target, byLabel.Values.Min(v => v.Count));
            var chosen = byLabel.SelectMany(kv => kv.Value.OrderByDescending(x => x.P).ThenBy(x => x.Text, StringComparer.Ordinal).Take(take)
                .Select(x => new LabeledText(kv.Key, x.Text))).ToList();
            pseudo = chosen.Count;
            rows = [.. trainSeeds, .. chosen];
        }
        var (bestResult, bestTrain, bestValidation) = best!.Value;
        if (options.FinalFamily is { } final && final != options.Family)
        {
            trainingOptions = new TrainingOptions(final, options.Seed);
            log?.Report($"training the final {ModelFamilies.Name(final)} model on round {bestRound}'s {bestTrain.Count + bestValidation.Count} rows");
            bestResult = trainer.Train(labels, bestTrain, bestValidation, gold: null, trainingOptions, progress: null, ct);
        }
        return new SelfTrainingResult(bestResult, trainingOptions, rounds, bestRound, heldOut.Count, bestTrain, bestValidation);
    }

    private static double Agreement(TrainedClassifier model, IReadOnlyList<LabeledText> heldOut)
    {
        if (heldOut.Count == 0) return 0;
        var predictions = model.Predict(heldOut.Select(h => h.Text).ToList());
        return Enumerable.Range(0, heldOut.Count).Count(i => predictions[i].Label == heldOut[i].Label) / (double)heldOut.Count;
    }
}
