namespace Incubator.Domain.Generation;

/// <summary>The self-diversification step: <see cref="Selected"/> holds one sample per cluster (the one nearest the
/// cluster's centre), ascending by index; <see cref="Reserve"/> holds every other index, ascending — nothing
/// generated is lost, the reserve can still be reviewed or used to top up. <see cref="Assignments"/>[i] is the
/// cluster of vector i.</summary>
public sealed record DiversitySelection(IReadOnlyList<int> Selected, IReadOnlyList<int> Reserve, int[] Assignments);

/// <summary>Self-diversification as in the paper: generate more samples than needed, cluster them into as many
/// clusters as samples wanted, and keep the sample closest to each centre. Centres spread over the space the samples
/// cover, so the kept set is spread out too, instead of piling up where the LLM's favourite phrasings are.</summary>
public static class Diversifier
{
    public static DiversitySelection Select(IReadOnlyList<float[]> vectors, int target, int seed)
        => Select(vectors, target, seed, out _);

    internal static DiversitySelection Select(IReadOnlyList<float[]> vectors, int target, int seed, out int iterations)
    {
        iterations = 0;
        ArgumentNullException.ThrowIfNull(vectors);
        ArgumentOutOfRangeException.ThrowIfNegative(target);
        var n = vectors.Count;
        if (target == 0)
            return new DiversitySelection([], Enumerable.Range(0, n).ToArray(), new int[n]);
        if (target >= n)
            return new DiversitySelection(Enumerable.Range(0, n).ToArray(), [], Enumerable.Range(0, n).ToArray());

        var result = KMeans.Run(vectors, target, seed);
        iterations = result.Iterations;
        var d = result.Dimensions;
        // Centres recomputed from the final assignment (the clustering may have stopped at its iteration limit).
        var sums = new double[(long)target * d];
        var counts = new int[target];
        for (var i = 0; i < n; i++)
        {
            var j = result.Assignments[i];
            counts[j]++;
            for (var x = 0; x < d; x++) sums[(long)j * d + x] += vectors[i][x];
        }
        var best = new int[target];
        var bestDistance = new double[target];
        Array.Fill(best, -1);
        Array.Fill(bestDistance, double.PositiveInfinity);
        for (var i = 0; i < n; i++)
        {
            var j = result.Assignments[i];
            double dist = 0;
            for (var x = 0; x < d; x++)
            {
                var diff = vectors[i][x] - sums[(long)j * d + x] / counts[j];
                dist += diff * diff;
            }
            if (dist < bestDistance[j]) (best[j], bestDistance[j]) = (i, dist);
        }
        var selected = best.Where(i => i >= 0).Order().ToArray();
        var chosen = new HashSet<int>(selected);
        var reserve = Enumerable.Range(0, n).Where(i => !chosen.Contains(i)).ToArray();
        return new DiversitySelection(selected, reserve, result.Assignments);
    }
}
