using System.Globalization;
using Incubator.Domain.Common;
using Incubator.Domain.Embeddings;
using Incubator.Domain.Training;

namespace Incubator.Domain.Mining;

/// <summary>How self-training runs. See docs/decisions/0032-self-training.md for why these defaults.</summary>
public sealed record SelfTrainingOptions
{
    /// <summary>Rounds of pseudo-labelling after the seed model (round 0). Sparse rounds stop earlier when the held-out
    /// agreement stops improving; rounds on the pool's vectors all run (the agreement stopped too early: 0032).</summary>
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

    /// <summary>English pools: how far (nats) the raw view's argmax label counts over the pool must be from equal shares
    /// for the rounds to take the raw view and counted shares (<see cref="RawLeanAbove"/>). Derived from the five English
    /// sets of decision 0032 (amendment st19): between SST-2's 0.064 (an even pool the raw view leans on) and
    /// tweeteval_emotion's 0.076 (an uneven pool); a thin gap, said so there.</summary>
    public const double EnglishRawLeanAbove = 0.07;

    /// <summary>English pools that chose counted shares: the final model trains on the surest share of the candidates
    /// (<see cref="FinalShare"/>; decision 0032).</summary>
    public const double EnglishFinalShare = 0.85;

    /// <summary>What `mine --self-train` and the portal's job use: for English pools the rounds run on the pool's vectors
    /// (when the caller passes them) with 10-nearest-neighbour smoothing, the pool chooses its miner's view and label
    /// shares (the raw-cosine view and counted shares when that view's own label counts over the pool lean far from equal
    /// shares, <see cref="RawLeanAbove"/>, the final model then
    /// on the surest <see cref="EnglishFinalShare"/> of the pool; the caller passes the raw view as <c>rawPrior</c>, see
    /// <see cref="RawViewIfUsed"/>; otherwise the z-scored view with <see cref="EvenCurriculum"/>) and the final model is <see cref="EnglishFinalFamily"/>; elsewhere the sparse rounds'
    /// own model. Chosen on the benchmark (decision 0032, amendments of 2026-12-06).</summary>
    public static SelfTrainingOptions For(bool english) => english
        ? new SelfTrainingOptions { FinalFamily = EnglishFinalFamily, Neighbours = 10, RawLeanAbove = EnglishRawLeanAbove, FinalShare = EnglishFinalShare, EvenCurriculum = true }
        : new SelfTrainingOptions();

    /// <summary>The miner's view English rounds average with: a softmax over the raw cosine similarities at this
    /// temperature. Z-scoring each label against the pool (<see cref="MiningScorer.Probabilities"/>' default) puts every
    /// label on an equal footing and so pulls pseudo-labels towards equal shares; raw similarities keep a pool's uneven
    /// shares (decision 0032, amendment on label shares).</summary>
    public const double EnglishViewTemperature = 0.05;

    /// <summary>The raw-cosine miner's view of every pool text (see <see cref="EnglishViewTemperature"/>).</summary>
    public static float[][] RawView(MiningScorer scorer, IReadOnlyList<string> labels, double temperature = EnglishViewTemperature) =>
        scorer.Probabilities(labels, temperature, zScored: false);

    /// <summary>The raw view for <c>rawPrior</c> when these options can switch to it (<see cref="RawLeanAbove"/> set),
    /// otherwise null: a pass over the whole pool is not made for a view that is never used.</summary>
    public float[][]? RawViewIfUsed(MiningScorer scorer, IReadOnlyList<string> labels) => RawLeanAbove is null ? null : RawView(scorer, labels);

    /// <summary>Embedding rounds given a raw view as well (<c>rawPrior</c>): when that view's argmax label counts over the
    /// pool (every distinct pool text, before any seed is looked at: <see cref="SelfTrainer.RawLean"/>) are more than this
    /// many nats (KL divergence from equal shares, ln K − entropy) from equal shares, the rounds switch to the raw view and
    /// pseudo-labels in proportion to counted shares (<see cref="LabelShares.Counts"/>); otherwise they keep the z-scored
    /// view and <see cref="Shares"/>. Computed from the pool and the miner alone, so how precise the mined seeds are cannot
    /// tip it (the seed model's counts, used before, did: decision 0032, amendment st19). Null: no choice.</summary>
    public double? RawLeanAbove { get; init; }

    /// <summary>The family of the model handed back, trained once on the best round's rows (after rounds on the pool's
    /// vectors: on the pool the last round labelled); null: the rounds' model (sparse rounds) or the sparse family.</summary>
    public ModelFamily? FinalFamily { get; init; }

    /// <summary>How many times each reviewed text (approved or corrected by a person) counts in every round's training
    /// rows, where a mined seed or a pseudo-label counts once: a person's label outweighs the machine's.</summary>
    public int ReviewedWeight { get; init; } = 5;

    /// <summary>Embedding rounds: the logistic regression's L2 penalty.</summary>
    public double EmbeddingL2 { get; init; } = 1e-3;

    /// <summary>Embedding rounds: each candidate's combined probabilities are smoothed with those of its this many nearest
    /// pool neighbours (cosine) before pseudo-labels are chosen; 0: no smoothing.</summary>
    public int Neighbours { get; init; }

    /// <summary>Embedding rounds with a dense or hybrid final model: the miner's view, as a linear head on the embedding
    /// (<see cref="MiningScorer.ViewHead"/>, passed to <see cref="SelfTrainer.Run"/> as <c>viewHead</c>), is added this many
    /// times to the final model's embedding weights and biases, so the model's logits are its own plus the teacher's.
    /// The export graph is unchanged (only weight values), so it stays exact. 0: off (shipped). Measured, not shipped
    /// (decision 0032, amendment "the teacher").</summary>
    public double TeacherFold { get; init; }

    /// <summary>The encoder the final dense or hybrid model trains with; null: the process-wide one.</summary>
    public DenseFeaturizer? Dense { get; init; }

    /// <summary>Embedding rounds: how pseudo-labels are shared out between labels. <see cref="LabelShares.Equal"/>: the
    /// same number for every label; otherwise in proportion to each label's share of the pool as estimated from the
    /// round's probabilities (never from true labels), and the final model trains without class weighting so it keeps
    /// those shares.</summary>
    public LabelShares Shares { get; init; } = LabelShares.Equal;

    /// <summary>With estimated shares, no label gets fewer pseudo-labels than this fraction of an equal share.</summary>
    public double ShareFloor { get; init; } = 0.25;

    /// <summary>Embedding rounds with counted shares: share of the candidates the last round labels for the final model
    /// (the most confident first, shared out as in the rounds). Equal shares always label the whole pool.</summary>
    public double FinalShare { get; init; } = 1.0;

    /// <summary>Benchmark diagnostics only: shares given instead of estimated (the pool's true shares, as a ceiling).</summary>
    internal double[]? FixedShares { get; init; }

    /// <summary>Curriculum labelling (Cascante-Bonilla et al., AAAI 2021) on pools that keep the z-scored view and equal
    /// numbers: each round's model is fitted afresh from the seeds (as always here), and the pseudo-labels after round r of
    /// <see cref="MaxRounds"/> are the surest (r + 1) / <see cref="MaxRounds"/> of all candidates by the combined view's top
    /// probability, whatever their label (25, 50, 75, 100% for 4 rounds), so the last round's model trains on every
    /// candidate. Only there: on the z-scored view every label is on an equal footing, so one confidence ranking across
    /// labels is fair, while the raw view favours some labels whatever the pool (0032), so counted-share pools keep their
    /// rounds. Decision 0032, amendment "st".</summary>
    public bool EvenCurriculum { get; init; }

    /// <summary>Benchmark diagnostics only: called with each round's pseudo-labels (pool index, label index) and, with
    /// round −1, the final model's pseudo-labels.</summary>
    internal Action<int, IReadOnlyList<(int Index, int Label)>>? OnPseudoLabels { get; init; }
}

/// <summary>How self-training's embedding rounds divide pseudo-labels between labels (decision 0032).</summary>
public enum LabelShares
{
    /// <summary>The same number for every label.</summary>
    Equal,

    /// <summary>In proportion to how many candidates lean to each label (the argmax counts of the round's probabilities),
    /// at least <see cref="SelfTrainingOptions.ShareFloor"/> of an equal share.</summary>
    Counts,
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

    /// <summary>Embedding rounds: each round's logistic regression over the pool's vectors (labels in the task's order).</summary>
    public IReadOnlyList<SoftmaxRegression> RoundModels { get; init; } = [];

    /// <summary>Pseudo-labels in the returned model's training rows (the kept round's; after embedding rounds, the final
    /// labelling of the pool, which is larger than any round's).</summary>
    public int PseudoLabels => FinalPseudoLabels ?? Best.PseudoLabels;

    /// <summary>Rows per label the returned model trained on (reviewed rows counted once).</summary>
    public IReadOnlyDictionary<string, int> RowsPerLabel => FinalRowsPerLabel ?? Best.RowsPerLabel;

    /// <summary>True when the rounds ran on the pool's vectors (a logistic regression), not the sparse family.</summary>
    public bool EmbeddingRounds => RoundModels.Count > 0;

    /// <summary>Embedding rounds: pseudo-labels were shared out in proportion to counted label shares, not the same
    /// number per label.</summary>
    public bool CountedShares { get; init; }

    /// <summary>Embedding rounds: curriculum labelling ran (<see cref="SelfTrainingOptions.EvenCurriculum"/>): after each
    /// round a growing share of the pool by confidence, whatever the label.</summary>
    public bool Curriculum { get; init; }

    /// <summary>Embedding rounds: the raw-cosine view was averaged in (chosen by <see cref="SelfTrainingOptions.RawLeanAbove"/>).</summary>
    public bool RawView { get; init; }

    /// <summary>Embedding rounds given a raw view: how far (nats) its argmax label counts over the pool are from equal
    /// shares (<see cref="SelfTrainer.RawLean"/>; 0: even).</summary>
    public double? RawLean { get; init; }

    /// <summary>Embedding rounds: share of the candidates the last round labelled for the final model (1: all of them).</summary>
    public double FinalShare { get; init; } = 1.0;

    internal int? FinalPseudoLabels { get; init; }

    internal IReadOnlyDictionary<string, int>? FinalRowsPerLabel { get; init; }
}

/// <summary>Self-training from mined seeds, with no human label: a model trained on the mined seeds (minus a held-out
/// part) labels the whole pool; the most confident texts of each label, the same number for every label, join the seeds
/// and the model is trained again, with twice as many pseudo-labels each round. Two kinds of rounds (decision 0032):
/// with the pool's vectors (English, MiniLM) each round is a <see cref="SoftmaxRegression"/> on them, its probabilities
/// averaged with the miner's view and smoothed over each text's nearest neighbours, the pseudo-labels shared out as
/// <see cref="SelfTrainingOptions.Shares"/> says; every round runs, and the final
/// family trains once on the pool the last round labels. Without vectors each round trains the sparse family; after
/// each round the model labels held-out texts, and when that agreement stops improving the loop stops and the best
/// round's model is the result.</summary>
public static class SelfTrainer
{
    /// <param name="reviewed">Texts a person labelled (approved or corrected candidates): they replace a mined seed of the
    /// same text, are never pseudo-labelled, and join every round's training rows <see cref="SelfTrainingOptions.ReviewedWeight"/>
    /// times. <paramref name="excluded"/>: texts a reviewer rejected — never a seed, never a pseudo-label.</param>
    /// <param name="poolPrior">Optional: for each pool text (same order), another view's probabilities over
    /// <paramref name="labels"/> — the miner's <see cref="MiningScorer.Probabilities"/>. Pseudo-labels then come from the
    /// average of the model and this view, so two views that err differently check each other.</param>
    /// <param name="rawPrior">Optional, rounds on vectors only: the miner's raw-cosine view of each pool text
    /// (<see cref="SelfTrainingOptions.RawView"/>), which replaces <paramref name="poolPrior"/> when its own
    /// argmax label counts over the pool lean far from equal shares (<see cref="SelfTrainingOptions.RawLeanAbove"/>).</param>
    public static SelfTrainingResult Run(IReadOnlyList<string> labels, IReadOnlyList<string> pool, IReadOnlyList<MinedCandidate> seeds,
        SelfTrainingOptions options, IReadOnlyList<float[]>? poolPrior = null, IProgress<string>? log = null, Action<SelfTrainingRound, TrainedClassifier?>? onRound = null, CancellationToken ct = default,
        IReadOnlyList<LabeledText>? reviewed = null, IReadOnlySet<string>? excluded = null,
        IReadOnlyList<float[]>? poolVectors = null, Func<IReadOnlyList<string>, float[][]>? embed = null,
        (float[][] Weights, float[] Biases)? viewHead = null, IReadOnlyList<float[]>? rawPrior = null)
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
        if (poolVectors is not null)
        {
            if (poolVectors.Count != pool.Count) throw new ArgumentException("One vector per pool text.", nameof(poolVectors));
            if (rawPrior is not null && rawPrior.Count != pool.Count) throw new ArgumentException("One raw prior per pool text.", nameof(rawPrior));
            return EmbeddingRounds(labels, pool, poolVectors, embed, trainSeeds, heldOut, reviewed, candidateIndex, options, poolPrior, log, onRound, ct, rawPrior, viewHead);
        }
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
        var trainer = options.Dense is { } given ? new ClassifierTrainer { Dense = given } : new ClassifierTrainer();

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
                $"{SelfTrainingNotes.RoundName(round, options.MaxRounds)}: {trainSeeds.Count} seeds + {EnglishCount.Of(pseudo, "pseudo-label", "pseudo-labels")}, held-out agreement {agreement:0.000}{(improved ? "" : " (no better: stop)")}"));
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
            log?.Report($"training the final {ModelFamilies.Name(final)} model on the {bestTrain.Count + bestValidation.Count} rows of {(bestRound == 0 ? "the seed model" : $"round {bestRound}")}");
            bestResult = trainer.Train(labels, bestTrain, bestValidation, gold: null, trainingOptions, progress: null, ct);
        }
        return new SelfTrainingResult(bestResult, trainingOptions, rounds, bestRound, heldOut.Count, bestTrain, bestValidation);
    }

    private static SelfTrainingResult EmbeddingRounds(IReadOnlyList<string> labels, IReadOnlyList<string> pool, IReadOnlyList<float[]> poolVectors,
        Func<IReadOnlyList<string>, float[][]>? embed, List<LabeledText> trainSeeds, List<LabeledText> heldOut, IReadOnlyList<LabeledText> reviewed,
        List<int> candidateIndex, SelfTrainingOptions options, IReadOnlyList<float[]>? poolPrior, IProgress<string>? log,
        Action<SelfTrainingRound, TrainedClassifier?>? onRound, CancellationToken ct, IReadOnlyList<float[]>? rawPrior, (float[][] Weights, float[] Biases)? viewHead = null)
    {
        // The view choice looks at the pool and the miner's raw view only, before any seed: seeds cannot tip it.
        double? rawLean = rawPrior is null ? null : RawLean(rawPrior, pool);
        if (rawPrior is not null && options.RawLeanAbove is { } threshold && rawLean > threshold)
        {
            poolPrior = rawPrior;
            options = options with { Shares = LabelShares.Counts };
            log?.Report(string.Create(CultureInfo.InvariantCulture,
                $"the miner's raw similarity scores lean to some labels over the pool ({rawLean:0.000} nats from equal shares > {threshold:0.000}): raw-cosine view, pseudo-labels by counted shares"));
        }
        var labelIndex = labels.Select((l, i) => (l, i)).ToDictionary(x => x.l, x => x.i, StringComparer.Ordinal);
        var byText = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < pool.Count; i++) byText.TryAdd(pool[i], i);
        float[][] VectorsOf(IReadOnlyList<LabeledText> rows)
        {
            var missing = rows.Select(r => r.Text).Where(t => !byText.ContainsKey(t)).Distinct(StringComparer.Ordinal).ToList();
            var extra = new Dictionary<string, float[]>(StringComparer.Ordinal);
            if (missing.Count > 0)
            {
                if (embed is null) throw new ArgumentException("A text outside the pool needs an embedder.", nameof(embed));
                var fresh = embed(missing);
                for (var i = 0; i < missing.Count; i++) extra[missing[i]] = fresh[i];
            }
            return rows.Select(r => byText.TryGetValue(r.Text, out var i) ? poolVectors[i] : extra[r.Text]).ToArray();
        }
        var seedVectors = VectorsOf(trainSeeds);
        var reviewedVectors = VectorsOf(reviewed);
        var heldOutVectors = VectorsOf(heldOut);
        var weight = Math.Max(1, options.ReviewedWeight);

        var rounds = new List<SelfTrainingRound>();
        var models = new List<SoftmaxRegression>();
        var pseudo = new List<(int Index, int Label)>();
        var neighbours = options.Neighbours > 0 ? NearestNeighbours(candidateIndex.Select(i => poolVectors[i]).ToArray(), options.Neighbours, ct, options.Seed) : null;
        float[][] combined = [];
        var curriculum = false;
        for (var round = 0; round <= options.MaxRounds; round++)
        {
            ct.ThrowIfCancellationRequested();
            var x = new List<float[]>(seedVectors);
            var y = trainSeeds.Select(r => labelIndex[r.Label]).ToList();
            var w = Enumerable.Repeat(1f, x.Count).ToList();
            x.AddRange(reviewedVectors);
            y.AddRange(reviewed.Select(r => labelIndex[r.Label]));
            w.AddRange(Enumerable.Repeat((float)weight, reviewed.Count));
            foreach (var (index, label) in pseudo)
            {
                x.Add(poolVectors[index]);
                y.Add(label);
                w.Add(1);
            }
            var model = SoftmaxRegression.Fit(x, y, labels.Count, options.EmbeddingL2, w);
            models.Add(model);
            if (round == 0 && candidateIndex.Count > 0)
            {
                if (options.EvenCurriculum && options.Shares == LabelShares.Equal && options.MaxRounds > 0)
                {
                    curriculum = true;
                    log?.Report(string.Create(CultureInfo.InvariantCulture,
                        $"curriculum labelling: after each round the surest {CurriculumSteps(options.MaxRounds)} of the pool by confidence, whatever the label"));
                }
            }
            combined = candidateIndex.Select(i => Combine(model.Probabilities(poolVectors[i]), poolPrior?[i])).ToArray();
            if (neighbours is not null) combined = Smooth(combined, neighbours);
            var seedAgreement = heldOut.Count == 0 ? 0 : Enumerable.Range(0, heldOut.Count).Count(i => ArgMax(model.Probabilities(heldOutVectors[i])) == labelIndex[heldOut[i].Label]) / (double)heldOut.Count;
            double? viewAgreement = poolPrior is null || candidateIndex.Count == 0 ? null
                : Enumerable.Range(0, candidateIndex.Count).Count(k => ArgMax(model.Probabilities(poolVectors[candidateIndex[k]])) == ArgMax(poolPrior[candidateIndex[k]])) / (double)candidateIndex.Count;
            var record = new SelfTrainingRound(round, trainSeeds.Count, pseudo.Count,
                labels.ToDictionary(l => l, l => trainSeeds.Count(r => r.Label == l) + pseudo.Count(p => labels[p.Label] == l) + reviewed.Count(r => r.Label == l), StringComparer.Ordinal),
                seedAgreement, Improved: true)
            {
                ReviewedRows = reviewed.Count,
                SeedAgreement = seedAgreement,
                ViewAgreement = viewAgreement,
            };
            rounds.Add(record);
            onRound?.Invoke(record, null);
            log?.Report(string.Create(CultureInfo.InvariantCulture,
                $"{SelfTrainingNotes.RoundName(round, options.MaxRounds)}: {trainSeeds.Count} seeds + {EnglishCount.Of(pseudo.Count, "pseudo-label", "pseudo-labels")}, held-out agreement {seedAgreement:0.000}"));
            if (round == options.MaxRounds) break;
            var share = curriculum ? Math.Min(1.0, (round + 1) / (double)options.MaxRounds)
                : Math.Min(1.0, options.FirstRoundShare * Math.Pow(2, round));
            pseudo = curriculum ? TopByConfidence(combined, candidateIndex, share) : Choose(combined, candidateIndex, labels.Count, share, options);
            options.OnPseudoLabels?.Invoke(round + 1, pseudo);
        }

        // The final model: the last round's combined view labels the pool (the same number per label, or by the estimated
        // shares); the chosen family trains on it.
        var finalShare = options.Shares == LabelShares.Equal ? 1.0 : options.FinalShare;
        var final = Choose(combined, candidateIndex, labels.Count, finalShare, options);
        options.OnPseudoLabels?.Invoke(-1, final);
        var rows = trainSeeds.Concat(final.Select(p => new LabeledText(labels[p.Label], pool[p.Index]))).ToList();
        var (train, validation) = StratifiedSplit.Split(rows, 0.2, options.Seed);
        train = [.. train, .. Enumerable.Repeat(reviewed, weight).SelectMany(r => r)];
        var family = options.FinalFamily ?? options.Family;
        // Class weighting would undo estimated shares: the final model is then trained on the rows as they are.
        var trainingOptions = new TrainingOptions(family, options.Seed, ClassWeighting: options.Shares == LabelShares.Equal);
        log?.Report($"training the final {ModelFamilies.Name(family)} model on {train.Count + validation.Count} rows ({final.Count} pseudo-labels)");
        var dense = options.Dense;
        if (dense is null && family is ModelFamily.Dense or ModelFamily.Hybrid && poolVectors.Count > 0 && poolVectors[0].Length == DenseFeaturizer.Dimension)
        {
            // The pool's vectors come from the same all-MiniLM-L6-v2 the dense family encodes with: handing them over
            // spares embedding the pool a second time.
            dense = new DenseFeaturizer(memoize: true);
            dense.Remember(pool, poolVectors);
        }
        var trainer = dense is null ? new ClassifierTrainer() : new ClassifierTrainer { Dense = dense };
        var result = trainer.Train(labels, train, validation, gold: null, trainingOptions, progress: null, ct);
        if (options.TeacherFold > 0 && viewHead is { } teacher && result.Model.Family is ModelFamily.Dense or ModelFamily.Hybrid)
            FoldInto(result.Model, labels, teacher, options.TeacherFold);
        return new SelfTrainingResult(result, trainingOptions, rounds, rounds.Count - 1, heldOut.Count, train, validation)
        {
            CountedShares = options.Shares != LabelShares.Equal,
            Curriculum = curriculum,
            RawView = ReferenceEquals(poolPrior, rawPrior) && rawPrior is not null,
            RawLean = rawLean,
            FinalShare = finalShare,
            RoundModels = models,
            FinalPseudoLabels = final.Count,
            FinalRowsPerLabel = labels.ToDictionary(l => l, l => rows.Count(r => r.Label == l) + reviewed.Count(r => r.Label == l), StringComparer.Ordinal),
        };
    }

    /// <summary>Adds <paramref name="alpha"/> × the teacher's linear head (rows in <paramref name="labels"/>' order, over the
    /// embedding) to the model's head: the embedding part of its weights (the last <see cref="DenseFeaturizer.Dimension"/>
    /// features of a hybrid head, all of a dense one) and its biases. The graph is the same, only the numbers change.</summary>
    internal static void FoldInto(TrainedClassifier model, IReadOnlyList<string> labels, (float[][] Weights, float[] Biases) teacher, double alpha)
    {
        var head = model.Head;
        var offset = head.Dimension - DenseFeaturizer.Dimension;
        if (offset < 0 || teacher.Weights.Any(w => w.Length != DenseFeaturizer.Dimension))
            throw new ArgumentException("The teacher's head must be over the encoder's embedding.", nameof(teacher));
        for (var c = 0; c < head.Classes; c++)
        {
            var j = labels.ToList().IndexOf(model.Labels[c]);
            if (j < 0) continue;
            for (var k = 0; k < DenseFeaturizer.Dimension; k++) head.Weights[c][offset + k] += (float)(alpha * teacher.Weights[j][k]);
            head.Biases[c] += (float)(alpha * teacher.Biases[j]);
        }
    }

    /// <summary>Curriculum labelling: the most confident <paramref name="share"/> of the candidates by their top
    /// probability, each labelled by its argmax, whatever the label. Ties go to the lower pool index.</summary>
    internal static List<(int Index, int Label)> TopByConfidence(float[][] probabilities, IReadOnlyList<int> candidateIndex, double share)
    {
        var take = (int)Math.Ceiling(candidateIndex.Count * Math.Clamp(share, 0, 1) - 1e-9);
        return Enumerable.Range(0, candidateIndex.Count).Select(k => (Index: candidateIndex[k], Label: ArgMax(probabilities[k]), P: probabilities[k].Max()))
            .OrderByDescending(x => x.P).ThenBy(x => x.Index).Take(take).Select(x => (x.Index, x.Label)).OrderBy(x => x.Index).ToList();
    }

    /// <summary>The curriculum's steps for <paramref name="rounds"/> rounds, e.g. "25%, 50%, 75%, 100%".</summary>
    public static string CurriculumSteps(int rounds) =>
        string.Join(", ", Enumerable.Range(1, Math.Max(1, rounds)).Select(r => (r / (double)Math.Max(1, rounds)).ToString("0%", CultureInfo.InvariantCulture)));

    /// <summary>Each row's probabilities as the mean of its own and its neighbours' average: texts that lie close together
    /// in the embedding space mostly share a label, so a text's neighbourhood outvotes a lone error of the two views.</summary>
    private static float[][] Smooth(float[][] p, int[][] neighbours, double own = 0.5)
    {
        var result = new float[p.Length][];
        for (var i = 0; i < p.Length; i++)
        {
            var r = new float[p[i].Length];
            foreach (var j in neighbours[i])
                for (var c = 0; c < r.Length; c++) r[c] += p[j][c];
            for (var c = 0; c < r.Length; c++) r[c] = (float)(own * p[i][c] + (1 - own) * r[c] / Math.Max(1, neighbours[i].Length));
            result[i] = r;
        }
        return result;
    }

    /// <summary>Neighbours are searched among at most this many texts (a seeded sample beyond it): the search costs
    /// texts × searched dot products, so a 50,000-text corpus does not cost 2.5 billion of them.</summary>
    internal const int MaxNeighbourSearch = 10_000;

    /// <summary>Each vector's <paramref name="k"/> most similar others (by dot product: the vectors are unit length).</summary>
    internal static int[][] NearestNeighbours(float[][] vectors, int k, CancellationToken ct, int seed = 1)
    {
        var n = vectors.Length;
        k = Math.Min(k, n - 1);
        if (k <= 0) return Enumerable.Range(0, n).Select(_ => Array.Empty<int>()).ToArray();
        var search = Enumerable.Range(0, n).ToArray();
        if (n > MaxNeighbourSearch)
        {
            new Random(seed).Shuffle(search);
            search = search[..MaxNeighbourSearch];
            Array.Sort(search);
        }
        var result = new int[n][];
        Parallel.For(0, n, new ParallelOptions { MaxDegreeOfParallelism = Math.Min(2, Environment.ProcessorCount), CancellationToken = ct }, i =>
        {
            var best = new (float Sim, int Index)[k];
            var count = 0;
            var vi = vectors[i];
            foreach (var j in search)
            {
                if (j == i) continue;
                var sim = SoftmaxRegression.Dot(vi, vectors[j]);
                if (count == k && sim <= best[k - 1].Sim) continue;
                var pos = count < k ? count++ : k - 1;
                while (pos > 0 && best[pos - 1].Sim < sim)
                {
                    best[pos] = best[pos - 1];
                    pos--;
                }
                best[pos] = (sim, j);
            }
            result[i] = best.Take(count).Select(b => b.Index).ToArray();
        });
        return result;
    }

    /// <summary>The model's and the miner's probabilities averaged (their product was measured no better: 0032).</summary>
    private static float[] Combine(float[] model, float[]? view)
    {
        if (view is null) return model;
        var p = new float[model.Length];
        for (var j = 0; j < p.Length; j++) p[j] = (model[j] + view[j]) / 2;
        return p;
    }

    private static int ArgMax(float[] p)
    {
        var best = 0;
        for (var j = 1; j < p.Length; j++) if (p[j] > p[best]) best = j;
        return best;
    }

    /// <summary>The most confident texts of each label under <paramref name="probabilities"/>: <paramref name="share"/> of
    /// the candidates divided by the number of labels, the same number for every label (the rarest label's count caps them
    /// all), so a model that leans to one label does not teach itself to lean further. Ties go to the lower pool index:
    /// the same inputs pick the same texts.</summary>
    internal static List<(int Index, int Label)> Balanced(float[][] probabilities, IReadOnlyList<int> candidateIndex, int classes, double share)
    {
        var byLabel = Enumerable.Range(0, classes).Select(_ => new List<(int Index, float P)>()).ToArray();
        for (var k = 0; k < candidateIndex.Count; k++)
        {
            var label = ArgMax(probabilities[k]);
            byLabel[label].Add((candidateIndex[k], probabilities[k][label]));
        }
        share = Math.Clamp(share, 0, 1);
        var target = (int)Math.Ceiling(candidateIndex.Count / (double)classes * share);
        var take = Math.Min(target, byLabel.Min(v => v.Count));
        return byLabel.SelectMany((list, label) => list.OrderByDescending(x => x.P).ThenBy(x => x.Index).Take(take).Select(x => (x.Index, label)))
            .OrderBy(x => x.Index).ToList();
    }

    private static List<(int Index, int Label)> Choose(float[][] probabilities, IReadOnlyList<int> candidateIndex, int classes, double share, SelfTrainingOptions options)
    {
        if (options.Shares == LabelShares.Equal) return Balanced(probabilities, candidateIndex, classes, share);
        var shares = options.FixedShares ?? CountShares(probabilities, classes);
        return Proportional(probabilities, candidateIndex, shares, share, options.ShareFloor);
    }

    /// <summary>Each label's share of the candidates that lean to it most: the estimate of the pool's label shares. The
    /// mean probability and an EM re-estimation (Saerens et al. 2002) were measured worse (0032).</summary>
    internal static double[] CountShares(float[][] probabilities, int classes)
    {
        var shares = new double[classes];
        foreach (var p in probabilities) shares[ArgMax(p)] += 1.0 / Math.Max(1, probabilities.Length);
        return shares;
    }

    /// <summary>How far the raw view's argmax label counts over the pool are from equal shares: the KL divergence of those
    /// shares from the uniform, ln K − entropy, in nats (0 when every label leads on as many texts). Each distinct pool text
    /// counts once. A label whose probability is the same for every text (the other label, which has no vector and gets
    /// a fixed share in <see cref="MiningScorer.Probabilities"/>) is left out: it never leads, and would make every pool
    /// look uneven. <see cref="SelfTrainingOptions.RawLeanAbove"/>; decision 0032, amendment st19.</summary>
    public static double RawLean(IReadOnlyList<float[]> rawView, IReadOnlyList<string> pool)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var rows = Enumerable.Range(0, Math.Min(pool.Count, rawView.Count)).Where(i => seen.Add(pool[i])).Select(i => rawView[i]).ToArray();
        if (rows.Length == 0) return 0;
        var scored = Enumerable.Range(0, rows[0].Length).Where(j => rows.Any(r => r[j] != rows[0][j])).ToArray();
        if (scored.Length < 2) return 0;
        var shares = CountShares(rows.Select(r => scored.Select(j => r[j]).ToArray()).ToArray(), scored.Length);
        return Math.Log(shares.Length) + shares.Where(x => x > 0).Sum(x => x * Math.Log(x));
    }

    /// <summary>Normalised entropy of label shares: 1 when every label has the same share, lower the more uneven.</summary>
    internal static double Evenness(double[] shares) =>
        shares.Length < 2 ? 1 : -shares.Where(x => x > 0).Sum(x => x * Math.Log(x)) / Math.Log(shares.Length);

    /// <summary>The most confident texts of each label, label c getting <paramref name="share"/> of the candidates times
    /// its estimated share (at least <paramref name="floor"/> of an equal share), capped by the texts that lean to it.</summary>
    internal static List<(int Index, int Label)> Proportional(float[][] probabilities, IReadOnlyList<int> candidateIndex, double[] shares, double share, double floor)
    {
        var classes = shares.Length;
        var byLabel = Enumerable.Range(0, classes).Select(_ => new List<(int Index, float P)>()).ToArray();
        for (var k = 0; k < candidateIndex.Count; k++)
        {
            var label = ArgMax(probabilities[k]);
            byLabel[label].Add((candidateIndex[k], probabilities[k][label]));
        }
        share = Math.Clamp(share, 0, 1);
        return byLabel.SelectMany((list, label) =>
        {
            // Less a hair: 100 × 0.5 × 0.8 is 40.000000000000007 in doubles, and must take 40.
            var take = (int)Math.Ceiling(candidateIndex.Count * share * Math.Max(shares[label], floor / classes) - 1e-9);
            return list.OrderByDescending(x => x.P).ThenBy(x => x.Index).Take(take).Select(x => (x.Index, label));
        }).OrderBy(x => x.Index).ToList();
    }

    private static double Agreement(TrainedClassifier model, IReadOnlyList<LabeledText> heldOut)
    {
        if (heldOut.Count == 0) return 0;
        var predictions = model.Predict(heldOut.Select(h => h.Text).ToList());
        return Enumerable.Range(0, heldOut.Count).Count(i => predictions[i].Label == heldOut[i].Label) / (double)heldOut.Count;
    }
}
