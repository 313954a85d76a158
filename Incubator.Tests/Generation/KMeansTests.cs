using Incubator.Domain.Embeddings;
using Incubator.Domain.Generation;

namespace Incubator.Tests.Generation;

public sealed class KMeansTests
{
    /// <summary>Well-separated clusters on the unit sphere: each centre is a random direction, members are the centre
    /// plus small noise, normalised. Returns the vectors and their true cluster, members of a cluster interleaved.</summary>
    internal static (List<float[]> Vectors, int[] Truth) Blobs(int clusters, int perCluster, int dims, int seed, double noise = 0.05)
    {
        var rng = new Random(seed);
        var centres = Enumerable.Range(0, clusters).Select(_ => Gaussian(rng, dims, 1)).ToArray();
        var vectors = new List<float[]>();
        var truth = new List<int>();
        for (var m = 0; m < perCluster; m++)
        {
            for (var c = 0; c < clusters; c++)
            {
                var noiseVector = Gaussian(rng, dims, noise);
                var v = centres[c].Zip(noiseVector, (a, b) => a + b).ToArray();
                VectorMath.NormalizeInPlace(v);
                vectors.Add(v);
                truth.Add(c);
            }
        }
        return (vectors, truth.ToArray());
    }

    private static float[] Gaussian(Random rng, int dims, double scale)
    {
        var v = new float[dims];
        for (var i = 0; i < dims; i++)
            v[i] = (float)(scale * Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));
        if (scale == 1) VectorMath.NormalizeInPlace(v);
        return v;
    }

    /// <summary>True when the two labelings partition the points identically (up to renaming clusters).</summary>
    private static bool SamePartition(int[] a, int[] b)
    {
        var map = new Dictionary<int, int>();
        var reverse = new Dictionary<int, int>();
        for (var i = 0; i < a.Length; i++)
        {
            if (map.TryGetValue(a[i], out var m) && m != b[i]) return false;
            if (reverse.TryGetValue(b[i], out var r) && r != a[i]) return false;
            map[a[i]] = b[i];
            reverse[b[i]] = a[i];
        }
        return true;
    }

    [Fact]
    public void Same_seed_same_assignments()
    {
        var (vectors, _) = Blobs(6, 30, 32, seed: 1, noise: 0.4);
        var a = KMeans.Cluster(vectors, 6, seed: 5);
        var b = KMeans.Cluster(vectors, 6, seed: 5);
        Assert.Equal(a, b);
    }

    [Fact]
    public void Recovers_well_separated_clusters()
    {
        var (vectors, truth) = Blobs(8, 25, 64, seed: 2, noise: 0.02);
        foreach (var seed in Enumerable.Range(1, 10))
        {
            var assignments = KMeans.Cluster(vectors, 8, seed);
            Assert.True(SamePartition(truth, assignments), $"seed {seed} did not recover the clusters");
            Assert.Equal(8, assignments.Distinct().Count());
        }
    }

    [Fact]
    public void Parallel_sized_input_is_deterministic_and_recovers_clusters()
    {
        // Large enough (n·k·d ≥ 2 M) for the parallel passes.
        var (vectors, truth) = Blobs(40, 50, 128, seed: 3, noise: 0.02);
        var a = KMeans.Cluster(vectors, 40, seed: 9);
        var b = KMeans.Cluster(vectors, 40, seed: 9);
        Assert.Equal(a, b);
        Assert.True(SamePartition(truth, a));
    }

    [Theory]
    [InlineData(600, 32, 60)]
    [InlineData(3000, 48, 100)] // parallel passes
    public void Result_is_a_fixed_point_every_point_is_nearest_its_own_cluster_mean(int n, int dims, int k)
    {
        // Checks the pruned (Hamerly) passes against brute force: after convergence no point may be closer to another
        // cluster's mean than to its own.
        var (vectors, _) = Blobs(1, n, dims, seed: 8, noise: 1.0);
        var assignments = KMeans.Cluster(vectors, k, seed: 2, maxIterations: 500);
        var means = new double[k, dims];
        var counts = new int[k];
        for (var i = 0; i < n; i++)
        {
            counts[assignments[i]]++;
            for (var x = 0; x < dims; x++) means[assignments[i], x] += vectors[i][x];
        }
        Assert.All(counts, c => Assert.True(c > 0));
        for (var i = 0; i < n; i++)
        {
            double Dist(int j)
            {
                double s = 0;
                for (var x = 0; x < dims; x++)
                {
                    var diff = vectors[i][x] - means[j, x] / counts[j];
                    s += diff * diff;
                }
                return s;
            }
            var own = Dist(assignments[i]);
            for (var j = 0; j < k; j++)
                Assert.True(own <= Dist(j) + 1e-4, $"point {i} is in {assignments[i]} ({own:F5}) but nearer {j} ({Dist(j):F5})");
        }
    }

    [Fact]
    public void K_at_least_n_gives_every_point_its_own_cluster()
    {
        var (vectors, _) = Blobs(2, 3, 8, seed: 4);
        Assert.Equal([0, 1, 2, 3, 4, 5], KMeans.Cluster(vectors, 6, seed: 1));
        Assert.Equal([0, 1, 2, 3, 4, 5], KMeans.Cluster(vectors, 10, seed: 1));
        Assert.Empty(KMeans.Cluster([], 3, seed: 1));
    }

    [Fact]
    public void K_one_puts_everything_together()
    {
        var (vectors, _) = Blobs(3, 5, 8, seed: 4);
        Assert.All(KMeans.Cluster(vectors, 1, seed: 1), a => Assert.Equal(0, a));
    }

    [Fact]
    public void Duplicate_points_leave_no_cluster_empty()
    {
        float[] a = [1, 0, 0], b = [0, 1, 0];
        var vectors = Enumerable.Range(0, 10).Select(i => i < 7 ? a : b).ToList();
        var assignments = KMeans.Cluster(vectors, 4, seed: 3);
        Assert.Equal(4, assignments.Distinct().Count());
        // No cluster mixes the two distinct points.
        foreach (var cluster in assignments.Distinct())
            Assert.Single(Enumerable.Range(0, 10).Where(i => assignments[i] == cluster).Select(i => vectors[i]).Distinct());
        Assert.Equal(assignments, KMeans.Cluster(vectors, 4, seed: 3));
    }

    [Fact]
    public void All_points_identical()
    {
        var vectors = Enumerable.Range(0, 5).Select(_ => new float[] { 0.6f, 0.8f }).ToList();
        var assignments = KMeans.Cluster(vectors, 3, seed: 1);
        Assert.Equal(3, assignments.Distinct().Count());
    }

    [Fact]
    public void Bad_input_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => KMeans.Cluster([[1f]], 0, 1));
        Assert.Throws<ArgumentException>(() => KMeans.Cluster([[1f, 0f], [1f]], 1, 1));
    }
}

public sealed class DiversifierTests
{
    [Fact]
    public void Selects_one_per_cluster_and_keeps_everything_else_in_reserve()
    {
        var (vectors, truth) = KMeansTests.Blobs(5, 12, 32, seed: 7);
        var selection = Diversifier.Select(vectors, 5, seed: 1);
        Assert.Equal(5, selection.Selected.Count);
        Assert.Equal(5, selection.Selected.Select(i => truth[i]).Distinct().Count());
        Assert.Equal(55, selection.Reserve.Count);
        Assert.Equal(Enumerable.Range(0, 60), selection.Selected.Concat(selection.Reserve).Order());
        Assert.Empty(selection.Selected.Intersect(selection.Reserve));
        Assert.Equal(60, selection.Assignments.Length);
        Assert.Equal(selection.Selected.Order(), selection.Selected);
    }

    [Fact]
    public void Keeps_the_sample_nearest_each_centre()
    {
        // Two plus-shaped groups; the middle point of each is the nearest to its centre.
        List<float[]> vectors =
        [
            [1, 0], [-1, 0], [0, 0], [0, 1], [0, -1],
            [21, 20], [19, 20], [20, 21], [20, 19], [20, 20],
        ];
        var selection = Diversifier.Select(vectors, 2, seed: 3);
        Assert.Equal([2, 9], selection.Selected);
    }

    [Fact]
    public void Target_at_least_n_selects_all_and_zero_selects_none()
    {
        List<float[]> vectors = [[1, 0], [0, 1], [1, 1]];
        var all = Diversifier.Select(vectors, 5, seed: 1);
        Assert.Equal([0, 1, 2], all.Selected);
        Assert.Empty(all.Reserve);
        var none = Diversifier.Select(vectors, 0, seed: 1);
        Assert.Empty(none.Selected);
        Assert.Equal([0, 1, 2], none.Reserve);
    }

    [Fact]
    public void Deterministic_for_a_seed()
    {
        var (vectors, _) = KMeansTests.Blobs(10, 20, 16, seed: 11, noise: 0.5);
        Assert.Equal(Diversifier.Select(vectors, 10, 4).Selected, Diversifier.Select(vectors, 10, 4).Selected);
    }
}

public sealed class DiversityMetricsTests
{
    [Fact]
    public void Distinct_n_over_words()
    {
        // Unigrams: a b a | b c → 5 total, 3 unique. Bigrams: ab ba | bc → 3 total, 3 unique.
        var stats = DiversityMetrics.Compute(["A b, a.", "b c"], [], null, characterTokens: false);
        Assert.Equal(0.6, stats.Distinct1, 10);
        Assert.Equal(1.0, stats.Distinct2, 10);
    }

    [Fact]
    public void Distinct_n_over_characters_ignores_punctuation_and_spaces()
    {
        // あ あ い | い う → 5 characters, 3 unique; bigrams ああ あい | いう → 3 unique of 3.
        var stats = DiversityMetrics.Compute(["ああい。", "い う"], [], null, characterTokens: true);
        Assert.Equal(0.6, stats.Distinct1, 10);
        Assert.Equal(1.0, stats.Distinct2, 10);
        // The same bigram twice: "いう" and "いう".
        Assert.Equal(0.5, DiversityMetrics.Compute(["いう", "いう"], [], null, true).Distinct2, 10);
    }

    [Fact]
    public void Mean_pairwise_cosine_distance()
    {
        // Pairs: (0,1) distance 1, (0,2) 0, (1,2) 1 → 2/3.
        var stats = DiversityMetrics.Compute(["x", "y", "z"], [[1, 0], [0, 1], [2, 0]], null, false);
        Assert.Equal(2.0 / 3, stats.MeanPairwiseCosineDistance, 10);
        Assert.Equal(0, DiversityMetrics.Compute(["x"], [[1, 0]], null, false).MeanPairwiseCosineDistance);
    }

    [Fact]
    public void Cluster_size_entropy_is_normalised_by_log_k()
    {
        static double Entropy(int[]? a) => DiversityMetrics.Compute([], [], a, false).ClusterSizeEntropy;
        Assert.Equal(1.0, Entropy([0, 0, 1, 1]), 10);
        Assert.Equal(-(0.75 * Math.Log(0.75) + 0.25 * Math.Log(0.25)) / Math.Log(2), Entropy([0, 0, 0, 1]), 10);
        // Cluster 1 is empty, so k = 3 and the spread is less than even.
        Assert.Equal(-(2.0 / 3 * Math.Log(2.0 / 3) + 1.0 / 3 * Math.Log(1.0 / 3)) / Math.Log(3), Entropy([0, 0, 2]), 10);
        Assert.Equal(0, Entropy([0, 0, 0]));
        Assert.Equal(0, Entropy(null));
    }

    [Fact]
    public void Large_sets_are_sampled_deterministically_and_close_to_exact()
    {
        var (vectors, _) = KMeansTests.Blobs(4, 250, 16, seed: 5, noise: 0.6);
        var texts = vectors.Select((_, i) => $"t{i}").ToList();
        var a = DiversityMetrics.Compute(texts, vectors, null, false);
        var b = DiversityMetrics.Compute(texts, vectors, null, false);
        Assert.Equal(a.MeanPairwiseCosineDistance, b.MeanPairwiseCosineDistance);
        double exact = 0;
        var pairs = 0;
        for (var i = 0; i < vectors.Count; i++)
            for (var j = i + 1; j < vectors.Count; j++, pairs++)
                exact += 1 - VectorMath.Cosine(vectors[i], vectors[j]);
        Assert.True(pairs > DiversityMetrics.MaxPairs);
        Assert.InRange(a.MeanPairwiseCosineDistance, exact / pairs - 0.01, exact / pairs + 0.01);
    }
}
