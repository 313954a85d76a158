using System.Globalization;

namespace Incubator.Domain.Benchmarks;

/// <summary>One printed row: what was measured, its value, and — where the benchmark measures one — the baseline
/// taken in the same run, so a reader compares ratios rather than absolute times on a noisy machine.</summary>
public sealed record BenchmarkRow(string Benchmark, string Metric, double Value, string Unit, double? Baseline = null, string? Note = null)
{
    public double? Ratio => Baseline is > 0 ? Value / Baseline.Value : null;
}

public interface IBenchmark
{
    string Name { get; }

    string Description { get; }

    Task<IReadOnlyList<BenchmarkRow>> RunAsync(CancellationToken ct);
}

/// <summary>Every feature adds its benchmarks here; `bench` runs them in this order.</summary>
public static class BenchmarkCatalog
{
    public static IReadOnlyList<IBenchmark> All() =>
    [
        new Jobs.JobThroughputBenchmark(),
        new Embeddings.EncoderBenchmark(),
        new Generation.KMeansBenchmark(),
        new Generation.GenerationEngineBenchmark(),
        new Generation.EmbeddingRatioBenchmark(),
        new Generation.ConcurrencyBenchmark(),
        new Review.ReviewQueueBenchmark(),
        new Review.ReviewDecisionsBenchmark(),
        new Mining.Sst2MiningBenchmark(),
        new Mining.CorpusEmbeddingBenchmark(),
        new Training.SparseTrainingBenchmark(),
        new Training.DatasetBenchmark(Training.ModelFamily.Sparse),
        new Training.DatasetBenchmark(),
        new Mining.Query.QueryThroughputBenchmark(),
    ];
}

public static class BenchmarkTable
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
