using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Incubator.Domain.Training;

namespace Incubator.Domain.Benchmarks;

/// <summary>Issue 16's outside peers on the sets and splits of <c>training.datasets</c> (same loader, same seeded
/// 8/class, 64/class and full samples, the same fit/validation split auto gets): fastText's supervised CLI (a tuned
/// setting and its defaults) and scikit-learn's TfidfVectorizer + LogisticRegression (C chosen on auto's validation
/// split, then refit on training + validation), each in its own process on files written to a temp folder; accuracy and
/// macro-F1 computed here from the peer's predictions with the same <see cref="Evaluation"/> code as every other row;
/// train wall seconds; peak memory of the peer process. Auto is trained in the same run on the same rows (its
/// train seconds include loading the encoder and embedding: a fresh trainer per sample) unless
/// INCUBATOR_BENCH_PEERS_AUTO=0. A missing tool prints one row saying how to install it instead of failing.
/// INCUBATOR_FASTTEXT and INCUBATOR_PEER_PYTHON override the executables (default: fasttext on PATH, /usr/bin/python3,
/// Debian's python3-sklearn).</summary>
internal sealed class PeerBenchmark : IBenchmark
{
    public string Name => "training.peers";

    public string Description => "fastText and scikit-learn TF-IDF + logistic regression against auto on every set of ../shared/datasets at 8, 64 per class and full: accuracy, macro-F1, train s, peak memory";

    public Task<IReadOnlyList<BenchmarkRow>> RunAsync(CancellationToken ct) => Task.Run(() => Run(ct), ct);

    private static readonly CultureInfo Ci = CultureInfo.InvariantCulture;

    /// <summary>The tuned fastText setting (word bigrams; character 1–3-grams instead where words are not
    /// space-separated), and fastText's defaults. One thread, so runs repeat exactly.</summary>
    internal static string FastTextArgs(bool tuned, bool unsegmented) => (tuned, unsegmented) switch
    {
        (true, false) => "-epoch 25 -lr 0.5 -wordNgrams 2 -minCount 1 -bucket 200000 -thread 1",
        (true, true) => "-epoch 25 -lr 0.5 -minn 1 -maxn 3 -minCount 1 -bucket 200000 -thread 1",
        _ => "-thread 1",
    };

    private IReadOnlyList<BenchmarkRow> Run(CancellationToken ct)
    {
        var root = TrainingDatasets.Find();
        if (root is null) return [new BenchmarkRow(Name, "skipped", 0, "", Note: "../shared/datasets not found")];
        var rows = new List<BenchmarkRow>();
        var fastText = PeerTools.FastText();
        var python = PeerTools.SklearnPython();
        rows.AddRange(PeerTools.Unavailable(Name, fastText, python));
        var runAuto = Environment.GetEnvironmentVariable("INCUBATOR_BENCH_PEERS_AUTO") != "0";
        var work = Directory.CreateTempSubdirectory("incubator-peers-");
        try
        {
            string? script = null;
            if (python is not null)
            {
                script = Path.Combine(work.FullName, "sklearn_peer.py");
                using var res = typeof(PeerBenchmark).Assembly.GetManifestResourceStream("Incubator.Domain.Benchmarks.peers.sklearn_peer.py")!;
                using var file = File.Create(script);
                res.CopyTo(file);
            }
            foreach (var (name, bench, (train, test, split)) in TrainingDatasets.Loaded(root, Name, rows, ct))
            {
                Console.Error.WriteLine($"  {bench}: {train.Count} train, {test.Count} test");
                var labels = train.Select(r => r.Label).Distinct().Order(StringComparer.Ordinal).ToList();
                var unsegmented = PeerFiles.Unsegmented(train.Select(r => r.Text));
                var dir = Directory.CreateDirectory(Path.Combine(work.FullName, name)).FullName;
                var testFile = Path.Combine(dir, "test.txt");
                PeerFiles.WriteTexts(testFile, test.Select(r => r.Text));
                var fastTextTest = Path.Combine(dir, "test.fasttext.txt");
                PeerFiles.WriteTexts(fastTextTest, test.Select(r => PeerFiles.FastTextText(r.Text)));
                foreach (var (size, sample) in TrainingDatasets.Sizes(train))
                {
                    ct.ThrowIfCancellationRequested();
                    var full = size == "full";
                    var (fit, validation) = DatasetBenchmark.TrainerSplit(sample, full);
                    var rowsNote = $"{sample.Count} rows ({fit.Count} fit + {validation.Count} validation); {split}";
                    EvaluationReport? auto = null;
                    double? autoSeconds = null;
                    if (runAuto)
                    {
                        var sw = Stopwatch.StartNew();
                        var result = AutoTrainer().Train(labels, fit, validation, null, new TrainingOptions(ModelFamily.Auto), null, ct);
                        autoSeconds = sw.Elapsed.TotalSeconds;
                        auto = Evaluation.Evaluate(result.Model, test);
                        rows.Add(new BenchmarkRow(bench, $"auto test macro-F1, {size}", auto.MacroF1, "",
                            Note: $"auto chose {result.ChosenFamily.ToString().ToLowerInvariant()}, refit on training + validation; {rowsNote}"));
                        rows.Add(new BenchmarkRow(bench, $"auto test accuracy, {size}", auto.Accuracy, ""));
                        rows.Add(new BenchmarkRow(bench, $"auto train seconds, {size}", autoSeconds.Value, "s",
                            Note: "in this process: a fresh trainer (encoder load and embedding included), selection + refit"));
                    }
                    var sizeDir = Directory.CreateDirectory(Path.Combine(dir, size.Replace('/', '-'))).FullName;
                    if (fastText is not null)
                        foreach (var tuned in new[] { true, false })
                            rows.AddRange(RunFastText(bench, size, fastText, tuned, unsegmented, sizeDir, labels, sample, test, fastTextTest, auto, autoSeconds, rowsNote, ct));
                    if (python is not null && script is not null)
                        rows.AddRange(RunSklearn(bench, size, python, script, unsegmented, sizeDir, labels, fit, validation, test, testFile, auto, autoSeconds, rowsNote, ct));
                    Directory.Delete(sizeDir, true);
                    if (full && SparseVariant() is { } variant)
                        rows.AddRange(SparseWithVariant(bench, variant, labels, fit, validation, test, ct));
                }
            }
        }
        finally
        {
            try { work.Delete(true); } catch (IOException) { }
        }
        return rows;
    }

    /// <summary>The trainer auto runs with: the default, or with INCUBATOR_BENCH_PEERS_AUTO_WORD_CONJUNCTIONS set, that
    /// many conjunction features for word-mode text (character mode keeps the default).</summary>
    internal static ClassifierTrainer AutoTrainer() =>
        Environment.GetEnvironmentVariable("INCUBATOR_BENCH_PEERS_AUTO_WORD_CONJUNCTIONS") is { Length: > 0 } v
            ? new ClassifierTrainer { WordConjunctionCount = int.Parse(v, Ci) }
            : new ClassifierTrainer();

    /// <summary>A sparse-family variant to try beside the default at full size (issue 16 point 3), from env:
    /// INCUBATOR_BENCH_PEERS_SPARSE_L2 (comma-separated L2 sweep, e.g. "0.003,0.01,0.03,0.1,0.3"),
    /// INCUBATOR_BENCH_PEERS_SPARSE_ITERATIONS (L-BFGS iteration cap), INCUBATOR_BENCH_PEERS_SPARSE_TOLERANCE (both the
    /// sweep's and the final fit's tolerance), INCUBATOR_BENCH_PEERS_SPARSE_CONJUNCTIONS (conjunction n-grams, 0 = none).
    /// Null when none is set.</summary>
    internal static (ClassifierTrainer Trainer, string Description)? SparseVariant()
    {
        string? Env(string name) => Environment.GetEnvironmentVariable("INCUBATOR_BENCH_PEERS_SPARSE_" + name) is { Length: > 0 } v ? v : null;
        var l2 = Env("L2");
        var iterations = Env("ITERATIONS");
        var tolerance = Env("TOLERANCE");
        var conjunctions = Env("CONJUNCTIONS");
        if (l2 is null && iterations is null && tolerance is null && conjunctions is null) return null;
        var d = new ClassifierTrainer();
        var t = new ClassifierTrainer
        {
            SparseL2 = l2 is null ? d.SparseL2 : l2.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(x => float.Parse(x, Ci)).ToList(),
            MaxIterations = iterations is null ? d.MaxIterations : int.Parse(iterations, Ci),
            SweepTolerance = tolerance is null ? d.SweepTolerance : float.Parse(tolerance, Ci),
            OptimizationTolerance = tolerance is null ? d.OptimizationTolerance : float.Parse(tolerance, Ci),
            ConjunctionCount = conjunctions is null ? d.ConjunctionCount : int.Parse(conjunctions, Ci),
        };
        return (t, Settings(t));
    }

    private static string Settings(ClassifierTrainer t) =>
        $"sweep [{string.Join(", ", t.SparseL2.Select(x => x.ToString("0.###", Ci)))}], {t.MaxIterations} iterations, tolerance {t.SweepTolerance.ToString("0.#######", Ci)}/{t.OptimizationTolerance.ToString("0.#######", Ci)}, {t.ConjunctionCount} conjunctions";

    /// <summary>The sparse family alone with the default trainer and with the variant, same rows, both refit.</summary>
    private static IEnumerable<BenchmarkRow> SparseWithVariant(string bench, (ClassifierTrainer Trainer, string Description) variant, IReadOnlyList<string> labels,
        List<LabeledText> fit, List<LabeledText> validation, List<LabeledText> test, CancellationToken ct)
    {
        var defaults = new ClassifierTrainer();
        var sw = Stopwatch.StartNew();
        var before = defaults.Train(labels, fit, validation, null, new TrainingOptions(ModelFamily.Sparse), null, ct);
        var beforeSeconds = sw.Elapsed.TotalSeconds;
        sw.Restart();
        var after = variant.Trainer.Train(labels, fit, validation, null, new TrainingOptions(ModelFamily.Sparse), null, ct);
        var afterSeconds = sw.Elapsed.TotalSeconds;
        var b = Evaluation.Evaluate(before.Model, test);
        var a = Evaluation.Evaluate(after.Model, test);
        var note = $"value: {variant.Description} (kept L2 {after.L2[ModelFamily.Sparse].ToString("0.###", Ci)}); baseline: the default, {Settings(defaults)} (kept L2 {before.L2[ModelFamily.Sparse].ToString("0.###", Ci)}); both refit on training + validation";
        return
        [
            new BenchmarkRow(bench, "sparse test macro-F1, full, variant", a.MacroF1, "", b.MacroF1, note),
            new BenchmarkRow(bench, "sparse test accuracy, full, variant", a.Accuracy, "", b.Accuracy, "the same two models"),
            new BenchmarkRow(bench, "sparse train seconds, full, variant", afterSeconds, "s", beforeSeconds, "the same two runs, whole Train call"),
        ];
    }

    private static IEnumerable<BenchmarkRow> RunFastText(string bench, string size, string exe, bool tuned, bool unsegmented, string dir,
        IReadOnlyList<string> labels, List<LabeledText> sample, List<LabeledText> test, string testFile,
        EvaluationReport? auto, double? autoSeconds, string rowsNote, CancellationToken ct)
    {
        var peer = tuned ? "fastText tuned" : "fastText defaults";
        var trainFile = Path.Combine(dir, "train.fasttext.txt");
        var index = PeerFiles.LabelIndex(labels);
        PeerFiles.WriteLines(trainFile, sample.Select(r => PeerFiles.FastTextLine(index[r.Label], r.Text)));
        var model = Path.Combine(dir, tuned ? "tuned" : "defaults");
        var settings = FastTextArgs(tuned, unsegmented);
        var trainRun = PeerProcess.Run(exe, ["supervised", "-input", trainFile, "-output", model, "-verbose", "0", .. settings.Split(' ')], dir, ct);
        if (trainRun.ExitCode != 0)
            return [new BenchmarkRow(bench, $"{peer} failed, {size}", trainRun.ExitCode, "", Note: Tail(trainRun.Stderr))];
        var predictRun = PeerProcess.Run(exe, ["predict", model + ".bin", testFile], dir, ct);
        File.Delete(model + ".bin");
        File.Delete(model + ".vec");
        if (predictRun.ExitCode != 0)
            return [new BenchmarkRow(bench, $"{peer} predict failed, {size}", predictRun.ExitCode, "", Note: Tail(predictRun.Stderr))];
        var fallback = TrainingDatasets.Majority(sample);
        var predicted = PeerFiles.ParseFastText(predictRun.Stdout.Split('\n'), test.Count, labels, fallback, out var missing);
        var report = TrainingDatasets.Score(labels, test, predicted);
        var how = $"fastText 0.9.2 CLI `supervised {settings}` on all {sample.Count} rows (training + validation: fixed settings, nothing chosen); text lower-cased, punctuation split off";
        return Rows(bench, size, peer, report, trainRun.WallSeconds, trainRun.PeakKiB, "VmHWM of the supervised process polled from /proc every 5 ms",
            auto, autoSeconds, $"{how}; {rowsNote}{(missing > 0 ? $"; {missing} test lines without a prediction, counted as the majority label" : "")}",
            [new BenchmarkRow(bench, $"{peer} predict texts/s, {size}", test.Count / predictRun.WallSeconds, "texts/s",
                Note: $"`fasttext predict` process wall time on {test.Count} test texts, model load included")]);
    }

    private static IEnumerable<BenchmarkRow> RunSklearn(string bench, string size, string python, string script, bool unsegmented, string dir,
        IReadOnlyList<string> labels, List<LabeledText> fit, List<LabeledText> validation, List<LabeledText> test, string testFile,
        EvaluationReport? auto, double? autoSeconds, string rowsNote, CancellationToken ct)
    {
        const string peer = "scikit-learn";
        var index = PeerFiles.LabelIndex(labels);
        var fitFile = Path.Combine(dir, "fit.tsv");
        var validationFile = Path.Combine(dir, "validation.tsv");
        var predictions = Path.Combine(dir, "sklearn.predictions.txt");
        PeerFiles.WriteLines(fitFile, fit.Select(r => PeerFiles.TsvLine(index[r.Label], r.Text)));
        PeerFiles.WriteLines(validationFile, validation.Select(r => PeerFiles.TsvLine(index[r.Label], r.Text)));
        var mode = unsegmented ? "unsegmented" : "english";
        var run = PeerProcess.Run(python, [script, fitFile, validationFile, testFile, mode, predictions], dir, ct);
        if (run.ExitCode != 0)
            return [new BenchmarkRow(bench, $"{peer} failed, {size}", run.ExitCode, "", Note: Tail(run.Stderr))];
        using var json = JsonDocument.Parse(run.Stdout.Trim().Split('\n')[^1]);
        var j = json.RootElement;
        var predicted = PeerFiles.ParseIndices(File.ReadLines(predictions), test.Count, labels, TrainingDatasets.Majority(fit.Concat(validation)), out var missing);
        var report = TrainingDatasets.Score(labels, test, predicted);
        var c = j.GetProperty("c").GetDouble();
        var grid = string.Join(", ", j.GetProperty("validation_macro_f1").EnumerateObject().Select(p => $"C={p.Name}: {p.Value.GetDouble().ToString("0.000", Ci)}"));
        var vectorizer = unsegmented ? "char_wb 1-3-grams" : "word 1-2-grams";
        var how = $"TfidfVectorizer({vectorizer}, sublinear_tf) + LogisticRegression(lbfgs); C={c.ToString("0.###", Ci)} by validation macro-F1 ({(grid.Length > 0 ? grid : "no grid: one label in fit")}), then refit on training + validation ({j.GetProperty("features").GetInt32()} features)";
        var trainSeconds = j.GetProperty("train_seconds").GetDouble();
        var predictSeconds = j.GetProperty("predict_seconds").GetDouble();
        return Rows(bench, size, peer, report, trainSeconds, j.GetProperty("peak_rss_kib").GetDouble(), $"VmHWM of /proc/self/status read by the script at its end (the C# poll of the same field saw {(run.PeakKiB / 1024).ToString("0", Ci)} MiB)",
            auto, autoSeconds, $"{how}; train seconds = grid + refit inside Python ({j.GetProperty("refit_seconds").GetDouble().ToString("0.00", Ci)} s refit; process wall incl. imports {run.WallSeconds.ToString("0.0", Ci)} s); {rowsNote}{(missing > 0 ? $"; {missing} test lines without a prediction" : "")}",
            [new BenchmarkRow(bench, $"{peer} transform+predict texts/s, {size}", test.Count / Math.Max(1e-9, predictSeconds), "texts/s",
                Note: $"vectorizer.transform + predict on {test.Count} test texts in one call, inside Python")]);
    }

    private static IEnumerable<BenchmarkRow> Rows(string bench, string size, string peer, EvaluationReport report, double trainSeconds, double peakKiB, string peakHow,
        EvaluationReport? auto, double? autoSeconds, string note, IEnumerable<BenchmarkRow> extra)
    {
        var vsAuto = auto is null ? "" : "baseline: auto, same rows, same run";
        yield return new BenchmarkRow(bench, $"{peer} test macro-F1, {size}", report.MacroF1, "", auto?.MacroF1, $"{vsAuto}{(vsAuto.Length > 0 ? "; " : "")}{note}");
        yield return new BenchmarkRow(bench, $"{peer} test accuracy, {size}", report.Accuracy, "", auto?.Accuracy, vsAuto);
        yield return new BenchmarkRow(bench, $"{peer} train seconds, {size}", trainSeconds, "s", autoSeconds, vsAuto);
        yield return new BenchmarkRow(bench, $"{peer} peak memory, {size}", peakKiB / 1024.0, "MiB", Note: peakHow);
        foreach (var r in extra) yield return r;
    }

    private static string Tail(string text) => text.Length > 300 ? text[^300..] : text;
}

/// <summary>The files the peers read and the predictions they write. Labels travel as their index in the sorted label
/// list (<c>__label__3</c>, <c>3</c>), so labels with spaces, tabs or Japanese text never reach a peer's parser;
/// texts are put on one line (control characters become spaces).</summary>
internal static class PeerFiles
{
    public static Dictionary<string, int> LabelIndex(IReadOnlyList<string> labels)
    {
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < labels.Count; i++) index[labels[i]] = i;
        return index;
    }

    /// <summary>The text on one line: every control character (newline, carriage return, tab, …) and the Unicode line
    /// and paragraph separators become a space.</summary>
    public static string OneLine(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (var ch in text) sb.Append(char.IsControl(ch) || ch is '\u2028' or '\u2029' or '\u0085' ? ' ' : ch);
        return sb.ToString();
    }

    /// <summary>fastText's tutorial preprocessing: lower-cased, the punctuation . ! ? , ' / ( ) " split off as words.</summary>
    public static string FastTextText(string text)
    {
        var sb = new StringBuilder(text.Length + 16);
        foreach (var ch in OneLine(text).ToLowerInvariant())
        {
            if (ch is '.' or '!' or '?' or ',' or '\'' or '/' or '(' or ')' or '"') sb.Append(' ').Append(ch).Append(' ');
            else sb.Append(ch);
        }
        return sb.ToString();
    }

    public static string FastTextLine(int label, string text) => $"__label__{label.ToString(CultureInfo.InvariantCulture)} {FastTextText(text)}";

    public static string TsvLine(int label, string text) => $"{label.ToString(CultureInfo.InvariantCulture)}\t{OneLine(text)}";

    public static void WriteLines(string path, IEnumerable<string> lines)
    {
        using var w = new StreamWriter(path, false, new UTF8Encoding(false)) { NewLine = "\n" };
        foreach (var line in lines) w.WriteLine(line);
    }

    public static void WriteTexts(string path, IEnumerable<string> texts) => WriteLines(path, texts.Select(OneLine));

    /// <summary>One label per test row from fastText's <c>predict</c> output (<c>__label__N</c> first on each line;
    /// extra k-best labels or probabilities after it are ignored). A missing, empty or unknown line becomes
    /// <paramref name="fallback"/> and is counted in <paramref name="missing"/>.</summary>
    public static List<string> ParseFastText(IEnumerable<string> lines, int count, IReadOnlyList<string> labels, string fallback, out int missing) =>
        Parse(lines, count, labels, fallback, out missing, line =>
        {
            var first = line.Split(' ', 2, StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? "";
            return first.StartsWith("__label__", StringComparison.Ordinal) ? first["__label__".Length..] : null;
        });

    /// <summary>One label per test row from lines holding a label index (the scikit-learn script's output).</summary>
    public static List<string> ParseIndices(IEnumerable<string> lines, int count, IReadOnlyList<string> labels, string fallback, out int missing) =>
        Parse(lines, count, labels, fallback, out missing, line => line.Trim());

    private static List<string> Parse(IEnumerable<string> lines, int count, IReadOnlyList<string> labels, string fallback, out int missing, Func<string, string?> token)
    {
        var result = new List<string>(count);
        missing = 0;
        foreach (var line in lines)
        {
            if (result.Count == count) break;
            var t = token(line.TrimEnd('\r'));
            if (t is not null && int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i < labels.Count) result.Add(labels[i]);
            else
            {
                result.Add(fallback);
                missing++;
            }
        }
        while (result.Count < count)
        {
            result.Add(fallback);
            missing++;
        }
        return result;
    }

    /// <summary>Whether the texts are written without spaces between words (Japanese, Chinese): more than a third of
    /// their non-space characters are CJK ideographs, kana or CJK punctuation.</summary>
    public static bool Unsegmented(IEnumerable<string> texts)
    {
        long cjk = 0, other = 0;
        foreach (var text in texts.Take(2000))
            foreach (var ch in text)
            {
                if (char.IsWhiteSpace(ch)) continue;
                if (ch is >= '\u3000' and <= '\u30ff' or >= '\u3400' and <= '\u9fff' or >= '\uff00' and <= '\uffef') cjk++;
                else other++;
            }
        return cjk * 3 > cjk + other;
    }
}

/// <summary>Finding the peer tools: an executable on PATH (or the env override), and a Python that imports sklearn.</summary>
internal static class PeerTools
{
    public const string FastTextMissing = "fastText not installed: apt-get install fasttext";

    public const string SklearnMissing = "scikit-learn not installed: apt-get install python3-sklearn (for /usr/bin/python3)";

    public static string? FastText() =>
        Environment.GetEnvironmentVariable("INCUBATOR_FASTTEXT") is { Length: > 0 } set ? (File.Exists(set) ? set : null)
            : FindOnPath("fasttext", Environment.GetEnvironmentVariable("PATH"));

    /// <summary>INCUBATOR_PEER_PYTHON, else /usr/bin/python3 (Debian's, where python3-sklearn installs), provided
    /// <c>import sklearn</c> succeeds in it.</summary>
    public static string? SklearnPython()
    {
        var python = Environment.GetEnvironmentVariable("INCUBATOR_PEER_PYTHON") is { Length: > 0 } set ? set : "/usr/bin/python3";
        if (!File.Exists(python)) return null;
        try
        {
            var run = PeerProcess.Run(python, ["-c", "import sklearn"], Path.GetTempPath(), CancellationToken.None);
            return run.ExitCode == 0 ? python : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    /// <summary>The first file named <paramref name="name"/> in the directories of <paramref name="path"/>.</summary>
    public static string? FindOnPath(string name, string? path)
    {
        foreach (var dir in (path ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    /// <summary>One row per missing tool, naming the package to install.</summary>
    public static IEnumerable<BenchmarkRow> Unavailable(string bench, string? fastText, string? python)
    {
        if (fastText is null) yield return new BenchmarkRow(bench, FastTextMissing, 0, "", Note: "fastText rows skipped (or set INCUBATOR_FASTTEXT)");
        if (python is null) yield return new BenchmarkRow(bench, SklearnMissing, 0, "", Note: "scikit-learn rows skipped (or set INCUBATOR_PEER_PYTHON)");
    }
}

/// <summary>Runs a peer process to its end: exit code, output, wall seconds, and its peak resident set (VmHWM from
/// /proc/&lt;pid&gt;/status, polled every 5 ms; the last value read before the process exits, 0 off Linux).</summary>
internal static class PeerProcess
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr, double WallSeconds, double PeakKiB);

    public static Result Run(string file, IEnumerable<string> args, string workingDirectory, CancellationToken ct)
    {
        var psi = new ProcessStartInfo(file)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        var sw = Stopwatch.StartNew();
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync(ct);
        var stderr = p.StandardError.ReadToEndAsync(ct);
        var status = $"/proc/{p.Id}/status";
        double peak = 0;
        while (!p.HasExited)
        {
            if (ct.IsCancellationRequested)
            {
                p.Kill(true);
                ct.ThrowIfCancellationRequested();
            }
            peak = Math.Max(peak, ReadHwm(status));
            Thread.Sleep(5);
        }
        p.WaitForExit();
        var wall = sw.Elapsed.TotalSeconds;
        return new Result(p.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult(), wall, peak);
    }

    private static double ReadHwm(string status)
    {
        try
        {
            foreach (var line in File.ReadLines(status))
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    return double.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        catch (FormatException) { }
        return 0;
    }
}
