using System.Globalization;
using Incubator.Domain.Training;
using Incubator.Domain.Training.Onnx;

namespace Incubator.Domain.Benchmarks;

/// <summary>What batching buys a dense bundle in plain ONNX Runtime, on every set the encoder can read: texts/s at
/// batch 64 against one text per call, with one intra-op thread and with ONNX Runtime's default thread count (what a
/// user's runtime does when it sets nothing), for the float and the 8-bit encoder; and the chunk size inside the graph
/// (texts sorted by length, encoded in chunks each cut to its longest text) at 4, 16 and 32 against the shipped 8. The
/// models are dense heads fitted on 64 texts per label (the head does not change the encoder's cost); each rate is the
/// best of three interleaved rounds, so a burst of other load on the shared machine counts against neither side.</summary>
internal sealed class DenseBatchingBenchmark : IBenchmark
{
    public string Name => "training.dense-batching";

    public string Description => "dense bundle texts/s at batch 64 vs 1, one thread and default threads, float and 8-bit encoder; chunk size 4/16/32 vs 8";

    public Task<IReadOnlyList<BenchmarkRow>> RunAsync(CancellationToken ct) => Task.Run(() => Run(ct), ct);

    private static readonly CultureInfo Ci = CultureInfo.InvariantCulture;

    private const int Rounds = 3;

    private IReadOnlyList<BenchmarkRow> Run(CancellationToken ct)
    {
        var root = TrainingDatasets.Find();
        if (root is null) return [new BenchmarkRow(Name, "skipped", 0, "", Note: "../shared/datasets not found")];
        var rows = new List<BenchmarkRow>();
        foreach (var (_, bench, (train, test, split)) in TrainingDatasets.Loaded(root, Name, rows, ct))
        {
            if (EncoderCoverage.Shared.Share(train.Select(r => r.Text).ToList()) < EncoderCoverage.MinimumShare) continue;
            Console.Error.WriteLine($"  {bench}");
            var labels = train.Select(r => r.Label).Distinct().Order(StringComparer.Ordinal).ToList();
            var (fit, validation) = DatasetBenchmark.TrainerSplit(TrainingDatasets.PerClass(train, 64, 1), full: false);
            var texts = test.Select(r => r.Text).Take(128).ToArray();
            var tokens = Tokens(texts);
            var tokensNote = $"{tokens.Average().ToString("0.0", Ci)} tokens per text on average ([CLS] and [SEP] included)";
            foreach (var kind in new[] { EncoderKind.MiniLm, EncoderKind.MiniLmInt8 })
            {
                ct.ThrowIfCancellationRequested();
                var enc = kind == EncoderKind.MiniLm ? "float" : "8-bit";
                var model = new ClassifierTrainer { Dense = DenseFeaturizer.For(kind) }
                    .Train(labels, fit, validation, null, new TrainingOptions(ModelFamily.Dense), null, ct).Model;
                DenseFeaturizer.ReleaseShared();
                var onnx = model.ExportOnnx();
                foreach (var threads in new[] { 1, 0 })
                {
                    var t = threads == 1 ? "1 thread" : $"default threads ({Environment.ProcessorCount} cores)";
                    var (one, many) = BestOf(onnx, labels, threads, texts, 1, 64);
                    rows.Add(new BenchmarkRow(bench, $"{enc} dense texts/s, batch 64 vs 1, {t}", many.Wall, "texts/s", one.Wall,
                        $"baseline: 1 per call ({texts.Length / 2} texts); {texts.Length} texts at batch 64; per CPU-second {many.Cpu.ToString("0", Ci)} vs {one.Cpu.ToString("0", Ci)}; aim ≥ 2×; best of {Rounds}; {split}"));
                    rows.Add(new BenchmarkRow(bench, $"{enc} dense texts per CPU-second, batch 64 vs 1, {t}", many.Cpu, "texts/s", one.Cpu, "baseline: 1 per call, per CPU-second"));
                    if (threads == 1 && kind == EncoderKind.MiniLm)
                        rows.Add(new BenchmarkRow(bench, "float encoder GFLOP per CPU-second, batch 64, 1 thread", many.Cpu * tokens.Average(t => Flops(t)) / 1e9, "GFLOP/s", one.Cpu * tokens.Take(texts.Length / 2).Average(t => Flops(t)) / 1e9,
                            $"baseline: 1 per call; the encoder's multiply-adds ×2 (6 layers: Q, K, V, output, two feed-forward matrices and attention, by each text's own token count); {tokensNote}"));
                    foreach (var chunk in new[] { 4, 16, 32 })
                    {
                        ct.ThrowIfCancellationRequested();
                        var variant = DenseOnnxExport.Build(kind, model.Head, labels, chunk);
                        var (shipped, other) = BestOf2(onnx, variant, labels, threads, texts);
                        rows.Add(new BenchmarkRow(bench, $"{enc} dense texts/s, batch 64, chunk {chunk} vs {DenseOnnxExport.ChunkSize}, {t}", other.Wall, "texts/s", shipped.Wall,
                            $"baseline: the shipped chunk size; per CPU-second {other.Cpu.ToString("0", Ci)} vs {shipped.Cpu.ToString("0", Ci)}"));
                    }
                }
            }
        }
        return rows;
    }

    /// <summary>Floating-point operations of all-MiniLM-L6-v2 on one text of <paramref name="t"/> tokens: per layer the
    /// four 384×384 projections and the 384×1536 and 1536×384 feed-forward matrices per token, and QKᵀ and attention·V
    /// (t² · 384 each); 2 operations per multiply-add. Softmax, LayerNorm, GELU and the embeddings are left out.</summary>
    internal static double Flops(int t) => 6 * 2.0 * ((4 * 384.0 * 384 + 2 * 384.0 * 1536) * t + 2 * 384.0 * t * t);

    /// <summary>Each text's token count as the bundle's tokenizer cuts it (one BertTokenizer node with the graph's
    /// settings).</summary>
    internal static int[] Tokens(IReadOnlyList<string> texts)
    {
        var g = new OnnxGraphBuilder("tok") { DefaultOpset = 13, IrVersion = 7 };
        g.Opset(DenseOnnxExport.ExtensionsDomain, 1);
        g.Input("text", OnnxType.String, 1);
        g.Node("BertTokenizer", ["text"], ["ids", "types", "mask"], DenseOnnxExport.ExtensionsDomain,
            ("vocab_file", EncoderGraph.Load(EncoderKind.MiniLm).Vocab), ("do_lower_case", 1L), ("strip_accents", 1L), ("max_length", (long)DenseFeaturizer.MaxTokens),
            ("truncation_strategy_name", "longest_first"));
        g.Output("ids", OnnxType.Int64, "T");
        using var session = DenseFeaturizer.CreateSession(g.Build("tokens", "Incubator", "token counts"));
        return [.. texts.Select(t =>
        {
            using var o = session.Run([Microsoft.ML.OnnxRuntime.NamedOnnxValue.CreateFromTensor("text", new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<string>(new[] { t }, [1]))]);
            return (int)o.First().AsTensor<long>().Length;
        })];
    }

    /// <summary>The same graph at two batch sizes (the first on half the texts), rounds interleaved, best rate of each.</summary>
    private static ((double Wall, double Cpu) A, (double Wall, double Cpu) B) BestOf(byte[] onnx, IReadOnlyList<string> labels, int threads, string[] texts, int batchA, int batchB)
    {
        using var a = new OnnxClassifier(onnx, labels, ModelFamily.Dense, true, threads) { BatchSize = batchA };
        using var b = new OnnxClassifier(onnx, labels, ModelFamily.Dense, true, threads) { BatchSize = batchB };
        var half = texts[..(texts.Length / 2)];
        a.Predict(half[..Math.Min(half.Length, 4)]);
        b.Predict(texts[..Math.Min(texts.Length, batchB)]);
        return Interleave(() => SparseTrainingBenchmark.Rates(half, batchA, a.Predict), () => SparseTrainingBenchmark.Rates(texts, batchB, b.Predict));
    }

    /// <summary>Two graphs at batch 64 on the same texts, rounds interleaved, best rate of each.</summary>
    internal static ((double Wall, double Cpu) A, (double Wall, double Cpu) B) BestOf2(byte[] first, byte[] second, IReadOnlyList<string> labels, int threads, string[] texts)
    {
        using var a = new OnnxClassifier(first, labels, ModelFamily.Dense, true, threads) { BatchSize = 64 };
        using var b = new OnnxClassifier(second, labels, ModelFamily.Dense, true, threads) { BatchSize = 64 };
        a.Predict(texts[..Math.Min(texts.Length, 64)]);
        b.Predict(texts[..Math.Min(texts.Length, 64)]);
        return Interleave(() => SparseTrainingBenchmark.Rates(texts, 64, a.Predict), () => SparseTrainingBenchmark.Rates(texts, 64, b.Predict));
    }

    private static ((double Wall, double Cpu) A, (double Wall, double Cpu) B) Interleave(Func<(double Wall, double Cpu)> a, Func<(double Wall, double Cpu)> b)
    {
        (double Wall, double Cpu) bestA = (0, 0), bestB = (0, 0);
        for (var round = 0; round < Rounds; round++)
        {
            var ra = a();
            var rb = b();
            bestA = (Math.Max(bestA.Wall, ra.Wall), Math.Max(bestA.Cpu, ra.Cpu));
            bestB = (Math.Max(bestB.Wall, rb.Wall), Math.Max(bestB.Cpu, rb.Cpu));
        }
        return (bestA, bestB);
    }
}
