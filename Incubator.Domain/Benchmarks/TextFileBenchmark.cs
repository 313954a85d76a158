using System.Diagnostics;
using System.Globalization;
using System.Text;
using Incubator.Domain.Common;
using Incubator.Domain.Common.TextFiles;

namespace Incubator.Domain.Benchmarks;

/// <summary>The one text-file reader on a generated file (64 MB by default; INCUBATOR_BENCH_TEXTFILE_MB): MB/s and the
/// largest managed heap seen while reading TXT and CSV, each against the floor measured in the same run — a bare
/// <c>StreamReader.ReadLine</c> loop (plus a naive split for CSV) that decodes, detects nothing and checks nothing. Also
/// the sniffing pass alone, and how long refusing a binary file of the same size takes.</summary>
internal sealed class TextFileBenchmark : IBenchmark
{
    public string Name => "textfiles.read";

    public string Description => "Text-file reader: MB/s and peak heap for TXT/CSV vs a bare ReadLine loop; sniffing; refusing a binary file";

    public async Task<IReadOnlyList<BenchmarkRow>> RunAsync(CancellationToken ct)
    {
        var mb = int.TryParse(Environment.GetEnvironmentVariable("INCUBATOR_BENCH_TEXTFILE_MB"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var m) && m > 0 ? m : 64;
        var folder = Path.Combine(Path.GetTempPath(), "incubator-bench-textfiles-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            var txt = Path.Combine(folder, "texts.txt");
            var csv = Path.Combine(folder, "texts.csv");
            var bin = Path.Combine(folder, "binary.txt");
            Write(txt, mb, csv: false);
            Write(csv, mb, csv: true);
            WriteBinary(bin, mb);
            // A Shift_JIS (CP932) CSV as Excel on a Japanese Windows saves it: the legacy-encoding detection's cost.
            var sjisCsv = Path.Combine(folder, "texts-sjis.csv");
            var shiftJis = CodePagesEncodingProvider.Instance.GetEncoding(932)!;
            Write(sjisCsv, mb, csv: true, shiftJis, ["注文", "荷物", "返金", "請求書", "遅延", "破損", "ありがとう", "もう一度", "お願いします", "アカウント", "届きません", "確認"]);
            var sjisSize = new FileInfo(sjisCsv).Length / (1024.0 * 1024);
            var size = new FileInfo(txt).Length / (1024.0 * 1024);
            var csvSize = new FileInfo(csv).Length / (1024.0 * 1024);
            var rows = new List<BenchmarkRow>();

            // Baseline and reader take turns, three times each, and the fastest of each counts (the machine is shared).
            var ((baseTxt, baseTxtHeap), (readTxt, readTxtHeap, n)) = Turns(() => Baseline(txt, split: false), () => Reader(txt, new TextFileOptions(TextFileFormat.Txt)));
            var ((baseCsv, baseCsvHeap), (readCsv, readCsvHeap, nCsv)) = Turns(() => Baseline(csv, split: true), () => Reader(csv, new TextFileOptions(TextFileFormat.Csv, Column: "text")));
            rows.Add(new BenchmarkRow(Name, $"TXT {size:0} MB, {n:N0} rows", size / readTxt, "MB/s", size / baseTxt, "baseline: bare ReadLine + Trim (no sniffing, no checks)"));
            rows.Add(new BenchmarkRow(Name, "TXT peak managed heap", readTxtHeap, "MB", baseTxtHeap, $"file {size:0} MB; streamed, not loaded"));
            rows.Add(new BenchmarkRow(Name, $"CSV {csvSize:0} MB, {nCsv:N0} rows", csvSize / readCsv, "MB/s", csvSize / baseCsv, "baseline: bare ReadLine + naive Split (no quoting)"));
            rows.Add(new BenchmarkRow(Name, "CSV peak managed heap", readCsvHeap, "MB", baseCsvHeap, $"file {csvSize:0} MB"));

            var ((baseSjis, _), (readSjis, _, nSjis)) = Turns(() => Baseline(sjisCsv, split: true, shiftJis),
                () => Reader(sjisCsv, new TextFileOptions(TextFileFormat.Csv, Column: "text"), "shift_jis"));
            rows.Add(new BenchmarkRow(Name, $"CSV Shift_JIS {sjisSize:0} MB, {nSjis:N0} rows", sjisSize / readSjis, "MB/s", sjisSize / baseSjis,
                "baseline: bare ReadLine decoding CP932 + naive Split (told the encoding, no detection)"));

            var sniff = Enumerable.Range(0, 3).Min(_ => Time(() =>
            {
                using var s = File.OpenRead(txt);
                TextSniffer.Sniff(s);
            }));
            rows.Add(new BenchmarkRow(Name, "sniffing pass alone (TXT)", size / sniff, "MB/s", size / baseTxt, "the refusal checks' cost; baseline: bare ReadLine"));
            var sniffSjis = Enumerable.Range(0, 3).Min(_ => Time(() =>
            {
                using var s = File.OpenRead(sjisCsv);
                if (TextSniffer.Sniff(s).Name != "shift_jis") throw new InvalidOperationException("The Shift_JIS file was not detected.");
            }));
            rows.Add(new BenchmarkRow(Name, "sniffing pass alone (Shift_JIS CSV: detection)", sjisSize / sniffSjis, "MB/s", size / sniff,
                "strict Shift_JIS, EUC-JP and Windows-1252 readings; baseline: sniffing the UTF-8 TXT"));
            var refuse = Time(() =>
            {
                using var s = File.OpenRead(bin);
                try
                {
                    TextSniffer.Sniff(s);
                    throw new InvalidOperationException("The binary file was not refused.");
                }
                catch (DomainValidationException)
                {
                }
            });
            rows.Add(new BenchmarkRow(Name, $"refuse a {size:0} MB binary file", refuse * 1000, "ms", sniff * 1000, "baseline: sniffing the text file of the same size"));
            await Task.CompletedTask;
            return rows;
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static void Write(string path, int mb, bool csv, Encoding? encoding = null, string[]? vocabulary = null)
    {
        var rng = new Random(11);
        var words = vocabulary ?? ["order", "parcel", "refund", "invoice", "café", "délai", "荷物", "返金", "late", "broken", "thanks", "again", "please", "account"];
        using var w = new StreamWriter(path, false, encoding ?? new UTF8Encoding(false), 1 << 16);
        if (csv) w.WriteLine("id,text,stars");
        var limit = mb * 1024L * 1024;
        for (var i = 0; w.BaseStream.Length < limit; i++)
        {
            var text = string.Join(' ', Enumerable.Range(0, 6 + rng.Next(20)).Select(_ => words[rng.Next(words.Length)]));
            if (csv) w.WriteLine(i % 3 == 0 ? $"{i},\"{text}, \"\"quoted\"\"\",{rng.Next(5)}" : $"{i},{text},{rng.Next(5)}");
            else w.WriteLine(text);
        }
    }

    private static void WriteBinary(string path, int mb)
    {
        var rng = new Random(12);
        var chunk = new byte[1 << 20];
        using var f = File.Create(path);
        for (var i = 0; i < mb; i++)
        {
            rng.NextBytes(chunk);
            if (i == 0) chunk[0] = (byte)'x'; // no signature: refused by what it holds
            f.Write(chunk);
        }
    }

    private static ((double Seconds, double PeakHeapMb) Baseline, (double Seconds, double PeakHeapMb, long Rows) Reader) Turns(
        Func<(double Seconds, double PeakHeapMb)> baseline, Func<(double Seconds, double PeakHeapMb, long Rows)> reader)
    {
        var runs = Enumerable.Range(0, 3).Select(_ => (Baseline: baseline(), Reader: reader())).ToList();
        return (runs.Select(r => r.Baseline).MinBy(r => r.Seconds), runs.Select(r => r.Reader).MinBy(r => r.Seconds));
    }

    private static (double Seconds, double PeakHeapMb) Baseline(string path, bool split, Encoding? encoding = null)
    {
        double peak = 0;
        var seconds = Time(() =>
        {
            using var r = new StreamReader(path, encoding ?? new UTF8Encoding(false), false, 1 << 16);
            long n = 0, chars = 0;
            string? line;
            while ((line = r.ReadLine()) is not null)
            {
                if (split)
                {
                    var parts = line.Split(',');
                    chars += parts.Length > 1 ? parts[1].Trim().Length : 0;
                }
                else chars += line.Trim().Length;
                if (++n % 50_000 == 0) peak = Math.Max(peak, GC.GetTotalMemory(false));
            }
            if (chars == 0) throw new InvalidOperationException("Nothing was read.");
        });
        return (seconds, peak / (1024 * 1024));
    }

    private static (double Seconds, double PeakHeapMb, long Rows) Reader(string path, TextFileOptions options, string? encoding = null)
    {
        double peak = 0;
        long n = 0;
        var seconds = Time(() =>
        {
            using var r = TextFileReader.Open(File.OpenRead(path), options, leaveOpen: false);
            n = 0;
            foreach (var _ in r.Records())
                if (++n % 50_000 == 0) peak = Math.Max(peak, GC.GetTotalMemory(false));
            if (r.Report.BadRowCount > 0) throw new InvalidOperationException($"{r.Report.BadRowCount} bad rows in a generated file.");
            if (encoding is not null && r.Report.Encoding != encoding) throw new InvalidOperationException($"Read as {r.Report.Encoding}, not {encoding}.");
        });
        return (seconds, peak / (1024 * 1024), n);
    }

    private static double Time(Action action)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var clock = Stopwatch.StartNew();
        action();
        return clock.Elapsed.TotalSeconds;
    }
}
