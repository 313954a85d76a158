using System.Numerics;
using System.Runtime.InteropServices;

namespace Incubator.Domain.Embeddings;

public static class VectorMath
{
    /// <summary>Cosine similarity in [-1, 1]; 0 when either vector is all zeros (nothing to compare).</summary>
    public static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length) throw new ArgumentException($"Vectors differ in length ({a.Length} vs {b.Length}).", nameof(b));
        var (dot, na, nb) = DotAndNorms(a, b);
        if (na <= 0 || nb <= 0) return 0;
        return Math.Clamp(dot / Math.Sqrt(na * nb), -1.0, 1.0);
    }

    public static double Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length) throw new ArgumentException($"Vectors differ in length ({a.Length} vs {b.Length}).", nameof(b));
        return DotAndNorms(a, b).Dot;
    }

    public static double Norm(ReadOnlySpan<float> a) => Math.Sqrt(DotAndNorms(a, a).Dot);

    /// <summary>Scales <paramref name="v"/> to unit length in place; leaves an all-zero (or non-finite) vector as zeros.</summary>
    public static void NormalizeInPlace(Span<float> v)
    {
        var norm = Norm(v);
        if (norm <= 0 || !double.IsFinite(norm))
        {
            v.Clear();
            return;
        }
        var inv = (float)(1.0 / norm);
        for (var i = 0; i < v.Length; i++) v[i] *= inv;
    }

    private static (double Dot, double NormA, double NormB) DotAndNorms(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var i = 0;
        double dot = 0, na = 0, nb = 0;
        if (Vector.IsHardwareAccelerated && a.Length >= Vector<float>.Count * 2)
        {
            var va = MemoryMarshal.Cast<float, Vector<float>>(a);
            var vb = MemoryMarshal.Cast<float, Vector<float>>(b);
            // Float accumulators per block of 1024 lanes, flushed to double, so long vectors keep their precision.
            var vd = Vector<float>.Zero;
            var vna = Vector<float>.Zero;
            var vnb = Vector<float>.Zero;
            for (var k = 0; k < va.Length; k++)
            {
                vd += va[k] * vb[k];
                vna += va[k] * va[k];
                vnb += vb[k] * vb[k];
                if ((k & 1023) == 1023)
                {
                    dot += Vector.Sum(vd); na += Vector.Sum(vna); nb += Vector.Sum(vnb);
                    vd = vna = vnb = Vector<float>.Zero;
                }
            }
            dot += Vector.Sum(vd); na += Vector.Sum(vna); nb += Vector.Sum(vnb);
            i = va.Length * Vector<float>.Count;
        }
        for (; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            na += (double)a[i] * a[i];
            nb += (double)b[i] * b[i];
        }
        return (dot, na, nb);
    }
}
