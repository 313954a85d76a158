using System.Diagnostics;
using System.Globalization;
using Incubator.Domain.Common.TextFiles;
using Incubator.Domain.Embeddings;
using Incubator.Domain.Generation;
using Incubator.Domain.Mining;
using Incubator.Domain.Tasks;

namespace Incubator.Web.Cli;

/// <summary>`mine`: candidate mining without the portal and without an LLM — a task JSON and a file of unlabelled texts
/// in, `label&lt;TAB&gt;text` rows out. The pool is read with the portal's one text-file reader (TXT/CSV/TSV/JSONL by extension,
/// encoding detected, a file that is not text refused, bad rows and duplicates skipped) and scored with the same
/// <see cref="MiningScorer"/>.</summary>
internal static class MineVerb
{
    public const string Usage = "mine --task task.json --pool texts.txt --per-label N [--margin M] [--column NAME|N] [--field NAME] --out candidates.tsv";

    private sealed record Options(string Task, string Pool, int PerLabel, double Margin, string? Column, string? Field, string Out);

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        var o = Parse(args);
        if (await CliTaskFile.ReadAsync(o.Task, stderr, ct) is not { } spec) return 2;
        if (spec.Labels.All(l => l.IsOther)) throw new CliUsageException("The task has no label to mine for besides the other label.");

        var clock = Stopwatch.StartNew();
        var format = TextFileFormats.FromFileName(o.Pool) ?? TextFileFormat.Txt;
        var texts = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        using var reader = CliInputFile.Open(o.Pool, new TextFileOptions(format, o.Column, null, o.Field));
        var report = reader.Report;
        foreach (var row in CliInputFile.Records(reader, o.Pool, ct))
        {
            if (seen.Add(row.Text)) texts.Add(row.Text);
            else report.DuplicatesCollapsed++;
        }
        if (texts.Count == 0)
        {
            stderr.WriteLine($"error: no text could be read from '{o.Pool}' ({report.RowsRead} rows, {report.BadRowCount} bad).");
            return 1;
        }
        var language = LanguageGuess.Guess(texts.Take(2000));
        using var miniLm = new MiniLmEmbedder();
        var embedders = new CorpusEmbedders(miniLm, new CharNgramEmbedder());
        var embedder = embedders.ForLanguage(language);
        var scorer = new MiningScorer(spec, embedder);
        for (var start = 0; start < texts.Count; start += CorpusStore.EmbeddingBatchSize)
        {
            ct.ThrowIfCancellationRequested();
            var batch = texts.GetRange(start, Math.Min(CorpusStore.EmbeddingBatchSize, texts.Count - start));
            var vectors = embedder.Embed(batch);
            for (var i = 0; i < batch.Count; i++) scorer.Add(start + i, vectors[i]);
        }
        var mined = await scorer.SelectAsync(o.PerLabel, o.Margin,
            ordinals => Task.FromResult<IReadOnlyDictionary<int, string>>(ordinals.ToDictionary(i => i, i => texts[i])), _ => false);
        var order = spec.Labels.Select(l => l.Name).ToList();
        await using (var writer = new StreamWriter(o.Out, append: false, new System.Text.UTF8Encoding(false)))
        {
            foreach (var m in mined.OrderBy(m => order.IndexOf(m.Label)))
                await writer.WriteLineAsync($"{m.Label}\t{TsvCell.Of(m.Text)}");
        }
        clock.Stop();
        stdout.WriteLine($"read {report.RowsRead:N0} rows from {o.Pool} ({report.Encoding}{(report.Latin1FallbackAtByte is { } at ? $": not valid UTF-8 at byte {at}, read as Latin-1" : "")}): "
            + $"{texts.Count:N0} distinct texts, {report.DuplicatesCollapsed:N0} duplicates, {report.BadRowCount:N0} bad rows");
        foreach (var bad in report.BadRows.Take(5)) stdout.WriteLine($"  line {bad.Line}: {bad.Reason} ({bad.Detail})");
        stdout.WriteLine($"language {language}; embedder {embedder.Name}{(embedder.Name == CharNgramEmbedder.RepresentationName ? " (character n-grams: MiniLM knows English only)" : "")}");
        stdout.WriteLine($"wrote {mined.Count} candidates to {o.Out}: {string.Join(", ", order.Select(l => $"{l} {mined.Count(m => m.Label == l)}"))}");
        stdout.WriteLine($"seconds {clock.Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)}");
        return 0;
    }

    private static Options Parse(string[] args)
    {
        var o = CliArgs.Parse(args, Usage, ["task", "pool", "per-label", "margin", "column", "field", "out"]);
        var task = o.Required("task");
        var poolPath = o.Required("pool");
        if (!File.Exists(poolPath)) throw new CliUsageException($"--pool '{poolPath}' does not exist.");
        var perLabel = o.Int("per-label", 1, MiningService.MaxPerLabel);
        var margin = MiningService.DefaultMargin;
        if (o["margin"] is { } m && (!double.TryParse(m, NumberStyles.Float, CultureInfo.InvariantCulture, out margin) || margin is < 0 or > 1))
            throw new CliUsageException($"--margin must be a number from 0 to 1 (got '{m}').");
        return new Options(task, poolPath, perLabel, margin, o["column"], o["field"], o.Output());
    }
}
