using Incubator.Domain.Benchmarks;
using System.Globalization;
using Incubator.Domain.Mining.Query;
using Incubator.Domain.Training;
using Incubator.Tests.Infrastructure;
using Incubator.Web.Cli;

namespace Incubator.Tests.Mining;

/// <summary>The `query` verb in-process (CliApp.RunAsync, the executable's entry point) with real bundles written by
/// ModelBundle.Write: hits, columns and funnel match the library's evaluation; bad input exits 2 with a clear message.</summary>
public sealed class QueryCliTests : IClassFixture<QueryModelsFixture>, IDisposable
{
    private readonly QueryModelsFixture _models;
    private readonly TempFolder _folder = new("incubator-query-cli");
    private readonly List<string> _texts;

    public QueryCliTests(QueryModelsFixture models)
    {
        _models = models;
        _texts = SyntheticTickets.Texts(300, 5);
        // Blank lines are skipped; surrounding spaces are trimmed.
        File.WriteAllLines(Corpus, _texts.Select((t, i) => i % 50 == 0 ? "  " + t + " " : t).Prepend("").Append("   "));
    }

    private string Corpus => Path.Combine(_folder.Path, "texts.txt");

    private string Out => Path.Combine(_folder.Path, "hits.tsv");

    private string Bundle(string name) => _models.BundlePaths[name];

    public void Dispose() => _folder.Dispose();

    private static async Task<(int Code, string Out, string Err)> RunAsync(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = await CliApp.RunAsync(["query", .. args], stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private Dictionary<string, ITextClassifier> Loaded(params string[] names)
    {
        var d = new Dictionary<string, ITextClassifier>(StringComparer.Ordinal);
        foreach (var n in names)
        {
            using var s = File.OpenRead(Bundle(n));
            d[n] = ModelBundle.Read(s).Classifier;
        }
        return d;
    }

    [Fact]
    public async Task Writes_the_matching_texts_with_each_clauses_probability_and_prints_the_funnel()
    {
        const string expr = "urgency:urgent>=0.6 and (topic:shipping OR NOT sentiment:negative)";
        var (code, stdout, stderr) = await RunAsync("--models", $"{Bundle("urgency")},{Bundle("topic")},{Bundle("sentiment")}",
            "--expr", expr, "--corpus", Corpus, "--out", Out, "--batch", "64");
        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");

        // What the library says for the same bundles and texts.
        var models = Loaded("urgency", "topic", "sentiment");
        var compiled = CompiledQuery.Compile(expr, QueryEvaluator.SchemaOf(models));
        var expected = QueryEvaluator.Evaluate(compiled, models, _texts);
        foreach (var m in models.Values) ((IDisposable)m).Dispose();

        var lines = await File.ReadAllLinesAsync(Out);
        Assert.Equal("text\turgency:urgent>=0.6\ttopic:shipping\tsentiment:negative", lines[0]);
        var rows = lines.Skip(1).Select(l => l.Split('\t')).ToList();
        var hits = expected.Rows.Where(r => r.Matched).ToList();
        Assert.InRange(hits.Count, 20, 280); // the fixture splits the corpus
        Assert.Equal(hits.Count, rows.Count);
        for (var i = 0; i < hits.Count; i++)
        {
            Assert.Equal(_texts[hits[i].Index], rows[i][0]);
            Assert.Equal(hits[i].Probabilities.Select(p => p.ToString("0.0000", CultureInfo.InvariantCulture)), rows[i][1..]);
        }

        Assert.Contains("query urgency:urgent>=0.6 AND (topic:shipping OR NOT sentiment:negative)", stdout);
        var f = expected.Funnel;
        Assert.Contains($"texts    {f.Total,5}", stdout);
        Assert.Contains($"clause 1 {f.ClausePassed[0],5}  urgency:urgent>=0.6", stdout);
        Assert.Contains($"clause 3 {f.ClausePassed[2],5}  sentiment:negative", stdout);
        Assert.Contains($"step 2   {f.Cumulative[1],5}  AND (topic:shipping OR NOT sentiment:negative)", stdout);
        Assert.Contains($"matched  {f.Matched,5}", stdout);
        Assert.Equal(300, f.Total);
        // The blank and whitespace-only lines are reported, not queried.
        Assert.Contains($"read 302 rows from {Corpus} (utf-8)", stdout); // the two blank lines are rows, skipped as bad
        Assert.Contains("skipped 2 bad rows: EmptyText 2", stdout);
        Assert.Contains("  line 1: EmptyText", stdout);
    }

    [Fact]
    public async Task Csv_and_jsonl_corpora_read_the_chosen_column_or_field()
    {
        var subset = _texts.Take(40).ToList();
        var csv = Path.Combine(_folder.Path, "tickets.csv");
        await File.WriteAllLinesAsync(csv, subset.Select((t, i) => $"{i},\"{t.Replace("\"", "\"\"")}\",x").Prepend("id,body,other"));
        var jsonl = Path.Combine(_folder.Path, "tickets.jsonl");
        await File.WriteAllLinesAsync(jsonl, subset.Select(t => System.Text.Json.JsonSerializer.Serialize(new { meta = new { body = t }, text = "ignored" })));

        var (code, stdout, stderr) = await RunAsync("--models", Bundle("urgency"), "--expr", "urgency:urgent>=0", "--corpus", csv, "--column", "body", "--out", Out);
        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        Assert.Equal(subset, (await File.ReadAllLinesAsync(Out)).Skip(1).Select(l => l.Split('\t')[0]));

        (code, stdout, stderr) = await RunAsync("--models", Bundle("urgency"), "--expr", "urgency:urgent>=0", "--corpus", jsonl, "--field", "meta.body", "--out", Out);
        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        Assert.Equal(subset, (await File.ReadAllLinesAsync(Out)).Skip(1).Select(l => l.Split('\t')[0]));

        (code, _, stderr) = await RunAsync("--models", Bundle("urgency"), "--expr", "urgency:urgent", "--corpus", Corpus, "--column", "body", "--out", Out);
        Assert.Equal(2, code);
        Assert.Contains("--column applies to .csv and .tsv corpora", stderr);
    }

    [Fact]
    public async Task Names_can_be_given_explicitly_quoted_in_the_query_and_all_rows_written()
    {
        var (code, stdout, stderr) = await RunAsync("--models", $"customer mood={Bundle("sentiment")}, u={Bundle("urgency")}",
            "--expr", "\"customer mood\":positive OR NOT u:normal", "--corpus", Corpus, "--out", Out, "--all");
        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        var lines = await File.ReadAllLinesAsync(Out);
        Assert.Equal("text\tmatched\t\"customer mood\":positive\tu:normal", lines[0]);
        Assert.Equal(301, lines.Length);
        var rows = lines.Skip(1).Select(l => l.Split('\t')).ToList();
        Assert.Equal(_texts, rows.Select(r => r[0]));
        Assert.Contains(rows, r => r[1] == "1");
        Assert.Contains(rows, r => r[1] == "0");
        // matched = positive OR NOT normal, from the written probabilities of two-label models (ties aside).
        foreach (var r in rows)
        {
            var positive = double.Parse(r[2], CultureInfo.InvariantCulture);
            var normal = double.Parse(r[3], CultureInfo.InvariantCulture);
            if (Math.Abs(positive - 0.5) < 0.001 || Math.Abs(normal - 0.5) < 0.001) continue;
            Assert.Equal(positive > 0.5 || normal < 0.5 ? "1" : "0", r[1]);
        }
    }

    [Fact]
    public async Task A_syntax_error_exits_2_with_the_caret_under_the_problem_and_writes_nothing()
    {
        var (code, _, stderr) = await RunAsync("--models", Bundle("urgency"), "--expr", "urgency:urgent >= high", "--corpus", Corpus, "--out", Out);
        Assert.Equal(2, code);
        var lines = stderr.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        Assert.Equal("error: --expr is not a valid query:", lines[0]);
        Assert.Equal("urgency:urgent >= high", lines[1]);
        Assert.StartsWith(new string(' ', 18) + "^~~~ Expected a probability between 0 and 1 after '>=' but found 'high'.", lines[2]);
        Assert.False(File.Exists(Out));
    }

    [Fact]
    public async Task An_unknown_model_or_label_exits_2_pointing_at_the_name()
    {
        var (code, _, stderr) = await RunAsync("--models", $"{Bundle("urgency")},{Bundle("topic")}", "--expr", "urgency:critical OR topics:shipping",
            "--corpus", Corpus, "--out", Out);
        Assert.Equal(2, code);
        Assert.True(stderr.Contains("error: --expr does not fit the models:"), stderr);
        Assert.True(stderr.Contains("        ^~~~~~~~ The model 'urgency' has no label 'critical'. Its labels: urgent, normal."), stderr);
        Assert.Contains(new string(' ', 20) + "^~~~~~ There is no model 'topics'. Available: topic, urgency.", stderr);
        Assert.False(File.Exists(Out));
    }

    [Fact]
    public async Task Corrupt_or_missing_bundles_exit_2_with_a_clear_message()
    {
        var garbage = Path.Combine(_folder.Path, "garbage.zip");
        await File.WriteAllBytesAsync(garbage, [0x50, 0x4B, 1, 2, 3, 4, 5, 6, 7, 8]);
        var (code, _, stderr) = await RunAsync("--models", garbage, "--expr", "garbage:x", "--corpus", Corpus, "--out", Out);
        Assert.Equal(2, code);
        Assert.StartsWith($"error: --models: '{garbage}' (model 'garbage') is not a usable model bundle: ", stderr);

        // A real zip that is not a bundle.
        var notBundle = Path.Combine(_folder.Path, "notes.zip");
        using (var zip = new System.IO.Compression.ZipArchive(File.Create(notBundle), System.IO.Compression.ZipArchiveMode.Create))
        {
            await using var w = new StreamWriter(zip.CreateEntry("notes.txt").Open());
            await w.WriteAsync("hello");
        }
        (code, _, stderr) = await RunAsync("--models", notBundle, "--expr", "notes:x", "--corpus", Corpus, "--out", Out);
        Assert.Equal(2, code);
        Assert.Contains("is not a usable model bundle", stderr);

        // A bundle whose model file was tampered with: the checksum catches it.
        var tampered = Path.Combine(_folder.Path, "tampered.zip");
        File.Copy(Bundle("urgency"), tampered);
        using (var zip = new System.IO.Compression.ZipArchive(File.Open(tampered, FileMode.Open), System.IO.Compression.ZipArchiveMode.Update))
        {
            var entry = zip.GetEntry(ModelBundle.OnnxFile)!;
            byte[] bytes;
            using (var ms = new MemoryStream())
            {
                await using (var s = entry.Open()) await s.CopyToAsync(ms);
                bytes = ms.ToArray();
            }
            bytes[^10] ^= 0xFF;
            entry.Delete();
            await using var s2 = zip.CreateEntry(ModelBundle.OnnxFile).Open();
            await s2.WriteAsync(bytes);
        }
        (code, _, stderr) = await RunAsync("--models", tampered, "--expr", "tampered:urgent", "--corpus", Corpus, "--out", Out);
        Assert.Equal(2, code);
        Assert.Contains("is not a usable model bundle", stderr);

        var missing = Path.Combine(_folder.Path, "nope.zip");
        (code, _, stderr) = await RunAsync("--models", missing, "--expr", "nope:x", "--corpus", Corpus, "--out", Out);
        Assert.Equal(2, code);
        Assert.Contains($"the bundle '{missing}' (model 'nope') does not exist", stderr);
        Assert.False(File.Exists(Out));
    }

    [Theory]
    [InlineData("--expr is required")]
    [InlineData("Unknown option: --colour")]
    [InlineData("the name 'urgency' is used twice")]
    [InlineData("--batch must be a whole number from 1 to 100000 (got '0')")]
    [InlineData("--corpus")]
    [InlineData("--out")]
    public async Task Bad_arguments_exit_2_and_say_what_is_wrong(string message)
    {
        var u = Bundle("urgency");
        string[] args = message switch
        {
            "--expr is required" => ["--models", u, "--corpus", Corpus, "--out", Out],
            "Unknown option: --colour" => ["--models", u, "--expr", "urgency:urgent", "--corpus", Corpus, "--out", Out, "--colour", "red"],
            "the name 'urgency' is used twice" => ["--models", $"{u},urgency={Bundle("topic")}", "--expr", "urgency:urgent", "--corpus", Corpus, "--out", Out],
            "--batch must be a whole number from 1 to 100000 (got '0')" => ["--models", u, "--expr", "urgency:urgent", "--corpus", Corpus, "--out", Out, "--batch", "0"],
            "--corpus" => ["--models", u, "--expr", "urgency:urgent", "--corpus", Path.Combine(_folder.Path, "none.txt"), "--out", Out],
            _ => ["--models", u, "--expr", "urgency:urgent", "--corpus", Corpus, "--out", Path.Combine(_folder.Path, "no-such-folder", "hits.tsv")],
        };
        var (code, _, stderr) = await RunAsync(args);
        Assert.Equal(2, code);
        Assert.StartsWith("error: ", stderr);
        Assert.Contains(message switch
        {
            "--corpus" => "does not exist",
            "--out" => "does not exist",
            _ => message,
        }, stderr);
    }

    /// <summary>enc22: a Shift_JIS corpus is named as such, and one bad row is counted in words.</summary>
    [Fact]
    public async Task The_read_line_names_a_shift_jis_corpus_and_one_bad_row()
    {
        var corpus = Path.Combine(_folder.Path, "texts-sjis.txt");
        File.WriteAllBytes(corpus, System.Text.CodePagesEncodingProvider.Instance.GetEncoding(932)!.GetBytes(
            string.Join("\n", _texts.Take(20).Select((t, i) => i == 0 ? "荷物が届きません。" + t : t)) + "\n  \n"));
        var (code, stdout, stderr) = await RunAsync("--models", Bundle("urgency"), "--expr", "urgency:urgent>=0.5", "--corpus", corpus, "--out", Out, "--all");
        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        Assert.Contains($"read 21 rows from {corpus} (shift_jis: not valid UTF-8 at byte 0, read as shift_jis)", stdout);
        Assert.Contains("skipped 1 bad row: EmptyText 1", stdout);
    }
}
