using System.Globalization;
using System.Text;
using Incubator.Domain.Training;

namespace Incubator.Web.Cli;

/// <summary>`train` and `predict`: the training core without the portal. Output files are written to a temporary
/// file beside the target and renamed when complete, so a failure never leaves a half-written file.</summary>
internal static class TrainVerbs
{
    public const string TrainUsage = "train --data train.tsv [--trainer sparse|dense|hybrid|auto] [--encoder int8|float] [--gold gold.tsv] [--seed S] [--validation-share F] --out model.zip";
    public const string PredictUsage = "predict --model model.zip --data file.tsv [--out predictions.tsv]";

    private static readonly CultureInfo Ci = CultureInfo.InvariantCulture;

    public static int Train(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        var values = Parse(args, ["data", "trainer", "encoder", "gold", "seed", "out", "validation-share"], TrainUsage);
        var data = Required(values, "data", TrainUsage);
        var output = Required(values, "out", TrainUsage);
        CheckOutput(output);
        var family = (values.GetValueOrDefault("trainer") ?? "auto").ToLowerInvariant() switch
        {
            "sparse" => ModelFamily.Sparse,
            "dense" => ModelFamily.Dense,
            "hybrid" => ModelFamily.Hybrid,
            "auto" => ModelFamily.Auto,
            var t => throw new CliUsageException($"--trainer '{t}' is not one of sparse, dense, hybrid, auto."),
        };
        EncoderKind? encoder = values.GetValueOrDefault("encoder")?.ToLowerInvariant() switch
        {
            null => null,
            "int8" => EncoderKind.MiniLmInt8,
            "float" => EncoderKind.MiniLm,
            var e => throw new CliUsageException($"--encoder '{e}' is not one of int8, float."),
        };
        var seed = 1;
        if (values.TryGetValue("seed", out var s) && !int.TryParse(s, NumberStyles.Integer, Ci, out seed))
            throw new CliUsageException($"--seed must be a whole number (got '{s}').");
        var share = 0.2;
        if (values.TryGetValue("validation-share", out var vs) && (!double.TryParse(vs, NumberStyles.Float, Ci, out share) || share is <= 0 or >= 0.9))
            throw new CliUsageException($"--validation-share must be a number between 0 and 0.9 (got '{vs}').");

        List<LabeledText> rows;
        List<LabeledText>? gold = null;
        try
        {
            rows = TabularData.ReadFile(data, requireLabels: true).Labeled();
            if (values.TryGetValue("gold", out var goldPath)) gold = TabularData.ReadFile(goldPath, requireLabels: true).Labeled();
        }
        catch (DataFileException ex)
        {
            stderr.WriteLine($"error: {ex.Message}");
            return 2;
        }
        var labels = rows.Select(r => r.Label).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        if (labels.Count < 2)
        {
            stderr.WriteLine($"error: {data}: training needs at least 2 labels; the file has {labels.Count} ({string.Join(", ", labels)}).");
            return 2;
        }
        if (gold is not null)
        {
            var unknown = gold.Select(g => g.Label).Where(l => !labels.Contains(l, StringComparer.Ordinal)).Distinct().ToList();
            if (unknown.Count > 0)
            {
                stderr.WriteLine($"error: the gold file has label(s) the training data does not have: {string.Join(", ", unknown)}.");
                return 2;
            }
        }
        var (train, validation) = StratifiedSplit.Split(rows, share, seed);
        TrainingResult result;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            var progress = new SyncProgress(p => stderr.WriteLine($"[{p.Stage}] {p.Message}"));
            result = new ClassifierTrainer().Train(labels, train, validation, gold, new TrainingOptions(family, seed) { Encoder = encoder }, progress, ct);
        }
        catch (TrainingDataException ex)
        {
            stderr.WriteLine($"error: {ex.Message}");
            return 2;
        }

        foreach (var (f, v, g) in result.Compared)
            stdout.WriteLine($"{f.ToString().ToLowerInvariant(),-7} validation accuracy {v.Accuracy.ToString("0.000", Ci)} macro-F1 {v.MacroF1.ToString("0.000", Ci)}"
                + (g is null ? "" : $"  gold accuracy {g.Accuracy.ToString("0.000", Ci)} macro-F1 {g.MacroF1.ToString("0.000", Ci)}"));
        stdout.WriteLine($"chosen  {result.ChosenFamily.ToString().ToLowerInvariant()} ({result.Log.Last(l => l.StartsWith("choose", StringComparison.Ordinal))["choose: ".Length..]})");
        WriteReport(stdout, result.Validation, "validation");
        if (result.Gold is not null) WriteReport(stdout, result.Gold, "gold");

        var trainSeconds = clock.Elapsed.TotalSeconds;
        var onnx = result.Model.ExportOnnx();
        var speed = ModelBundle.MeasureSpeed(onnx, result.Model, validation.Select(r => r.Text).ToList());
        var card = ModelCard(data, rows, labels, train.Count, validation.Count, gold?.Count, seed, result, speed);
        WriteAtomically(output, stream => ModelBundle.Write(stream, result.Model, new BundleInfo(Path.GetFileNameWithoutExtension(output), "1", card), onnx));
        stdout.WriteLine($"wrote {output}: {speed.Describe()}");
        using (var self = System.Diagnostics.Process.GetCurrentProcess())
            stdout.WriteLine(string.Create(Ci, $"trained in {trainSeconds:0.0} s (embedding {result.EmbeddingSeconds:0.0} s, refit {result.RefitSeconds:0.0} s); {self.TotalProcessorTime.TotalSeconds:0.0} s of CPU; peak working set {self.PeakWorkingSet64 / 1048576.0:0} MiB"));
        return 0;
    }

    public static int Predict(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var values = Parse(args, ["model", "data", "out"], PredictUsage);
        var modelPath = Required(values, "model", PredictUsage);
        var data = Required(values, "data", PredictUsage);
        var output = values.GetValueOrDefault("out");
        if (output is not null) CheckOutput(output);
        if (!File.Exists(modelPath))
        {
            stderr.WriteLine($"error: {modelPath}: file not found.");
            return 2;
        }
        DataFile file;
        try
        {
            file = TabularData.ReadFile(data, requireLabels: false);
        }
        catch (DataFileException ex)
        {
            stderr.WriteLine($"error: {ex.Message}");
            return 2;
        }
        LoadedBundle bundle;
        try
        {
            using var zip = File.OpenRead(modelPath);
            bundle = ModelBundle.Read(zip);
        }
        catch (BundleException ex)
        {
            stderr.WriteLine($"error: {modelPath}: {ex.Message}");
            return 2;
        }
        using (bundle)
        {
            if (file.HasLabels)
            {
                var unknown = file.Rows.Select(r => r.Label!).Where(l => !bundle.Labels.Contains(l)).Distinct().ToList();
                if (unknown.Count > 0)
                {
                    var first = file.Rows.First(r => unknown.Contains(r.Label!));
                    stderr.WriteLine($"error: {Path.GetFileName(data)}, line {first.Line}: label '{first.Label}' is not one of the model's labels ({string.Join(", ", bundle.Labels)}).");
                    return 2;
                }
            }
            IReadOnlyList<Prediction> predictions;
            try
            {
                predictions = bundle.Classifier.Predict(file.Rows.Select(r => r.Text).ToList());
            }
            catch (Microsoft.ML.OnnxRuntime.OnnxRuntimeException ex)
            {
                stderr.WriteLine($"error: running the model failed: {ex.Message}");
                return 1;
            }
            var lines = new StringBuilder();
            for (var i = 0; i < predictions.Count; i++)
                lines.Append(predictions[i].Label).Append('\t').Append(predictions[i].Probability.ToString("0.0000", Ci)).Append('\t').Append(TabularData.TsvCell(file.Rows[i].Text)).Append('\n');
            if (file.HasLabels)
            {
                var report = Evaluation.FromPredictions(bundle.Labels, file.Rows.Select(r => new LabeledText(r.Label!, r.Text)).ToList(), predictions);
                stdout.WriteLine($"rows {report.Count}  accuracy {report.Accuracy.ToString("0.000", Ci)}  macro-F1 {report.MacroF1.ToString("0.000", Ci)}");
            }
            if (output is null) stdout.Write(lines.ToString());
            else
            {
                WriteAtomically(output, stream => stream.Write(new UTF8Encoding(false).GetBytes(lines.ToString())));
                stdout.WriteLine($"wrote {predictions.Count} predictions to {output}");
            }
        }
        return 0;
    }

    private static void WriteReport(TextWriter w, EvaluationReport r, string name)
    {
        w.WriteLine($"{name}: {r.Count} rows, accuracy {r.Accuracy.ToString("0.000", Ci)}, macro-F1 {r.MacroF1.ToString("0.000", Ci)}");
        w.WriteLine($"  {"label",-20} {"precision",9} {"recall",7} {"F1",6} {"support",7}");
        foreach (var c in r.PerClass)
            w.WriteLine($"  {c.Label,-20} {c.Precision.ToString("0.000", Ci),9} {c.Recall.ToString("0.000", Ci),7} {c.F1.ToString("0.000", Ci),6} {c.Support,7}");
    }

    private static string ModelCard(string data, List<LabeledText> rows, List<string> labels, int train, int validation, int? gold, int seed, TrainingResult result, BundleSpeed speed)
    {
        var sb = new StringBuilder();
        var m = result.Model;
        sb.AppendLine($"# Model card: {Path.GetFileNameWithoutExtension(data)} classifier");
        sb.AppendLine();
        sb.AppendLine($"Trained with `Incubator train` on {DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm", Ci)} UTC.");
        sb.AppendLine();
        sb.AppendLine("## Model");
        sb.AppendLine();
        var grams = m.TokenMode == TokenMode.Char ? $"character 1–{m.Sparse!.MaxGram}-grams" : $"word 1–{m.Sparse?.MaxGram}-grams";
        var tf = (m.Sparse?.Sublinear == true ? "sublinear TF-IDF" : "TF-IDF")
            + (m.Sparse is { Conjunctions.Count: > 0 } sp ? $", conjunctions of {sp.Conjunctions.Count} decisive n-grams" : "");
        sb.AppendLine(m.Family switch
        {
            ModelFamily.Sparse => $"- Family: sparse — {grams}, {tf}, L2-normalised; linear maximum-entropy classifier (ML.NET L-BFGS), {m.FeatureCount} features.",
            ModelFamily.Hybrid => $"- Family: hybrid — {grams}, {tf} (L2-normalised) side by side with all-MiniLM-L6-v2 sentence embeddings (384-d, English only); one linear maximum-entropy classifier (ML.NET L-BFGS), {m.FeatureCount} features.",
            _ => "- Family: dense — all-MiniLM-L6-v2 sentence embeddings (384-d, English only) and a linear maximum-entropy classifier (ML.NET L-BFGS).",
        });
        if (m.Encoder is { } encoderKind) sb.AppendLine($"- Encoder: {Incubator.Domain.Training.Onnx.EncoderGraph.DisplayName(encoderKind)}.");
        sb.AppendLine($"- Seed {seed}; class weighting for imbalance: on.");
        if (result.Refitted)
            sb.AppendLine($"- Refit on training + validation: after the choice, the model was fitted again on all {train + validation} training and validation rows; the validation figures below are those of the fit on the {train} training rows alone.");
        sb.AppendLine($"- Size and speed: {speed.Describe()}.");
        sb.AppendLine();
        sb.AppendLine("## Data");
        sb.AppendLine();
        sb.AppendLine($"- Source file: `{Path.GetFileName(data)}`, {rows.Count} rows; seeded stratified split: {train} training, {validation} validation rows{(gold is null ? "" : $"; {gold} gold rows")}.");
        sb.AppendLine("- Rows per label: " + string.Join(", ", labels.Select(l => $"{l} {rows.Count(r => r.Label == l)}")) + ".");
        sb.AppendLine();
        sb.AppendLine("## Metrics");
        sb.AppendLine();
        sb.AppendLine("| family | split | accuracy | macro-F1 |");
        sb.AppendLine("|---|---|---|---|");
        foreach (var (f, v, g) in result.Compared)
        {
            sb.AppendLine($"| {f.ToString().ToLowerInvariant()} | validation | {v.Accuracy.ToString("0.000", Ci)} | {v.MacroF1.ToString("0.000", Ci)} |");
            if (g is not null) sb.AppendLine($"| {f.ToString().ToLowerInvariant()} | gold | {g.Accuracy.ToString("0.000", Ci)} | {g.MacroF1.ToString("0.000", Ci)} |");
        }
        sb.AppendLine();
        sb.AppendLine($"Chosen: {result.ChosenFamily.ToString().ToLowerInvariant()}.");
        sb.AppendLine();
        sb.AppendLine("## Intended use and limits");
        sb.AppendLine();
        sb.AppendLine("- Classifies short texts into the labels above; every input gets one of them, even text unlike the training data.");
        sb.AppendLine("- Validation rows come from the same file as the training rows; expect lower accuracy on data from elsewhere.");
        if (m.EnglishOnly) sb.AppendLine("- The dense encoder knows English only.");
        return sb.ToString();
    }

    private static void CheckOutput(string output)
    {
        if (Directory.Exists(output)) throw new CliUsageException($"--out '{output}' is a folder; give a file path.");
        var folder = Path.GetDirectoryName(Path.GetFullPath(output));
        if (!string.IsNullOrEmpty(folder) && !Directory.Exists(folder))
            throw new CliUsageException($"--out '{output}': the folder '{folder}' does not exist.");
    }

    private static void WriteAtomically(string path, Action<Stream> write)
    {
        var full = Path.GetFullPath(path);
        var temp = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
                write(stream);
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    private static Dictionary<string, string> Parse(string[] args, string[] known, string usage)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            var a = args[i];
            if (!a.StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
                throw new CliUsageException($"Unexpected argument '{a}'. Usage: {usage}");
            values[a[2..]] = args[++i];
        }
        var unknown = values.Keys.Except(known).ToList();
        if (unknown.Count > 0) throw new CliUsageException($"Unknown option(s): {string.Join(", ", unknown.Select(u => "--" + u))}. Usage: {usage}");
        return values;
    }

    private static string Required(Dictionary<string, string> values, string name, string usage) =>
        values.TryGetValue(name, out var v) && !string.IsNullOrWhiteSpace(v) ? v : throw new CliUsageException($"--{name} is required. Usage: {usage}");

    /// <summary>Reports synchronously (Progress&lt;T&gt; posts to the thread pool, which would reorder lines).</summary>
    private sealed class SyncProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
