using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using Incubator.Domain.Training;

namespace Incubator.Domain.Benchmarks;

/// <summary>What a user sees: `train --trainer F` run as its own process (this executable) on the full training split of
/// every set of ../shared/datasets, for sparse, dense, hybrid and auto — wall time of the whole command (start-up,
/// embedding, fits, refit, export, bundle) and the process's peak working set, which the command prints. The aims of
/// issue 16 are rows of their own, each against its baseline from the same run: auto ≤ 1.5 × (embedding of the same
/// texts, from the dense command, + the sparse command); on text the encoder cannot read, auto ≤ 1.2 × sparse; on
/// 20,000 short English texts (SST-2, SUBJ, CR and tweets together) the peak working set of auto and dense ≤ 1 GiB
/// (the "english-20k" set: it runs unless INCUBATOR_BENCH_DATASETS leaves it out). INCUBATOR_BENCH_TRAIN_CAP caps the rows
/// per dataset (not the 20k set).</summary>
internal sealed partial class TrainingCommandBenchmark : IBenchmark
{
    public string Name => "training.commands";

    public string Description => "train as a child process per dataset and family (sparse, dense, hybrid, auto): seconds and peak working set; issue 16's time and memory aims";

    public Task<IReadOnlyList<BenchmarkRow>> RunAsync(CancellationToken ct) => Task.Run(() => Run(ct), ct);

    private static readonly CultureInfo Ci = CultureInfo.InvariantCulture;

    private sealed record Outcome(double Seconds, double TrainSeconds, double EmbeddingSeconds, double CpuSeconds, double PeakMiB, string Chosen, string Validation);

    private IReadOnlyList<BenchmarkRow> Run(CancellationToken ct)
    {
        var root = TrainingDatasets.Find();
        if (root is null) return [new BenchmarkRow(Name, "skipped", 0, "", Note: "../shared/datasets not found")];
        var rows = new List<BenchmarkRow>();
        var folder = Directory.CreateTempSubdirectory("incubator-bench-train-");
        try
        {
            foreach (var (name, bench, data) in TrainingDatasets.Loaded(root, Name, rows, ct))
            {
                var file = Write(folder.FullName, name, data.Train);
                var share = EncoderCoverage.Shared.Share(data.Train.Select(r => r.Text).ToList());
                var outcomes = new Dictionary<string, Outcome>();
                foreach (var family in new[] { "sparse", "dense", "hybrid", "auto" })
                {
                    Console.Error.WriteLine($"  {bench}: train --trainer {family}");
                    var o = RunTrain(file, family, folder.FullName, null, ct);
                    outcomes[family] = o;
                    rows.Add(new BenchmarkRow(bench, $"{family} command seconds", o.Seconds, "s",
                        Note: $"train --trainer {family} on {data.Train.Count} rows (validation share 0.1): chose {o.Chosen} ({o.Validation}); training {o.TrainSeconds.ToString("0.0", Ci)} s of which embedding {o.EmbeddingSeconds.ToString("0.0", Ci)} s; {o.CpuSeconds.ToString("0.0", Ci)} s of CPU"));
                    rows.Add(new BenchmarkRow(bench, $"{family} peak working set", o.PeakMiB, "MiB", Note: "the command's own OS high-water mark"));
                }
                if (share >= EncoderCoverage.MinimumShare)
                {
                    var baseline = outcomes["sparse"].Seconds + outcomes["dense"].EmbeddingSeconds;
                    rows.Add(new BenchmarkRow(bench, "auto command seconds vs embedding + sparse", outcomes["auto"].Seconds, "s", baseline,
                        $"baseline: the sparse command ({outcomes["sparse"].Seconds.ToString("0.0", Ci)} s) + embedding the same texts ({outcomes["dense"].EmbeddingSeconds.ToString("0.0", Ci)} s, from the dense command); aim ≤ 1.5"));
                }
                else
                {
                    rows.Add(new BenchmarkRow(bench, "auto command seconds vs sparse alone (encoder cannot read the text)", outcomes["auto"].Seconds, "s", outcomes["sparse"].Seconds,
                        $"baseline: the sparse command; encoder share {share.ToString("0.000", Ci)}; aim ≤ 1.2"));
                }
            }

            if (TrainingDatasets.Wanted("english-20k"))
                rows.AddRange(English20K(root, folder.FullName, ct));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
        return rows;
    }

    /// <summary>Issue 16's memory aim: 20,000 short English texts, the full training splits of SST-2, SUBJ, CR and
    /// TweetEval emotion together (21,194 rows, whatever INCUBATOR_BENCH_TRAIN_CAP says), a seeded stratified sample of
    /// 20,000, labelled "set/label" (10 labels). Peak working set of `train` with sparse, dense and auto.</summary>
    private IEnumerable<BenchmarkRow> English20K(string root, string folder, CancellationToken ct)
    {
        var bench = $"{Name}.english-20k";
        var english = new List<LabeledText>();
        foreach (var (name, train, _) in TrainingDatasets.Load(root, ["sst2", "subj", "cr", "tweeteval_emotion"]))
            english.AddRange(train.Select(r => new LabeledText($"{name}/{r.Label}", r.Text)));
        if (english.Count < 20_000)
        {
            yield return new BenchmarkRow(bench, "skipped", 0, "", Note: $"only {english.Count} English training rows found");
            yield break;
        }
        var rows20k = TrainingDatasets.Cap(english, 20_000, 3);
        var file = Write(folder, "english-20k", rows20k);
        var labels = rows20k.Select(r => r.Label).Distinct().Count();
        var note = $"{rows20k.Count} short English texts (SST-2, SUBJ, CR, tweets training splits; label = set/label, {labels} labels; mean {rows20k.Average(r => r.Text.Length).ToString("0", Ci)} characters)";
        var outcomes = new Dictionary<string, Outcome>();
        foreach (var family in Families(["sparse", "dense", "auto"]))
        {
            Console.Error.WriteLine($"  {bench}: train --trainer {family}");
            var o = RunTrain(file, family, folder, null, ct);
            outcomes[family] = o;
            yield return new BenchmarkRow(bench, $"{family} peak working set", o.PeakMiB, "MiB", family == "sparse" ? null : 1024,
                $"{(family == "sparse" ? "" : "baseline: the aim, 1 GiB; ")}{note}; chose {o.Chosen} ({o.Validation}); {o.Seconds.ToString("0.0", Ci)} s (embedding {o.EmbeddingSeconds.ToString("0.0", Ci)} s), {o.CpuSeconds.ToString("0.0", Ci)} s of CPU");
        }
        if (outcomes.Count < 3) yield break;
        yield return new BenchmarkRow(bench, "auto command seconds vs embedding + sparse", outcomes["auto"].Seconds, "s", outcomes["sparse"].Seconds + outcomes["dense"].EmbeddingSeconds,
            $"baseline: the sparse command ({outcomes["sparse"].Seconds.ToString("0.0", Ci)} s) + embedding the same texts ({outcomes["dense"].EmbeddingSeconds.ToString("0.0", Ci)} s, from the dense command); aim ≤ 1.5");
    }

    /// <summary>INCUBATOR_BENCH_COMMAND_FAMILIES (comma-separated) runs only those commands of the 20k set, for a
    /// quick memory check of one family.</summary>
    private static IEnumerable<string> Families(string[] all)
    {
        var only = Environment.GetEnvironmentVariable("INCUBATOR_BENCH_COMMAND_FAMILIES")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return only is { Length: > 0 } ? all.Where(f => only.Contains(f, StringComparer.OrdinalIgnoreCase)) : all;
    }

    private static string Write(string folder, string name, IEnumerable<LabeledText> rows)
    {
        var path = Path.Combine(folder, name + ".jsonl");
        File.WriteAllLines(path, rows.Select(r => JsonSerializer.Serialize(new { label = r.Label, text = r.Text })));
        return path;
    }

    /// <summary>This executable (apphost, or `dotnet` + the entry assembly).</summary>
    private static (string File, string[] Prefix) Self()
    {
        var path = Environment.ProcessPath ?? throw new InvalidOperationException("The process path is unknown.");
        var entry = Assembly.GetEntryAssembly()?.Location ?? throw new InvalidOperationException("The entry assembly is unknown.");
        return Path.GetFileNameWithoutExtension(path) == "dotnet" ? (path, [entry]) : (path, []);
    }

    private static Outcome RunTrain(string data, string family, string folder, Dictionary<string, string>? environment, CancellationToken ct)
    {
        var (file, prefix) = Self();
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in prefix) start.ArgumentList.Add(a);
        foreach (var a in new[] { "train", "--data", data, "--trainer", family, "--seed", "1", "--validation-share", "0.1", "--out", Path.Combine(folder, "model.zip") })
            start.ArgumentList.Add(a);
        foreach (var (k, v) in environment ?? []) start.Environment[k] = v;
        var sw = Stopwatch.StartNew();
        using var process = Process.Start(start) ?? throw new InvalidOperationException("The train command did not start.");
        var stderr = process.StandardError.ReadToEndAsync(ct);
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        var seconds = sw.Elapsed.TotalSeconds;
        if (process.ExitCode != 0) throw new InvalidOperationException($"train --trainer {family} exited with {process.ExitCode}: {stderr.Result[^Math.Min(stderr.Result.Length, 2000)..]}");
        var summary = Summary().Match(stdout);
        var chosen = Chosen().Match(stdout);
        var scores = ValidationScores().Match(stdout);
        if (!summary.Success) throw new InvalidOperationException($"train printed no summary line: {stdout[^Math.Min(stdout.Length, 2000)..]}");
        double D(int g) => double.Parse(summary.Groups[g].Value, Ci);
        // Above 1,000 rows auto cross-validates only near-tied families: say which, from the reason.
        var rest = chosen.Success ? chosen.Groups[2].Value : "";
        var near = NearTie().Match(rest);
        var how = near.Success ? $", cross-validated {near.Groups[1].Value}"
            : rest.Contains("so no cross-validation", StringComparison.Ordinal) ? ", no near-tie, chosen on validation"
            : rest.Contains("cross-validation over", StringComparison.Ordinal) ? ", every family cross-validated" : "";
        return new Outcome(seconds, D(1), D(2), D(4), D(5), chosen.Success ? chosen.Groups[1].Value + how : "?",
            scores.Success ? $"validation accuracy {scores.Groups[1].Value}, macro-F1 {scores.Groups[2].Value} (selection fit)" : "validation scores not printed");
    }

    [GeneratedRegex(@"trained in ([\d.]+) s \(embedding ([\d.]+) s, refit ([\d.]+) s\); ([\d.]+) s of CPU; peak working set (\d+) MiB")]
    private static partial Regex Summary();

    [GeneratedRegex(@"^chosen\s+(\w+)(.*)$", RegexOptions.Multiline)]
    private static partial Regex Chosen();

    [GeneratedRegex(@"only ([\w ]+?) were cross-validated: within one standard error \(([\d.]+)\)")]
    private static partial Regex NearTie();

    [GeneratedRegex(@"^validation: \d+ rows, accuracy ([\d.]+), macro-F1 ([\d.]+)", RegexOptions.Multiline)]
    private static partial Regex ValidationScores();
}
