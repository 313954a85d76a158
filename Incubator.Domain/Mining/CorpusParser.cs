using System.Text;
using System.Text.Json;

namespace Incubator.Domain.Mining;

public enum CorpusFormat
{
    Txt,
    Csv,
    Tsv,
    Jsonl,
}

public enum BadRowReason
{
    UnparseableCsv,
    InvalidJson,
    MissingField,
    EmptyText,
    TooLong,
}

/// <summary>How to read an upload. <see cref="Column"/> (CSV/TSV) is a header name or a 1-based column number;
/// <see cref="HasHeader"/> null means detect. <see cref="Field"/> (JSONL) is a top-level or dotted field name.</summary>
public sealed record CorpusParseOptions(CorpusFormat Format, string? Column = null, bool? HasHeader = null, string? Field = null,
    int MaxTextChars = CorpusParseOptions.DefaultMaxTextChars)
{
    public const int DefaultMaxTextChars = 4000;

    /// <summary>A quoted CSV field may span at most this many physical lines before the row counts as unparseable
    /// (an unclosed quote must not swallow the rest of the file).</summary>
    public const int MaxLinesPerCsvRecord = 50;
}

public sealed record BadRow(long Line, BadRowReason Reason, string Detail);

public sealed record ParsedText(long Line, string Text);

/// <summary>What one upload turned into; filled while parsing, so it is complete when the enumeration ends.</summary>
public sealed class CorpusParseReport
{
    public const int MaxBadRowsKept = 100;

    private readonly List<BadRow> _badRows = [];

    public string Encoding { get; set; } = "utf-8";

    /// <summary>Set when the bytes were not valid UTF-8 and were read as Latin-1 instead: the byte offset of the first
    /// invalid sequence.</summary>
    public long? Latin1FallbackAtByte { get; set; }

    /// <summary>Data rows read (header excluded; a CSV record spanning several lines counts once).</summary>
    public long RowsRead { get; set; }

    public long Kept { get; set; }

    /// <summary>Rows that repeated an earlier text exactly and were folded into it (its count grows).</summary>
    public long DuplicatesCollapsed { get; set; }

    public long BadRowCount { get; set; }

    public bool HeaderDetected { get; set; }

    /// <summary>The column or field the texts were taken from, as resolved (header name or number).</summary>
    public string? Source { get; set; }

    /// <summary>The first <see cref="MaxBadRowsKept"/> bad rows; <see cref="BadRowCount"/> has them all.</summary>
    public IReadOnlyList<BadRow> BadRows => _badRows;

    public Dictionary<BadRowReason, long> BadByReason { get; } = [];

    internal void Bad(long line, BadRowReason reason, string detail)
    {
        BadRowCount++;
        BadByReason[reason] = BadByReason.GetValueOrDefault(reason) + 1;
        if (_badRows.Count < MaxBadRowsKept) _badRows.Add(new BadRow(line, reason, detail.Length > 200 ? detail[..200] + "…" : detail));
    }
}

public sealed record CorpusPreview(CorpusFormat Format, string Encoding, bool HeaderDetected, IReadOnlyList<string> Columns, IReadOnlyList<string> SampleTexts, string? DefaultSource);

/// <summary>Reads unlabelled texts from TXT (one per line), CSV/TSV (one chosen column, RFC 4180 quoting) or JSONL
/// (one chosen field) as a stream: one record in memory at a time. Bad rows are reported with their (1-based, physical)
/// line number and skipped; good rows are kept.</summary>
public static class CorpusParser
{
    public static CorpusFormat? FormatFromFileName(string? fileName) =>
        Path.GetExtension(fileName ?? "").ToLowerInvariant() switch
        {
            ".txt" or ".text" => CorpusFormat.Txt,
            ".csv" => CorpusFormat.Csv,
            ".tsv" or ".tab" => CorpusFormat.Tsv,
            ".jsonl" or ".ndjson" or ".json" => CorpusFormat.Jsonl,
            _ => null,
        };

    /// <summary>Detects the encoding of a seekable stream and returns a reader positioned after any BOM. UTF-16 LE/BE
    /// and UTF-8 by BOM; without a BOM the whole stream is checked for valid UTF-8 (streamed, in chunks) and read as
    /// Latin-1 when it is not. The stream is left open.</summary>
    public static TextReader OpenReader(Stream stream, CorpusParseReport report)
    {
        if (!stream.CanSeek) throw new ArgumentException("The stream must be seekable (uploads are spooled to a temporary file first).", nameof(stream));
        var start = stream.Position;
        var (encoding, name, bom, invalidAt) = Detect(stream);
        report.Encoding = name;
        report.Latin1FallbackAtByte = invalidAt;
        stream.Position = start + bom;
        return new StreamReader(stream, encoding, detectEncodingFromByteOrderMarks: false, bufferSize: 1 << 16, leaveOpen: true);
    }

    internal static (Encoding Encoding, string Name, int Bom, long? InvalidAt) Detect(Stream stream)
    {
        var start = stream.Position;
        Span<byte> head = stackalloc byte[3];
        var n = stream.ReadAtLeast(head, 3, throwOnEndOfStream: false);
        stream.Position = start;
        if (n >= 3 && head[0] == 0xEF && head[1] == 0xBB && head[2] == 0xBF) return (new UTF8Encoding(false), "utf-8 (BOM)", 3, null);
        if (n >= 2 && head[0] == 0xFF && head[1] == 0xFE) return (new UnicodeEncoding(false, false), "utf-16le", 2, null);
        if (n >= 2 && head[0] == 0xFE && head[1] == 0xFF) return (new UnicodeEncoding(true, false), "utf-16be", 2, null);
        var invalidAt = FirstInvalidUtf8(stream);
        stream.Position = start;
        return invalidAt is null ? (new UTF8Encoding(false), "utf-8", 0, null) : (Encoding.Latin1, "latin-1", 0, invalidAt);
    }

    /// <summary>Byte offset of the first invalid UTF-8 sequence, or null when the rest of the stream is valid.</summary>
    private static long? FirstInvalidUtf8(Stream stream)
    {
        var decoder = new UTF8Encoding(false, throwOnInvalidBytes: true).GetDecoder();
        var buffer = new byte[1 << 16];
        var chars = new char[(1 << 16) + 4];
        long offset = 0;
        int read;
        while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
        {
            try
            {
                decoder.GetChars(buffer, 0, read, chars, 0, flush: false);
            }
            catch (DecoderFallbackException ex)
            {
                return offset + Math.Max(0, ex.Index);
            }
            offset += read;
        }
        try
        {
            decoder.GetChars([], 0, 0, chars, 0, flush: true);
        }
        catch (DecoderFallbackException)
        {
            return offset; // truncated sequence at the very end
        }
        return null;
    }

    /// <summary>Texts in file order, trimmed. The report is complete once the enumeration has finished.</summary>
    public static IEnumerable<ParsedText> Parse(TextReader reader, CorpusParseOptions options, CorpusParseReport report, CancellationToken ct = default) =>
        options.Format switch
        {
            CorpusFormat.Txt => ParseTxt(reader, options, report, ct),
            CorpusFormat.Jsonl => ParseJsonl(reader, options, report, ct),
            CorpusFormat.Csv => ParseDelimited(reader, ',', options, report, ct),
            CorpusFormat.Tsv => ParseDelimited(reader, '\t', options, report, ct),
            _ => throw new ArgumentOutOfRangeException(nameof(options)),
        };

    private static IEnumerable<ParsedText> ParseTxt(TextReader reader, CorpusParseOptions o, CorpusParseReport report, CancellationToken ct)
    {
        long line = 0;
        string? s;
        report.Source = null;
        while ((s = reader.ReadLine()) is not null)
        {
            ct.ThrowIfCancellationRequested();
            line++;
            report.RowsRead++;
            if (Accept(line, s, o, report) is { } text) yield return new ParsedText(line, text);
        }
    }

    private static IEnumerable<ParsedText> ParseJsonl(TextReader reader, CorpusParseOptions o, CorpusParseReport report, CancellationToken ct)
    {
        var field = string.IsNullOrWhiteSpace(o.Field) ? "text" : o.Field.Trim();
        report.Source = field;
        long line = 0;
        string? s;
        while ((s = reader.ReadLine()) is not null)
        {
            ct.ThrowIfCancellationRequested();
            line++;
            if (string.IsNullOrWhiteSpace(s)) continue; // blank lines between JSON objects are not rows
            report.RowsRead++;
            string? value;
            try
            {
                using var doc = JsonDocument.Parse(s);
                if (!TryGetField(doc.RootElement, field, out var element))
                {
                    report.Bad(line, BadRowReason.MissingField, $"no field '{field}'");
                    continue;
                }
                value = element.ValueKind switch
                {
                    JsonValueKind.String => element.GetString(),
                    JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => element.GetRawText(),
                    _ => null,
                };
                if (value is null)
                {
                    report.Bad(line, BadRowReason.MissingField, $"field '{field}' is {element.ValueKind.ToString().ToLowerInvariant()}, not text");
                    continue;
                }
            }
            catch (JsonException ex)
            {
                report.Bad(line, BadRowReason.InvalidJson, ex.Message);
                continue;
            }
            if (Accept(line, value, o, report) is { } text) yield return new ParsedText(line, text);
        }
    }

    internal static bool TryGetField(JsonElement root, string path, out JsonElement value)
    {
        value = root;
        if (root.ValueKind != JsonValueKind.Object) return false;
        if (root.TryGetProperty(path, out value)) return true;
        var current = root;
        foreach (var part in path.Split('.'))
        {
            if (current.ValueKind != JsonValueKind.Object || !current.TryGetProperty(part, out current)) return false;
        }
        value = current;
        return true;
    }

    private static IEnumerable<ParsedText> ParseDelimited(TextReader reader, char delimiter, CorpusParseOptions o, CorpusParseReport report, CancellationToken ct)
    {
        int? columnIndex = null;
        var first = true;
        foreach (var (line, fields, error) in Records(reader, delimiter, ct))
        {
            if (first)
            {
                first = false;
                if (error is null)
                {
                    var header = o.HasHeader ?? LooksLikeHeader(fields!);
                    report.HeaderDetected = header;
                    columnIndex = ResolveColumn(o.Column, header ? fields! : null);
                    report.Source = header && columnIndex < fields!.Count ? fields[columnIndex.Value] : $"#{columnIndex + 1}";
                    if (header) continue;
                }
                else
                {
                    columnIndex = ResolveColumn(o.Column, null);
                    report.Source = $"#{columnIndex + 1}";
                }
            }
            report.RowsRead++;
            if (error is not null)
            {
                report.Bad(line, BadRowReason.UnparseableCsv, error);
                continue;
            }
            if (fields!.Count == 1 && fields[0].Length == 0 && columnIndex > 0) continue; // a blank line in a multi-column file
            if (columnIndex >= fields.Count)
            {
                report.Bad(line, BadRowReason.MissingField, $"{fields.Count} column(s); column {columnIndex + 1} is missing");
                continue;
            }
            if (Accept(line, fields[columnIndex!.Value], o, report) is { } text) yield return new ParsedText(line, text);
        }
    }

    /// <summary>0-based column: a header name (case-insensitive), a 1-based number, or (none given) the header column
    /// called text/sentence/content/body/message, else the first.</summary>
    internal static int ResolveColumn(string? column, IReadOnlyList<string>? header)
    {
        if (!string.IsNullOrWhiteSpace(column))
        {
            var c = column.Trim();
            if (header is not null)
            {
                for (var i = 0; i < header.Count; i++)
                    if (string.Equals(header[i].Trim(), c, StringComparison.OrdinalIgnoreCase)) return i;
            }
            if (int.TryParse(c, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var n) && n >= 1) return n - 1;
            throw new Common.DomainValidationException("column", "CorpusColumnUnknown", $"There is no column '{c}'" +
                (header is null ? " (the file has no header row; give a column number)." : $". Columns: {string.Join(", ", header)}."), c);
        }
        if (header is not null)
        {
            for (var i = 0; i < header.Count; i++)
                if (TextColumnNames.Contains(header[i].Trim(), StringComparer.OrdinalIgnoreCase)) return i;
        }
        return 0;
    }

    private static readonly string[] TextColumnNames = ["text", "sentence", "content", "body", "message", "review", "comment", "title", "tweet", "utterance", "document"];

    /// <summary>A first row is a header when every field is a short, distinct, non-numeric name without sentence
    /// punctuation; a single-column file's first row is a header only if it is one of the usual text column names.</summary>
    internal static bool LooksLikeHeader(IReadOnlyList<string> fields)
    {
        if (fields.Count == 1) return TextColumnNames.Contains(fields[0].Trim(), StringComparer.OrdinalIgnoreCase);
        if (fields.Any(f => f.Trim().Length is 0 or > 40)) return false;
        if (fields.Select(f => f.Trim().ToLowerInvariant()).Distinct().Count() != fields.Count) return false;
        if (fields.Any(f => double.TryParse(f, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out _))) return false;
        return !fields.Any(f => f.TrimEnd().EndsWith('.') || f.Contains('!') || f.Contains('?') || f.Trim().Count(char.IsWhiteSpace) > 3);
    }

    /// <summary>RFC 4180 records over physical lines: a quoted field may hold delimiters, doubled quotes and line
    /// breaks. A record whose quote is still open after <see cref="CorpusParseOptions.MaxLinesPerCsvRecord"/> lines (or
    /// at the end) is reported at its first line, and the lines after that first line are read again as records.</summary>
    internal static IEnumerable<(long Line, List<string>? Fields, string? Error)> Records(TextReader reader, char delimiter, CancellationToken ct)
    {
        var pending = new Queue<(long Line, string Text)>(); // lines read ahead and given back after an unclosed quote
        long lineNo = 0;
        bool Next(out (long Line, string Text) l)
        {
            if (pending.Count > 0)
            {
                l = pending.Dequeue();
                return true;
            }
            var s = reader.ReadLine();
            if (s is null)
            {
                l = default;
                return false;
            }
            l = (++lineNo, s);
            return true;
        }

        while (Next(out var firstLine))
        {
            ct.ThrowIfCancellationRequested();
            var consumed = new List<(long Line, string Text)> { firstLine };
            var record = new StringBuilder(firstLine.Text);
            while (true)
            {
                var status = TrySplit(record, delimiter, out var fields, out var error);
                if (status == SplitStatus.Ok)
                {
                    yield return (firstLine.Line, fields, null);
                    break;
                }
                if (status == SplitStatus.Malformed && consumed.Count == 1)
                {
                    yield return (firstLine.Line, null, error);
                    break;
                }
                // Unclosed quote: take the next line into the record, unless the record is already too long. A record
                // that only went wrong after taking in more lines was really an unclosed quote on its first line.
                if (status == SplitStatus.Malformed || consumed.Count >= CorpusParseOptions.MaxLinesPerCsvRecord || !Next(out var more))
                {
                    yield return (firstLine.Line, null, "a quoted field is never closed");
                    // Give back every line after the first one: they may be good rows.
                    var back = new Queue<(long, string)>(consumed.Skip(1).Concat(pending));
                    pending.Clear();
                    foreach (var b in back) pending.Enqueue(b);
                    break;
                }
                consumed.Add(more);
                record.Append('\n').Append(more.Text);
            }
        }
    }

    private enum SplitStatus
    {
        Ok,
        Unclosed,
        Malformed,
    }

    private static SplitStatus TrySplit(StringBuilder record, char delimiter, out List<string> fields, out string? error)
    {
        fields = [];
        error = null;
        var field = new StringBuilder();
        var i = 0;
        var n = record.Length;
        while (true)
        {
            field.Clear();
            if (i < n && record[i] == '"')
            {
                i++;
                var closed = false;
                while (i < n)
                {
                    var c = record[i];
                    if (c == '"')
                    {
                        if (i + 1 < n && record[i + 1] == '"')
                        {
                            field.Append('"');
                            i += 2;
                            continue;
                        }
                        closed = true;
                        i++;
                        break;
                    }
                    field.Append(c);
                    i++;
                }
                if (!closed) return SplitStatus.Unclosed;
                if (i < n && record[i] != delimiter)
                {
                    error = $"unexpected character '{record[i]}' after a closing quote (column {fields.Count + 1})";
                    return SplitStatus.Malformed;
                }
            }
            else
            {
                while (i < n && record[i] != delimiter)
                {
                    if (record[i] == '"' && delimiter == ',')
                    {
                        error = $"a quote inside an unquoted field (column {fields.Count + 1})";
                        return SplitStatus.Malformed;
                    }
                    field.Append(record[i]);
                    i++;
                }
            }
            fields.Add(field.ToString());
            if (i >= n) return SplitStatus.Ok;
            i++; // the delimiter
        }
    }

    private static string? Accept(long line, string raw, CorpusParseOptions o, CorpusParseReport report)
    {
        var text = raw.Trim();
        if (text.Length == 0)
        {
            report.Bad(line, BadRowReason.EmptyText, "empty text");
            return null;
        }
        if (text.Length > o.MaxTextChars)
        {
            report.Bad(line, BadRowReason.TooLong, $"{text.Length} characters (at most {o.MaxTextChars})");
            return null;
        }
        return text;
    }

    /// <summary>What the first bytes of a file look like: encoding, format, columns (CSV/TSV header or JSONL keys)
    /// and a few texts, so the user can choose the column before uploading the whole file.</summary>
    public static CorpusPreview Preview(byte[] head, string? fileName, CorpusFormat? format = null)
    {
        var fmt = format ?? FormatFromFileName(fileName) ?? CorpusFormat.Txt;
        // The head may end inside a multi-byte character: drop up to 3 trailing bytes before judging UTF-8.
        var trimmed = head;
        using var probe = new MemoryStream(head);
        var (encoding, name, bom, _) = Detect(probe);
        if (name == "latin-1" && head.Length > 3)
        {
            for (var cut = 1; cut <= 3; cut++)
            {
                using var shorter = new MemoryStream(head, 0, head.Length - cut);
                var d = Detect(shorter);
                if (d.Name != "latin-1")
                {
                    (encoding, name, bom) = (d.Encoding, d.Name, d.Bom);
                    trimmed = head[..^cut];
                    break;
                }
            }
        }
        var text = encoding.GetString(trimmed, bom, trimmed.Length - bom);
        var lines = text.Split('\n');
        if (lines.Length > 1) lines = lines[..^1]; // the last line may be cut off
        var sample = string.Join('\n', lines.Take(200));
        var columns = new List<string>();
        var header = false;
        string? source = null;
        switch (fmt)
        {
            case CorpusFormat.Csv or CorpusFormat.Tsv:
                var delimiter = fmt == CorpusFormat.Csv ? ',' : '\t';
                var first = Records(new StringReader(sample), delimiter, CancellationToken.None).FirstOrDefault();
                if (first.Fields is { } f)
                {
                    header = LooksLikeHeader(f);
                    columns = header ? f : f.Select((_, i) => (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList();
                    var idx = ResolveColumn(null, header ? f : null);
                    source = columns.Count > idx ? columns[idx] : null;
                }
                break;
            case CorpusFormat.Jsonl:
                foreach (var l in lines.Take(50))
                {
                    try
                    {
                        using var doc = JsonDocument.Parse(l);
                        if (doc.RootElement.ValueKind != JsonValueKind.Object) continue;
                        foreach (var p in doc.RootElement.EnumerateObject())
                            if (p.Value.ValueKind == JsonValueKind.String && !columns.Contains(p.Name)) columns.Add(p.Name);
                    }
                    catch (JsonException)
                    {
                    }
                }
                source = columns.FirstOrDefault(c => TextColumnNames.Contains(c, StringComparer.OrdinalIgnoreCase)) ?? columns.FirstOrDefault();
                break;
        }
        var report = new CorpusParseReport();
        var options = new CorpusParseOptions(fmt, fmt is CorpusFormat.Csv or CorpusFormat.Tsv ? source : null, null, fmt == CorpusFormat.Jsonl ? source : null);
        List<string> texts;
        try
        {
            texts = Parse(new StringReader(sample), options, report).Take(5).Select(t => t.Text).ToList();
        }
        catch (Common.DomainValidationException)
        {
            texts = [];
        }
        return new CorpusPreview(fmt, name, header, columns, texts, source);
    }
}
