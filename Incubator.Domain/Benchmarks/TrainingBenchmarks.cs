using System.Diagnostics;
using System.Globalization;
using Incubator.Domain.Training;
using Incubator.Domain.Training.Onnx;
using Microsoft.ML;

namespace Incubator.Domain.Benchmarks;

/// <summary>Sparse family on a generated 4-label set: training seconds against ML.NET's default text pipeline
/// (FeaturizeText + SDCA maximum entropy) in the same run, and prediction throughput of the in-app model (the
/// baseline) against the exported model in plain ONNX Runtime, one text per call and batched.</summary>
internal sealed class SparseTrainingBenchmark : IBenchmark
{
    public string Name => "training.sparse";

    public string Description => "sparse family on 4,000 generated texts: train time vs ML.NET default text pipeline; in-app vs ONNX Runtime texts/s";

    public Task<IReadOnlyList<BenchmarkRow>> RunAsync(CancellationToken ct) => Task.Run(() => Run(ct), ct);

    private IReadOnlyList<BenchmarkRow> Run(CancellationToken ct)
    {
        var rows = Synthetic(4000, 7);
        var labels = rows.Select(r => r.Label).Distinct().Order(StringComparer.Ordinal).ToList();
        var (train, test) = StratifiedSplit.Split(rows, 0.2, 1);
        var sw = Stopwatch.StartNew();
        var result = new ClassifierTrainer().Train(labels, train, test, null, new TrainingOptions(ModelFamily.Sparse), null, ct);
        var trainSeconds = sw.Elapsed.TotalSeconds;
        var (baselineSeconds, baselineAccuracy) = DatasetBenchmark.MlNetDefault(train, test);

        var texts = test.Select(r => r.Text).ToArray();
        var model = result.Model;
        var inApp = Rate(texts, 1, b => model.Predict(b));
        using var onnxSingle = new OnnxClassifier(model.ExportOnnx(), model.Labels, ModelFamily.Sparse, intraOpThreads: 1) { BatchSize = 1 };
        onnxSingle.Predict([texts[0]]);
        var single = Rate(texts, 1, b => onnxSingle.Predict(b));
        using var onnxBatch = new OnnxClassifier(model.ExportOnnx(), model.Labels, ModelFamily.Sparse, intraOpThreads: 1) { BatchSize = 64 };
        var batched = Rate(texts, 64, b => onnxBatch.Predict(b));
        using var legacy = new OnnxClassifier(LegacySparseOnnx.Build(model.Sparse!, model.Head, model.Labels), model.Labels, ModelFamily.Sparse, intraOpThreads: 1) { BatchSize = 64 };
        legacy.Predict(texts[..64]);
        var legacyRate = Rate(texts, 64, b => legacy.Predict(b));
        return
        [
            new BenchmarkRow(Name, "train seconds (3,200 texts)", trainSeconds, "s", baselineSeconds, "baseline: ML.NET FeaturizeText + SdcaMaximumEntropy"),
            new BenchmarkRow(Name, "test accuracy", result.Validation.Accuracy, "", baselineAccuracy, "baseline: ML.NET default text pipeline"),
            new BenchmarkRow(Name, "ONNX texts/s, 1 per call, 1 thread", single, "texts/s", inApp, "baseline: in-app model, 1 per call"),
            new BenchmarkRow(Name, "ONNX texts/s, batch 64, 1 thread", batched, "texts/s", inApp, "baseline: in-app model, 1 per call"),
            new BenchmarkRow(Name, "ONNX texts/s, batch 64, 1 thread, vs the graph before issue 16", batched, "texts/s", legacyRate, "baseline: the TfIdfVectorizer graph (batch × vocabulary inside) on the same model and texts"),
        ];
    }

    internal static double Rate(string[] texts, int batch, Func<string[], IReadOnlyList<Prediction>> predict) => Rates(texts, batch, predict).Wall;

    /// <summary>Texts per wall-clock second and per CPU-second of this process (the CPU rate is what the work costs
    /// whatever else the machine runs; with one intra-op thread it is the single-core rate).</summary>
    internal static (double Wall, double Cpu) Rates(string[] texts, int batch, Func<string[], IReadOnlyList<Prediction>> predict)
    {
        using var self = Process.GetCurrentProcess();
        var cpu = self.TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        for (var s = 0; s < texts.Length; s += batch) predict(texts[s..Math.Min(texts.Length, s + batch)]);
        var wall = sw.Elapsed.TotalSeconds;
        self.Refresh();
        return (texts.Length / wall, texts.Length / Math.Max(1e-9, (self.TotalProcessorTime - cpu).TotalSeconds));
    }

    /// <summary>Deterministic noisy texts: shared filler words plus a few label-leaning words, some misleading.</summary>
    internal static List<LabeledText> Synthetic(int count, int seed)
    {
        var rng = new Random(seed);
        string[] labels = ["billing", "delivery", "account", "product"];
        string[][] cues =
        [
            ["invoice", "charged", "refund", "payment", "price", "card", "receipt", "bill"],
            ["parcel", "courier", "shipping", "tracking", "arrived", "late", "address", "box"],
            ["password", "login", "profile", "email", "locked", "username", "reset", "sign"],
            ["broken", "quality", "size", "color", "manual", "battery", "screen", "warranty"],
        ];
        string[] filler = ["the", "my", "i", "please", "help", "was", "is", "not", "again", "today", "order", "it", "and", "this", "why", "still", "need", "a"];
        var list = new List<LabeledText>(count);
        for (var i = 0; i < count; i++)
        {
            var l = rng.Next(labels.Length);
            var words = new List<string>();
            var n = rng.Next(6, 14);
            for (var w = 0; w < n; w++)
            {
                var roll = rng.NextDouble();
                words.Add(roll < 0.2 ? cues[l][rng.Next(8)] : roll < 0.27 ? cues[rng.Next(4)][rng.Next(8)] : filler[rng.Next(filler.Length)]);
            }
            list.Add(new LabeledText(labels[l], string.Join(' ', words)));
        }
        return list;
    }
}

/// <summary>The public datasets of ../shared/datasets (SST-2 and the four sets of more/ with their given train/test
/// splits; SMS spam and chABSA with a seeded stratified 80/20 split), each as (name, train, test, split description).</summary>
internal static class TrainingDatasets
{
    public static string? Find() => SharedDatasets.Find();

    /// <summary>Name, the metric the issue states its aim in, and a loader (null when the files are absent).
    /// INCUBATOR_BENCH_DATASETS (comma-separated names) keeps only those sets, for a quick run.</summary>
    public static IEnumerable<(string Name, string Metric, Func<(List<LabeledText> Train, List<LabeledText> Test, string Split)?> Load)> All(string root)
    {
        return Sets(root).Where(s => Wanted(s.Name));
    }

    private static IEnumerable<(string Name, string Metric, Func<(List<LabeledText> Train, List<LabeledText> Test, string Split)?> Load)> Sets(string root) =>
    [
        ("sst2", "accuracy", () => File.Exists(Path.Combine(root, "sst2", "stsa.binary.train")) && File.Exists(Path.Combine(root, "sst2", "stsa.binary.test"))
            ? (ReadSst(Path.Combine(root, "sst2", "stsa.binary.train")), ReadSst(Path.Combine(root, "sst2", "stsa.binary.test")), "given train/test split")
            : null),
        ("sms_spam", "macro-F1", () => File.Exists(Path.Combine(root, "sms_spam", "SMSSpamCollection"))
            ? Split(ReadTsv(Path.Combine(root, "sms_spam", "SMSSpamCollection"), 0, 1, false))
            : null),
        ("chabsa", "accuracy", () => File.Exists(Path.Combine(root, "chabsa", "chabsa_sentences.tsv"))
            ? Split(ReadTsv(Path.Combine(root, "chabsa", "chabsa_sentences.tsv"), 0, 3, true))
            : null),
        .. new[] { "cr", "subj", "tweeteval_emotion", "dbpedia" }.Select(name => (name, "accuracy", (Func<(List<LabeledText>, List<LabeledText>, string)?>)(() =>
            File.Exists(Path.Combine(root, "more", name, "train.tsv")) && File.Exists(Path.Combine(root, "more", name, "test.tsv"))
                ? (ReadTsv(Path.Combine(root, "more", name, "train.tsv"), 0, 1, false), ReadTsv(Path.Combine(root, "more", name, "test.tsv"), 0, 1, false), "given train/test split (more/)")
                : null))),
    ];

    /// <summary>Every set of <see cref="All"/>, loaded and capped (<see cref="DatasetBenchmark.LoadCapped"/>), with its
    /// row name "{benchmark}.{set}"; a set whose files are absent adds a "skipped" row to <paramref name="skipped"/>
    /// (when given) and is passed over.</summary>
    public static IEnumerable<(string Name, string Bench, (List<LabeledText> Train, List<LabeledText> Test, string Split) Data)> Loaded(
        string root, string benchmark, List<BenchmarkRow>? skipped, CancellationToken ct)
    {
        foreach (var (name, _, load) in All(root))
        {
            ct.ThrowIfCancellationRequested();
            var bench = $"{benchmark}.{name}";
            if (DatasetBenchmark.LoadCapped(load) is { } data) yield return (name, bench, data);
            else skipped?.Add(new BenchmarkRow(bench, "skipped", 0, "", Note: "files not found"));
        }
    }

    /// <summary>Whether INCUBATOR_BENCH_DATASETS (when set) names <paramref name="name"/>.</summary>
    public static bool Wanted(string name)
    {
        var only = Environment.GetEnvironmentVariable("INCUBATOR_BENCH_DATASETS")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return only is not { Length: > 0 } || only.Contains(name, StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>The named sets, uncapped and whatever INCUBATOR_BENCH_DATASETS says.</summary>
    public static IEnumerable<(string Name, List<LabeledText> Train, List<LabeledText> Test)> Load(string root, IReadOnlyCollection<string> names)
    {
        foreach (var (name, _, load) in Sets(root).Where(s => names.Contains(s.Name)))
            if (load() is { } d) yield return (name, d.Train, d.Test);
    }

    public static IEnumerable<(string Name, List<LabeledText> Train, List<LabeledText> Test)> Load(string root)
    {
        foreach (var (name, _, load) in All(root))
            if (load() is { } d) yield return (name, d.Train, d.Test);
    }

    private static (List<LabeledText>, List<LabeledText>, string) Split(List<LabeledText> rows)
    {
        var (train, test) = StratifiedSplit.Split(rows, 0.2, 1);
        return (train, test, "seeded stratified 80/20 split (seed 1)");
    }

    private static List<LabeledText> ReadSst(string path) => File.ReadLines(path)
        .Where(l => l.Length > 2)
        .Select(l => new LabeledText(l[0] == '1' ? "positive" : "negative", l[2..]))
        .ToList();

    private static List<LabeledText> ReadTsv(string path, int labelColumn, int textColumn, bool header) => File.ReadLines(path)
        .Skip(header ? 1 : 0)
        .Select(l => l.Split('\t'))
        .Where(c => c.Length > Math.Max(labelColumn, textColumn))
        .Select(c => new LabeledText(c[labelColumn], c[textColumn]))
        .ToList();

    /// <summary>The most frequent label (ties: the first in ordinal order).</summary>
    public static string Majority(IEnumerable<LabeledText> rows) =>
        rows.GroupBy(r => r.Label).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).First().Key;

    /// <summary>Scores one predicted label per test row (a tool that gives labels, not probabilities) with the metric
    /// code of every other row.</summary>
    public static EvaluationReport Score(IReadOnlyList<string> labels, IReadOnlyList<LabeledText> test, IReadOnlyList<string> predicted) =>
        Evaluation.FromPredictions(labels, test, predicted.Select(p => new Prediction(p, 1, labels.Select(l => l == p ? 1f : 0f).ToArray())).ToList());

    /// <summary>The sample sizes the training benchmarks compare on: 8 and 64 rows per label (seed 1) and the whole
    /// training split. INCUBATOR_BENCH_SIZES (comma-separated rows per label and/or "full", e.g. "8,64") keeps only
    /// those; INCUBATOR_BENCH_SAMPLES=n (or "a-b") draws independent samples of each per-label size, sample s with seed s
    /// for s in 1..n (or a..b); sample 1 is the default one, the others are named "8/class s2", ....</summary>
    public static (string Size, List<LabeledText> Sample)[] Sizes(List<LabeledText> train) =>
        Sizes(train, Environment.GetEnvironmentVariable("INCUBATOR_BENCH_SIZES"), Environment.GetEnvironmentVariable("INCUBATOR_BENCH_SAMPLES"));

    /// <summary><see cref="Sizes(List{LabeledText})"/> with the two knobs' values given.</summary>
    internal static (string Size, List<LabeledText> Sample)[] Sizes(List<LabeledText> train, string? sizesKnob, string? samplesKnob)
    {
        var sizes = sizesKnob?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var (first, last) = SampleSeeds(samplesKnob);
        if (sizes is not { Length: > 0 }) sizes = ["8", "64", "full"];
        var result = new List<(string, List<LabeledText>)>();
        foreach (var size in sizes)
        {
            if (size.Equals("full", StringComparison.OrdinalIgnoreCase))
            {
                result.Add(("full", train));
                continue;
            }
            var n = int.Parse(size, CultureInfo.InvariantCulture);
            for (var seed = first; seed <= last; seed++)
                result.Add((seed == 1 ? $"{n}/class" : $"{n}/class s{seed}", PerClass(train, n, seed)));
        }
        return [.. result];
    }

    /// <summary>The sample seeds INCUBATOR_BENCH_SAMPLES asks for: "n" seeds 1..n, "a-b" seeds a..b (fresh samples
    /// beside an earlier run's); unset or invalid: seed 1 alone.</summary>
    internal static (int First, int Last) SampleSeeds(string? value)
    {
        var parts = value?.Split('-', StringSplitOptions.TrimEntries) ?? [];
        var ci = CultureInfo.InvariantCulture;
        if (parts.Length == 1 && int.TryParse(parts[0], NumberStyles.Integer, ci, out var n) && n >= 1) return (1, n);
        if (parts.Length == 2 && int.TryParse(parts[0], NumberStyles.Integer, ci, out var a) && int.TryParse(parts[1], NumberStyles.Integer, ci, out var b) && a >= 1 && b >= a)
            return (a, b);
        return (1, 1);
    }

    /// <summary>A seeded sample of <paramref name="perClass"/> rows of every label (all of a label's rows when it has
    /// fewer), in the original row order.</summary>
    public static List<LabeledText> PerClass(IReadOnlyList<LabeledText> rows, int perClass, int seed)
    {
        var keep = new bool[rows.Count];
        foreach (var group in Enumerable.Range(0, rows.Count).GroupBy(i => rows[i].Label, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var idx = group.ToArray();
            new Random(unchecked(seed * 7919 + idx.Length)).Shuffle(idx);
            foreach (var i in idx.Take(perClass)) keep[i] = true;
        }
        return rows.Where((_, i) => keep[i]).ToList();
    }

    /// <summary>At most <paramref name="max"/> rows, a seeded stratified sample when capping.</summary>
    public static List<LabeledText> Cap(List<LabeledText> rows, int? max, int seed) =>
        max is { } m && rows.Count > m ? StratifiedSplit.Split(rows, 1.0 - (double)m / rows.Count, seed).Train : rows;
}

/// <summary>The benchmark matrix on ../shared/datasets (every set there): test accuracy and macro-F1 of each family
/// and of auto at 8 and 64 samples per class (seeded) and on the full training split — after the refit on training +
/// validation, against the selection fit (before the refit) as the baseline; training seconds; bundle size and ONNX
/// Runtime texts/s at batch 1 and 64 (per wall-clock and per CPU-second) for the full-split models, the sparse one
/// against the graph before issue 16 on the same texts; auto against the best single family. The majority class and
/// ML.NET's default text pipeline (FeaturizeText + SdcaMaximumEntropy) are trained on the same rows in the same run.
/// Embeddings are memoised per dataset (one encoder instance), so each text is embedded once; the embedding rate is
/// its own row and real end-to-end times are the training.commands benchmark. Env caps for quick runs:
/// INCUBATOR_BENCH_TRAIN_CAP (training rows per dataset), INCUBATOR_BENCH_TEST_CAP (test rows); a capped row says so.</summary>
internal sealed class DatasetBenchmark(ModelFamily family = ModelFamily.Auto) : IBenchmark
{
    public string Name => family == ModelFamily.Auto ? "training.datasets" : $"training.{family.ToString().ToLowerInvariant()}-datasets";

    public string Description => $"{(family == ModelFamily.Auto ? "every family and auto" : family.ToString().ToLowerInvariant())} at 8, 64 per class and full train on every set of ../shared/datasets: accuracy and macro-F1 after vs before refit, train s, bundle size, ONNX texts/s";

    public Task<IReadOnlyList<BenchmarkRow>> RunAsync(CancellationToken ct) => Task.Run(() => Run(ct), ct);

    private static readonly CultureInfo Ci = CultureInfo.InvariantCulture;

    internal static int? EnvCap(string name) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, Ci, out var v) && v > 0 ? v : null;

    internal static string F(double v) => v.ToString("0.000", Ci);

    /// <summary>Loads a dataset with the env caps applied; the split note says what was capped.</summary>
    internal static (List<LabeledText> Train, List<LabeledText> Test, string Split)? LoadCapped(Func<(List<LabeledText> Train, List<LabeledText> Test, string Split)?> load)
    {
        var data = load();
        if (data is null) return null;
        var trainCap = EnvCap("INCUBATOR_BENCH_TRAIN_CAP");
        var testCap = EnvCap("INCUBATOR_BENCH_TEST_CAP");
        var train = TrainingDatasets.Cap(data.Value.Train, trainCap, 1);
        var test = TrainingDatasets.Cap(data.Value.Test, testCap, 2);
        var split = data.Value.Split + (trainCap is not null && train.Count < data.Value.Train.Count ? $"; train capped to {train.Count} of {data.Value.Train.Count} by INCUBATOR_BENCH_TRAIN_CAP" : "")
            + (testCap is not null && test.Count < data.Value.Test.Count ? $"; test capped to {test.Count} of {data.Value.Test.Count} by INCUBATOR_BENCH_TEST_CAP" : "");
        return (train, test, split);
    }

    /// <summary>The validation part the trainer gets: 10 % of the full split, 25 % of a small sample (never the test split).</summary>
    internal static (List<LabeledText> Fit, List<LabeledText> Validation) TrainerSplit(List<LabeledText> sample, bool full) =>
        StratifiedSplit.Split(sample, full ? 0.1 : 0.25, 1);

    private IReadOnlyList<BenchmarkRow> Run(CancellationToken ct)
    {
        var root = TrainingDatasets.Find();
        if (root is null) return [new BenchmarkRow(Name, "skipped", 0, "", Note: "../shared/datasets not found")];
        var rows = new List<BenchmarkRow>();
        foreach (var (name, bench, (train, test, split)) in TrainingDatasets.Loaded(root, Name, rows, ct))
        {
            Console.Error.WriteLine($"  {bench}: {train.Count} train, {test.Count} test");
            var allocatedBefore = GC.GetTotalAllocatedBytes(precise: false);
            var labels = train.Select(r => r.Label).Distinct().Order(StringComparer.Ordinal).ToList();
            var testTexts = test.Select(r => r.Text).ToList();
            // One memoising encoder per dataset: each text is embedded once, across sample sizes, families and refits.
            var defaults = new ClassifierTrainer();
            var dense = family == ModelFamily.Sparse ? null : new DenseFeaturizer(memoize: true, defaults.Dense.Encoder);
            var sizes = TrainingDatasets.Sizes(train);
            if (dense is not null && sizes.Any(z => z.Size == "full"))
            {
                var texts = train.Select(r => r.Text).Concat(testTexts).ToArray();
                var (wall, cpu) = SparseTrainingBenchmark.Rates(texts, 512, b => { dense.Embed(b); return []; });
                rows.Add(new BenchmarkRow(bench, $"dense embedding texts/s ({texts.Length} texts, once)", wall, "texts/s",
                    Note: $"{EncoderGraph.DisplayName(dense.Encoder)} via the export graph, batches of 32 sorted by length; {cpu.ToString("0", Ci)} texts per CPU-second; embeddings memoised for everything below; " + split));
            }
            // INCUBATOR_BENCH_TIE_RULE=off: auto's small-size choice without the tie rule (one deal, best score), for measuring it.
            var tieRuleOff = string.Equals(Environment.GetEnvironmentVariable("INCUBATOR_BENCH_TIE_RULE"), "off", StringComparison.OrdinalIgnoreCase);
            // INCUBATOR_BENCH_POOL_RULE=off: auto chooses a family below PoolBelowRowsPerLabel too (no pool), for measuring it.
            var poolRuleOff = string.Equals(Environment.GetEnvironmentVariable("INCUBATOR_BENCH_POOL_RULE"), "off", StringComparison.OrdinalIgnoreCase);
            var trainer = new ClassifierTrainer
            {
                Dense = dense ?? defaults.Dense,
                TieRuleFromRowsPerLabel = tieRuleOff ? 0 : defaults.TieRuleFromRowsPerLabel,
                PoolBelowRowsPerLabel = poolRuleOff ? 0 : defaults.PoolBelowRowsPerLabel,
            };
            var pool = Environment.GetEnvironmentVariable("INCUBATOR_BENCH_POOL") == "1";
            Dictionary<ModelFamily, TrainedClassifier>? finalModels = null;
            foreach (var (size, sample) in sizes)
            {
                ct.ThrowIfCancellationRequested();
                var full = size == "full";
                var cellClock = Stopwatch.StartNew();
                var majority = TrainingDatasets.Majority(sample);
                var maj = TrainingDatasets.Score(labels, test, test.Select(_ => majority).ToList());
                var (mlSeconds, mlAccuracy, mlMacro) = MlNetDefaultFull(sample, test);
                var (fit, validation) = TrainerSplit(sample, full);
                var rowsNote = $"{sample.Count} rows ({fit.Count} fit + {validation.Count} validation)";
                rows.Add(new BenchmarkRow(bench, $"ML.NET default test accuracy, {size}", mlAccuracy, "", maj.Accuracy, $"baseline: majority class; {rowsNote}; ML.NET trained {mlSeconds.ToString("0.0", Ci)} s on all of them"));
                rows.Add(new BenchmarkRow(bench, $"ML.NET default test macro-F1, {size}", mlMacro, "", maj.MacroF1, "baseline: majority class"));

                var trainClock = Stopwatch.StartNew();
                var result = trainer.Train(labels, fit, validation, null, new TrainingOptions(family), null, ct);
                var trainSeconds = trainClock.Elapsed.TotalSeconds;
                var results = new Dictionary<ModelFamily, TrainingResult>();
                foreach (var f in result.Models.Keys) results[f] = result;
                if (family == ModelFamily.Auto)
                    foreach (var f in new[] { ModelFamily.Dense, ModelFamily.Hybrid }.Where(f => !results.ContainsKey(f)))
                        // Auto skipped it (text the encoder cannot read); trained alone so the table shows what it would score.
                        results[f] = trainer.Train(labels, fit, validation, null, new TrainingOptions(f), null, ct);
                var after = new Dictionary<ModelFamily, (TrainedClassifier Model, EvaluationReport Report)>();
                foreach (var (f, r) in results.OrderBy(x => x.Key))
                {
                    var selection = r.Models[f];
                    var refit = r.ChosenFamily == f && !r.Pooled ? r.Model : trainer.Refit(r, f, labels, fit, validation, new TrainingOptions(f), ct);
                    var before = Evaluation.Evaluate(selection, test);
                    var now = Evaluation.Evaluate(refit, test);
                    after[f] = (refit, now);
                    var fam = f.ToString().ToLowerInvariant();
                    var skipped = family == ModelFamily.Auto && !result.Models.ContainsKey(f) ? "; auto did not train it (encoder cannot read the text), trained alone here" : "";
                    rows.Add(new BenchmarkRow(bench, $"{fam} test accuracy, {size}", now.Accuracy, "", before.Accuracy,
                        $"value: refit on training + validation; baseline: the selection fit (training part only), L2 {r.L2[f].ToString("0.###", Ci)}; {rowsNote}{skipped}"));
                    rows.Add(new BenchmarkRow(bench, $"{fam} test macro-F1, {size}", now.MacroF1, "", before.MacroF1, "value: after refit; baseline: before refit"));
                    if (full)
                        rows.Add(new BenchmarkRow(bench, $"{fam} train seconds, full", r.Seconds[f], "s", mlSeconds,
                            "baseline: ML.NET default pipeline; head fits and featurising, embeddings memoised (see the embedding row and training.commands)"));
                }
                if (family == ModelFamily.Auto)
                {
                    var before = Evaluation.Evaluate(result.Pooled ? TrainedClassifier.Pool([.. result.Models.OrderBy(m => m.Key).Select(m => m.Value)]) : result.Models[result.ChosenFamily], test);
                    var now = Evaluation.Evaluate(result.Model, test);
                    var autoName = result.Pooled ? "pool" : result.ChosenFamily.ToString().ToLowerInvariant();
                    var chose = $"auto chose {autoName} {(result.CrossValidated is { } byFolds ? $"by cross-validation of {string.Join(", ", byFolds.Keys.Select(k => k.ToString().ToLowerInvariant()))}" : "on validation")} (families tried: {string.Join(", ", result.Models.Keys.Select(k => k.ToString().ToLowerInvariant()))}; encoder share {result.EncoderShare?.ToString("0.000", Ci) ?? "-"})";
                    rows.Add(new BenchmarkRow(bench, $"auto test accuracy, {size}", now.Accuracy, "", before.Accuracy, $"value: after refit; baseline: before refit; {chose}"));
                    rows.Add(new BenchmarkRow(bench, $"auto test macro-F1, {size}", now.MacroF1, "", before.MacroF1, "value: after refit; baseline: before refit"));
                    var best = after.OrderByDescending(x => x.Value.Report.MacroF1).First();
                    rows.Add(new BenchmarkRow(bench, $"auto test macro-F1 vs the best family, {size}", now.MacroF1, "", best.Value.Report.MacroF1,
                        $"baseline: the best family on test after refit ({best.Key.ToString().ToLowerInvariant()}); aim: ratio ≥ 1 on the full split"));
                    var regret = best.Value.Report.MacroF1 - now.MacroF1;
                    var hit = (result.Pooled ? now : after[result.ChosenFamily].Report).MacroF1 >= best.Value.Report.MacroF1;
                    rows.Add(new BenchmarkRow(bench, $"auto regret (best family − auto, test macro-F1), {size}", regret, "", Note:
                        $"auto chose {autoName} {F(now.MacroF1)}; best family {best.Key.ToString().ToLowerInvariant()} {F(best.Value.Report.MacroF1)}; {(hit ? "hit" : "miss")}; choice: {result.Choice}"));
                    // One tab-separated line per cell on stderr, for summing regret over many samples.
                    Console.Error.WriteLine(string.Create(Ci,
                        $"CELL\t{name}\t{size}\t{sample.Count}\t{string.Join(",", after.OrderBy(a => a.Key).Select(a => $"{a.Key.ToString().ToLowerInvariant()}={F(a.Value.Report.MacroF1)}"))}\tbest={best.Key.ToString().ToLowerInvariant()}\tauto={autoName}:{F(now.MacroF1)}:{F(regret)}:{(hit ? 1 : 0)}:{result.Seconds.Values.Sum().ToString("0.0", Ci)}\tcell_s={cellClock.Elapsed.TotalSeconds.ToString("0.0", Ci)}\ttrain_s={trainSeconds.ToString("0.00", Ci)}"));
                    // INCUBATOR_BENCH_POOL=1: log-linear pools of the refit families (softmax of the mean log-probability),
                    // scored on test beside auto; one POOL line per cell on stderr.
                    if (pool && after.ContainsKey(ModelFamily.Sparse) && after.ContainsKey(ModelFamily.Dense) && after.ContainsKey(ModelFamily.Hybrid))
                    {
                        var probs = after.ToDictionary(a => a.Key, a => a.Value.Model.Predict(testTexts));
                        var cvw = result.CrossValidated;
                        EvaluationReport Pooled(params (ModelFamily F, double W)[] members)
                        {
                            var sumW = members.Sum(m => m.W);
                            var preds = new Prediction[test.Count];
                            for (var i = 0; i < test.Count; i++)
                            {
                                var logits = new double[labels.Count];
                                foreach (var (f, w) in members)
                                    for (var c = 0; c < labels.Count; c++) logits[c] += w / sumW * Math.Log(Math.Max(probs[f][i].Probabilities[c], 1e-30f));
                                var max = logits.Max();
                                var p = logits.Select(l => (float)Math.Exp(l - max)).ToArray();
                                var z = p.Sum();
                                for (var c = 0; c < p.Length; c++) p[c] /= z;
                                var b = LinearHead.ArgMax(p);
                                preds[i] = new Prediction(labels[b], p[b], p);
                            }
                            return Evaluation.FromPredictions(labels, test, preds);
                        }
                        var p3 = Pooled((ModelFamily.Sparse, 1), (ModelFamily.Dense, 1), (ModelFamily.Hybrid, 1));
                        var p2 = Pooled((ModelFamily.Sparse, 1), (ModelFamily.Dense, 1));
                        var pdh = Pooled((ModelFamily.Dense, 1), (ModelFamily.Hybrid, 1));
                        var pw = cvw is not null && cvw.Count == 3 ? Pooled([.. cvw.Select(c => (c.Key, c.Value))]) : null;
                        var sp = after[ModelFamily.Sparse].Model.Sparse!;
                        var hp = after[ModelFamily.Hybrid].Model.Sparse!;
                        var sameVocab = sp.Dimension == hp.Dimension && Enumerable.Range(0, sp.Dimension).All(j => sp.Describe(j) == hp.Describe(j));
                        foreach (var (tag, rep) in new[] { ("pool3", p3), ("pool2", p2), ("pooldh", pdh), ("poolcv", pw) })
                            if (rep is not null)
                                rows.Add(new BenchmarkRow(bench, $"{tag} regret (best family − pool, test macro-F1), {size}", best.Value.Report.MacroF1 - rep.MacroF1, "", regret,
                                    $"value: the log-linear pool's regret; baseline: auto's; pool macro-F1 {F(rep.MacroF1)}, accuracy {F(rep.Accuracy)}"));
                        Console.Error.WriteLine(string.Create(Ci,
                            $"POOL\t{name}\t{size}\t{sample.Count}\tbest={F(best.Value.Report.MacroF1)}\tauto={F(now.MacroF1)}:{F(now.Accuracy)}\tpool3={F(p3.MacroF1)}:{F(p3.Accuracy)}\tpool2={F(p2.MacroF1)}:{F(p2.Accuracy)}\tpooldh={F(pdh.MacroF1)}:{F(pdh.Accuracy)}\tpoolcv={(pw is null ? "-" : $"{F(pw.MacroF1)}:{F(pw.Accuracy)}")}\tacc={string.Join(",", after.OrderBy(a => a.Key).Select(a => $"{a.Key.ToString().ToLowerInvariant()}={F(a.Value.Report.Accuracy)}"))}\tvocab={(sameVocab ? "same" : "diff")}"));
                    }
                    if (result.CrossValidated is { } cv)
                    {
                        // The same run choosing on the validation split alone, as auto did before the cross-validated choice.
                        var onValidation = new ClassifierTrainer { Dense = trainer.Dense, CrossValidateUpTo = 0, CrossValidateNearTiesUpTo = 0 }.Train(labels, fit, validation, null, new TrainingOptions(family), null, ct);
                        var old = Evaluation.Evaluate(onValidation.Model, test);
                        rows.Add(new BenchmarkRow(bench, $"auto test macro-F1, cross-validated vs validation choice, {size}", now.MacroF1, "", old.MacroF1,
                            $"value: auto chose {autoName} by {trainer.ChoiceFolds}-fold cross-validation ({string.Join(", ", cv.Select(c => $"{c.Key.ToString().ToLowerInvariant()} {F(c.Value)}"))}); baseline: chosen on validation alone ({onValidation.ChosenFamily.ToString().ToLowerInvariant()})"));
                    }
                }
                if (full && after.ContainsKey(ModelFamily.Sparse))
                {
                    // The sparse family without conjunction features, same rows and split: what they add.
                    var plain = new ClassifierTrainer { ConjunctionCount = 0 }.Train(labels, fit, validation, null, new TrainingOptions(ModelFamily.Sparse), null, ct);
                    var noConj = Evaluation.Evaluate(plain.Model, test);
                    rows.Add(new BenchmarkRow(bench, "sparse test accuracy, full, with conjunctions", after[ModelFamily.Sparse].Report.Accuracy, "", noConj.Accuracy, "baseline: the sparse family without conjunction features, same rows (both refit)"));
                    rows.Add(new BenchmarkRow(bench, "sparse test macro-F1, full, with conjunctions", after[ModelFamily.Sparse].Report.MacroF1, "", noConj.MacroF1, "baseline: the sparse family without conjunction features, same rows (both refit)"));
                }
                if (full) finalModels = after.ToDictionary(x => x.Key, x => x.Value.Model);
            }

            // Inference of the full-split (refit) models through plain ONNX Runtime, one thread.
            foreach (var (fam, model) in (finalModels ?? []).OrderBy(m => m.Key))
                rows.AddRange(Inference(bench, fam, model, testTexts));
            using (var p = Process.GetCurrentProcess())
            {
                rows.Add(new BenchmarkRow(bench, "process peak working set", p.PeakWorkingSet64 / 1048576.0, "MiB",
                    Note: "whole bench process so far (OS high-water mark); per-command peaks are in training.commands"));
            }
            rows.Add(new BenchmarkRow(bench, "managed allocations for this dataset", (GC.GetTotalAllocatedBytes(precise: false) - allocatedBefore) / 1048576.0, "MiB",
                Note: "GC.GetTotalAllocatedBytes delta (all sizes, families, refits, baselines, inference); not a peak"));
        }
        return rows;
    }

    /// <summary>Bundle size and ONNX Runtime texts/s at batch 1 and 64 (wall-clock and per CPU-second, one intra-op
    /// thread); sparse also against the graph before issue 16 on the same model and texts.</summary>
    internal static IEnumerable<BenchmarkRow> Inference(string bench, ModelFamily fam, TrainedClassifier model, IReadOnlyList<string> testTexts)
    {
        var f = fam.ToString().ToLowerInvariant();
        var onnx = model.ExportOnnx();
        using (var zip = new MemoryStream())
        {
            ModelBundle.Write(zip, model, new BundleInfo("bench", "1", "card"), onnx);
            yield return new BenchmarkRow(bench, $"{f} bundle size", zip.Length / 1048576.0, "MiB", Note: $"model.onnx {(onnx.Length / 1048576.0).ToString("0.0", Ci)} MiB{(model.Encoder is { } e ? "; " + EncoderGraph.DisplayName(e) : "")}");
        }
        var encoder = model.NeedsOnnxRuntimeExtensions;
        var n = encoder ? Math.Min(testTexts.Count, 256) : Math.Min(testTexts.Count, 2000);
        var texts = testTexts.Take(n).ToArray();
        using var single = new OnnxClassifier(onnx, model.Labels, fam, encoder, intraOpThreads: 1) { BatchSize = 1 };
        single.Predict([texts[0]]);
        var one = SparseTrainingBenchmark.Rates(encoder ? texts[..Math.Min(n, 128)] : texts, 1, b => single.Predict(b));
        using var batched = new OnnxClassifier(onnx, model.Labels, fam, encoder, intraOpThreads: 1) { BatchSize = 64 };
        batched.Predict(texts[..Math.Min(n, 64)]);
        var many = SparseTrainingBenchmark.Rates(texts, 64, b => batched.Predict(b));
        yield return new BenchmarkRow(bench, $"{f} ONNX texts/s, 1 per call, 1 thread", one.Wall, "texts/s", Note: $"{(encoder ? Math.Min(n, 128) : n)} test texts; {one.Cpu.ToString("0", Ci)} per CPU-second");
        yield return new BenchmarkRow(bench, $"{f} ONNX texts/s, batch 64, 1 thread", many.Wall, "texts/s", one.Wall, $"baseline: 1 per call; {n} test texts");
        yield return new BenchmarkRow(bench, $"{f} ONNX texts per CPU-second, batch 64", many.Cpu, "texts/s", one.Cpu, "baseline: 1 per call, per CPU-second (insensitive to other load on the machine)");
        if (fam == ModelFamily.Sparse)
        {
            using var legacy = new OnnxClassifier(LegacySparseOnnx.Build(model.Sparse!, model.Head, model.Labels), model.Labels, fam, intraOpThreads: 1) { BatchSize = 64 };
            legacy.Predict(texts[..Math.Min(n, 64)]);
            var old = SparseTrainingBenchmark.Rates(texts, 64, b => legacy.Predict(b));
            yield return new BenchmarkRow(bench, "sparse ONNX texts/s, batch 64, vs the graph before issue 16", many.Wall, "texts/s", old.Wall,
                "baseline: the TfIdfVectorizer graph (batch × vocabulary inside) on the same model and texts; aim ≥ 5×");
            yield return new BenchmarkRow(bench, "sparse ONNX texts per CPU-second, batch 64, vs the graph before issue 16", many.Cpu, "texts/s", old.Cpu,
                "baseline: the graph before issue 16, per CPU-second");
            foreach (var (batch, rate) in new[] { (1, one), (64, many) })
            {
                using var first = new OnnxClassifier(UniqueSparseOnnx.Build(model.Sparse!, model.Head, model.Labels), model.Labels, fam, intraOpThreads: 1) { BatchSize = batch };
                first.Predict(texts[..Math.Min(n, batch)]);
                var unique = SparseTrainingBenchmark.Rates(texts, batch, b => first.Predict(b));
                yield return new BenchmarkRow(bench, $"sparse ONNX texts per CPU-second, {(batch == 1 ? "1 per call" : "batch 64")}, vs decision 0019's Unique graph", rate.Cpu, "texts/s", unique.Cpu,
                    "baseline: the n-gram-id graph as 0019 shipped it (hash Unique over the padded batch), same model and texts");
            }
        }
    }

    private sealed class MlRow
    {
        public string Label { get; set; } = "";

        public string Text { get; set; } = "";
    }

    private sealed class MlOut
    {
        public string PredictedText { get; set; } = "";
    }

    internal static (double Seconds, double Accuracy) MlNetDefault(List<LabeledText> train, List<LabeledText> test)
    {
        var (s, a, _) = MlNetDefaultFull(train, test);
        return (s, a);
    }

    /// <summary>ML.NET's default text classification pipeline: FeaturizeText (its defaults) + SDCA maximum entropy.</summary>
    internal static (double Seconds, double Accuracy, double MacroF1) MlNetDefaultFull(List<LabeledText> train, List<LabeledText> test)
    {
        var ml = new MLContext(1);
        var sw = Stopwatch.StartNew();
        var data = ml.Data.LoadFromEnumerable(train.Select(r => new MlRow { Label = r.Label, Text = r.Text }));
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Key", nameof(MlRow.Label))
            .Append(ml.Transforms.Text.FeaturizeText("Features", nameof(MlRow.Text)))
            .Append(ml.MulticlassClassification.Trainers.SdcaMaximumEntropy("Key", "Features"))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedText", "PredictedLabel"));
        var model = pipeline.Fit(data);
        var seconds = sw.Elapsed.TotalSeconds;
        var predicted = ml.Data.CreateEnumerable<MlOut>(model.Transform(ml.Data.LoadFromEnumerable(test.Select(r => new MlRow { Label = r.Label, Text = r.Text }))), false)
            .Select(o => o.PredictedText).ToList();
        var labels = train.Select(r => r.Label).Distinct().Order(StringComparer.Ordinal).ToList();
        var report = TrainingDatasets.Score(labels, test, predicted);
        return (seconds, report.Accuracy, report.MacroF1);
    }
}
