using System.Globalization;

namespace Incubator.Domain.Benchmarks;

/// <summary>One printed row: what was measured, its value, and — where the benchmark measures one — the baseline
/// taken in the same run, so a reader compares ratios rather than absolute times on a noisy machine.</summary>
internal sealed record BenchmarkRow(string Benchmark, string Metric, double Value, string Unit, double? Baseline = null, string? Note = null)
{
    public double? Ratio => Baseline is > 0 ? Value / Baseline.Value : null;
}

internal interface IBenchmark
{
    string Name { get; }

    string Description { get; }

    Task<IReadOnlyList<BenchmarkRow>> RunAsync(CancellationToken ct);
}

/// <summary>Every feature adds its benchmarks here; `bench` runs them in this order.</summary>
internal static class BenchmarkCatalog
{
    public static IReadOnlyList<IBenchmark> All() =>
    [
        new JobThroughputBenchmark(),
        new EncoderBenchmark(),
        new KMeansBenchmark(),
        new GenerationEngineBenchmark(),
        new EventSubscribersBenchmark(),
        new EmbeddingRatioBenchmark(),
        new ConcurrencyBenchmark(),
        new GenerationCallsBenchmark(),
        new ReviewQueueBenchmark(),
        new ReviewDecisionsBenchmark(),
        new Sst2MiningBenchmark(),
        new SelfTrainingBenchmark(),
        new MiningOrderBenchmark(),
        new CorpusEmbeddingBenchmark(),
        new TextFileBenchmark(),
        new SparseTrainingBenchmark(),
        new DatasetBenchmark(Training.ModelFamily.Sparse),
        new DatasetBenchmark(),
        new PeerBenchmark(),
        new TrainingCommandBenchmark(),
        new EncoderComparisonBenchmark(),
        new DenseBatchingBenchmark(),
        new Int8VariantsBenchmark(),
        new SparseVariantsBenchmark(),
        new QueryThroughputBenchmark(),
        new ScaleOutBenchmark(),
        new FreezeBenchmark(),
    ];
}

internal static class BenchmarkTable
{
    public static void Write(TextWriter w, IReadOnlyList<BenchmarkRow> rows)
    {
        var ci = CultureInfo.InvariantCulture;
        var table = rows.Select(r => new[]
        {
            r.Benchmark, r.Metric, r.Value.ToString("0.###", ci), r.Unit,
            r.Baseline?.ToString("0.###", ci) ?? "", r.Ratio?.ToString("0.00", ci) ?? "", r.Note ?? "",
        }).ToList();
        string[] header = ["benchmark", "metric", "value", "unit", "baseline", "ratio", "note"];
        var widths = header.Select((h, i) => Math.Max(h.Length, table.Count == 0 ? 0 : table.Max(t => t[i].Length))).ToArray();
        void Line(string[] cells) => w.WriteLine("| " + string.Join(" | ", cells.Select((c, i) => c.PadRight(widths[i]))) + " |");
        Line(header);
        w.WriteLine("|" + string.Join("|", widths.Select(x => new string('-', x + 2))) + "|");
        foreach (var t in table) Line(t);
    }
}

/// <summary>The public datasets the benchmarks read: <c>INCUBATOR_DATASETS</c>, else the first <c>shared/datasets</c>
/// found walking up from the working directory or the executable (the repository is checked out beside
/// <c>shared/</c>). The product and its tests never read them.</summary>
internal static class SharedDatasets
{
    public static string? Find(string? name = null)
    {
        var env = Environment.GetEnvironmentVariable("INCUBATOR_DATASETS");
        if (!string.IsNullOrEmpty(env) && Directory.Exists(Path.Combine(env, name ?? ""))) return Path.Combine(env, name ?? "");
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "shared", "datasets", name ?? "");
                if (Directory.Exists(candidate)) return candidate;
            }
        }
        return null;
    }
}
