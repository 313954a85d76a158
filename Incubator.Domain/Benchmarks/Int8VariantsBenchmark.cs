using System.Globalization;
using Incubator.Domain.Training;
using Incubator.Domain.Training.Onnx;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using static Incubator.Domain.Training.Onnx.EncoderGraph;

namespace Incubator.Domain.Benchmarks;

/// <summary>Which parts of the 8-bit encoder cost accuracy, on every set the encoder can read: for each variant (the
/// shipped graph, the one before, a group of MatMuls or a layer kept in float, the word-embedding table in float, the
/// activation handling piece by piece) the distortion of its sentence vectors
/// against the float encoder (1 − cosine over the first INCUBATOR_BENCH_INT8_TEXTS test texts, default 300) and its
/// embedder's size and texts per CPU-second at batch 64 and 1 (one thread); for the variants named in
/// INCUBATOR_BENCH_INT8_ACCURACY (comma-separated, "all" or "none"; unset: the shipped graph and the one before) the dense and
/// hybrid families' test accuracy trained on each variant's embeddings against the float encoder's, and beside it the
/// dense accuracy on the float vectors moved at random by as much (three seeds: the noise floor of that comparison).
/// INCUBATOR_BENCH_INT8_VARIANTS (comma-separated names) keeps only those variants besides the two; the shipped graph's
/// speed against the one before, interleaved (decision 0019).</summary>
internal sealed class Int8VariantsBenchmark : IBenchmark
{
    public string Name => "training.int8-variants";

    public string Description => "8-bit encoder variants (shipped, before, parts in float, activation handling): distortion against float, size, texts/s, dense and hybrid accuracy with its noise floor";

    public Task<IReadOnlyList<BenchmarkRow>> RunAsync(CancellationToken ct) => Task.Run(() => Run(ct), ct);

    private static readonly CultureInfo Ci = CultureInfo.InvariantCulture;

    /// <summary>The shipped graph, the graph before (every other variant is one change to it, as measured), parts kept
    /// in float, and the activation handling piece by piece.</summary>
    internal static IEnumerable<Int8Options> Variants()
    {
        var before = Int8Options.Before;
        yield return Int8Options.Shipped;
        yield return before;
        yield return before with { Name = "feed-forward output float", KeepFloat = (_, r) => r == MatMulRole.FeedForwardOut };
        yield return before with { Name = "feed-forward input float", KeepFloat = (_, r) => r == MatMulRole.FeedForwardIn };
        yield return before with { Name = "attention output float", KeepFloat = (_, r) => r == MatMulRole.AttentionOutput };
        yield return before with { Name = "Q, K, V float", KeepFloat = (_, r) => r == MatMulRole.QueryKeyValue };
        for (var layer = 0; layer < 6; layer++)
        {
            var l = layer;
            yield return before with { Name = $"layer {l} float", KeepFloat = (x, _) => x == l };
        }
        yield return before with { Name = "word embeddings float", FloatWordEmbeddings = true };
        yield return before with { Name = "smoothing exponent 0.35", SmoothExponent = 0.35f };
        yield return before with { Name = "smoothing exponent 0.65", SmoothExponent = 0.65f };
        yield return before with { Name = "GELU shift corrected by dequantised sums", DequantisedSums = true };
        yield return before with { Name = "asymmetric tokens", Asymmetric = true };
        yield return Int8Options.Shipped with { Name = "shipped with smoothing exponent 0.65", SmoothExponent = 0.65f };
        yield return Int8Options.Shipped with { Name = "shipped with smoothing exponent 0.9", SmoothExponent = 0.9f };
        yield return Int8Options.Shipped with { Name = "shipped with smoothing exponent 1.0", SmoothExponent = 1.0f };
    }

    private IReadOnlyList<BenchmarkRow> Run(CancellationToken ct)
    {
        var root = TrainingDatasets.Find();
        if (root is null) return [new BenchmarkRow(Name, "skipped", 0, "", Note: "../shared/datasets not found")];
        var sampleSize = int.TryParse(Environment.GetEnvironmentVariable("INCUBATOR_BENCH_INT8_TEXTS"), out var n) && n > 0 ? n : 300;
        var accuracyFor = (Environment.GetEnvironmentVariable("INCUBATOR_BENCH_INT8_ACCURACY") ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var rows = new List<BenchmarkRow>();
        var only = (Environment.GetEnvironmentVariable("INCUBATOR_BENCH_INT8_VARIANTS") ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var variants = Variants().Where(v => v == Int8Options.Shipped || v == Int8Options.Before || only.Count == 0 || only.Contains(v.Name)).ToList();
        foreach (var (_, bench, (train, test, split)) in TrainingDatasets.Loaded(root, Name, rows, ct))
        {
            if (EncoderCoverage.Shared.Share(train.Select(r => r.Text).ToList()) < EncoderCoverage.MinimumShare) continue;
            Console.Error.WriteLine($"  {bench}");
            var labels = train.Select(r => r.Label).Distinct().Order(StringComparer.Ordinal).ToList();
            var (fit, validation) = DatasetBenchmark.TrainerSplit(train, full: true);
            var sample = test.Select(r => r.Text).Take(sampleSize).ToArray();
            var all = train.Select(r => r.Text).Concat(test.Select(r => r.Text)).Distinct(StringComparer.Ordinal).ToArray();
            var floatEmbedder = DenseOnnxExport.BuildEmbedder(EncoderKind.MiniLm);
            bool WantsAccuracy(Int8Options v) => accuracyFor.Count == 0 ? v == Int8Options.Shipped || v == Int8Options.Before
                : accuracyFor.Contains("all") || accuracyFor.Contains(v.Name);
            // Every text through the float encoder only when some variant's accuracy is measured; the distortion needs the sample.
            var accuracy = variants.Any(WantsAccuracy);
            var floatTexts = accuracy ? all : sample.Distinct(StringComparer.Ordinal).ToArray();
            float[][] floatAll;
            using (var s = DenseFeaturizer.CreateSession(floatEmbedder, 1)) floatAll = Embed(s, floatTexts);
            var floatIndex = floatTexts.Select((t, i) => (t, i)).ToDictionary(x => x.t, x => x.i, StringComparer.Ordinal);
            var floatAcc = accuracy ? Accuracy(EncoderKind.MiniLm, all, floatAll, labels, fit, validation, test, ct) : default;
            using var shippedSession = DenseFeaturizer.CreateSession(DenseOnnxExport.BuildEmbedder(EncoderKind.MiniLmInt8), 1);
            foreach (var v in variants)
            {
                ct.ThrowIfCancellationRequested();
                Console.Error.WriteLine($"    {v.Name}");
                var embedder = DenseOnnxExport.BuildEmbedder(LoadInt8(v));
                using var session = DenseFeaturizer.CreateSession(embedder, 1);
                var vectors = Embed(session, sample);
                var distortion = sample.Select((t, i) => 1 - Dot(vectors[i], floatAll[floatIndex[t]])).ToArray();
                var (one, many) = Speed(session, sample);
                if (v == Int8Options.Before)
                {
                    // Speed against the shipped graph, rounds interleaved, best of 3 (the per-variant figures are single runs).
                    double bestOne = 0, bestMany = 0, shippedOne = 0, shippedMany = 0;
                    for (var round = 0; round < 3; round++)
                    {
                        var (o, m) = Speed(session, sample);
                        var (so, sm) = Speed(shippedSession, sample);
                        (bestOne, bestMany, shippedOne, shippedMany) = (Math.Max(bestOne, o), Math.Max(bestMany, m), Math.Max(shippedOne, so), Math.Max(shippedMany, sm));
                    }
                    rows.Add(new BenchmarkRow(bench, "shipped vs before: texts per CPU-second, batch 64, 1 thread", shippedMany, "texts/s", bestMany, "baseline: the graph before (symmetric tokens); embedder only, best of 3 interleaved"));
                    rows.Add(new BenchmarkRow(bench, "shipped vs before: texts per CPU-second, 1 per call, 1 thread", shippedOne, "texts/s", bestOne, "baseline: the graph before; best of 3 interleaved"));
                    rows.Add(new BenchmarkRow(bench, "shipped: batch 64 vs 1 per call, per CPU-second, 1 thread", shippedMany, "texts/s", shippedOne, "baseline: shipped, 1 per call"));
                }
                rows.Add(new BenchmarkRow(bench, $"{v.Name}: mean 1 − cos vs float", distortion.Average() * 1000, "×1e-3", Note:
                    $"max {(distortion.Max() * 1000).ToString("0.00", Ci)}e-3 over {sample.Length} test texts; embedder {(embedder.Length / 1048576.0).ToString("0.0", Ci)} MiB; 1 thread texts per CPU-second batch 64 {many.ToString("0", Ci)}, batch 1 {one.ToString("0", Ci)} ({(many / one).ToString("0.00", Ci)}×)"));
                if (!WantsAccuracy(v)) continue;
                var acc = Accuracy(EncoderKind.MiniLmInt8, all, Embed(session, all), labels, fit, validation, test, ct);
                string Points(double a, double b) => ((a - b) * 100).ToString("+0.00;-0.00;0.00", Ci) + " points";
                rows.Add(new BenchmarkRow(bench, $"{v.Name}: dense test accuracy", acc.Dense, "", floatAcc.Dense, $"baseline: float encoder; {Points(acc.Dense, floatAcc.Dense)}; {split}"));
                rows.Add(new BenchmarkRow(bench, $"{v.Name}: hybrid test accuracy", acc.Hybrid, "", floatAcc.Hybrid, $"baseline: float encoder; {Points(acc.Hybrid, floatAcc.Hybrid)}; dense L2 {acc.L2.ToString(Ci)} vs float {floatAcc.L2.ToString(Ci)}"));
                // The noise floor: the float vectors moved at random by as much as this variant moves them (same mean
                // 1 − cos), renormalised; how far dense accuracy moves from that alone.
                var sigma = Math.Sqrt(2 * distortion.Average() / (DenseFeaturizer.Dimension - 1));
                for (var seed = 1; seed <= 3; seed++)
                {
                    var rng = new Random(seed);
                    var noisy = floatAll.Select(f =>
                    {
                        var x = f.Select(value => value + (float)(sigma * Gaussian(rng))).ToArray();
                        var norm = MathF.Sqrt(Dot(x, x));
                        return x.Select(value => value / norm).ToArray();
                    }).ToArray();
                    var r = Accuracy(EncoderKind.MiniLm, all, noisy, labels, fit, validation, test, ct, denseOnly: true);
                    rows.Add(new BenchmarkRow(bench, $"{v.Name}: float + random noise of the same size (seed {seed}): dense test accuracy", r.Dense, "", floatAcc.Dense,
                        $"baseline: float encoder; {Points(r.Dense, floatAcc.Dense)}; σ {sigma.ToString("0.00000", Ci)} per dimension; dense L2 {r.L2.ToString(Ci)}"));
                }
            }
        }
        return rows;
    }

    private static double Gaussian(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    private static (double Dense, double Hybrid, float L2) Accuracy(EncoderKind kind, string[] texts, float[][] vectors, IReadOnlyList<string> labels,
        List<LabeledText> fit, List<LabeledText> validation, List<LabeledText> test, CancellationToken ct, bool denseOnly = false)
    {
        var encoder = new DenseFeaturizer(memoize: true, kind);
        encoder.Remember(texts, vectors);
        var trainer = new ClassifierTrainer { Dense = encoder };
        var dense = trainer.Train(labels, fit, validation, null, new TrainingOptions(ModelFamily.Dense, 1), null, ct);
        var hybrid = denseOnly ? null : trainer.Train(labels, fit, validation, null, new TrainingOptions(ModelFamily.Hybrid, 1), null, ct);
        if (encoder.EmbeddedTexts != 0) throw new InvalidOperationException("The benchmark's encoder embedded texts it was not given.");
        return (Evaluation.Evaluate(dense.Model, test).Accuracy, hybrid is null ? double.NaN : Evaluation.Evaluate(hybrid.Model, test).Accuracy, dense.L2.GetValueOrDefault(ModelFamily.Dense));
    }

    private static float Dot(float[] a, float[] b)
    {
        var s = 0f;
        for (var i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }

    /// <summary>Batches of 32 sorted by length, two at a time on a one-thread session (as the product embeds).</summary>
    private static float[][] Embed(InferenceSession session, string[] texts)
    {
        var result = new float[texts.Length][];
        var order = Enumerable.Range(0, texts.Length).OrderBy(i => texts[i].Length).ThenBy(i => i).ToArray();
        Parallel.For(0, (order.Length + 31) / 32, new ParallelOptions { MaxDegreeOfParallelism = 2 }, b =>
        {
            var idx = order[(b * 32)..Math.Min(order.Length, b * 32 + 32)];
            var flat = Run(session, [.. idx.Select(i => texts[i])]);
            for (var i = 0; i < idx.Length; i++) result[idx[i]] = flat.AsSpan(i * DenseFeaturizer.Dimension, DenseFeaturizer.Dimension).ToArray();
        });
        return result;
    }

    private static float[] Run(InferenceSession session, string[] batch)
    {
        using var outputs = session.Run([NamedOnnxValue.CreateFromTensor("text", new DenseTensor<string>(batch, [batch.Length]))]);
        return outputs.First().AsTensor<float>().ToArray();
    }

    /// <summary>Texts per CPU-second, one per call on the first 64 and batch 64 on the first 128.</summary>
    private static (double One, double Many) Speed(InferenceSession session, string[] texts)
    {
        var few = texts[..Math.Min(64, texts.Length)];
        var more = texts[..Math.Min(128, texts.Length)];
        IReadOnlyList<Prediction> Go(string[] b) { Run(session, b); return []; }
        var one = SparseTrainingBenchmark.Rates(few, 1, Go).Cpu;
        var many = SparseTrainingBenchmark.Rates(more, 64, Go).Cpu;
        return (one, many);
    }
}
