using System.Diagnostics;
using System.Globalization;
using System.Text;
using Incubator.Domain.Common.TextFiles;
using Incubator.Domain.Mining.Query;
using Incubator.Domain.Training;
using Incubator.Domain.Common;

namespace Incubator.Web.Cli;

/// <summary>`query`: logical text mining without the portal — published bundles, a query, a corpus in; the texts that
/// match, with each clause's probability, out; the funnel printed.</summary>
internal static class QueryVerb
{
    public const string Usage =
        "query --models a.zip,b.zip|name=path.zip,... --expr \"QUERY\" --corpus texts.txt|.csv|.tsv|.jsonl [--column NAME|N] [--field NAME] "
        + "--out hits.tsv [--all] [--batch N]";

    public const int DefaultBatch = 512;

    private sealed record Options(IReadOnlyList<(string Name, string Path)> Models, string Expression, string Corpus, TextFileFormat Format, string? Column,
        string? Field, string Out, bool All, int Batch);

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        var o = Parse(args);

        // The expression is checked before anything is loaded: a typo should cost nothing.
        var parsed = QueryParser.Parse(o.Expression);
        if (parsed.Query is null)
        {
            stderr.WriteLine("error: --expr is not a valid query:");
            stderr.WriteLine(parsed.Error!.Describe(o.Expression));
            return 2;
        }
        if (Directory.Exists(o.Corpus)) throw new CliUsageException($"--corpus '{o.Corpus}' is a folder; give a file.");
        if (!File.Exists(o.Corpus)) throw new CliUsageException($"--corpus '{o.Corpus}' does not exist.");

        var models = new Dictionary<string, ITextClassifier>(StringComparer.Ordinal);
        var disposables = new List<IDisposable>();
        try
        {
            foreach (var (name, path) in o.Models)
            {
                var model = LoadModel(name, path);
                if (model is IDisposable d) disposables.Add(d);
                models[name] = model;
            }

            var (query, errors) = QueryValidator.Validate(parsed.Query, QueryEvaluator.SchemaOf(models));
            if (query is null)
            {
                stderr.WriteLine("error: --expr does not fit the models:");
                foreach (var e in errors) stderr.WriteLine(e.Describe(o.Expression));
                return 2;
            }
            var compiled = CompiledQuery.FromValidated(query);
            foreach (var name in compiled.Models)
                stdout.WriteLine($"model {name}: {string.Join(", ", models[name].Labels)}");
            stdout.WriteLine($"query {compiled.Text}");

            var clock = Stopwatch.StartNew();
            // The corpus is opened (and refused when it is not text) before the output file is created.
            using var reader = CliInputFile.Open(o.Corpus, new TextFileOptions(o.Format, o.Column, Field: o.Field));
            var report = reader.Report;
            var funnel = new QueryFunnel(compiled.Clauses.Count, compiled.Conjuncts.Count);
            var ci = CultureInfo.InvariantCulture;
            await CliOutput.WriteTextAsync(o.Out, async writer =>
            {
                var header = new List<string> { "text" };
                if (o.All) header.Add("matched");
                header.AddRange(compiled.ClauseTexts.Select(TsvCell.Of));
                await writer.WriteLineAsync(string.Join('\t', header));
                var texts = CliInputFile.Records(reader, o.Corpus, ct).Select(t => t.Text);
                foreach (var batch in texts.Chunk(o.Batch))
                {
                    ct.ThrowIfCancellationRequested();
                    var result = QueryEvaluator.Evaluate(compiled, models, batch);
                    funnel.Add(result.Funnel);
                    foreach (var row in result.Rows)
                    {
                        if (!row.Matched && !o.All) continue;
                        var cells = new List<string> { TsvCell.Of(batch[row.Index]) };
                        if (o.All) cells.Add(row.Matched ? "1" : "0");
                        cells.AddRange(row.Probabilities.Select(p => p.ToString("0.0000", ci)));
                        await writer.WriteLineAsync(string.Join('\t', cells));
                    }
                }
            });
            clock.Stop();
            stdout.WriteLine(CliInputFile.DescribeRows(o.Corpus, report));
            if (report.BadRowCount > 0)
            {
                stdout.WriteLine($"skipped {EnglishCount.Of(report.BadRowCount, "bad row", "bad rows")}: {string.Join(", ", report.BadByReason.Select(b => $"{b.Key} {b.Value}"))}");
                foreach (var bad in report.BadRows.Take(5)) stdout.WriteLine($"  line {bad.Line}: {bad.Reason} {bad.Detail}".TrimEnd());
            }
            foreach (var line in funnel.Describe(compiled)) stdout.WriteLine(line);
            var rate = clock.Elapsed.TotalSeconds > 0 ? funnel.Total / clock.Elapsed.TotalSeconds : 0;
            stdout.WriteLine($"{(o.All ? funnel.Total : funnel.Matched)} rows written to {o.Out} in {clock.Elapsed.TotalSeconds.ToString("0.0", ci)} s ({rate.ToString("0", ci)} texts/s)");
            return 0;
        }
        finally
        {
            foreach (var d in disposables) d.Dispose();
        }
    }

    private static ITextClassifier LoadModel(string name, string path)
    {
        if (Directory.Exists(path)) throw new CliUsageException($"--models: '{path}' (model '{name}') is a folder; give the model's zip file.");
        if (!File.Exists(path)) throw new CliUsageException($"--models: the bundle '{path}' (model '{name}') does not exist.");
        try
        {
            using var stream = File.OpenRead(path);
            return ModelBundle.Read(stream).Classifier;
        }
        catch (Exception ex) when (ex is BundleException or InvalidDataException or IOException)
        {
            throw new CliUsageException($"--models: '{path}' (model '{name}') is not a usable model bundle: {ex.Message}");
        }
    }

    private static Options Parse(string[] args)
    {
        var o = CliArgs.Parse(args, Usage, ["models", "expr", "corpus", "column", "field", "out", "batch"], flags: ["all"]);

        var models = new List<(string, string)>();
        foreach (var raw in o.Required("models").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = raw.IndexOf('=');
            var (name, path) = eq > 0 && !File.Exists(raw) ? (raw[..eq].Trim(), raw[(eq + 1)..].Trim()) : (Path.GetFileNameWithoutExtension(raw), raw);
            if (name.Length == 0 || path.Length == 0) throw new CliUsageException($"--models: '{raw}' needs a name and a path (name=path.zip).");
            if (models.Any(m => string.Equals(m.Item1, name, StringComparison.OrdinalIgnoreCase)))
                throw new CliUsageException($"--models: the name '{name}' is used twice; name them with name=path.zip.");
            models.Add((name, path));
        }
        if (models.Count == 0) throw new CliUsageException($"--models needs at least one bundle. Usage: {Usage}");

        var batch = DefaultBatch;
        if (o["batch"] is { } b && (!int.TryParse(b, NumberStyles.Integer, CultureInfo.InvariantCulture, out batch) || batch is < 1 or > 100_000))
            throw new CliUsageException($"--batch must be a whole number from 1 to 100000 (got '{b}').");

        var output = o.Output("out", "corpus");
        var corpus = o.Required("corpus");
        var format = TextFileFormats.FromFileName(corpus) ?? TextFileFormat.Txt;
        if (o.Has("column") && format is not (TextFileFormat.Csv or TextFileFormat.Tsv))
            throw new CliUsageException($"--column applies to .csv and .tsv corpora; '{corpus}' is read as {format.ToString().ToUpperInvariant()}.");
        if (o.Has("field") && format != TextFileFormat.Jsonl)
            throw new CliUsageException($"--field applies to .jsonl corpora; '{corpus}' is read as {format.ToString().ToUpperInvariant()}.");
        return new Options(models, o.Required("expr"), corpus, format, o["column"], o["field"], output, o.Flag("all"), batch);
    }
}
