using System.Diagnostics;
using Incubator.Domain.Mining.Query;
using Incubator.Domain.Training;

namespace Incubator.Domain.Benchmarks;

/// <summary>Short support messages built from three independent aspects — urgency, topic, sentiment — each carried
/// by its own words, so three classifiers trained on them each learn one aspect. Used by the query benchmark and the
/// query tests (the texts are generated, not real data; the models' quality is not the point).</summary>
internal static class SyntheticTickets
{
    public static readonly (string Model, string[] Labels, string[][] Words)[] Aspects =
    [
        ("urgency", ["urgent", "normal"],
            [["urgent", "immediately", "asap", "emergency", "critical", "right now"], ["whenever", "no rush", "sometime", "eventually", "later", "at your convenience"]]),
        ("topic", ["shipping", "billing"],
            [["package", "delivery", "courier", "tracking", "parcel", "shipment"], ["invoice", "refund", "charge", "payment", "bill", "subscription fee"]]),
        ("sentiment", ["positive", "negative"],
            [["thanks", "great", "love", "happy", "wonderful", "appreciate"], ["angry", "terrible", "awful", "disappointed", "hate", "furious"]]),
    ];

    private static readonly string[] Fillers = ["about my", "regarding the", "hello, question on the", "hi team,", "note on", "re:"];

    /// <summary>A text and, per aspect (in <see cref="Aspects"/> order), the index of its label.</summary>
    public static (string Text, int[] Labels) Make(Random rng)
    {
        var labels = new int[Aspects.Length];
        var words = new List<string> { Fillers[rng.Next(Fillers.Length)] };
        for (var a = 0; a < Aspects.Length; a++)
        {
            labels[a] = rng.Next(2);
            var pool = Aspects[a].Words[labels[a]];
            words.Add(pool[rng.Next(pool.Length)]);
        }
        // Shuffle the aspect words so position carries no signal.
        for (var i = words.Count - 1; i > 1; i--)
        {
            var j = 1 + rng.Next(i);
            (words[i], words[j]) = (words[j], words[i]);
        }
        return (string.Join(' ', words), labels);
    }

    public static List<string> Texts(int count, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => Make(rng).Text).ToList();
    }

    /// <summary>Trains one small sparse model per aspect (name → model).</summary>
    public static Dictionary<string, TrainedClassifier> TrainModels(int perModel = 240, int seed = 7)
    {
        var rng = new Random(seed);
        var rows = Enumerable.Range(0, perModel).Select(_ => Make(rng)).ToList();
        var models = new Dictionary<string, TrainedClassifier>(StringComparer.Ordinal);
        for (var a = 0; a < Aspects.Length; a++)
        {
            var (name, labels, _) = Aspects[a];
            var labelled = rows.Select(r => new LabeledText(labels[r.Labels[a]], r.Text)).ToList();
            var split = labelled.Count * 3 / 4;
            models[name] = new ClassifierTrainer().Train(labels, labelled[..split], labelled[split..], null,
                new TrainingOptions(ModelFamily.Sparse, seed), null, CancellationToken.None).Model;
        }
        return models;
    }
}

/// <summary>Query throughput: a three-clause query over three sparse models (each loaded from its ONNX bundle, as the
/// job and the CLI run them), against the baseline of one model's bare Predict over the same texts in the same run.</summary>
internal sealed class QueryThroughputBenchmark(int texts = 100_000) : IBenchmark
{
    public string Name => "mining.query";

    public string Description => $"Query of three sparse ONNX models over {texts:N0} texts (texts/s) vs one model's bare Predict.";

    public Task<IReadOnlyList<BenchmarkRow>> RunAsync(CancellationToken ct) => Task.Run(() =>
    {
        var trained = SyntheticTickets.TrainModels();
        var loaded = new Dictionary<string, ITextClassifier>(StringComparer.Ordinal);
        var bundles = new List<LoadedBundle>();
        try
        {
            foreach (var (name, model) in trained)
            {
                using var ms = new MemoryStream();
                ModelBundle.Write(ms, model, new BundleInfo(name, "1", "# " + name));
                ms.Position = 0;
                var bundle = ModelBundle.Read(ms);
                bundles.Add(bundle);
                loaded[name] = bundle.Classifier;
            }
            var corpus = SyntheticTickets.Texts(texts, 11);
            var query = CompiledQuery.Compile("urgency:urgent>=0.6 AND topic:shipping AND NOT sentiment:positive", QueryEvaluator.SchemaOf(loaded));
            const int batch = 256;

            // Warm-up: the first ONNX runs allocate and JIT.
            QueryEvaluator.Evaluate(query, loaded, corpus.Take(batch).ToList());

            var sw = Stopwatch.StartNew();
            foreach (var chunk in corpus.Chunk(batch))
            {
                ct.ThrowIfCancellationRequested();
                loaded["urgency"].Predict(chunk);
            }
            var bare = texts / sw.Elapsed.TotalSeconds;

            sw.Restart();
            long matched = 0;
            foreach (var chunk in corpus.Chunk(batch))
            {
                ct.ThrowIfCancellationRequested();
                matched += QueryEvaluator.Evaluate(query, loaded, chunk).Funnel.Matched;
            }
            var rate = texts / sw.Elapsed.TotalSeconds;
            IReadOnlyList<BenchmarkRow> rows =
            [
                new(Name, "query throughput (3 sparse models, 3 clauses)", rate, "texts/s", bare,
                    $"{texts:N0} texts, batches of {batch}, {matched:N0} matched; baseline: urgency model's bare Predict (ideal ratio ≈ 0.33)"),
            ];
            return rows;
        }
        finally
        {
            foreach (var b in bundles) b.Dispose();
        }
    }, ct);
}
