using System.Numerics;
using System.Runtime.InteropServices;

namespace Incubator.Domain.Mining;

/// <summary>Multinomial logistic regression on dense vectors (the pool's MiniLM embeddings), small enough for a
/// self-training round to refit it in well under a second: full-batch Nesterov gradient descent from zero weights on the
/// L2-regularised, weighted cross-entropy, with the step set from the data's largest curvature. No randomness, so the
/// same rows give the same model.</summary>
public sealed class SoftmaxRegression
{
    private readonly float[][] _weights;
    private readonly float[] _biases;
    private readonly float[] _center;

    private SoftmaxRegression(float[][] weights, float[] biases, float[] center) => (_weights, _biases, _center) = (weights, biases, center);

    public int Classes => _biases.Length;

    /// <param name="x">Row vectors, all of one length.</param>
    /// <param name="y">Each row's class, 0 ≤ y &lt; <paramref name="classes"/>.</param>
    /// <param name="weights">Optional weight per row (a reviewed text counts more); rows are otherwise equal.</param>
    /// <param name="l2">Penalty on the weights (not the biases), per unit of total row weight.</param>
    /// <param name="balanced">Scale rows so every class that has rows counts the same, as if it had as many rows as the
    /// others (row weights then apply within it).</param>
    public static SoftmaxRegression Fit(IReadOnlyList<float[]> x, IReadOnlyList<int> y, int classes, double l2 = 1e-3,
        IReadOnlyList<float>? weights = null, bool balanced = true, int maxIterations = 300)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        if (x.Count == 0) throw new ArgumentException("No rows to fit.", nameof(x));
        if (x.Count != y.Count || weights is not null && weights.Count != x.Count) throw new ArgumentException("One label (and weight) per row.", nameof(y));
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 2);
        var n = x.Count;
        var d = x[0].Length;
        var w = new double[n];
        for (var i = 0; i < n; i++)
        {
            if ((uint)y[i] >= classes) throw new ArgumentOutOfRangeException(nameof(y), $"Row {i} has class {y[i]} of {classes}.");
            if (x[i].Length != d) throw new ArgumentException($"Row {i} has {x[i].Length} values, not {d}.", nameof(x));
            w[i] = weights?[i] ?? 1;
        }
        if (balanced)
        {
            // By row counts, not weights: a heavier row keeps its weight against the other rows of its class.
            var perClass = new double[classes];
            for (var i = 0; i < n; i++) perClass[y[i]]++;
            var present = perClass.Count(c => c > 0);
            for (var i = 0; i < n; i++) w[i] *= n / (present * perClass[y[i]]);
        }
        var sumW = w.Sum();
        for (var i = 0; i < n; i++) w[i] /= sumW;

        // Centred rows: embeddings share a large common direction, which would otherwise dominate the curvature and slow
        // every other direction down.
        var center = new float[d];
        for (var i = 0; i < n; i++)
            for (var k = 0; k < d; k++) center[k] += (float)(w[i] * x[i][k]);
        var rows = new float[n][];
        for (var i = 0; i < n; i++)
        {
            rows[i] = new float[d];
            for (var k = 0; k < d; k++) rows[i][k] = x[i][k] - center[k];
        }
        // Softmax cross-entropy's Hessian is at most ½·(weighted second moment) per class (plus the bias), so 1/L with
        // L = ½·λmax + l2 is a safe step.
        var lipschitz = 0.5 * (LargestEigenvalue(rows, w, d) + 1) + l2;
        var step = (float)(1 / lipschitz);

        var W = Matrix(classes, d);
        var b = new float[classes];
        var yW = Matrix(classes, d);
        var yB = new float[classes];
        var gW = Matrix(classes, d);
        var gB = new float[classes];
        var logits = new float[classes];
        double t = 1;
        for (var iter = 0; iter < maxIterations; iter++)
        {
            foreach (var g in gW) Array.Clear(g);
            Array.Clear(gB);
            for (var i = 0; i < n; i++)
            {
                for (var c = 0; c < classes; c++) logits[c] = Dot(yW[c], rows[i]) + yB[c];
                SoftmaxInPlace(logits);
                for (var c = 0; c < classes; c++)
                {
                    var r = (float)(w[i] * (logits[c] - (c == y[i] ? 1 : 0)));
                    if (r == 0) continue;
                    Axpy(r, rows[i], gW[c]);
                    gB[c] += r;
                }
            }
            var gradNorm = 0.0;
            for (var c = 0; c < classes; c++)
            {
                for (var k = 0; k < d; k++)
                {
                    gW[c][k] += (float)(l2 * yW[c][k]);
                    gradNorm += gW[c][k] * (double)gW[c][k];
                }
                gradNorm += gB[c] * (double)gB[c];
            }
            // Nesterov: step from the look-ahead point, then look ahead again along the change.
            var tNext = (1 + Math.Sqrt(1 + 4 * t * t)) / 2;
            var momentum = (float)((t - 1) / tNext);
            for (var c = 0; c < classes; c++)
            {
                for (var k = 0; k < d; k++)
                {
                    var next = yW[c][k] - step * gW[c][k];
                    yW[c][k] = next + momentum * (next - W[c][k]);
                    W[c][k] = next;
                }
                var nb = yB[c] - step * gB[c];
                yB[c] = nb + momentum * (nb - b[c]);
                b[c] = nb;
            }
            t = tNext;
            if (Math.Sqrt(gradNorm) < 1e-5) break;
        }
        return new SoftmaxRegression(W, b, center);
    }

    /// <summary>The classes' probabilities for one vector.</summary>
    public float[] Probabilities(float[] vector)
    {
        var logits = Logits(vector);
        SoftmaxInPlace(logits);
        return logits;
    }

    public float[] Logits(float[] vector)
    {
        ArgumentNullException.ThrowIfNull(vector);
        if (vector.Length != _center.Length) throw new ArgumentException($"Expected {_center.Length} values, got {vector.Length}.", nameof(vector));
        var centred = new float[vector.Length];
        for (var k = 0; k < centred.Length; k++) centred[k] = vector[k] - _center[k];
        var logits = new float[Classes];
        for (var c = 0; c < logits.Length; c++) logits[c] = Dot(_weights[c], centred) + _biases[c];
        return logits;
    }

    private static float[][] Matrix(int rows, int columns) => Enumerable.Range(0, rows).Select(_ => new float[columns]).ToArray();

    private static double LargestEigenvalue(float[][] rows, double[] w, int d)
    {
        // Power iteration on Σ w_i x_i x_iᵀ from a fixed start: deterministic, and 30 steps are plenty for a step size.
        var v = Enumerable.Repeat((float)(1 / Math.Sqrt(d)), d).ToArray();
        var lambda = 0.0;
        for (var it = 0; it < 30; it++)
        {
            var next = new float[d];
            for (var i = 0; i < rows.Length; i++) Axpy((float)(w[i] * Dot(rows[i], v)), rows[i], next);
            var norm = Math.Sqrt(next.Sum(z => (double)z * z));
            if (norm <= 1e-12) return 0;
            lambda = norm;
            for (var k = 0; k < d; k++) v[k] = (float)(next[k] / norm);
        }
        return lambda;
    }

    internal static void SoftmaxInPlace(float[] logits)
    {
        var max = logits.Max();
        var sum = 0f;
        for (var c = 0; c < logits.Length; c++)
        {
            logits[c] = MathF.Exp(logits[c] - max);
            sum += logits[c];
        }
        for (var c = 0; c < logits.Length; c++) logits[c] /= sum;
    }

    internal static float Dot(float[] a, float[] b)
    {
        var va = MemoryMarshal.Cast<float, Vector<float>>(a.AsSpan());
        var vb = MemoryMarshal.Cast<float, Vector<float>>(b.AsSpan());
        var acc = Vector<float>.Zero;
        for (var i = 0; i < va.Length; i++) acc += va[i] * vb[i];
        var s = Vector.Dot(acc, Vector<float>.One);
        for (var i = va.Length * Vector<float>.Count; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }

    private static void Axpy(float alpha, float[] x, float[] y)
    {
        var vx = MemoryMarshal.Cast<float, Vector<float>>(x.AsSpan());
        var vy = MemoryMarshal.Cast<float, Vector<float>>(y.AsSpan());
        var va = new Vector<float>(alpha);
        for (var i = 0; i < vx.Length; i++) vy[i] += va * vx[i];
        for (var i = vx.Length * Vector<float>.Count; i < x.Length; i++) y[i] += alpha * x[i];
    }
}
