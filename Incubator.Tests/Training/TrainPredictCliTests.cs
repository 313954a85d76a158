using System.IO.Compression;
using Incubator.Domain.Training;
using Incubator.Tests.Infrastructure;
using Incubator.Web.Cli;

namespace Incubator.Tests.Training;

/// <summary>`train` and `predict` in-process through CliApp.RunAsync (the executable's entry point).</summary>
public sealed class TrainPredictCliTests : IDisposable
{
    private readonly TempFolder _folder = new("incubator-train-cli");

    public void Dispose() => _folder.Dispose();

    private string PathOf(string name) => Path.Combine(_folder.Path, name);

    private static async Task<(int Code, string Out, string Err)> Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = await CliApp.RunAsync(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private string Write(string name, string content)
    {
        var p = PathOf(name);
        File.WriteAllText(p, content);
        return p;
    }

    [Fact]
    public async Task Train_then_predict_end_to_end_in_input_order()
    {
        var model = PathOf("model.zip");
        var (code, output, err) = await Run("train", "--data", TrainingFixtures.PathOf("support-en.tsv"), "--trainer", "sparse", "--seed", "3", "--out", model);
        Assert.True(code == 0, err);
        Assert.Contains("sparse  validation accuracy", output);
        Assert.Contains("macro-F1", output);
        Assert.Contains("billing", output);
        Assert.Matches(@"trained in \d+\.\d s \(embedding 0\.0 s, refit \d+\.\d s\); \d+\.\d s of CPU; peak working set \d+ MiB", output);
        using (var bundle = ModelBundle.Read(File.OpenRead(model)))
        {
            Assert.Equal(["billing", "shipping", "technical"], bundle.Labels);
            Assert.Contains("Seed 3", bundle.ModelCard);
            Assert.Contains("- Refit on training + validation:", bundle.ModelCard);
            Assert.Matches(@"- Size and speed: model\.onnx (\d+ KiB|\d+\.\d MiB); \d+ texts/s", bundle.ModelCard);
        }
        Assert.Empty(Directory.GetFiles(_folder.Path, "*.tmp", SearchOption.AllDirectories));

        // A labelled file: accuracy and macro-F1 are printed, one output row per input row, in input order.
        var rows = TrainingFixtures.English().Take(40).ToList();
        var data = Write("eval.csv", "label,text\n" + string.Join("\n", rows.Select(r => $"{r.Label},\"{r.Text.Replace("\"", "\"\"")}\"")) + "\n");
        var predictions = PathOf("predictions.tsv");
        (code, output, err) = await Run("predict", "--model", model, "--data", data, "--out", predictions);
        Assert.True(code == 0, err);
        Assert.Matches(@"rows 40  accuracy \d\.\d{3}  macro-F1 \d\.\d{3}", output);
        var lines = File.ReadAllLines(predictions);
        Assert.Equal(40, lines.Length);
        for (var i = 0; i < rows.Count; i++)
        {
            var cells = lines[i].Split('\t');
            Assert.Equal(3, cells.Length);
            Assert.Contains(cells[0], new[] { "billing", "shipping", "technical" });
            Assert.InRange(double.Parse(cells[1], System.Globalization.CultureInfo.InvariantCulture), 1.0 / 3, 1.0);
            Assert.Equal(rows[i].Text, cells[2]);
        }

        // Text only (no labels), to stdout, JSONL with an empty text and a tab inside.
        var textOnly = Write("texts.jsonl", "{\"text\": \"my refund never came\"}\n{\"text\": \"\"}\n{\"text\": \"the app\\tcrashes\"}\n");
        (code, output, err) = await Run("predict", "--model", model, "--data", textOnly);
        Assert.True(code == 0, err);
        var printed = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, printed.Length);
        Assert.StartsWith("billing\t", printed[0]);
        Assert.EndsWith("\tthe app crashes", printed[2]);
        Assert.DoesNotContain("accuracy", output);
    }

    [Fact]
    public async Task Training_with_one_label_or_an_empty_label_fails_clearly_and_writes_nothing()
    {
        var model = PathOf("model.zip");
        var one = Write("one.tsv", "spam\tbuy now\nspam\tcheap pills\n");
        var (code, _, err) = await Run("train", "--data", one, "--out", model);
        Assert.Equal(2, code);
        Assert.Contains("at least 2 labels", err);

        var empty = Write("empty.tsv", "spam\tbuy now\nham\thello there\n\tno label here\n");
        (code, _, err) = await Run("train", "--data", empty, "--out", model);
        Assert.Equal(2, code);
        Assert.Contains("line 3", err);
        Assert.Contains("label is empty", err);
        Assert.False(File.Exists(model));
        Assert.Empty(Directory.GetFiles(_folder.Path, "*.tmp"));
    }

    [Fact]
    public async Task Malformed_files_report_the_line()
    {
        var model = PathOf("model.zip");
        var csv = Write("bad.csv", "label,text\nspam,buy now\nham,\"unclosed quote\nspam,x\n");
        var (code, _, err) = await Run("train", "--data", csv, "--out", model);
        Assert.Equal(2, code);
        Assert.Contains("bad.csv, line 3", err);

        var tsv = Write("bad.tsv", "spam\tbuy now\nham\thello\textra column\n");
        (code, _, err) = await Run("train", "--data", tsv, "--out", model);
        Assert.Equal(2, code);
        Assert.Contains("bad.tsv, line 2", err);

        var jsonl = Write("bad.jsonl", "{\"label\":\"a\",\"text\":\"x\"}\n{\"label\":\"b\",\"text\":\n");
        (code, _, err) = await Run("train", "--data", jsonl, "--out", model);
        Assert.Equal(2, code);
        Assert.Contains("bad.jsonl, line 2", err);
        Assert.False(File.Exists(model));
    }

    [Fact]
    public async Task Gold_labels_the_data_does_not_have_are_rejected()
    {
        var gold = Write("gold.tsv", "billing\tcharged twice\nrefunds\twhere is my money\n");
        var (code, _, err) = await Run("train", "--data", TrainingFixtures.PathOf("support-en.tsv"), "--trainer", "sparse", "--gold", gold, "--out", PathOf("m.zip"));
        Assert.Equal(2, code);
        Assert.Contains("refunds", err);
        Assert.False(File.Exists(PathOf("m.zip")));
    }

    [Fact]
    public async Task Predict_rejects_corrupt_and_foreign_zips_and_keeps_an_existing_output()
    {
        var data = Write("texts.tsv", "hello\nworld\n");
        var output = Write("predictions.tsv", "previous content\n");

        var corrupt = Write("corrupt.zip", "PK\u0003\u0004 this is not really a zip");
        var (code, _, err) = await Run("predict", "--model", corrupt, "--data", data, "--out", output);
        Assert.Equal(2, code);
        Assert.Contains("not a valid zip", err);

        var foreign = PathOf("foreign.zip");
        using (var zip = ZipFile.Open(foreign, ZipArchiveMode.Create))
            using (var w = new StreamWriter(zip.CreateEntry("notes.txt").Open())) w.Write("hi");
        (code, _, err) = await Run("predict", "--model", foreign, "--data", data, "--out", output);
        Assert.Equal(2, code);
        Assert.Contains("not an Incubator model bundle", err);

        (code, _, err) = await Run("predict", "--model", PathOf("missing.zip"), "--data", data);
        Assert.Equal(2, code);
        Assert.Contains("not found", err);
        Assert.Equal("previous content\n", File.ReadAllText(output));
    }

    [Fact]
    public async Task An_out_that_names_an_input_file_is_refused_before_any_work_and_the_input_is_kept()
    {
        var data = Write("train.tsv", File.ReadAllText(TrainingFixtures.PathOf("support-en.tsv")));
        var dataBefore = File.ReadAllBytes(data);
        var (code, _, err) = await Run("train", "--data", data, "--trainer", "sparse", "--out", data);
        Assert.Equal(2, code);
        Assert.Contains("--out", err);
        Assert.Contains("--data", err);
        Assert.Single(err.Trim().Split('\n'));
        Assert.Equal(dataBefore, File.ReadAllBytes(data));

        var gold = Write("gold.tsv", "billing\tcharged twice\nshipping\twhere is my parcel\n");
        (code, _, err) = await Run("train", "--data", data, "--trainer", "sparse", "--gold", gold, "--out", gold);
        Assert.Equal(2, code);
        Assert.Contains("--gold", err);
        Assert.Equal("billing\tcharged twice\nshipping\twhere is my parcel\n", File.ReadAllText(gold));

        var model = PathOf("model.zip");
        (code, _, err) = await Run("train", "--data", data, "--trainer", "sparse", "--out", model);
        Assert.True(code == 0, err);
        var modelBefore = File.ReadAllBytes(model);
        var texts = Write("texts.tsv", "hello\nworld\n");
        // The same file spelled another way (a relative path with a detour) is still the same file.
        var detour = Path.Combine(_folder.Path, "sub", "..", "model.zip");
        Directory.CreateDirectory(Path.Combine(_folder.Path, "sub"));
        (code, _, err) = await Run("predict", "--model", model, "--data", texts, "--out", detour);
        Assert.Equal(2, code);
        Assert.Contains("--model", err);
        Assert.Equal(modelBefore, File.ReadAllBytes(model));
        (code, _, err) = await Run("predict", "--model", model, "--data", texts, "--out", texts);
        Assert.Equal(2, code);
        Assert.Contains("--data", err);
        Assert.Equal("hello\nworld\n", File.ReadAllText(texts));
    }

    [Fact]
    public async Task Gold_and_data_problems_name_the_file_and_the_line()
    {
        var gold = Write("gold.tsv", "billing\tcharged twice\nrefunds\twhere is my money\n");
        var (code, _, err) = await Run("train", "--data", TrainingFixtures.PathOf("support-en.tsv"), "--trainer", "sparse", "--gold", gold, "--out", PathOf("m.zip"));
        Assert.Equal(2, code);
        Assert.Contains("gold.tsv, line 2", err);
        Assert.Contains("'refunds'", err);
        Assert.Single(err.Trim().Split('\n'));

        // Every label has one row: nothing can be held out for validation. The message names the file and says why.
        var two = Write("two.tsv", "positive\tgood\nnegative\tbad\n");
        (code, _, err) = await Run("train", "--data", two, "--trainer", "sparse", "--out", PathOf("m.zip"));
        Assert.Equal(2, code);
        Assert.StartsWith("error: two.tsv: ", err);
        Assert.Contains("one row", err);
        Assert.Single(err.Trim().Split('\n'));
        Assert.False(File.Exists(PathOf("m.zip")));

        // A folder given as a file says so (not "access denied" nor "not found").
        (code, _, err) = await Run("train", "--data", _folder.Path, "--trainer", "sparse", "--out", PathOf("m.zip"));
        Assert.Equal(2, code);
        Assert.Contains("is a folder", err);
        (code, _, err) = await Run("predict", "--model", _folder.Path, "--data", two);
        Assert.Equal(2, code);
        Assert.Contains("is a folder", err);
    }

    [Fact]
    public async Task Bad_arguments_exit_2()
    {
        Assert.Equal(2, (await Run("train", "--data", "x.tsv")).Code);
        Assert.Equal(2, (await Run("train", "--data", "x.tsv", "--out", PathOf("m.zip"), "--trainer", "forest")).Code);
        Assert.Equal(2, (await Run("predict", "--model", "m.zip")).Code);
        Assert.Equal(2, (await Run("predict", "--model", "m.zip", "--data", "d.tsv", "--bogus", "1")).Code);
        var (code, _, err) = await Run("train", "--data", PathOf("nope.tsv"), "--out", PathOf("m.zip"));
        Assert.Equal(2, code);
        Assert.Contains("not found", err);
    }
    /// <summary>--lang ja writes the bundle's model card in Japanese (decision 0012, amendment card21); without it a
    /// training file, which has no task language, gets an English card; another language is refused.</summary>
    [Fact]
    public async Task Train_with_lang_ja_writes_a_japanese_model_card_into_the_bundle()
    {
        var model = PathOf("model-ja.zip");
        var (code, _, err) = await Run("train", "--data", TrainingFixtures.PathOf("support-en.tsv"), "--trainer", "sparse", "--seed", "3", "--lang", "ja", "--out", model);
        Assert.True(code == 0, err);
        using (var bundle = ModelBundle.Read(File.OpenRead(model)))
        {
            Assert.StartsWith("# support-en 分類器", bundle.ModelCard);
            Assert.Contains("に `Incubator train` で学習。", bundle.ModelCard);
            Assert.Contains("- ファミリー: **n-gram 特徴（sparse）**（指定: n-gram 特徴（sparse））。", bundle.ModelCard);
            Assert.Contains("- シード 3。", bundle.ModelCard);
            Assert.Matches(@"- サイズと速度: model\.onnx (\d+ KiB|\d+\.\d MiB)。素の ONNX Runtime で毎秒 \d+ テキスト", bundle.ModelCard);
            Assert.Contains("| ラベル | 適合率 | 再現率 | F1 | 件数 |", bundle.ModelCard);
            Assert.DoesNotContain("## Model", bundle.ModelCard);
            // ...and in English beside it (decision 0012, amendment card22).
            Assert.Equal(CardLanguage.En, bundle.OtherCardLanguage);
            Assert.StartsWith("# support-en classifier", bundle.OtherCard);
            Assert.Contains("Trained with `Incubator train`", bundle.OtherCard);
            Assert.Contains("- Family: **sparse** (requested: sparse).", bundle.OtherCard);
            Assert.Contains("- Seed 3;", bundle.OtherCard);
            Assert.DoesNotContain("## モデル", bundle.OtherCard);
        }
        using (var zip = System.IO.Compression.ZipFile.OpenRead(model))
            Assert.Contains("model-card.en.md", zip.Entries.Select(e => e.FullName));

        var english = PathOf("model-en.zip");
        (code, _, err) = await Run("train", "--data", TrainingFixtures.PathOf("support-en.tsv"), "--trainer", "sparse", "--seed", "3", "--out", english);
        Assert.True(code == 0, err);
        using (var bundle = ModelBundle.Read(File.OpenRead(english)))
        {
            Assert.Contains("- Family: **sparse** (requested: sparse).", bundle.ModelCard);
            Assert.Equal(CardLanguage.Ja, bundle.OtherCardLanguage);
            Assert.StartsWith("# support-en 分類器", bundle.OtherCard);
            Assert.Contains("- ファミリー: **n-gram 特徴（sparse）**（指定: n-gram 特徴（sparse））。", bundle.OtherCard);
        }
        using (var zip = System.IO.Compression.ZipFile.OpenRead(english))
            Assert.Contains("model-card.ja.md", zip.Entries.Select(e => e.FullName));

        (code, _, err) = await Run("train", "--data", TrainingFixtures.PathOf("support-en.tsv"), "--lang", "de", "--out", PathOf("model-de.zip"));
        Assert.Equal(2, code);
        Assert.Contains("--lang 'de' is not one of en, ja.", err);
    }

    /// <summary>enc22: train and predict say what they read and in which encoding — a Windows-1252 training file, a
    /// Shift_JIS gold file, and (predictions on stdout) the read line on stderr so the data stays clean.</summary>
    [Fact]
    public async Task Train_and_predict_name_the_encoding_they_read()
    {
        var codePages = System.Text.CodePagesEncodingProvider.Instance;
        var lines = File.ReadAllLines(TrainingFixtures.PathOf("support-en.tsv")).Where(l => l.Length > 0).ToList();
        var data = PathOf("train-1252.tsv");
        File.WriteAllBytes(data, codePages.GetEncoding(1252)!.GetBytes(string.Join("\n", lines.Select(l => l + " — it’s urgent")) + "\n"));
        var gold = PathOf("gold-sjis.tsv");
        File.WriteAllBytes(gold, codePages.GetEncoding(932)!.GetBytes("billing\t請求が二重になっています。\nshipping\t荷物がまだ届きません。\n"));
        var model = PathOf("model.zip");
        var (code, output, err) = await Run("train", "--data", data, "--gold", gold, "--trainer", "sparse", "--out", model);
        Assert.True(code == 0, err);
        Assert.Contains($"read {lines.Count} rows from {data} (windows-1252: not valid UTF-8 at byte ", output);
        Assert.Contains($"read 2 rows from {gold} (shift_jis: not valid UTF-8 at byte 8, read as shift_jis)", output);

        var texts = PathOf("texts-sjis.txt");
        File.WriteAllBytes(texts, codePages.GetEncoding(932)!.GetBytes("返金してください。\n"));
        (code, output, err) = await Run("predict", "--model", model, "--data", texts);
        Assert.True(code == 0, err);
        Assert.Contains($"read 1 row from {texts} (shift_jis: not valid UTF-8 at byte 0, read as shift_jis)", err);
        Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries)); // the prediction only
        Assert.DoesNotContain("read 1 row", output);
        (code, output, err) = await Run("predict", "--model", model, "--data", texts, "--out", PathOf("p.tsv"));
        Assert.True(code == 0, err);
        Assert.Contains($"read 1 row from {texts} (shift_jis", output);
    }
}

public sealed class TrainPredictDenseCliTests : IDisposable
{
    private readonly TempFolder _folder = new("incubator-train-cli-dense");

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task Dense_bundle_trains_and_predicts_through_the_cli()
    {
        var model = Path.Combine(_folder.Path, "dense.zip");
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = await CliApp.RunAsync(["train", "--data", TrainingFixtures.PathOf("support-en.tsv"), "--trainer", "dense", "--encoder", "int8", "--out", model], stdout, stderr);
        Assert.True(code == 0, stderr.ToString());
        Assert.Contains("chosen  dense", stdout.ToString());
        using (var bundle = ModelBundle.Read(File.OpenRead(model)))
        {
            Assert.True(bundle.Manifest.NeedsOnnxRuntimeExtensions);
            Assert.Contains("English only", bundle.ModelCard);
            Assert.Contains("- Encoder: all-MiniLM-L6-v2 (8-bit quantised).", bundle.ModelCard);
            Assert.True(bundle.OnnxModel.Length < 32 * 1024 * 1024, $"{bundle.OnnxModel.Length} bytes");
        }
        // Auto on 8 rows per label pools the three families: the chosen line and the card say "pooled".
        var small = Path.Combine(_folder.Path, "small.tsv");
        File.WriteAllLines(small, TrainingFixtures.English().GroupBy(r => r.Label).SelectMany(g => g.Take(8)).Select(r => $"{r.Label}\t{r.Text}"));
        var pooled = Path.Combine(_folder.Path, "pooled.zip");
        stdout = new StringWriter();
        code = await CliApp.RunAsync(["train", "--data", small, "--trainer", "auto", "--encoder", "int8", "--out", pooled], stdout, stderr);
        Assert.True(code == 0, stderr.ToString());
        Assert.Contains("chosen  pooled (pooled: the log-linear average of sparse, dense and hybrid", stdout.ToString());
        using (var bundle = ModelBundle.Read(File.OpenRead(pooled)))
        {
            Assert.Equal(ModelFamily.Hybrid, bundle.Family);
            Assert.Contains("- Family: **pooled**, exported as one hybrid head (requested: auto).", bundle.ModelCard);
        }
        Assert.Equal(2, await CliApp.RunAsync(["train", "--data", TrainingFixtures.PathOf("support-en.tsv"), "--encoder", "fp4", "--out", model + "2"], new StringWriter(), stderr));
        Assert.Contains("--encoder 'fp4' is not one of int8, float", stderr.ToString());
        var data = Path.Combine(_folder.Path, "eval.tsv");
        File.WriteAllLines(data, TrainingFixtures.English().Take(20).Select(r => $"{r.Label}\t{r.Text}"));
        stdout = new StringWriter();
        code = await CliApp.RunAsync(["predict", "--model", model, "--data", data], stdout, stderr);
        Assert.True(code == 0, stderr.ToString());
        var lines = stdout.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("rows 20  accuracy", lines[0]);
        Assert.Equal(21, lines.Length);
    }
}
