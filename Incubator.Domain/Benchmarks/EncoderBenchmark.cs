using System.Diagnostics;
using Incubator.Domain.Embeddings;

namespace Incubator.Domain.Benchmarks;

/// <summary>Sentences per second of the bare all-MiniLM-L6-v2 encoder, one sentence per call (the baseline) vs
/// batches of 32, measured in the same run on the same generated short sentences; plus the character n-gram
/// embedder's throughput on the same sentences, against the same baseline.</summary>
internal sealed class EncoderBenchmark : IBenchmark
{
    private const int SentenceCount = 512;
    private const int BatchSize = 32;

    public string Name => "embeddings.minilm";

    public string Description => $"{SentenceCount} short sentences through all-MiniLM-L6-v2, batch 1 vs {BatchSize}; char n-grams";

    public Task<IReadOnlyList<BenchmarkRow>> RunAsync(CancellationToken ct) => Task.Run(() => Run(ct), ct);

    private IReadOnlyList<BenchmarkRow> Run(CancellationToken ct)
    {
        var sentences = Sentences(SentenceCount);
        var load = Stopwatch.StartNew();
        using var encoder = MiniLmEmbedder.CreateEncoder();
        encoder.Encode([sentences[0]], ct); // first run allocates ONNX Runtime's buffers; not part of either rate
        load.Stop();

        var one = Rate(sentences, 1, batch => encoder.Encode(batch, ct), ct);
        var batched = Rate(sentences, BatchSize, batch => encoder.Encode(batch, ct), ct);
        var ngrams = new CharNgramEmbedder();
        var grams = Rate(sentences, BatchSize, batch => ngrams.Embed(batch), ct);
        return
        [
            new BenchmarkRow(Name, "model load + first call", load.Elapsed.TotalMilliseconds, "ms"),
            new BenchmarkRow(Name, "sentences/s, batch 1", one, "sent/s"),
            new BenchmarkRow(Name, $"sentences/s, batch {BatchSize}", batched, "sent/s", one, "baseline: MiniLM batch 1"),
            new BenchmarkRow(Name, $"char-ngram sentences/s, batch {BatchSize}", grams, "sent/s", one,
                $"baseline: MiniLM batch 1; {ngrams.Dimensions}-d dense output"),
        ];
    }

    private static double Rate(string[] sentences, int batchSize, Func<string[], float[][]> embed, CancellationToken ct)
    {
        var sw = Stopwatch.StartNew();
        for (var start = 0; start < sentences.Length; start += batchSize)
        {
            ct.ThrowIfCancellationRequested();
            embed(sentences[start..Math.Min(sentences.Length, start + batchSize)]);
        }
        return sentences.Length / sw.Elapsed.TotalSeconds;
    }

    /// <summary>Deterministic support-ticket-like sentences of 6–12 words.</summary>
    internal static string[] Sentences(int count)
    {
        string[] subjects = ["I", "My manager", "Our team", "The customer", "A colleague", "Nobody here", "My wife", "The intern"];
        string[] verbs = ["cannot open", "was charged twice for", "wants a refund for", "keeps losing", "needs help with", "reported a problem with", "loves", "is confused by"];
        string[] objects = ["the latest invoice", "the mobile app", "their account password", "the shared calendar", "the export to CSV", "yesterday's order", "the dashboard", "the login page"];
        string[] tails = ["since Monday.", "again today.", "after the update.", "and is upset.", "before the deadline.", "every single morning.", "on the new laptop.", "."];
        var rng = new Random(20240917);
        return Enumerable.Range(0, count)
            .Select(_ => $"{subjects[rng.Next(subjects.Length)]} {verbs[rng.Next(verbs.Length)]} {objects[rng.Next(objects.Length)]} {tails[rng.Next(tails.Length)]}".Replace(" .", ".", StringComparison.Ordinal))
            .ToArray();
    }
}
