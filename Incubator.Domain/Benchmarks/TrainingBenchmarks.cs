using System.Diagnostics;
using System.Globalization;
using Incubator.Domain.Training;
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
        return
        [
            new BenchmarkRow(Name, "train seconds (3,200 texts)", trainSeconds, "s", baselineSeconds, "baseline: ML.NET FeaturizeText + SdcaMaximumEntropy"),
            new BenchmarkRow(Name, "test accuracy", result.Validation.Accuracy, "", baselineAccuracy, "baseline: ML.NET default text pipeline"),
            new BenchmarkRow(Name, "ONNX texts/s, 1 per call, 1 thread", single, "texts/s", inApp, "baseline: in-app model, 1 per call"),
            new BenchmarkRow(Name, "ONNX texts/s, batch 64, 1 thread", batched, "texts/s", inApp, "baseline: in-app model, 1 per call"),
        ];
    }

    internal static double Rate(string[] texts, int batch, Func<string[], IReadOnlyList<Prediction>> predict)
    {
        var sw = Stopwatch.StartNew();
        for (var s = 0; s < texts.Length; s += batch) predict(texts[s..Math.Min(texts.Length, s + batch)]);
        return texts.Length / sw.Elapsed.TotalSeconds;
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

/// <summary>The public datasets of ../shared/datasets (SST-2 with its given train/test split; SMS spam and chABSA
/// with a seeded stratified 80/20 split), each as (name, train, test, split description).</summary>
internal static class TrainingDatasets
{
    public static string? Find() => SharedDatasets.Find();

    /// <summary>Name, the metric the issue states its aim in, and a loader (null when the files are absent).</summary>
    public static IEnumerable<(string Name, string Metric, Func<(List<LabeledText> Train, List<LabeledText> Test, string Split)?> Load)> All(string root) =>
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
    ];

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

/// <summary>The issue's benchmark matrix on ../shared/datasets (SST-2, SMS spam, chABSA): test accuracy and macro-F1
/// of sparse, dense and auto trained on 8 and 64 samples per class (seeded) and on the full training split, training
/// seconds, ONNX Runtime texts/s (one text per call and batched, one thread) and memory — each against the majority
/// class and ML.NET's default text pipeline (FeaturizeText + SdcaMaximumEntropy) trained on the same rows in the same
/// run. Dense embeddings are memoised per run, so each text is embedded once; the embedding rate is its own row.
/// Env caps for quick runs: INCUBATOR_BENCH_TRAIN_CAP (training rows per dataset), INCUBATOR_BENCH_TEST_CAP (test
/// rows); a capped row says so.</summary>
internal sealed class DatasetBenchmark(ModelFamily family = ModelFamily.Auto) : IBenchmark
{
    public string Name => family == ModelFamily.Auto ? "training.datasets" : $"training.{family.ToString().ToLowerInvariant()}-datasets";

    public string Description => $"{(family == ModelFamily.Auto ? "sparse/dense/auto" : family.ToString().ToLowerInvariant())} at 8, 64 per class and full train on SST-2, SMS spam, chABSA (../shared/datasets): accuracy, macro-F1, train s, ONNX texts/s, memory vs majority and ML.NET default pipeline";

    public Task<IReadOnlyList<BenchmarkRow>> RunAsync(CancellationToken ct) => Task.Run(() => Run(ct), ct);

    private static readonly CultureInfo Ci = CultureInfo.InvariantCulture;

    internal static int? EnvCap(string name) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, Ci, out var v) && v > 0 ? v : null;

    private IReadOnlyList<BenchmarkRow> Run(CancellationToken ct)
    {
        var root = TrainingDatasets.Find();
        if (root is null) return [new BenchmarkRow(Name, "skipped", 0, "", Note: "../shared/datasets not found")];
        var trainCap = EnvCap("INCUBATOR_BENCH_TRAIN_CAP");
        var testCap = EnvCap("INCUBATOR_BENCH_TEST_CAP");
        var rows = new List<BenchmarkRow>();
        foreach (var (name, metric, load) in TrainingDatasets.All(root))
        {
            ct.ThrowIfCancellationRequested();
            var bench = $"{Name}.{name}";
            var data = load();
            if (data is null)
            {
                rows.Add(new BenchmarkRow(bench, "skipped", 0, "", Note: "files not found"));
                continue;
            }
            var allocatedBefore = GC.GetTotalAllocatedBytes(precise: false);
            var train = TrainingDatasets.Cap(data.Value.Train, trainCap, 1);
            var test = TrainingDatasets.Cap(data.Value.Test, testCap, 2);
            var split = data.Value.Split + (trainCap is not null && train.Count < data.Value.Train.Count ? $"; train capped to {train.Count} of {data.Value.Train.Count} by INCUBATOR_BENCH_TRAIN_CAP" : "")
                + (testCap is not null && test.Count < data.Value.Test.Count ? $"; test capped to {test.Count} of {data.Value.Test.Count} by INCUBATOR_BENCH_TEST_CAP" : "");
            var labels = train.Select(r => r.Label).Distinct().Order(StringComparer.Ordinal).ToList();
            var testTexts = test.Select(r => r.Text).ToList();
            // One memoising encoder per dataset: each text is embedded once, across sample sizes and auto.
            var dense = family == ModelFamily.Sparse ? null : new DenseFeaturizer(memoize: true);
            float[][]? testVectors = null;
            if (dense is not null)
            {
                var sw = Stopwatch.StartNew();
                dense.Embed(train.Select(r => r.Text).ToList());
                testVectors = dense.Embed(testTexts);
                var n = train.Count + test.Count;
                rows.Add(new BenchmarkRow(bench, $"dense embedding texts/s ({n} texts, once)", n / sw.Elapsed.TotalSeconds, "texts/s",
                    Note: "all-MiniLM-L6-v2 via the export graph, batch 32; embeddings memoised for the sample sizes below; " + split));
            }
            var trainer = new ClassifierTrainer { Dense = dense ?? DenseFeaturizer.Shared };
            TrainingResult? final = null;
            foreach (var (size, sample) in new (string, List<LabeledText>)[]
                     {
                         ("8/class", TrainingDatasets.PerClass(train, 8, 1)),
                         ("64/class", TrainingDatasets.PerClass(train, 64, 1)),
                         ("full", train),
                     })
            {
                ct.ThrowIfCancellationRequested();
                var majority = sample.GroupBy(r => r.Label).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).First().Key;
                var maj = Evaluation.FromPredictions(labels, test, test.Select(_ => new Prediction(majority, 1, labels.Select(l => l == majority ? 1f : 0f).ToArray())).ToList());
                var (mlSeconds, mlAccuracy, mlMacro) = MlNetDefaultFull(sample, test);
                // Validation comes from the sample itself (never the test split): 10 % of the full split, 25 % of a small sample.
                var (fit, validation) = StratifiedSplit.Split(sample, size == "full" ? 0.1 : 0.25, 1);
                var result = trainer.Train(labels, fit, validation, null, new TrainingOptions(family), null, ct);
                if (size == "full") final = result;
                var baseNote = $"{sample.Count} rows ({fit.Count} fit + {validation.Count} validation); baseline: ML.NET default pipeline on the same rows; majority class acc {maj.Accuracy.ToString("0.000", Ci)}, macro-F1 {maj.MacroF1.ToString("0.000", Ci)}";
                void Scores(string fam, EvaluationReport r, string extra)
                {
                    rows.Add(new BenchmarkRow(bench, $"{fam} test accuracy, {size}", r.Accuracy, "", mlAccuracy, baseNote + extra));
                    rows.Add(new BenchmarkRow(bench, $"{fam} test macro-F1, {size}", r.MacroF1, "", mlMacro, $"baseline: ML.NET default pipeline; majority {maj.MacroF1.ToString("0.000", Ci)}"));
                }
                foreach (var (fam, model) in result.Models.OrderBy(m => m.Key))
                {
                    var report = fam == ModelFamily.Dense && testVectors is not null
                        ? Evaluation.FromPredictions(labels, test, testVectors.Select(v => Predict(model, v)).ToList())
                        : Evaluation.Evaluate(model, test);
                    Scores(fam.ToString().ToLowerInvariant(), report, "");
                    rows.Add(new BenchmarkRow(bench, $"{fam.ToString().ToLowerInvariant()} train seconds, {size}", result.Seconds[fam], "s", mlSeconds,
                        "baseline: ML.NET default pipeline" + (fam == ModelFamily.Dense ? "; embeddings memoised (see embedding row), so this is the head fit" : "")));
                }
                if (size == "full" && family != ModelFamily.Dense)
                {
                    // The sparse family without conjunction features, same rows and split: what they add.
                    var plain = new ClassifierTrainer { ConjunctionCount = 0 }.Train(labels, fit, validation, null, new TrainingOptions(ModelFamily.Sparse), null, ct);
                    var withConj = Evaluation.Evaluate(result.Models[ModelFamily.Sparse], test);
                    var noConj = Evaluation.Evaluate(plain.Model, test);
                    rows.Add(new BenchmarkRow(bench, "sparse test accuracy, full, with conjunctions", withConj.Accuracy, "", noConj.Accuracy, "baseline: the sparse family without conjunction features, same rows"));
                    rows.Add(new BenchmarkRow(bench, "sparse test macro-F1, full, with conjunctions", withConj.MacroF1, "", noConj.MacroF1, "baseline: the sparse family without conjunction features, same rows"));
                }
                if (family == ModelFamily.Auto)
                {
                    var chosen = result.Models[result.ChosenFamily];
                    var report = result.ChosenFamily == ModelFamily.Dense && testVectors is not null
                        ? Evaluation.FromPredictions(labels, test, testVectors.Select(v => Predict(chosen, v)).ToList())
                        : Evaluation.Evaluate(chosen, test);
                    Scores("auto", report, $"; auto chose {result.ChosenFamily.ToString().ToLowerInvariant()} on validation");
                }
            }

            // Inference of the full-split models through plain ONNX Runtime, one thread.
            foreach (var (fam, model) in final!.Models.OrderBy(m => m.Key))
            {
                var n = model.NeedsOnnxRuntimeExtensions ? Math.Min(testTexts.Count, 256) : Math.Min(testTexts.Count, 2000);
                var texts = testTexts.Take(n).ToArray();
                var onnx = model.ExportOnnx();
                using var single = new OnnxClassifier(onnx, model.Labels, fam, model.NeedsOnnxRuntimeExtensions, intraOpThreads: 1) { BatchSize = 1 };
                single.Predict([texts[0]]);
                var singleRate = SparseTrainingBenchmark.Rate(texts, 1, b => single.Predict(b));
                using var batched = new OnnxClassifier(onnx, model.Labels, fam, model.NeedsOnnxRuntimeExtensions, intraOpThreads: 1) { BatchSize = 64 };
                batched.Predict([texts[0]]);
                var batchRate = SparseTrainingBenchmark.Rate(texts, 64, b => batched.Predict(b));
                var f = fam.ToString().ToLowerInvariant();
                rows.Add(new BenchmarkRow(bench, $"{f} ONNX texts/s, 1 per call, 1 thread", singleRate, "texts/s", Note: $"{n} test texts; model.onnx {onnx.Length / 1024} KiB"));
                rows.Add(new BenchmarkRow(bench, $"{f} ONNX texts/s, batch 64, 1 thread", batchRate, "texts/s", singleRate, "baseline: 1 per call"));
            }
            using (var p = Process.GetCurrentProcess())
            {
                rows.Add(new BenchmarkRow(bench, "process peak working set", p.PeakWorkingSet64 / 1048576.0, "MiB",
                    Note: "whole bench process so far (OS high-water mark, includes the MiniLM session once loaded)"));
            }
            rows.Add(new BenchmarkRow(bench, "managed allocations for this dataset", (GC.GetTotalAllocatedBytes(precise: false) - allocatedBefore) / 1048576.0, "MiB",
                Note: "GC.GetTotalAllocatedBytes delta (all sizes, both families, baselines, inference); not a peak"));
        }
        return rows;
    }

    private static Prediction Predict(TrainedClassifier model, float[] vector)
    {
        var p = model.Head.Probabilities(vector);
        var best = LinearHead.ArgMax(p);
        return new Prediction(model.Labels[best], p[best], p);
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
        var report = Evaluation.FromPredictions(labels, test, predicted.Select(p => new Prediction(p, 1, labels.Select(l => l == p ? 1f : 0f).ToArray())).ToList());
        return (seconds, report.Accuracy, report.MacroF1);
    }
}
