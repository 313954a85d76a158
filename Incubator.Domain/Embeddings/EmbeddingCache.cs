using System.Security.Cryptography;
using System.Text;

namespace Incubator.Domain.Embeddings;

/// <summary>Least-recently-used store of vectors keyed by (embedder name, SHA-256 of the text), bounded by the bytes
/// the vectors take (a 2^16-d n-gram vector is 256 KiB, a MiniLM vector 1.5 KiB, so a count bound would mean nothing).
/// One instance per DI container; thread-safe. Vectors are copied in and out, so callers cannot corrupt it.</summary>
public sealed class EmbeddingCache
{
    public const long DefaultMaxBytes = 64L * 1024 * 1024;

    private readonly Lock _gate = new();
    private readonly Dictionary<Key, LinkedListNode<(Key Key, float[] Vector)>> _map = [];
    private readonly LinkedList<(Key Key, float[] Vector)> _lru = new();
    private long _bytes;

    public EmbeddingCache(long maxBytes = DefaultMaxBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytes);
        MaxBytes = maxBytes;
    }

    public long MaxBytes { get; }

    public int Count
    {
        get { lock (_gate) return _map.Count; }
    }

    public long Bytes
    {
        get { lock (_gate) return _bytes; }
    }

    public long Hits { get; private set; }

    public long Misses { get; private set; }

    public static Key KeyFor(string embedderName, string text)
    {
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(text), digest);
        return new Key(embedderName, BitConverter.ToUInt128(digest));
    }

    public bool TryGet(Key key, out float[] vector)
    {
        lock (_gate)
        {
            if (_map.TryGetValue(key, out var node))
            {
                _lru.Remove(node);
                _lru.AddFirst(node);
                Hits++;
                vector = (float[])node.Value.Vector.Clone();
                return true;
            }
            Misses++;
        }
        vector = [];
        return false;
    }

    public void Set(Key key, float[] vector)
    {
        long size = SizeOf(vector);
        if (size > MaxBytes) return;
        var copy = (float[])vector.Clone();
        lock (_gate)
        {
            if (_map.TryGetValue(key, out var existing))
            {
                _lru.Remove(existing);
                _map.Remove(key);
                _bytes -= SizeOf(existing.Value.Vector);
            }
            _map[key] = _lru.AddFirst((key, copy));
            _bytes += size;
            while (_bytes > MaxBytes && _lru.Last is { } last)
            {
                _lru.RemoveLast();
                _map.Remove(last.Value.Key);
                _bytes -= SizeOf(last.Value.Vector);
            }
        }
    }

    private static long SizeOf(float[] v) => (long)v.Length * sizeof(float) + 64; // + node and key overhead, roughly

    public readonly record struct Key(string Embedder, UInt128 TextHash);
}

/// <summary>Decorates an embedder with <see cref="EmbeddingCache"/>: looks every text up, embeds only the misses (in
/// one batched call, each distinct text once) and stores them. Same <see cref="Name"/> as the embedder it wraps.</summary>
public sealed class CachedEmbedder(ITextEmbedder inner, EmbeddingCache cache) : ITextEmbedder
{
    public ITextEmbedder Inner => inner;

    public string Name => inner.Name;

    public int Dimensions => inner.Dimensions;

    public float[][] Embed(IReadOnlyList<string> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var result = new float[texts.Count][];
        var missing = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        for (var i = 0; i < texts.Count; i++)
        {
            var text = texts[i] ?? "";
            if (cache.TryGet(EmbeddingCache.KeyFor(inner.Name, text), out var hit)) result[i] = hit;
            else if (missing.TryGetValue(text, out var positions)) positions.Add(i);
            else missing[text] = [i];
        }
        if (missing.Count == 0) return result;

        var toEmbed = missing.Keys.ToArray();
        var vectors = inner.Embed(toEmbed);
        for (var k = 0; k < toEmbed.Length; k++)
        {
            cache.Set(EmbeddingCache.KeyFor(inner.Name, toEmbed[k]), vectors[k]);
            var positions = missing[toEmbed[k]];
            result[positions[0]] = vectors[k];
            for (var p = 1; p < positions.Count; p++) result[positions[p]] = (float[])vectors[k].Clone();
        }
        return result;
    }
}
