using System.Diagnostics;
using System.Globalization;
using Incubator.Domain.Benchmarks;
using Microsoft.ML;

namespace Incubator.Domain.Training;

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

/// <summary>Accuracy and macro-F1 on ../shared/datasets (SST-2 test split, SMS spam and chABSA with a seeded
/// stratified 80/20 split) for sparse, dense and auto, against the majority class and ML.NET's default text
/// pipeline in the same run; training seconds. Skipped (one row saying so) when the data is absent.</summary>
internal sealed class DatasetBenchmark : IBenchmark
{
    public string Name => "training.datasets";

    public string Description => "sparse/dense/auto accuracy on SST-2, SMS spam, chABSA (../shared/datasets) vs majority class and ML.NET default pipeline";

    public Task<IReadOnlyList<BenchmarkRow>> RunAsync(CancellationToken ct) => Task.Run(() => Run(ct), ct);

    private static readonly CultureInfo Ci = CultureInfo.InvariantCulture;

    private IReadOnlyList<BenchmarkRow> Run(CancellationToken ct)
    {
        var root = FindDatasets();
        if (root is null) return [new BenchmarkRow(Name, "skipped", 0, "", Note: "../shared/datasets not found")];
        var rows = new List<BenchmarkRow>();
        var sets = new List<(string Name, Func<(List<LabeledText> Train, List<LabeledText> Test, string Split)> Load, string Metric)>
        {
            ("sst2", () => (ReadSst(Path.Combine(root, "sst2", "stsa.binary.train")), ReadSst(Path.Combine(root, "sst2", "stsa.binary.test")), "given train/test"), "accuracy"),
            ("sms_spam", () => Split(ReadTsv(Path.Combine(root, "sms_spam", "SMSSpamCollection"), 0, 1, false)), "macro-F1"),
            ("chabsa", () => Split(ReadTsv(Path.Combine(root, "chabsa", "chabsa_sentences.tsv"), 0, 3, true)), "accuracy"),
        };
        foreach (var (name, load, metric) in sets)
        {
            ct.ThrowIfCancellationRequested();
            List<LabeledText> train, test;
            string split;
            try
            {
                (train, test, split) = load();
            }
            catch (IOException)
            {
                rows.Add(new BenchmarkRow($"{Name}.{name}", "skipped", 0, "", Note: "files not found"));
                continue;
            }
            var labels = train.Select(r => r.Label).Distinct().Order(StringComparer.Ordinal).ToList();
            var majority = train.GroupBy(r => r.Label).OrderByDescending(g => g.Count()).First().Key;
            var majorityScore = Score(Evaluation.FromPredictions(labels, test, test.Select(_ => new Prediction(majority, 1, labels.Select(l => l == majority ? 1f : 0f).ToArray())).ToList()), metric);
            var (mlSeconds, mlAccuracy, mlMacro) = MlNetDefaultFull(train, test);
            var mlScore = metric == "accuracy" ? mlAccuracy : mlMacro;
            var (fitTrain, validation) = StratifiedSplit.Split(train, 0.1, 1);
            var sw = Stopwatch.StartNew();
            var result = new ClassifierTrainer().Train(labels, fitTrain, validation, null, new TrainingOptions(ModelFamily.Auto), null, ct);
            var seconds = sw.Elapsed.TotalSeconds;
            foreach (var (family, model) in result.Models.OrderBy(m => m.Key))
            {
                var report = Evaluation.Evaluate(model, test);
                rows.Add(new BenchmarkRow($"{Name}.{name}", $"{family.ToString().ToLowerInvariant()} test {metric}", Score(report, metric), "", mlScore,
                    $"baseline: ML.NET default pipeline; majority {majorityScore.ToString("0.000", Ci)}; {split}; acc {report.Accuracy.ToString("0.000", Ci)} macro-F1 {report.MacroF1.ToString("0.000", Ci)}"));
            }
            var chosen = Evaluation.Evaluate(result.Model, test);
            rows.Add(new BenchmarkRow($"{Name}.{name}", $"auto test {metric}", Score(chosen, metric), "", mlScore, $"auto chose {result.ChosenFamily.ToString().ToLowerInvariant()} on validation"));
            rows.Add(new BenchmarkRow($"{Name}.{name}", "train seconds (both families)", seconds, "s", mlSeconds, "baseline: ML.NET default pipeline"));
        }
        return rows;
    }

    private static double Score(EvaluationReport r, string metric) => metric == "accuracy" ? r.Accuracy : r.MacroF1;

    private static (List<LabeledText>, List<LabeledText>, string) Split(List<LabeledText> rows)
    {
        var (train, test) = StratifiedSplit.Split(rows, 0.2, 1);
        return (train, test, "seeded stratified 80/20 split (seed 1)");
    }

    private static string? FindDatasets()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            var dir = new DirectoryInfo(start);
            while (dir is not null)
            {
                var candidate = Path.Combine(dir.FullName, "shared", "datasets");
                if (Directory.Exists(candidate)) return candidate;
                dir = dir.Parent;
            }
        }
        return null;
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
