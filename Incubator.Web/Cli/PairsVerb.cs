using System.Globalization;
using Incubator.Domain.Common;
using Incubator.Domain.Common.TextFiles;
using Incubator.Domain.Datasets;

namespace Incubator.Web.Cli;

/// <summary>`pairs`: fine-tuning pairs for a generator from approved label&lt;TAB&gt;text rows (the file `train` reads) and the
/// task JSON, offline — the same pairs, files and data card as the portal's export.</summary>
internal static class PairsVerb
{
    public const string Usage = "pairs --data approved.tsv --task task.json [--seed S] [--validation-share F] --out pairs.zip";

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        var o = CliArgs.Parse(args, Usage, ["data", "task", "seed", "validation-share", "out"]);
        var data = o.Required("data");
        var taskPath = o.Required("task");
        var output = o.Output("out", "data", "task");
        var seed = 1;
        if (o["seed"] is { } s && !int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out seed))
            throw new CliUsageException($"--seed must be a whole number (got '{s}').");
        var share = FineTuningPairs.DefaultValidationShare;
        if (o["validation-share"] is { } vs && (!double.TryParse(vs, NumberStyles.Float, CultureInfo.InvariantCulture, out share) || share is < 0.05 or > 0.5))
            throw new CliUsageException($"--validation-share must be a number from 0.05 to 0.5 (got '{vs}').");
        if (await CliTaskFile.ReadAsync(taskPath, stderr, ct) is not { } spec) return 2;

        var rows = CliInputFile.ReadAll(data, TextFileOptions.ForLabels(TextFileFormats.FromFileName(data) ?? TextFileFormat.Tsv, LabelMode.Required, int.MaxValue), out var read);
        var labels = spec.Labels.Select(l => l.Name).ToHashSet(StringComparer.Ordinal);
        if (rows.FirstOrDefault(r => !labels.Contains(r.Label!)) is { } stray)
            throw new CliUsageException($"{Path.GetFileName(data)}, line {stray.Line}: label '{stray.Label}' is not one of the task's labels ({string.Join(", ", spec.Labels.Select(l => l.Name))}).");
        // A row given twice (two approved files put together) is one sample: a pair never repeats one, and a sample in
        // both splits would make the validation loss a training loss. A text under two labels cannot be a sample of either.
        var firstOf = new Dictionary<string, TextRecord>(StringComparer.Ordinal);
        var samples = new List<(string Label, string Text)>(rows.Count);
        var duplicates = 0;
        foreach (var r in rows)
        {
            if (firstOf.TryGetValue(r.Text, out var first))
            {
                if (first.Label != r.Label)
                    throw new CliUsageException($"{Path.GetFileName(data)}, line {r.Line}: the same text as line {first.Line} with another label ('{first.Label}' there, '{r.Label}' here); a sample belongs to one label.");
                duplicates++;
                continue;
            }
            firstOf[r.Text] = r;
            samples.Add((r.Label!, r.Text));
        }
        TaskPairs pairs;
        try
        {
            pairs = FineTuningPairs.Build(spec, Path.GetFileName(data), samples, seed, share);
        }
        catch (DomainValidationException ex)
        {
            throw CliInputFile.Problem(data, ex);
        }
        var missing = spec.Labels.Where(l => pairs.SamplesPerLabel[l.Name] == 0).Select(l => l.Name).ToList();
        if (missing.Count > 0)
            throw new CliUsageException($"{Path.GetFileName(data)}: no rows for {string.Join(", ", missing)}; every pair needs one sample of each of the task's labels.");

        var export = new FineTuningExport(Path.GetFileName(output), [pairs], seed, share, DateTimeOffset.UtcNow);
        CliOutput.Write(output, export.WriteZip);
        stdout.WriteLine($"{CliInputFile.DescribeRows(data, read)}: {string.Join(", ", spec.Labels.Select(l => $"{l.Name} {pairs.SamplesPerLabel[l.Name]}"))}"
            + (duplicates > 0 ? $"; {EnglishCount.Of(duplicates, "duplicate row", "duplicate rows", "N0")} skipped" : ""));
        stdout.WriteLine($"wrote {output}: {pairs.Pairs.Count} pairs ({pairs.TrainCount} train, {pairs.ValidationCount} validation), {pairs.Unused} samples unused; "
            + "OpenAI chat JSONL and instruction/input/output JSONL, data card");
        return 0;
    }
}
