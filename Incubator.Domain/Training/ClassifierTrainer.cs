using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;

namespace Incubator.Domain.Training;

public sealed class TrainingResult
{
    public required TrainedClassifier Model { get; init; }

    public required ModelFamily ChosenFamily { get; init; }

    public required EvaluationReport Validation { get; init; }

    public EvaluationReport? Gold { get; init; }

    /// <summary>Every family trained in this run (two for auto), with its scores.</summary>
    public required IReadOnlyList<(ModelFamily Family, EvaluationReport Validation, EvaluationReport? Gold)> Compared { get; init; }

    public required IReadOnlyList<string> Log { get; init; }

    /// <summary>Wall-clock seconds spent training each family (featurising, the L2 search and the head), without
    /// the validation evaluation that follows.</summary>
    public IReadOnlyDictionary<ModelFamily, double> Seconds { get; init; } = new Dictionary<ModelFamily, double>();

    /// <summary>Every trained model of the run by family (auto keeps the loser too, for comparison).</summary>
    public IReadOnlyDictionary<ModelFamily, TrainedClassifier> Models { get; init; } = new Dictionary<ModelFamily, TrainedClassifier>();
}

/// <summary>Trains the sparse and/or dense family with ML.NET (L-BFGS maximum entropy on our own feature vectors,
/// single-threaded so a seed reproduces the model bit for bit) and evaluates on validation and gold.</summary>
public sealed class ClassifierTrainer
{
    /// <summary>Candidate L2 weights of the sparse maximum-entropy head (sum of weighted log-losses + L2/2·‖w‖²). With
    /// more than one, each is fitted on the training rows and the one with the best validation macro-F1 is kept
    /// (ties: the earlier candidate) — only training and validation data are used, so it stays deterministic.</summary>
    public IReadOnlyList<float> SparseL2 { get; init; } = [0.03f, 0.1f, 0.3f];

    public IReadOnlyList<float> DenseL2 { get; init; } = [0.003f, 0.01f, 0.03f, 0.1f];

    /// <summary>Longest character n-gram for text in scripts without spaces (1..CharMaxGram).</summary>
    public int CharMaxGram { get; init; } = 3;

    /// <summary>How many of the most decisive n-grams get pairwise conjunction features ("A and B both occur"; see
    /// <see cref="SparseFeaturizer.Conjunctions"/>). They are ranked by a first head fitted on the n-grams alone:
    /// spread of the class weights × √(document frequency). 0 or 1 turns conjunctions off.</summary>
    public int ConjunctionCount { get; init; } = 60;

    /// <summary>Value of an active conjunction feature (the TF-IDF part has unit length).</summary>
    public float ConjunctionValue { get; init; } = 0.05f;

    /// <summary>L2 weight of the first head that ranks n-grams for conjunctions.</summary>
    public float ConjunctionRankingL2 { get; init; } = 0.1f;

    /// <summary>Sparse features use sublinear term frequency (1 + ln count).</summary>
    public bool SparseSublinear { get; init; } = true;

    /// <summary>The encoder of the dense family (a memoising instance lets a benchmark embed each text once).</summary>
    public DenseFeaturizer Dense { get; init; } = DenseFeaturizer.Shared;

    public int MaxIterations { get; init; } = 400;

    public TrainingResult Train(IReadOnlyList<string> labels, IReadOnlyList<LabeledText> train, IReadOnlyList<LabeledText> validation,
        IReadOnlyList<LabeledText>? gold, TrainingOptions options, IProgress<TrainingProgress>? progress, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(validation);
        ArgumentNullException.ThrowIfNull(options);
        Validate(labels, train, validation, gold);
        var log = new List<string>();
        void Report(string stage, string message, int? it = null, int? total = null)
        {
            log.Add($"{stage}: {message}");
            progress?.Report(new TrainingProgress(stage, it, total, message));
        }
        Report("prepare", $"{train.Count} training rows, {validation.Count} validation rows, {gold?.Count ?? 0} gold rows, labels: {string.Join(", ", labels)}");

        var families = options.Family == ModelFamily.Auto ? new[] { ModelFamily.Sparse, ModelFamily.Dense, ModelFamily.Hybrid } : [options.Family];
        var cache = new FeatureCache();
        var compared = new List<(ModelFamily, EvaluationReport, EvaluationReport?)>();
        var models = new Dictionary<ModelFamily, TrainedClassifier>();
        var seconds = new Dictionary<ModelFamily, double>();
        for (var f = 0; f < families.Length; f++)
        {
            ct.ThrowIfCancellationRequested();
            var family = families[f];
            var sw = Stopwatch.StartNew();
            Action<string, string> report = (s, m) => Report(s, m, f + 1, families.Length);
            var model = family switch
            {
                ModelFamily.Sparse => TrainSparse(labels, train, validation, options, cache, report, ct),
                ModelFamily.Dense => TrainDense(labels, train, validation, options, cache, report, ct),
                _ => TrainHybrid(labels, train, validation, options, cache, report, ct),
            };
            seconds[family] = sw.Elapsed.TotalSeconds;
            ct.ThrowIfCancellationRequested();
            Report("evaluate", $"{family}: trained in {sw.Elapsed.TotalSeconds:0.0} s; evaluating", f + 1, families.Length);
            var v = Evaluation.Evaluate(model, validation);
            var g = gold is { Count: > 0 } ? Evaluation.Evaluate(model, gold) : null;
            Report("evaluate", $"{family}: validation accuracy {v.Accuracy:0.000}, macro-F1 {v.MacroF1:0.000}" +
                (g is null ? "" : $"; gold accuracy {g.Accuracy:0.000}, macro-F1 {g.MacroF1:0.000}"), f + 1, families.Length);
            compared.Add((family, v, g));
            models[family] = model;
        }

        var chosen = Choose(compared, train, out var reason);
        Report("choose", reason);
        var best = compared.First(c => c.Item1 == chosen);
        return new TrainingResult
        {
            Model = models[chosen],
            ChosenFamily = chosen,
            Validation = best.Item2,
            Gold = best.Item3,
            Compared = compared,
            Log = log,
            Models = models,
            Seconds = seconds,
        };
    }

    /// <summary>Below this many validation rows for some label, the choice of family comes with a caution in the log.</summary>
    public const int MinValidationPerLabelForChoice = 5;

    /// <summary>The best macro-F1 on gold (when every family has it) or validation; ties keep the simpler family
    /// (sparse, then dense, then hybrid). For text that is not English, a family using the English-only encoder
    /// (dense, hybrid) is kept only when it also beats sparse on validation, and validation has at least
    /// <see cref="MinValidationPerLabelForChoice"/> rows of every label to say so.</summary>
    private static ModelFamily Choose(List<(ModelFamily Family, EvaluationReport Validation, EvaluationReport? Gold)> compared, IReadOnlyList<LabeledText> train, out string reason)
    {
        if (compared.Count == 1)
        {
            reason = $"{compared[0].Family} (the only family trained)";
            return compared[0].Family;
        }
        var english = !LanguageHint.LooksNonEnglish(train.Select(r => r.Text));
        var onGold = compared.All(c => c.Gold is not null);
        var basis = onGold ? "gold" : "validation";
        double Score((ModelFamily Family, EvaluationReport Validation, EvaluationReport? Gold) c) => onGold ? c.Gold!.MacroF1 : c.Validation.MacroF1;
        var sparse = compared.First(c => c.Family == ModelFamily.Sparse);
        // Validation can only confirm a win when it has a few rows of every label; two rows per label cannot.
        var fewest = sparse.Validation.PerClass.Min(c => c.Support);
        var validationCanConfirm = fewest >= MinValidationPerLabelForChoice;
        var eligible = compared.Where(c => c.Family == ModelFamily.Sparse || english
            || (validationCanConfirm && c.Validation.MacroF1 > sparse.Validation.MacroF1)).ToList();
        var order = new[] { ModelFamily.Sparse, ModelFamily.Dense, ModelFamily.Hybrid };
        var best = eligible.OrderByDescending(Score).ThenBy(c => Array.IndexOf(order, c.Family)).First();
        var topOverall = compared.OrderByDescending(Score).ThenBy(c => Array.IndexOf(order, c.Family)).First();
        var scores = string.Join(", ", compared.Select(c => $"{c.Family.ToString().ToLowerInvariant()} {Score(c):0.000}"));
        reason = $"{best.Family}: best macro-F1 on {basis} ({scores})";
        if (!english)
            reason += best.Family == ModelFamily.Sparse
                ? topOverall.Family != ModelFamily.Sparse
                    ? $"; {topOverall.Family.ToString().ToLowerInvariant()} scores higher on {basis} but the text is not English, which the encoder does not know, and validation does not confirm it" +
                        (validationCanConfirm ? "" : $" (it has only {fewest} row(s) for some label, too few to confirm anything)")
                    : "; the text is not English, which the encoder does not know"
                : " (the text is not English; validation agrees that it beats sparse)";
        if (!onGold && !validationCanConfirm)
            reason += $". Caution: validation has only {fewest} row(s) for some label, so this choice rests on very few examples; a gold set or more samples would make it reliable";
        return best.Family;
    }

    internal static void Validate(IReadOnlyList<string> labels, IReadOnlyList<LabeledText> train, IReadOnlyList<LabeledText> validation, IReadOnlyList<LabeledText>? gold)
    {
        if (labels.Any(string.IsNullOrWhiteSpace))
            throw new TrainingDataException("A label is empty; every label needs a name.");
        if (labels.Distinct(StringComparer.Ordinal).Count() != labels.Count)
            throw new TrainingDataException("The label list has duplicates.");
        if (labels.Count < 2)
            throw new TrainingDataException($"Training needs at least 2 labels; got {labels.Count}.");
        var known = new HashSet<string>(labels, StringComparer.Ordinal);
        void Check(IReadOnlyList<LabeledText> rows, string part)
        {
            for (var i = 0; i < rows.Count; i++)
            {
                if (string.IsNullOrWhiteSpace(rows[i].Label))
                    throw new TrainingDataException($"{part} row {i + 1} has an empty label.");
                if (!known.Contains(rows[i].Label))
                    throw new TrainingDataException($"{part} row {i + 1} has the label '{rows[i].Label}', which is not one of the labels ({string.Join(", ", labels)}).");
            }
        }
        Check(train, "Training");
        Check(validation, "Validation");
        if (gold is not null) Check(gold, "Gold");
        var present = train.Select(r => r.Label).Distinct(StringComparer.Ordinal).Count();
        if (present < 2)
            throw new TrainingDataException($"The training rows cover {present} label(s); at least 2 labels need examples.");
        if (validation.Count == 0)
            throw new TrainingDataException("The validation part is empty; at least one validation row is needed.");
    }

    /// <summary>Features computed once per training run and shared by the families of auto.</summary>
    private sealed class FeatureCache
    {
        public SparseFeaturizer? Sparse;
        public List<(int[] Indices, float[] Values)>? SparseRows;
        public float[][]? Embeddings;
    }

    private (SparseFeaturizer Featurizer, List<(int[] Indices, float[] Values)> Rows) SparseFeatures(IReadOnlyList<string> labels, IReadOnlyList<LabeledText> train,
        TrainingOptions options, FeatureCache cache, Action<string, string> report, CancellationToken ct)
    {
        if (cache.Sparse is not null) return (cache.Sparse, cache.SparseRows!);
        var mode = SparseFeaturizer.ChooseMode(train.Select(r => r.Text));
        report("featurize", $"Sparse: {(mode == TokenMode.Word ? "word 1-2-grams" : $"character 1-{CharMaxGram}-grams (text mostly in a script without spaces)")}, " +
            (SparseSublinear ? "sublinear TF-IDF" : "TF-IDF"));
        var featurizer = SparseFeaturizer.Fit(train.Select(r => r.Text).ToList(), mode, SparseSublinear, mode == TokenMode.Char ? CharMaxGram : null);
        if (featurizer.Dimension == 0) throw new TrainingDataException("The training texts contain no words to learn from.");
        var rows = new List<(int[] Indices, float[] Values)>(train.Count);
        foreach (var r in train)
        {
            ct.ThrowIfCancellationRequested();
            rows.Add(featurizer.Featurize(r.Text));
        }
        if (ConjunctionCount >= 2 && featurizer.Dimension >= 2)
        {
            ct.ThrowIfCancellationRequested();
            var top = RankForConjunctions(labels, train, featurizer, rows, options, ct);
            featurizer = featurizer.WithConjunctions(top, ConjunctionValue);
            report("featurize", $"Sparse: conjunctions of the {top.Count} most decisive n-grams ({string.Join(", ", top.Take(8).Select(featurizer.Describe))}…)");
            rows = rows.Select(featurizer.AddConjunctions).ToList();
        }
        cache.Sparse = featurizer;
        cache.SparseRows = rows;
        return (featurizer, rows);
    }

    /// <summary>Fits a head on the n-grams alone and returns the <see cref="ConjunctionCount"/> n-grams with the
    /// largest spread of class weights × √(document frequency): decisive and common enough to co-occur. Ties: lower
    /// feature id, so the choice is deterministic.</summary>
    private List<int> RankForConjunctions(IReadOnlyList<string> labels, IReadOnlyList<LabeledText> train, SparseFeaturizer featurizer,
        List<(int[] Indices, float[] Values)> rows, TrainingOptions options, CancellationToken ct)
    {
        var index = LabelIndex(labels);
        var data = train.Select((r, i) => (index[r.Label], new VBuffer<float>(featurizer.Dimension, rows[i].Indices.Length, rows[i].Values, rows[i].Indices))).ToList();
        var head = FitHead(data, labels.Count, featurizer.Dimension, options, ConjunctionRankingL2, ct);
        var df = new int[featurizer.Dimension];
        foreach (var row in rows) foreach (var i in row.Indices) df[i]++;
        var k = Math.Min(Math.Min(ConjunctionCount, SparseFeaturizer.MaxConjunctions), featurizer.Dimension);
        return Enumerable.Range(0, featurizer.Dimension)
            .Select(j =>
            {
                float lo = float.MaxValue, hi = float.MinValue;
                for (var c = 0; c < head.Classes; c++)
                {
                    lo = Math.Min(lo, head.Weights[c][j]);
                    hi = Math.Max(hi, head.Weights[c][j]);
                }
                return (Feature: j, Score: (hi - lo) * Math.Sqrt(df[j]));
            })
            .OrderByDescending(t => t.Score)
            .ThenBy(t => t.Feature)
            .Take(k)
            .Select(t => t.Feature)
            .ToList();
    }

    private float[][] Embeddings(IReadOnlyList<LabeledText> train, FeatureCache cache, Action<string, string> report, CancellationToken ct)
    {
        if (cache.Embeddings is not null) return cache.Embeddings;
        report("featurize", $"Dense: embedding {train.Count} texts with all-MiniLM-L6-v2 (English only)");
        var result = new float[train.Count][];
        const int chunk = 256;
        for (var start = 0; start < train.Count; start += chunk)
        {
            ct.ThrowIfCancellationRequested();
            var part = train.Skip(start).Take(chunk).Select(r => r.Text).ToList();
            var vectors = Dense.Embed(part);
            vectors.CopyTo(result, start);
            report("featurize", $"Dense: embedded {Math.Min(start + chunk, train.Count)} of {train.Count} texts");
        }
        cache.Embeddings = result;
        return result;
    }

    private TrainedClassifier TrainSparse(IReadOnlyList<string> labels, IReadOnlyList<LabeledText> train, IReadOnlyList<LabeledText> validation,
        TrainingOptions options, FeatureCache cache, Action<string, string> report, CancellationToken ct)
    {
        var (featurizer, features) = SparseFeatures(labels, train, options, cache, report, ct);
        var index = LabelIndex(labels);
        var rows = train.Select((r, i) => (index[r.Label], new VBuffer<float>(featurizer.Dimension, features[i].Indices.Length, features[i].Values, features[i].Indices))).ToList();
        report("fit", $"Sparse: {featurizer.Dimension} features; fitting the maximum-entropy head (L-BFGS)");
        return FitBest(labels, rows, featurizer.Dimension, validation, options, SparseL2, "Sparse", h => new TrainedClassifier(labels, featurizer, h), report, ct);
    }

    private TrainedClassifier TrainDense(IReadOnlyList<string> labels, IReadOnlyList<LabeledText> train, IReadOnlyList<LabeledText> validation,
        TrainingOptions options, FeatureCache cache, Action<string, string> report, CancellationToken ct)
    {
        var vectors = Embeddings(train, cache, report, ct);
        var index = LabelIndex(labels);
        var rows = train.Select((r, i) => (index[r.Label], new VBuffer<float>(DenseFeaturizer.Dimension, vectors[i]))).ToList();
        report("fit", "Dense: fitting the maximum-entropy head (L-BFGS)");
        return FitBest(labels, rows, DenseFeaturizer.Dimension, validation, options, DenseL2, "Dense", h => new TrainedClassifier(labels, Dense, h), report, ct);
    }

    private TrainedClassifier TrainHybrid(IReadOnlyList<string> labels, IReadOnlyList<LabeledText> train, IReadOnlyList<LabeledText> validation,
        TrainingOptions options, FeatureCache cache, Action<string, string> report, CancellationToken ct)
    {
        var (featurizer, features) = SparseFeatures(labels, train, options, cache, report, ct);
        var vectors = Embeddings(train, cache, report, ct);
        var index = LabelIndex(labels);
        var dimension = featurizer.Dimension + DenseFeaturizer.Dimension;
        var rows = train.Select((r, i) =>
        {
            var (idx, val) = TrainedClassifier.HybridFeatures(features[i], vectors[i], featurizer.Dimension);
            return (index[r.Label], new VBuffer<float>(dimension, idx.Length, val, idx));
        }).ToList();
        report("fit", $"Hybrid: {featurizer.Dimension} sparse features + {DenseFeaturizer.Dimension} embedding dimensions; fitting the maximum-entropy head (L-BFGS)");
        return FitBest(labels, rows, dimension, validation, options, SparseL2, "Hybrid", h => new TrainedClassifier(labels, featurizer, Dense, h), report, ct);
    }

    /// <summary>Fits one head per candidate L2 weight and keeps the best on validation macro-F1 (ties: earlier).</summary>
    private TrainedClassifier FitBest(IReadOnlyList<string> labels, List<(int Label, VBuffer<float> Features)> rows, int dimension,
        IReadOnlyList<LabeledText> validation, TrainingOptions options, IReadOnlyList<float> grid, string family,
        Func<LinearHead, TrainedClassifier> build, Action<string, string> report, CancellationToken ct)
    {
        if (grid.Count == 0) throw new InvalidOperationException("At least one L2 weight is needed.");
        TrainedClassifier? best = null;
        var bestScore = double.NegativeInfinity;
        var bestL2 = grid[0];
        foreach (var l2 in grid)
        {
            ct.ThrowIfCancellationRequested();
            var model = build(FitHead(rows, labels.Count, dimension, options, l2, ct));
            if (grid.Count == 1) return model;
            var score = Evaluation.Evaluate(model, validation).MacroF1;
            report("fit", $"{family}: L2 {l2:0.###}: validation macro-F1 {score:0.000}");
            if (score > bestScore)
            {
                (best, bestScore, bestL2) = (model, score, l2);
            }
        }
        report("fit", $"{family}: kept L2 {bestL2:0.###}");
        return best!;
    }

    internal static Dictionary<string, int> LabelIndex(IReadOnlyList<string> labels)
    {
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < labels.Count; i++) index[labels[i]] = i;
        return index;
    }

    private sealed class Row
    {
        public uint Label { get; set; }

        public VBuffer<float> Features { get; set; }

        public float Weight { get; set; }
    }

    internal LinearHead FitHead(List<(int Label, VBuffer<float> Features)> rows, int classes, int dimension, TrainingOptions options, float l2, CancellationToken ct)
    {
        var counts = new int[classes];
        foreach (var r in rows) counts[r.Label]++;
        var present = counts.Count(c => c > 0);
        var data = rows.Select(r => new Row
        {
            Label = (uint)r.Label, // LoadFromEnumerable takes key values 0-based
            Features = r.Features,
            Weight = options.ClassWeighting ? (float)rows.Count / (present * counts[r.Label]) : 1f,
        }).ToList();
        var ml = new MLContext(options.Seed);
        var schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Label)].ColumnType = new KeyDataViewType(typeof(uint), (ulong)classes);
        schema[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, dimension);
        var view = ml.Data.LoadFromEnumerable(data, schema);
        var trainer = ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy(new LbfgsMaximumEntropyMulticlassTrainer.Options
        {
            LabelColumnName = nameof(Row.Label),
            FeatureColumnName = nameof(Row.Features),
            ExampleWeightColumnName = nameof(Row.Weight),
            L1Regularization = 0,
            L2Regularization = l2,
            OptimizationTolerance = 1e-7f,
            MaximumNumberOfIterations = MaxIterations,
            NumberOfThreads = 1,
        });
        var transformer = trainer.Fit(view);
        VBuffer<float>[] weights = [];
        transformer.Model.GetWeights(ref weights, out var numClasses);
        var biases = transformer.Model.GetBiases().ToArray();
        var dense = new float[classes][];
        for (var c = 0; c < classes; c++)
        {
            dense[c] = new float[dimension];
            if (c < numClasses) weights[c].CopyTo(dense[c]);
        }
        var b = new float[classes];
        for (var c = 0; c < Math.Min(classes, biases.Length); c++) b[c] = biases[c];
        return new LinearHead(dense, b);
    }
}

/// <summary>A cheap language hint: text counts as not English when under 60% of its letters are basic Latin.</summary>
public static class LanguageHint
{
    public static bool LooksNonEnglish(IEnumerable<string> texts)
    {
        long letters = 0, latin = 0;
        foreach (var t in texts)
            foreach (var r in t.EnumerateRunes())
            {
                if (!System.Text.Rune.IsLetter(r)) continue;
                letters++;
                if (r.Value < 0x250) latin++;
            }
        return letters > 0 && latin < 0.6 * letters;
    }
}
