using System.Globalization;
using System.Text;
using Incubator.Domain.Common.TextFiles;
using Incubator.Domain.Training;

namespace Incubator.Web.Cli;

/// <summary>`train` and `predict`: the training core without the portal. Output files are written to a temporary
/// file beside the target and renamed when complete, so a failure never leaves a half-written file.</summary>
internal static class TrainVerbs
{
    public const string TrainUsage = "train --data train.tsv [--trainer sparse|dense|hybrid|auto] [--encoder int8|float] [--gold gold.tsv] [--seed S] [--validation-share F] [--lang en|ja] --out model.zip";
    public const string PredictUsage = "predict --model model.zip --data file.tsv [--out predictions.tsv]";

    private static readonly CultureInfo Ci = CultureInfo.InvariantCulture;

    public static int Train(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        var o = CliArgs.Parse(args, TrainUsage, ["data", "trainer", "encoder", "gold", "seed", "out", "validation-share", "lang"]);
        var data = o.Required("data");
        var output = o.Output("out", "data", "gold");
        var trainer = o["trainer"] ?? "auto";
        if (!ModelFamilies.TryParse(trainer, out var family))
            throw new CliUsageException($"--trainer '{trainer}' is not one of {ModelFamilies.NameList}.");
        EncoderKind? encoder = null;
        if (o["encoder"] is { } e)
            encoder = ModelFamilies.TryParseEncoder(e, out var kind) ? kind : throw new CliUsageException($"--encoder '{e}' is not one of int8, float.");
        var seed = 1;
        if (o["seed"] is { } s && !int.TryParse(s, NumberStyles.Integer, Ci, out seed))
            throw new CliUsageException($"--seed must be a whole number (got '{s}').");
        // The model card's language: a training file has no task to take it from, so English unless asked.
        var language = CliLang(o["lang"], CardLanguage.En);
        var share = 0.2;
        if (o["validation-share"] is { } vs && (!double.TryParse(vs, NumberStyles.Float, Ci, out share) || share is <= 0 or >= 0.9))
            throw new CliUsageException($"--validation-share must be a number between 0 and 0.9 (got '{vs}').");

        var rows = ReadRecords(data, out var dataReport).Select(r => new LabeledText(r.Label!, r.Text)).ToList();
        stdout.WriteLine(CliInputFile.DescribeRows(data, dataReport));
        var goldPath = o["gold"];
        TextFileReport? goldReport = null;
        var goldRecords = goldPath is null ? null : ReadRecords(goldPath, out goldReport);
        if (goldReport is not null) stdout.WriteLine(CliInputFile.DescribeRows(goldPath!, goldReport));
        var gold = goldRecords?.Select(r => new LabeledText(r.Label!, r.Text)).ToList();
        var labels = rows.Select(r => r.Label).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        if (labels.Count < 2)
        {
            stderr.WriteLine($"error: {data}: training needs at least 2 labels; the file has {labels.Count} ({string.Join(", ", labels)}).");
            return 2;
        }
        if (goldRecords?.FirstOrDefault(g => !labels.Contains(g.Label!, StringComparer.Ordinal)) is { } stranger)
        {
            var unknown = goldRecords.Select(g => g.Label!).Where(l => !labels.Contains(l, StringComparer.Ordinal)).Distinct(StringComparer.Ordinal).ToList();
            stderr.WriteLine($"error: {Path.GetFileName(goldPath)}, line {stranger.Line}: label '{stranger.Label}' is not one of the training data's labels ({string.Join(", ", labels)})"
                + (unknown.Count > 1 ? $"; the gold file has {unknown.Count} such labels ({string.Join(", ", unknown)})." : "."));
            return 2;
        }
        var (train, validation) = StratifiedSplit.Split(rows, share, seed);
        if (validation.Count == 0)
        {
            // The split keeps one row of every label for training, so a file whose labels have one row each has none to validate on.
            stderr.WriteLine($"error: {Path.GetFileName(data)}: every label has only one row ({rows.Count} rows, {labels.Count} labels), so none can be held out for validation; give at least one label a second row.");
            return 2;
        }
        var options = new TrainingOptions(family, seed) { Encoder = encoder };
        TrainingResult result;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            var progress = new SyncProgress(p => stderr.WriteLine($"[{p.Stage}] {p.Message}"));
            result = new ClassifierTrainer { ReleaseEncoderAfterEmbedding = true }.Train(labels, train, validation, gold, options, progress, ct);
        }
        catch (TrainingDataException ex)
        {
            // Every such problem is about the training data (the labels were checked above): name the file.
            stderr.WriteLine($"error: {Path.GetFileName(data)}: {ex.Message}");
            return 2;
        }

        foreach (var (f, v, g) in result.Compared)
            stdout.WriteLine($"{ModelFamilies.Name(f),-7} validation accuracy {v.Accuracy.ToString("0.000", Ci)} macro-F1 {v.MacroF1.ToString("0.000", Ci)}"
                + (g is null ? "" : $"  gold accuracy {g.Accuracy.ToString("0.000", Ci)} macro-F1 {g.MacroF1.ToString("0.000", Ci)}"));
        stdout.WriteLine($"chosen  {ModelFamilies.Chosen(result)} ({result.Log.Last(l => l.StartsWith("choose", StringComparison.Ordinal))["choose: ".Length..]})");
        WriteReport(stdout, result.Validation, "validation");
        if (result.Gold is not null) WriteReport(stdout, result.Gold, "gold");

        var trainSeconds = clock.Elapsed.TotalSeconds;
        var phases = new PhaseClock(stderr);
        phases.Memory("training");
        // Embedding is done: the encoder's session goes before the export builds the bundle's graph and a session to measure it.
        DenseFeaturizer.ReleaseShared();
        phases.Done("release encoder");
        var onnx = result.Model.ExportOnnx();
        // The graph's builders (the encoder's weights among them) are garbage once the bytes exist: return them before a
        // session to measure the bundle is built beside those bytes.
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        phases.Done("export");
        var speed = ModelBundle.MeasureSpeed(onnx, result.Model, validation.Select(r => r.Text).ToList());
        phases.Done("measure speed");
        // Both languages (decision 0012, amendment card22): --lang's is model-card.md, the other beside it.
        var notes = Extensions.ResourceCardNotes.Standalone();
        var cards = ModelCards.Write(language, lang => ModelCardBuilder.Write(ModelCardInput.For(CardLanguages.FileTitle(Path.GetFileNameWithoutExtension(data), lang), result, options,
            goldPath is null ? null : Path.GetFileName(goldPath), DateTimeOffset.UtcNow,
            new FileCardSource(Path.GetFileName(data), labels.ToDictionary(l => l, l => rows.Count(r => r.Label == l)), train.Count, validation.Count))
            with { Speed = speed }, lang, lang == CardLanguage.En ? null : n => notes.Say(n, lang)));
        CliOutput.Write(output, stream => ModelBundle.Write(stream, result.Model, BundleInfo.For(Path.GetFileNameWithoutExtension(output), "1", cards), onnx));
        phases.Done("write bundle");
        stdout.WriteLine($"wrote {output}: {speed.Describe()}");
        using (var self = System.Diagnostics.Process.GetCurrentProcess())
            stdout.WriteLine(string.Create(Ci, $"trained in {trainSeconds:0.0} s (embedding {result.EmbeddingSeconds:0.0} s, refit {result.RefitSeconds:0.0} s); {self.TotalProcessorTime.TotalSeconds:0.0} s of CPU; peak working set {self.PeakWorkingSet64 / 1048576.0:0} MiB"));
        return 0;
    }

    /// <summary>--lang en|ja: the model card's language; absent: <paramref name="fallback"/>.</summary>
    internal static CardLanguage CliLang(string? value, CardLanguage fallback) => value?.Trim().ToLowerInvariant() switch
    {
        null => fallback,
        "en" => CardLanguage.En,
        "ja" => CardLanguage.Ja,
        _ => throw new CliUsageException($"--lang '{value}' is not one of en, ja."),
    };

    public static int Predict(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var o = CliArgs.Parse(args, PredictUsage, ["model", "data", "out"]);
        var modelPath = o.Required("model");
        var data = o.Required("data");
        var output = o.Has("out") ? o.Output("out", "model", "data") : null;
        if (Directory.Exists(modelPath))
        {
            stderr.WriteLine($"error: {modelPath} is a folder; give the model's zip file.");
            return 2;
        }
        if (!File.Exists(modelPath))
        {
            stderr.WriteLine($"error: {modelPath}: file not found.");
            return 2;
        }
        // One output row per input row, in order: empty texts are kept (and predicted) rather than refused.
        var rows = CliInputFile.ReadAll(data, TextFileOptions.ForLabels(FormatOf(data), LabelMode.Optional, int.MaxValue) with { KeepEmptyTexts = true }, out var read);
        // Without --out the predictions are the standard output, so what was read goes to the standard error.
        (output is null ? stderr : stdout).WriteLine(CliInputFile.DescribeRows(data, read));
        var hasLabels = rows[0].Label is not null;
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
            if (hasLabels)
            {
                var unknown = rows.Select(r => r.Label!).Where(l => !bundle.Labels.Contains(l)).Distinct().ToList();
                if (unknown.Count > 0)
                {
                    var first = rows.First(r => unknown.Contains(r.Label!));
                    stderr.WriteLine($"error: {Path.GetFileName(data)}, line {first.Line}: label '{first.Label}' is not one of the model's labels ({string.Join(", ", bundle.Labels)}).");
                    return 2;
                }
            }
            IReadOnlyList<Prediction> predictions;
            try
            {
                predictions = bundle.Classifier.Predict(rows.Select(r => r.Text).ToList());
            }
            catch (Microsoft.ML.OnnxRuntime.OnnxRuntimeException ex)
            {
                stderr.WriteLine($"error: running the model failed: {ex.Message}");
                return 1;
            }
            var lines = new StringBuilder();
            for (var i = 0; i < predictions.Count; i++)
                lines.Append(predictions[i].Label).Append('\t').Append(predictions[i].Probability.ToString("0.0000", Ci)).Append('\t').Append(TsvCell.Of(rows[i].Text)).Append('\n');
            if (hasLabels)
            {
                var report = Evaluation.FromPredictions(bundle.Labels, rows.Select(r => new LabeledText(r.Label!, r.Text)).ToList(), predictions);
                stdout.WriteLine($"rows {report.Count}  accuracy {report.Accuracy.ToString("0.000", Ci)}  macro-F1 {report.MacroF1.ToString("0.000", Ci)}");
            }
            if (output is null) stdout.Write(lines.ToString());
            else
            {
                CliOutput.Write(output, stream => stream.Write(new UTF8Encoding(false).GetBytes(lines.ToString())));
                stdout.WriteLine($"wrote {predictions.Count} predictions to {output}");
            }
        }
        return 0;
    }

    /// <summary>Label-and-text rows of a training or gold file with their line numbers, for messages about a row; any
    /// bad row refuses the file (exit code 2).</summary>
    private static IReadOnlyList<TextRecord> ReadRecords(string path, out TextFileReport report) =>
        CliInputFile.ReadAll(path, TextFileOptions.ForLabels(FormatOf(path), LabelMode.Required, int.MaxValue), out report);

    /// <summary>By extension; anything that is not .csv or .jsonl is read as TSV (label&lt;TAB&gt;text).</summary>
    private static TextFileFormat FormatOf(string path) => TextFileFormats.FromFileName(path) ?? TextFileFormat.Tsv;

    private static void WriteReport(TextWriter w, EvaluationReport r, string name)
    {
        w.WriteLine($"{name}: {r.Count} rows, accuracy {r.Accuracy.ToString("0.000", Ci)}, macro-F1 {r.MacroF1.ToString("0.000", Ci)}");
        w.WriteLine($"  {"label",-20} {"precision",9} {"recall",7} {"F1",6} {"support",7}");
        foreach (var c in r.PerClass)
            w.WriteLine($"  {c.Label,-20} {c.Precision.ToString("0.000", Ci),9} {c.Recall.ToString("0.000", Ci),7} {c.F1.ToString("0.000", Ci),6} {c.Support,7}");
    }

    /// <summary>Wall and CPU seconds of each step after training, on stderr (where the time goes beyond the fits).</summary>
    private sealed class PhaseClock(TextWriter log)
    {
        private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();
        private TimeSpan _cpu = CpuTime();

        private static TimeSpan CpuTime()
        {
            using var self = System.Diagnostics.Process.GetCurrentProcess();
            return self.TotalProcessorTime;
        }

        public void Done(string step)
        {
            var cpu = CpuTime();
            log.WriteLine(string.Create(Ci, $"[time] {step}: {_clock.Elapsed.TotalSeconds:0.00} s ({(cpu - _cpu).TotalSeconds:0.00} s of CPU)"));
            Memory(step);
            _clock.Restart();
            _cpu = cpu;
        }

        /// <summary>Where the peak comes from: the working set after a step beside the managed heap's share of it.</summary>
        public void Memory(string step)
        {
            using var self = System.Diagnostics.Process.GetCurrentProcess();
            log.WriteLine(string.Create(Ci, $"[memory] after {step}: working set {self.WorkingSet64 >> 20} MiB (peak {self.PeakWorkingSet64 >> 20} MiB), managed heap {GC.GetGCMemoryInfo().HeapSizeBytes >> 20} MiB"));
        }
    }

    /// <summary>Reports synchronously (Progress&lt;T&gt; posts to the thread pool, which would reorder lines).</summary>
    private sealed class SyncProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
