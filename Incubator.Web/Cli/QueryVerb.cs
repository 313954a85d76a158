using System.Diagnostics;
using System.Globalization;
using System.Text;
using Incubator.Domain.Mining;
using Incubator.Domain.Mining.Query;
using Incubator.Domain.Training;

namespace Incubator.Web.Cli;

/// <summary>`query`: logical text mining without the portal — published bundles, a query, a corpus in; the texts that
/// match, with each clause's probability, out; the funnel printed.</summary>
internal static class QueryVerb
{
    public const string Usage =
        "query --models a.zip,b.zip|name=path.zip,... --expr \"QUERY\" --corpus texts.txt|.csv|.tsv|.jsonl [--column NAME|N] [--field NAME] "
        + "--out hits.tsv [--all] [--batch N]";

    public const int DefaultBatch = 512;

    private sealed record Options(IReadOnlyList<(string Name, string Path)> Models, string Expression, string Corpus, CorpusFormat Format, string? Column,
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
            var report = new CorpusParseReport();
            var funnel = new QueryFunnel(compiled.Clauses.Count, compiled.Conjuncts.Count);
            var ci = CultureInfo.InvariantCulture;
            await using (var writer = new StreamWriter(o.Out, append: false, new UTF8Encoding(false)))
            {
                var header = new List<string> { "text" };
                if (o.All) header.Add("matched");
                header.AddRange(compiled.ClauseTexts.Select(OneLine));
                await writer.WriteLineAsync(string.Join('\t', header));
                await using var corpus = File.OpenRead(o.Corpus);
                using var reader = CorpusParser.OpenReader(corpus, report);
                var texts = CorpusParser.Parse(reader, new CorpusParseOptions(o.Format, o.Column, Field: o.Field), report, ct).Select(t => t.Text);
                foreach (var batch in texts.Chunk(o.Batch))
                {
                    ct.ThrowIfCancellationRequested();
                    var result = QueryEvaluator.Evaluate(compiled, models, batch);
                    funnel.Add(result.Funnel);
                    foreach (var row in result.Rows)
                    {
                        if (!row.Matched && !o.All) continue;
                        var cells = new List<string> { OneLine(batch[row.Index]) };
                        if (o.All) cells.Add(row.Matched ? "1" : "0");
                        cells.AddRange(row.Probabilities.Select(p => p.ToString("0.0000", ci)));
                        await writer.WriteLineAsync(string.Join('\t', cells));
                    }
                }
            }
            clock.Stop();
            if (report.BadRowCount > 0)
            {
                stdout.WriteLine($"skipped {report.BadRowCount} bad row(s): {string.Join(", ", report.BadByReason.Select(b => $"{b.Key} {b.Value}"))}");
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

    private static string OneLine(string s) => s.Replace('\t', ' ').Replace("\r\n", " ").Replace('\n', ' ').Replace('\r', ' ');

    private static Options Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var all = false;
        for (var i = 0; i < args.Length; i++)
        {
            var a = args[i];
            if (a == "--all")
            {
                all = true;
                continue;
            }
            if (!a.StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
                throw new CliUsageException($"Unexpected argument '{a}'. Usage: {Usage}");
            values[a[2..]] = args[++i];
        }
        var known = new[] { "models", "expr", "corpus", "column", "field", "out", "batch" };
        var unknown = values.Keys.Except(known).ToList();
        if (unknown.Count > 0) throw new CliUsageException($"Unknown option(s): {string.Join(", ", unknown.Select(u => "--" + u))}. Usage: {Usage}");
        string Required(string name) => values.TryGetValue(name, out var v) && !string.IsNullOrWhiteSpace(v) ? v : throw new CliUsageException($"--{name} is required. Usage: {Usage}");

        var models = new List<(string, string)>();
        foreach (var raw in Required("models").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
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
        if (values.TryGetValue("batch", out var b) && (!int.TryParse(b, NumberStyles.Integer, CultureInfo.InvariantCulture, out batch) || batch is < 1 or > 100_000))
            throw new CliUsageException($"--batch must be a whole number from 1 to 100000 (got '{b}').");

        var output = Required("out");
        if (Directory.Exists(output)) throw new CliUsageException($"--out '{output}' is a folder; give a file path.");
        var folder = Path.GetDirectoryName(Path.GetFullPath(output));
        if (!string.IsNullOrEmpty(folder) && !Directory.Exists(folder))
            throw new CliUsageException($"--out '{output}': the folder '{folder}' does not exist.");
        var corpus = Required("corpus");
        var format = CorpusParser.FormatFromFileName(corpus) ?? CorpusFormat.Txt;
        if (values.ContainsKey("column") && format is not (CorpusFormat.Csv or CorpusFormat.Tsv))
            throw new CliUsageException($"--column applies to .csv and .tsv corpora; '{corpus}' is read as {format.ToString().ToUpperInvariant()}.");
        if (values.ContainsKey("field") && format != CorpusFormat.Jsonl)
            throw new CliUsageException($"--field applies to .jsonl corpora; '{corpus}' is read as {format.ToString().ToUpperInvariant()}.");
        return new Options(models, Required("expr"), corpus, format, values.GetValueOrDefault("column"), values.GetValueOrDefault("field"), output, all, batch);
    }
}
