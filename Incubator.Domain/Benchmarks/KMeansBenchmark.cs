using System.Diagnostics;
using Incubator.Domain.Generation;

namespace Incubator.Domain.Benchmarks;

/// <summary>Self-diversification at the largest size a run produces: 10,000 random unit vectors of 384 dimensions
/// (MiniLM's size), seeded, reduced to 1,000 by <see cref="Diversifier.Select"/> (k-means++ and pruned Lloyd
/// iterations, then the sample nearest each centre). The baseline, measured in the same run, is one unpruned
/// assignment pass (every point against all 1,000 centres): the unit of work a naive iteration costs. Random vectors
/// are the hard case — no cluster structure, so iterations keep moving points for longer than on real samples.</summary>
internal sealed class KMeansBenchmark : IBenchmark
{
    internal const int Count = 10_000;
    internal const int Dimensions = 384;
    internal const int Target = 1_000;

    public string Name => "generation.kmeans";

    public string Description => $"Diversifier.Select: {Count:N0} × {Dimensions} random unit vectors → {Target:N0}; baseline one full assignment pass";

    public Task<IReadOnlyList<BenchmarkRow>> RunAsync(CancellationToken ct) => Task.Run(() => Run(ct), ct);

    private IReadOnlyList<BenchmarkRow> Run(CancellationToken ct)
    {
        var vectors = RandomUnitVectors(Count, Dimensions, 42);
        ct.ThrowIfCancellationRequested();

        var flat = new float[Count * Dimensions];
        for (var i = 0; i < Count; i++) vectors[i].CopyTo(flat, i * Dimensions);
        var centers = new float[Target * Dimensions];
        Array.Copy(flat, centers, centers.Length); // any 1,000 points will do as centres for a cost reference
        KMeans.AssignAll(flat, 100, Dimensions, centers, Target); // JIT warm-up
        var pass = Stopwatch.StartNew();
        KMeans.AssignAll(flat, Count, Dimensions, centers, Target);
        pass.Stop();
        ct.ThrowIfCancellationRequested();

        var select = Stopwatch.StartNew();
        var selection = Diversifier.Select(vectors, Target, 7, out var iterations);
        select.Stop();

        return
        [
            new BenchmarkRow(Name, "one full assignment pass", pass.Elapsed.TotalSeconds, "s", Note: $"{Count:N0} × {Target:N0} distances, {Dimensions}-d"),
            new BenchmarkRow(Name, $"select {Target:N0} of {Count:N0}", select.Elapsed.TotalSeconds, "s", pass.Elapsed.TotalSeconds,
                $"baseline: one full pass; {iterations} iterations; {selection.Selected.Count:N0} selected, {selection.Reserve.Count:N0} reserve; {Environment.ProcessorCount} cores{BuildNote()}"),
        ];
    }

    /// <summary>A Debug build runs this SIMD code several times slower (the JIT optimiser is off), which says nothing
    /// about the product; say so next to the figure instead of letting it mislead.</summary>
    private static string BuildNote() =>
        typeof(KMeans).Assembly.GetCustomAttributes(typeof(DebuggableAttribute), false).OfType<DebuggableAttribute>().Any(a => a.IsJITOptimizerDisabled)
            ? "; DEBUG build, JIT optimiser off: use -c Release for real figures"
            : "";

    internal static float[][] RandomUnitVectors(int count, int dimensions, int seed)
    {
        var rng = new Random(seed);
        var result = new float[count][];
        for (var i = 0; i < count; i++)
        {
            var v = new float[dimensions];
            for (var x = 0; x < dimensions; x++)
            {
                // Box–Muller: Gaussian coordinates give directions uniform on the sphere.
                var u1 = 1.0 - rng.NextDouble();
                var u2 = rng.NextDouble();
                v[x] = (float)(Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
            }
            Embeddings.VectorMath.NormalizeInPlace(v);
            result[i] = v;
        }
        return result;
    }
}
