using System.Collections.Concurrent;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Incubator.Domain.Generation;

/// <summary>Lloyd's k-means on squared Euclidean distance, seeded with (greedy) k-means++ from a seeded
/// <see cref="Random"/>.
/// On L2-normalised vectors Euclidean distance orders pairs exactly as cosine does (|a−b|² = 2 − 2cos), and unlike
/// cosine it makes the mean the right centre and is a metric, which the pruning below needs.
/// <para>Speed: assignment passes skip points with Hamerly's bounds (an upper bound on the distance to the own centre,
/// a lower bound on the distance to any other; both are updated by how far the centres moved, and a point is only
/// compared with all k centres when the bounds overlap). After the first few iterations most points are skipped, so a
/// run costs k-means++ seeding (about one full pass of n·k distances) plus a few full passes. Points are processed in
/// parallel; each point's result depends only on the centres, so the outcome does not depend on scheduling.</para>
/// <para>Deterministic: the same vectors, k and seed give the same assignments on the same machine. (SIMD widths
/// differ between CPUs, and with them the rounding of dot products, so two machines may break near-ties
/// differently.)</para>
/// <para>Edge cases: k ≥ n puts every point in its own cluster (0..n−1, clusters n..k−1 stay empty). Otherwise every
/// cluster ends non-empty: a cluster that empties is re-seeded with the point farthest from its centre among
/// clusters of two or more, which also separates duplicate points when there are fewer distinct points than k.
/// Ties go to the current assignment, then to the lower cluster index.</para></summary>
public static class KMeans
{
    internal sealed record Result(int[] Assignments, float[] Centers, int K, int Dimensions, int Iterations);

    public static int[] Cluster(IReadOnlyList<float[]> vectors, int k, int seed, int maxIterations = 50)
        => Run(vectors, k, seed, maxIterations).Assignments;

    /// <summary>Most multiply-adds spent on greedy k-means++ candidates (about 0.05 s on a laptop core). 10,000 × 1,000
    /// × 384 is far above it, so self-diversification at full size seeds with plain k-means++; a few hundred samples
    /// per label get the full 2 + ln k candidates.</summary>
    internal const double GreedySeedingBudget = 500_000_000;

    /// <summary>Below this many multiply-adds per pass, threads cost more than they save.</summary>
    private const long ParallelWork = 2_000_000;

    internal static Result Run(IReadOnlyList<float[]> vectors, int k, int seed, int maxIterations = 50)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(maxIterations);
        var n = vectors.Count;
        var d = n == 0 ? 0 : vectors[0]?.Length ?? throw new ArgumentException("A vector is null.", nameof(vectors));
        var points = new float[(long)n * d];
        for (var i = 0; i < n; i++)
        {
            var v = vectors[i] ?? throw new ArgumentException($"Vector {i} is null.", nameof(vectors));
            if (v.Length != d) throw new ArgumentException($"Vector {i} has {v.Length} dimensions, expected {d}.", nameof(vectors));
            v.CopyTo(points, (long)i * d);
        }
        if (k >= n)
        {
            var centers = new float[(long)k * d];
            Array.Copy(points, centers, points.Length);
            return new Result(Enumerable.Range(0, n).ToArray(), centers, k, d, 0);
        }
        return new Lloyd(points, n, d, k).Run(seed, maxIterations);
    }

    /// <summary>One full assignment pass (every point against every centre), no pruning: the reference cost the
    /// benchmark compares a whole clustering with.</summary>
    internal static int[] AssignAll(float[] points, int n, int d, float[] centers, int k)
    {
        var lloyd = new Lloyd(points, n, d, k);
        Array.Copy(centers, lloyd.Centers, (long)k * d);
        lloyd.ComputeCenterNorms();
        lloyd.FullPass();
        return lloyd.Assignments;
    }

    private sealed class Lloyd(float[] points, int n, int d, int k)
    {
        public readonly float[] Centers = new float[(long)k * d];
        public readonly int[] Assignments = new int[n];
        private readonly float[] _pointNorms = PointNorms(points, n, d);
        private readonly float[] _centerNorms = new float[k];
        private readonly double[] _upper = new double[n];
        private readonly double[] _lower = new double[n];
        private readonly bool _parallel = (long)n * k * d >= ParallelWork;

        private static float[] PointNorms(float[] points, int n, int d)
        {
            var norms = new float[n];
            for (var i = 0; i < n; i++)
            {
                var p = points.AsSpan(i * d, d);
                norms[i] = (float)DedupIndex.Dot(p, p);
            }
            return norms;
        }

        private ReadOnlySpan<float> Point(int i) => points.AsSpan(i * d, d);

        private Span<float> Center(int j) => Centers.AsSpan(j * d, d);

        private double Distance(int i, int j)
        {
            var dist2 = _pointNorms[i] + _centerNorms[j] - 2 * DedupIndex.Dot(Point(i), Center(j));
            return dist2 > 0 ? Math.Sqrt(dist2) : 0;
        }

        public void ComputeCenterNorms()
        {
            for (var j = 0; j < k; j++)
            {
                var c = Center(j);
                _centerNorms[j] = (float)DedupIndex.Dot(c, c);
            }
        }

        public Result Run(int seed, int maxIterations)
        {
            Seed(new Random(seed));
            ComputeCenterNorms();
            FullPass();
            var iterations = 0;
            var sums = new double[(long)k * d];
            var counts = new int[k];
            var old = new float[(long)k * d];
            var moved = new double[k];
            while (iterations < maxIterations)
            {
                iterations++;
                Array.Copy(Centers, old, Centers.Length);
                UpdateCenters(sums, counts);
                var reseeded = ReseedEmpty(counts);
                ComputeCenterNorms();
                for (var j = 0; j < k; j++)
                {
                    double s = 0;
                    for (var x = 0; x < d; x++)
                    {
                        var diff = (double)Centers[j * d + x] - old[j * d + x];
                        s += diff * diff;
                    }
                    moved[j] = Math.Sqrt(s);
                }
                var changed = PrunedPass(moved);
                // No point moved: the centres are already the means of this assignment.
                if (changed == 0 && !reseeded) break;
            }
            return new Result(Assignments, Centers, k, d, iterations);
        }

        /// <summary>k-means++: each next centre is a point drawn with probability proportional to its squared
        /// distance from the nearest centre so far. Greedy variant (as scikit-learn): draw several candidates and keep
        /// the one that lowers the total squared distance most, which rarely puts two seeds in one tight cluster —
        /// plain k-means++ does that often enough to split one real cluster and merge two others, a local minimum
        /// Lloyd's iterations cannot leave. Each candidate costs n·d, so the number of candidates (2 + ln k) is cut
        /// to fit <see cref="GreedySeedingBudget"/>; large inputs get plain k-means++ (one candidate). When every
        /// point sits on a centre (duplicates), the lowest-index point not yet used is taken.</summary>
        private void Seed(Random rng)
        {
            var chosen = new bool[n];
            var nearest = new double[n];
            var candidate = new double[n];
            var best = new double[n];
            var trials = (int)Math.Clamp(Math.Min(2 + Math.Floor(Math.Log(k)), GreedySeedingBudget / Math.Max(1.0, (double)n * k * d)), 1, 16);
            var first = rng.Next(n);
            Take(first, 0);
            DistancesTo(first, nearest);
            for (var j = 1; j < k; j++)
            {
                double total = 0;
                for (var i = 0; i < n; i++) total += nearest[i];
                if (total <= 0)
                {
                    var unused = Array.IndexOf(chosen, false);
                    Take(unused, j);
                    continue; // all distances are 0 already
                }
                var pick = -1;
                var bestPotential = double.PositiveInfinity;
                for (var t = 0; t < trials; t++)
                {
                    var target = rng.NextDouble() * total;
                    var c = -1;
                    double cumulative = 0;
                    for (var i = 0; i < n; i++)
                    {
                        if (nearest[i] <= 0) continue;
                        cumulative += nearest[i];
                        c = i;
                        if (cumulative > target) break;
                    }
                    DistancesTo(c, candidate);
                    double potential = 0;
                    for (var i = 0; i < n; i++) potential += Math.Min(nearest[i], candidate[i]);
                    if (potential < bestPotential)
                    {
                        (bestPotential, pick) = (potential, c);
                        (best, candidate) = (candidate, best);
                    }
                }
                Take(pick, j);
                for (var i = 0; i < n; i++) nearest[i] = Math.Min(nearest[i], best[i]);
            }

            void Take(int i, int j)
            {
                chosen[i] = true;
                Point(i).CopyTo(Center(j));
                _centerNorms[j] = _pointNorms[i];
            }
        }

        /// <summary>Squared distance from every point to point c.</summary>
        private void DistancesTo(int c, double[] result)
        {
            var cn = _pointNorms[c];
            For(0, n, (from, to) =>
            {
                var dots = new float[to - from];
                DotAll(Point(c), points.AsSpan(from * d, (to - from) * d), d, dots);
                for (var i = from; i < to; i++) result[i] = Math.Max(0, _pointNorms[i] + cn - 2 * dots[i - from]);
            });
        }

        private void UpdateCenters(double[] sums, int[] counts)
        {
            Array.Clear(sums);
            Array.Clear(counts);
            for (var i = 0; i < n; i++)
            {
                var j = Assignments[i];
                counts[j]++;
                var p = Point(i);
                var offset = (long)j * d;
                for (var x = 0; x < d; x++) sums[offset + x] += p[x];
            }
            for (var j = 0; j < k; j++)
            {
                if (counts[j] == 0) continue; // keeps its old position until re-seeded
                var inv = 1.0 / counts[j];
                for (var x = 0; x < d; x++) Centers[(long)j * d + x] = (float)(sums[(long)j * d + x] * inv);
            }
        }

        private bool ReseedEmpty(int[] counts)
        {
            var any = false;
            for (var j = 0; j < k; j++)
            {
                if (counts[j] > 0) continue;
                ComputeCenterNorms();
                var far = -1;
                var farDistance = -1.0;
                for (var i = 0; i < n; i++)
                {
                    if (counts[Assignments[i]] < 2) continue;
                    var dist = Distance(i, Assignments[i]);
                    if (dist > farDistance) (far, farDistance) = (i, dist);
                }
                if (far < 0) break; // cannot happen while n > k
                counts[Assignments[far]]--;
                Assignments[far] = j;
                counts[j] = 1;
                Point(far).CopyTo(Center(j));
                _upper[far] = 0;
                _lower[far] = 0;
                any = true;
            }
            return any;
        }

        /// <summary>Every point against every centre; sets the assignment and both bounds.</summary>
        public void FullPass() => For(0, n, (from, to) =>
        {
            var dots = new float[k];
            for (var i = from; i < to; i++) Scan(i, -1, dots);
        });

        /// <summary>Returns the number of points whose assignment changed.</summary>
        private int PrunedPass(double[] moved)
        {
            // Each point's lower bound shrinks by the largest move of a centre other than its own.
            int top = 0;
            for (var j = 1; j < k; j++) if (moved[j] > moved[top]) top = j;
            var second = 0.0;
            for (var j = 0; j < k; j++) if (j != top && moved[j] > second) second = moved[j];
            var changed = 0;
            For(0, n, (from, to) =>
            {
                float[]? dots = null;
                var local = 0;
                for (var i = from; i < to; i++)
                {
                    var a = Assignments[i];
                    _upper[i] += moved[a];
                    _lower[i] -= a == top ? second : moved[top];
                    if (_upper[i] <= _lower[i]) continue;
                    _upper[i] = Distance(i, a);
                    if (_upper[i] <= _lower[i]) continue;
                    if (Scan(i, a, dots ??= new float[k])) local++;
                }
                Interlocked.Add(ref changed, local);
            });
            return changed;
        }

        /// <summary>Finds the nearest and second-nearest centre of point i; keeps <paramref name="current"/> on a tie.
        /// Returns true when the assignment changed.</summary>
        private bool Scan(int i, int current, float[] dots)
        {
            var pn = _pointNorms[i];
            DotAll(Point(i), Centers, d, dots);
            double best = double.PositiveInfinity, secondBest = double.PositiveInfinity;
            var bestIndex = -1;
            if (current >= 0)
            {
                best = Math.Max(0, pn + _centerNorms[current] - 2 * dots[current]);
                bestIndex = current;
            }
            for (var j = 0; j < k; j++)
            {
                if (j == current) continue;
                var dist2 = Math.Max(0, pn + _centerNorms[j] - 2 * dots[j]);
                if (dist2 < best)
                {
                    secondBest = best;
                    best = dist2;
                    bestIndex = j;
                }
                else if (dist2 < secondBest)
                {
                    secondBest = dist2;
                }
            }
            Assignments[i] = bestIndex;
            _upper[i] = Math.Sqrt(best);
            _lower[i] = double.IsPositiveInfinity(secondBest) ? double.PositiveInfinity : Math.Sqrt(secondBest);
            return bestIndex != current;
        }

        private void For(int from, int to, Action<int, int> body)
        {
            if (!_parallel)
            {
                body(from, to);
                return;
            }
            Parallel.ForEach(Partitioner.Create(from, to, Math.Max(64, (to - from) / (Environment.ProcessorCount * 8))),
                range => body(range.Item1, range.Item2));
        }
    }

    /// <summary>result[j] = p · rows[j] for consecutive rows of length d. The hot loop of the whole clustering: one
    /// method (optimised even in Debug builds) with two SIMD accumulators, so the point's blocks stay in registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void DotAll(ReadOnlySpan<float> p, ReadOnlySpan<float> rows, int d, Span<float> result)
    {
        var width = Vector<float>.Count;
        var blocks = Vector.IsHardwareAccelerated ? d / width : 0;
        var pv = MemoryMarshal.Cast<float, Vector<float>>(p[..(blocks * width)]);
        for (var j = 0; j < result.Length; j++)
        {
            var row = rows.Slice(j * d, d);
            var rv = MemoryMarshal.Cast<float, Vector<float>>(row[..(blocks * width)]);
            var acc0 = Vector<float>.Zero;
            var acc1 = Vector<float>.Zero;
            var b = 0;
            for (; b + 1 < blocks; b += 2)
            {
                acc0 += pv[b] * rv[b];
                acc1 += pv[b + 1] * rv[b + 1];
            }
            if (b < blocks) acc0 += pv[b] * rv[b];
            var sum = Vector.Sum(acc0 + acc1);
            for (var x = blocks * width; x < d; x++) sum += p[x] * row[x];
            result[j] = sum;
        }
    }
}
