using Incubator.Domain.Mining;

namespace Incubator.Tests.Mining;

/// <summary>The logistic regression self-training's embedding rounds fit on the pool's vectors.</summary>
public sealed class SoftmaxRegressionTests
{
    /// <summary>Unit vectors around <paramref name="classes"/> orthogonal directions in 16 dimensions, with seeded noise.</summary>
    internal static (List<float[]> X, List<int> Y) Clusters(int classes, int perClass, int seed, double noise = 0.35)
    {
        var random = new Random(seed);
        var x = new List<float[]>();
        var y = new List<int>();
        for (var i = 0; i < perClass; i++)
            for (var c = 0; c < classes; c++)
            {
                var v = new float[16];
                v[c] = 1;
                for (var k = 0; k < v.Length; k++) v[k] += (float)((random.NextDouble() * 2 - 1) * noise);
                var norm = MathF.Sqrt(v.Sum(z => z * z));
                x.Add(v.Select(z => z / norm).ToArray());
                y.Add(c);
            }
        return (x, y);
    }

    private static int ArgMax(float[] p) => Array.IndexOf(p, p.Max());

    [Fact]
    public void Learns_a_separable_toy_set_and_labels_unseen_points_of_it()
    {
        var (x, y) = Clusters(3, 20, seed: 1);
        var model = SoftmaxRegression.Fit(x, y, 3);
        Assert.All(Enumerable.Range(0, x.Count), i => Assert.Equal(y[i], ArgMax(model.Probabilities(x[i]))));
        var (tx, ty) = Clusters(3, 30, seed: 2);
        var right = Enumerable.Range(0, tx.Count).Count(i => ArgMax(model.Probabilities(tx[i])) == ty[i]);
        Assert.True(right >= tx.Count * 0.95, $"{right} of {tx.Count} unseen points right");
        var p = model.Probabilities(tx[0]);
        Assert.Equal(1f, p.Sum(), 3);
        Assert.All(p, v => Assert.InRange(v, 0f, 1f));
    }

    [Fact]
    public void The_same_rows_give_the_same_model()
    {
        var (x, y) = Clusters(4, 15, seed: 3, noise: 0.9);
        var a = SoftmaxRegression.Fit(x, y, 4);
        var b = SoftmaxRegression.Fit(x, y, 4);
        var (tx, _) = Clusters(4, 5, seed: 4);
        Assert.All(tx, v => Assert.Equal(a.Logits(v), b.Logits(v)));
    }

    [Fact]
    public void A_heavier_row_wins_the_point_it_shares_with_a_lighter_one()
    {
        // Two rows on the same vector with different labels: the one weighted ×5 decides it, and the ×1 one loses it.
        var (x, y) = Clusters(2, 10, seed: 5);
        var shared = new float[16];
        shared[2] = 1;
        x.AddRange([shared, shared]);
        y.AddRange([0, 1]);
        var weights = Enumerable.Repeat(1f, x.Count).ToList();
        weights[^1] = 5;
        var heavy = SoftmaxRegression.Fit(x, y, 2, weights: weights);
        Assert.Equal(1, ArgMax(heavy.Probabilities(shared)));
        weights[^1] = 1;
        weights[^2] = 5;
        Assert.Equal(0, ArgMax(SoftmaxRegression.Fit(x, y, 2, weights: weights).Probabilities(shared)));
    }

    [Fact]
    public void Bad_input_is_refused_with_a_clear_error()
    {
        var (x, y) = Clusters(2, 3, seed: 6);
        Assert.Throws<ArgumentException>(() => SoftmaxRegression.Fit([], [], 2));
        Assert.Throws<ArgumentException>(() => SoftmaxRegression.Fit(x, y.Take(2).ToList(), 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => SoftmaxRegression.Fit(x, y.Select(_ => 7).ToList(), 2));
        var model = SoftmaxRegression.Fit(x, y, 2);
        Assert.Throws<ArgumentException>(() => model.Probabilities(new float[3]));
    }
}
