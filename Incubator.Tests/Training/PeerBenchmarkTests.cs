using Incubator.Domain.Benchmarks;
using Incubator.Domain.Training;

namespace Incubator.Tests.Training;

/// <summary>The pure parts of the training.peers benchmark (issue 16's fastText and scikit-learn peers): the files the
/// peers read, parsing their predictions back to labels with spaces or Japanese, the script's resource, and the
/// "not installed" rows. None of this needs fastText or scikit-learn installed.</summary>
public sealed class PeerBenchmarkTests
{
    private static readonly string[] Labels = ["a\tb", "negative", "ネガティブ", "very positive"];

    [Fact]
    public void Training_lines_carry_the_label_index_and_keep_each_text_on_one_line()
    {
        var index = PeerFiles.LabelIndex(Labels);
        Assert.Equal("__label__3 great phone !   loved it", PeerFiles.FastTextLine(index["very positive"], "Great phone!\r\nLoved it"));
        Assert.Equal("__label__2 売上は増加した。", PeerFiles.FastTextLine(index["ネガティブ"], "売上は増加した。"));
        Assert.Equal("__label__0 x", PeerFiles.FastTextLine(index["a\tb"], "X"));
        Assert.Equal("1\tline one line\u00a0two tab", PeerFiles.TsvLine(index["negative"], "line one\nline\u00a0two\ttab"));
        Assert.Equal("it ' s  ( fine )  and / or not", PeerFiles.FastTextText("It's (fine) and/or not"));
    }

    [Fact]
    public void Written_files_have_one_line_per_row_whatever_the_text_holds()
    {
        var path = Path.GetTempFileName();
        try
        {
            string[] texts = ["first\nsecond", "tab\there", "cr\ronly", "para\u2028sep", "", "日本語のテキスト"];
            PeerFiles.WriteTexts(path, texts);
            var back = File.ReadAllText(path).Split('\n');
            Assert.Equal(texts.Length + 1, back.Length); // the last line ends with a newline
            Assert.Equal("first second", back[0]);
            Assert.Equal("cr only", back[2]);
            Assert.Equal("para sep", back[3]);
            Assert.Equal("", back[4]);
            Assert.Equal("日本語のテキスト", back[5]);
            Assert.Equal((byte)'f', File.ReadAllBytes(path)[0]); // UTF-8 without a byte-order mark
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void FastText_predictions_map_back_to_the_labels_and_gaps_fall_back_and_are_counted()
    {
        // predict's output: one line per test line; k-best and probabilities (predict-prob) after the first label are ignored.
        string[] output = ["__label__3", "__label__2 __label__0", "__label__1 0.93", "", "__label__9", "positive", "__label__0"];
        var labels = PeerFiles.ParseFastText(output, 8, Labels, "negative", out var missing);
        Assert.Equal(["very positive", "ネガティブ", "negative", "negative", "negative", "negative", "a\tb", "negative"], labels);
        Assert.Equal(4, missing); // the empty line, the unknown index, the unprefixed word, and the eighth row with no line at all

        var extra = PeerFiles.ParseFastText(["__label__2", "__label__2", "__label__2"], 2, Labels, "negative", out var none);
        Assert.Equal(["ネガティブ", "ネガティブ"], extra);
        Assert.Equal(0, none);
    }

    [Fact]
    public void Parsed_predictions_score_with_the_same_metric_code()
    {
        List<LabeledText> test = [new("ネガティブ", "x"), new("very positive", "y"), new("very positive", "z"), new("a\tb", "w")];
        var predicted = PeerFiles.ParseIndices(["2", "3", "2", " 0 "], test.Count, Labels, "negative", out var missing);
        Assert.Equal(0, missing);
        var report = TrainingDatasets.Score(Labels, test, predicted);
        Assert.Equal(0.75, report.Accuracy, 6);
        // ネガティブ: P 1/2, R 1 → 2/3; very positive: P 1, R 1/2 → 2/3; a\tb: 1; negative never occurs → left out.
        Assert.Equal((2.0 / 3 + 2.0 / 3 + 1) / 3, report.MacroF1, 6);
    }

    [Fact]
    public void Japanese_text_is_unsegmented_and_English_is_not()
    {
        Assert.True(PeerFiles.Unsegmented(["当社グループの売上高は前年同期比12.5%増加しました。", "営業利益は減少した"]));
        Assert.False(PeerFiles.Unsegmented(["the battery life is great", "Terrible screen, 10/10 would not buy"]));
        Assert.False(PeerFiles.Unsegmented(["an English review quoting 東京 once in a long sentence of many words"]));
    }

    [Fact]
    public void A_missing_tool_prints_how_to_install_it_instead_of_failing()
    {
        var empty = Directory.CreateTempSubdirectory("peers-path-");
        var withTool = Directory.CreateTempSubdirectory("peers-path-");
        try
        {
            Assert.Null(PeerTools.FindOnPath("fasttext", empty.FullName));
            Assert.Null(PeerTools.FindOnPath("fasttext", null));
            var tool = Path.Combine(withTool.FullName, "fasttext");
            File.WriteAllText(tool, "");
            Assert.Equal(tool, PeerTools.FindOnPath("fasttext", string.Join(Path.PathSeparator, empty.FullName, withTool.FullName)));

            var rows = PeerTools.Unavailable("training.peers", null, "/usr/bin/python3").ToList();
            Assert.Equal(["fastText not installed: apt-get install fasttext"], rows.Select(r => r.Metric));
            var both = PeerTools.Unavailable("training.peers", null, null).Select(r => r.Metric).ToList();
            Assert.Equal(2, both.Count);
            Assert.Contains("apt-get install python3-sklearn", both[1]);
            Assert.Empty(PeerTools.Unavailable("training.peers", tool, "/usr/bin/python3"));
        }
        finally
        {
            empty.Delete(true);
            withTool.Delete(true);
        }
    }

    [Fact]
    public void The_scikit_learn_script_ships_inside_the_assembly()
    {
        using var stream = typeof(PeerFiles).Assembly.GetManifestResourceStream("Incubator.Domain.Benchmarks.peers.sklearn_peer.py");
        Assert.NotNull(stream);
        var script = new StreamReader(stream).ReadToEnd();
        Assert.Contains("TfidfVectorizer", script);
        Assert.Contains("VmHWM", script);
    }

    [Fact]
    public void A_peer_process_reports_its_output_exit_code_and_peak_memory()
    {
        if (!OperatingSystem.IsLinux()) return;
        var run = PeerProcess.Run("/bin/sh", ["-c", "sleep 0.3; echo 予測; echo oops >&2; exit 3"], Path.GetTempPath(), CancellationToken.None);
        Assert.Equal(3, run.ExitCode);
        Assert.Equal("予測\n", run.Stdout);
        Assert.Equal("oops\n", run.Stderr);
        Assert.True(run.WallSeconds >= 0.3, $"{run.WallSeconds}");
        Assert.True(run.PeakKiB > 0, "VmHWM read from /proc while the process ran");
    }
}
