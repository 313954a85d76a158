using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Incubator.Domain.Generation;

/// <summary>What the index knows about a new text. <see cref="Reject"/> is Duplicate (same normalised text already held
/// for the same label) or NearDuplicate (cosine ≥ threshold with a text of the same label), null otherwise.
/// <see cref="Ambiguous"/> is true when the same or a near-identical text is held for a <i>different</i> label: the
/// text is not rejected, but it was written for two labels, so the caller flags both for review.
/// <see cref="MatchedText"/>/<see cref="MatchedLabel"/>/<see cref="Similarity"/> describe the match behind the verdict,
/// or the most similar text held when there is no verdict (null and 0 when the index is empty).</summary>
public sealed record DedupVerdict(RejectReason? Reject, bool Ambiguous, string? MatchedText, string? MatchedLabel, double Similarity);

/// <summary>Exact and near-duplicate detection over everything a run has accepted (all labels).
/// <para>Exact: a hash map on <see cref="TextNormalizer.Normalize"/> text, O(1). Near: brute-force cosine against every
/// held vector, O(n·d) per check for dense vectors (MiniLM, 384-d, stored contiguously and compared with SIMD dot
/// products: 20,000 entries × 384 is 7.7 M multiply-adds, a few milliseconds) and O(total non-zeros) for sparse ones
/// (character n-gram vectors have 65,536 dimensions but only a few hundred non-zeros, so they are stored as
/// index/value pairs; storing them dense would take 5 GB at 20,000 entries). Vectors are normalised on the way in, so
/// callers may pass any non-zero vector; a zero vector is never a near-duplicate.</para>
/// <para>Not thread-safe: one index belongs to one run loop.</para></summary>
public sealed class DedupIndex(double nearThreshold = DedupIndex.DefaultNearThreshold)
{
    private sealed record Entry(string Label, string Text, bool Sparse, int Offset, int Length);

    private readonly List<Entry> _entries = [];
    private readonly Dictionary<string, List<int>> _byText = new(StringComparer.Ordinal);
    private float[] _dense = new float[4096];
    private int _denseUsed;
    private readonly List<int> _sparseIndex = [];
    private readonly List<float> _sparseValue = [];
    private int _dimensions = -1;

    /// <summary>The default: near-copies under MiniLM (reordered words, a changed article) score above it.</summary>
    public const double DefaultNearThreshold = 0.95;

    /// <summary>For character n-gram vectors. Measured on Japanese samples (DedupIndexTests): the same sentence with a
    /// comma inserted scores 0.93, one character changed (二日/三日) or a particle added 0.91, while rewordings of
    /// the same complaint score 0.65–0.81 and unrelated samples about 0.1. Surface overlap never reaches 0.95 for a
    /// sentence with any edit, so the MiniLM default would catch only exact copies.</summary>
    public const double CharNgramNearThreshold = 0.90;

    /// <summary>The near-duplicate threshold for vectors from the named representation (<see cref="Embeddings.ITextEmbedder.Name"/>).</summary>
    public static double ThresholdFor(string representation) =>
        representation == Embeddings.CharNgramEmbedder.RepresentationName ? CharNgramNearThreshold : DefaultNearThreshold;

    public double NearThreshold => nearThreshold;

    public int Count => _entries.Count;

    public DedupVerdict Check(string label, string text, ReadOnlySpan<float> vector)
    {
        ArgumentNullException.ThrowIfNull(label);
        var key = TextNormalizer.Normalize(text ?? "");
        Entry? exactOther = null;
        if (_byText.TryGetValue(key, out var same))
        {
            foreach (var i in same)
            {
                var e = _entries[i];
                if (e.Label == label) return new DedupVerdict(RejectReason.Duplicate, false, e.Text, e.Label, 1.0);
                exactOther ??= e;
            }
        }

        var (bestSame, bestSameSim, bestOther, bestOtherSim) = Nearest(label, vector);
        var nearSame = bestSame is not null && bestSameSim >= nearThreshold;
        var nearOther = bestOther is not null && bestOtherSim >= nearThreshold;
        if (nearSame)
            return new DedupVerdict(RejectReason.NearDuplicate, exactOther is not null || nearOther, bestSame!.Text, bestSame.Label, bestSameSim);
        if (exactOther is not null)
            return new DedupVerdict(null, true, exactOther.Text, exactOther.Label, 1.0);
        if (nearOther)
            return new DedupVerdict(null, true, bestOther!.Text, bestOther.Label, bestOtherSim);
        var best = bestSameSim >= bestOtherSim ? (bestSame, bestSameSim) : (bestOther, bestOtherSim);
        return new DedupVerdict(null, false, best.Item1?.Text, best.Item1?.Label, best.Item1 is null ? 0 : best.Item2);
    }

    public void Add(string label, string text, float[] vector)
    {
        ArgumentNullException.ThrowIfNull(label);
        ArgumentNullException.ThrowIfNull(vector);
        CheckDimensions(vector.Length);
        var norm = Norm(vector);
        var scale = norm > 0 && double.IsFinite(norm) ? (float)(1 / norm) : 0f;
        var nonZero = 0;
        foreach (var x in vector) if (x != 0) nonZero++;
        Entry entry;
        if (nonZero * 8 <= vector.Length)
        {
            var offset = _sparseIndex.Count;
            for (var i = 0; i < vector.Length; i++)
            {
                if (vector[i] == 0) continue;
                _sparseIndex.Add(i);
                _sparseValue.Add(vector[i] * scale);
            }
            entry = new Entry(label, text ?? "", true, offset, _sparseIndex.Count - offset);
        }
        else
        {
            if (_denseUsed + vector.Length > _dense.Length)
                Array.Resize(ref _dense, Math.Max(_dense.Length * 2, _denseUsed + vector.Length));
            for (var i = 0; i < vector.Length; i++) _dense[_denseUsed + i] = vector[i] * scale;
            entry = new Entry(label, text ?? "", false, _denseUsed, vector.Length);
            _denseUsed += vector.Length;
        }
        var key = TextNormalizer.Normalize(text ?? "");
        if (!_byText.TryGetValue(key, out var list)) _byText[key] = list = [];
        list.Add(_entries.Count);
        _entries.Add(entry);
    }

    private void CheckDimensions(int length)
    {
        if (_dimensions < 0) _dimensions = length;
        else if (_dimensions != length)
            throw new ArgumentException($"Vectors in one index must have the same length ({_dimensions}, got {length}).", "vector");
    }

    private (Entry? BestSame, double SameSim, Entry? BestOther, double OtherSim) Nearest(string label, ReadOnlySpan<float> query)
    {
        Entry? bestSame = null, bestOther = null;
        double sameSim = double.NegativeInfinity, otherSim = double.NegativeInfinity;
        if (_entries.Count == 0) return (null, 0, null, 0);
        CheckDimensions(query.Length);
        var norm = Norm(query);
        if (norm <= 0 || !double.IsFinite(norm)) return (null, 0, null, 0);
        var dense = _dense.AsSpan();
        var sparseIndex = CollectionsMarshal.AsSpan(_sparseIndex);
        var sparseValue = CollectionsMarshal.AsSpan(_sparseValue);
        foreach (var e in _entries)
        {
            double dot;
            if (e.Sparse)
            {
                dot = 0;
                var idx = sparseIndex.Slice(e.Offset, e.Length);
                var val = sparseValue.Slice(e.Offset, e.Length);
                for (var i = 0; i < idx.Length; i++) dot += val[i] * query[idx[i]];
            }
            else
            {
                dot = Dot(dense.Slice(e.Offset, e.Length), query);
            }
            var sim = Math.Clamp(dot / norm, -1.0, 1.0);
            if (e.Label == label)
            {
                if (sim > sameSim) (bestSame, sameSim) = (e, sim);
            }
            else if (sim > otherSim)
            {
                (bestOther, otherSim) = (e, sim);
            }
        }
        return (bestSame, bestSame is null ? 0 : sameSim, bestOther, bestOther is null ? 0 : otherSim);
    }

    private static double Norm(ReadOnlySpan<float> v) => Math.Sqrt(Dot(v, v));

    /// <summary>SIMD dot product with two accumulators (the index's inner loop).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static double Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var i = 0;
        double sum = 0;
        var width = Vector<float>.Count;
        if (Vector.IsHardwareAccelerated && a.Length >= 2 * width)
        {
            var acc0 = Vector<float>.Zero;
            var acc1 = Vector<float>.Zero;
            for (; i + 2 * width <= a.Length; i += 2 * width)
            {
                acc0 += new Vector<float>(a[i..]) * new Vector<float>(b[i..]);
                acc1 += new Vector<float>(a[(i + width)..]) * new Vector<float>(b[(i + width)..]);
            }
            sum = Vector.Sum(acc0 + acc1);
        }
        for (; i < a.Length; i++) sum += a[i] * b[i];
        return sum;
    }
}
