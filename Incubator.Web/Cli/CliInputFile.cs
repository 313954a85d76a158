using Incubator.Domain.Common;
using Incubator.Domain.Common.TextFiles;

namespace Incubator.Web.Cli;

/// <summary>The verbs' input files, read with the portal's one <see cref="TextFileReader"/>: the same formats,
/// encodings, binary refusal and bad-row messages as uploads. A file that is missing, not text or (for files used
/// whole) has bad rows is a usage error (exit code 2) naming the file and the line.</summary>
internal static class CliInputFile
{
    /// <summary>Opens a file to stream its records; the reader owns the file.</summary>
    public static TextFileReader Open(string path, TextFileOptions options)
    {
        if (Directory.Exists(path)) throw new CliUsageException($"{path} is a folder; give a file.");
        FileStream stream;
        try
        {
            stream = File.OpenRead(path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new CliUsageException($"{path}: file not found.");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CliUsageException($"{path}: cannot be read ({ex.Message}).");
        }
        try
        {
            return TextFileReader.Open(stream, options, leaveOpen: false);
        }
        catch (DomainValidationException ex)
        {
            stream.Dispose();
            throw Problem(path, ex);
        }
    }

    /// <summary>The records of a file that is used whole (training data, files to predict on): any bad row refuses it.</summary>
    public static IReadOnlyList<TextRecord> ReadAll(string path, TextFileOptions options) => ReadAll(path, options, out _);

    /// <summary>The same, with what the reader saw (the encoding it detected, for <see cref="DescribeRows"/>).</summary>
    public static IReadOnlyList<TextRecord> ReadAll(string path, TextFileOptions options, out TextFileReport report)
    {
        using var reader = Open(path, options);
        report = reader.Report;
        try
        {
            return reader.ReadAll();
        }
        catch (DomainValidationException ex)
        {
            throw Problem(path, ex);
        }
    }

    /// <summary>The records as they stream; a problem found on the way (an unknown column) becomes a usage error.</summary>
    public static IEnumerable<TextRecord> Records(TextFileReader reader, string path, CancellationToken ct)
    {
        using var records = reader.Records(ct).GetEnumerator();
        while (true)
        {
            bool more;
            try
            {
                more = records.MoveNext();
            }
            catch (DomainValidationException ex)
            {
                throw Problem(path, ex);
            }
            if (!more) yield break;
            yield return records.Current;
        }
    }

    /// <summary>The distinct texts of a file of unlabelled texts (a pool, a corpus), first occurrences in file order, and
    /// what the reader saw (duplicates counted into its report). A file with no text at all is a usage error that names
    /// the first bad rows and the option that points at the texts.</summary>
    public static (List<string> Texts, TextFileReport Report) ReadTexts(string path, TextFileOptions options, CancellationToken ct)
    {
        var texts = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        using var reader = Open(path, options);
        var report = reader.Report;
        foreach (var row in Records(reader, path, ct))
        {
            if (seen.Add(row.Text)) texts.Add(row.Text);
            else report.DuplicatesCollapsed++;
        }
        if (texts.Count > 0) return (texts, report);
        var name = Path.GetFileName(path);
        var lines = new List<string> { $"{name}: no text could be read ({report.RowsRead:N0} rows, {report.BadRowCount:N0} bad)." };
        lines.AddRange(report.BadRows.Take(3).Select(b => $"{name}, line {b.Line}: {b.Detail}."));
        if (report.BadRows.Any(b => b.Reason == BadRowReason.MissingField))
            lines.Add(options.Format == TextFileFormat.Jsonl
                ? "Name the field that holds the texts with --field NAME (a dotted path for a nested one)."
                : "Name the column that holds the texts with --column NAME|N.");
        throw new CliUsageException(string.Join('\n', lines));
    }

    /// <summary>"read 14 rows from tickets.jsonl (utf-8): 12 distinct texts, 1 duplicate, 1 bad row" and the first bad rows.</summary>
    public static void DescribeRead(TextWriter w, string path, TextFileReport report, int distinct)
    {
        w.WriteLine(DescribeRows(path, report) + ": "
            + $"{EnglishCount.Of(distinct, "distinct text", "distinct texts", "N0")}, {EnglishCount.Of(report.DuplicatesCollapsed, "duplicate", "duplicates", "N0")}, "
            + EnglishCount.Of(report.BadRowCount, "bad row", "bad rows", "N0"));
        foreach (var bad in report.BadRows.Take(5)) w.WriteLine($"  line {bad.Line}: {bad.Reason} ({bad.Detail})");
    }

    /// <summary>"read 1 row from train.tsv (windows-1252)": what every verb that reads a file says it read, with the
    /// encoding the reader detected (and where the bytes stopped being UTF-8, when they did).</summary>
    public static string DescribeRows(string path, TextFileReport report) =>
        $"read {EnglishCount.Of(report.RowsRead, "row", "rows", "N0")} from {path} ({report.Encoding}"
        + $"{(report.Latin1FallbackAtByte is { } at ? $": not valid UTF-8 at byte {at}, read as {report.Encoding}" : "")})";

    /// <summary>"train.csv, line 3: a quoted field is never closed." — one line per problem.</summary>
    public static CliUsageException Problem(string path, DomainValidationException ex)
    {
        var name = Path.GetFileName(path);
        return new CliUsageException(string.Join('\n', ex.Details.Select(d =>
            d.Message.StartsWith("Line ", StringComparison.Ordinal) ? $"{name}, l{d.Message[1..]}" : $"{name}: {d.Message}")));
    }
}
