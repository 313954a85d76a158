using System.Text;
using System.Text.Json;
using Incubator.Domain.Common;

namespace Incubator.Domain.Datasets;

public enum LabeledFileFormat
{
    Tsv,
    Csv,
    Jsonl,
}

/// <summary>One parsed row with the line it started on (1-based), so every later complaint can point at it.</summary>
public sealed record LabeledRow(int Line, string Label, string Text);

/// <summary>Reads uploaded `label, text` files: TSV (`label&lt;TAB&gt;text`), CSV (RFC 4180, quoted fields may span lines)
/// and JSONL (`{"label": ..., "text": ...}`). An optional header row (`label`, `text`) is skipped. Every malformed row
/// is reported with its line number; the caller writes nothing unless the whole file is good.</summary>
public static class LabeledFile
{
    public const int MaxRows = 100_000;
    public const int MaxTextLength = 10_000;

    public static LabeledFileFormat FormatFromName(string? fileName)
    {
        var ext = Path.GetExtension(fileName ?? "").ToLowerInvariant();
        return ext switch
        {
            ".csv" => LabeledFileFormat.Csv,
            ".jsonl" or ".ndjson" or ".json" => LabeledFileFormat.Jsonl,
            ".tsv" or ".txt" or ".tab" => LabeledFileFormat.Tsv,
            _ => throw new DomainValidationException("file", "UploadFormatUnknown",
                $"'{fileName}' is not a supported file: use .tsv (label<TAB>text), .csv (label,text) or .jsonl ({{\"label\":..., \"text\":...}}).", fileName ?? ""),
        };
    }

    /// <summary>Parses the whole text. Throws one <see cref="DomainValidationException"/> listing every bad line (at most
    /// 50 are listed, with the total).</summary>
    public static IReadOnlyList<LabeledRow> Parse(string content, LabeledFileFormat format)
    {
        var rows = new List<LabeledRow>();
        var errors = new List<DomainError>();
        var raw = format switch
        {
            LabeledFileFormat.Tsv => ReadTsv(content, errors),
            LabeledFileFormat.Csv => ReadCsv(content, errors),
            _ => ReadJsonl(content, errors),
        };
        foreach (var (line, label, text) in raw)
        {
            var l = label.Trim();
            var t = text.Trim();
            if (l.Length == 0)
                errors.Add(new DomainError($"line {line}", "UploadEmptyLabel", $"Line {line}: the label is empty.", [line]));
            else if (t.Length == 0)
                errors.Add(new DomainError($"line {line}", "UploadEmptyText", $"Line {line}: the text is empty.", [line]));
            else if (t.Length > MaxTextLength)
                errors.Add(new DomainError($"line {line}", "UploadTextTooLong", $"Line {line}: the text has {t.Length} characters; at most {MaxTextLength} are allowed.", [line, t.Length, MaxTextLength]));
            else
                rows.Add(new LabeledRow(line, l, t));
        }
        if (rows.Count + errors.Count > MaxRows)
            errors.Insert(0, new DomainError("file", "UploadTooManyRows", $"The file has more than {MaxRows} rows.", [MaxRows]));
        if (errors.Count == 0 && rows.Count == 0)
            errors.Add(new DomainError("file", "UploadEmpty", "The file has no rows.", []));
        if (errors.Count > 0) throw new DomainValidationException(Limit(errors));
        return rows;
    }

    internal static IReadOnlyList<DomainError> Limit(List<DomainError> errors)
    {
        if (errors.Count <= 50) return errors;
        var kept = errors.Take(50).ToList();
        kept.Add(new DomainError("file", "UploadMoreErrors", $"… and {errors.Count - 50} more problems.", [errors.Count - 50]));
        return kept;
    }

    private static bool IsHeader(string a, string b) =>
        a.Trim().Equals("label", StringComparison.OrdinalIgnoreCase) && b.Trim().Equals("text", StringComparison.OrdinalIgnoreCase);

    private static IEnumerable<(int Line, string Label, string Text)> ReadTsv(string content, List<DomainError> errors)
    {
        var lines = SplitLines(content);
        var result = new List<(int, string, string)>();
        for (var i = 0; i < lines.Count; i++)
        {
            var line = i + 1;
            var s = lines[i];
            if (s.Trim().Length == 0) continue;
            var tab = s.IndexOf('\t');
            if (tab < 0)
            {
                errors.Add(new DomainError($"line {line}", "UploadMissingTab", $"Line {line}: expected label<TAB>text but there is no tab.", [line]));
                continue;
            }
            var label = s[..tab];
            var text = s[(tab + 1)..];
            if (result.Count == 0 && errors.Count == 0 && IsHeader(label, text)) continue;
            result.Add((line, label, text));
        }
        return result;
    }

    private static IEnumerable<(int Line, string Label, string Text)> ReadCsv(string content, List<DomainError> errors)
    {
        var result = new List<(int, string, string)>();
        var line = 1;
        var i = 0;
        while (i < content.Length)
        {
            var start = line;
            var fields = new List<string>();
            var field = new StringBuilder();
            var bad = false;
            var endOfRecord = false;
            var quotedField = false;
            while (i < content.Length && !endOfRecord)
            {
                var c = content[i];
                if (field.Length == 0 && !quotedField && c == '"')
                {
                    // A quoted field: runs to the closing quote, "" is a quote, newlines are kept.
                    quotedField = true;
                    i++;
                    var closed = false;
                    while (i < content.Length)
                    {
                        var q = content[i];
                        if (q == '"')
                        {
                            if (i + 1 < content.Length && content[i + 1] == '"')
                            {
                                field.Append('"');
                                i += 2;
                                continue;
                            }
                            i++;
                            closed = true;
                            break;
                        }
                        if (q == '\n') line++;
                        field.Append(q);
                        i++;
                    }
                    if (!closed)
                    {
                        errors.Add(new DomainError($"line {start}", "UploadUnclosedQuote", $"Line {start}: a quoted field is never closed.", [start]));
                        return result;
                    }
                    if (i < content.Length && content[i] is not (',' or '\r' or '\n')) bad = true;
                    continue;
                }
                switch (c)
                {
                    case ',':
                        fields.Add(field.ToString());
                        field.Clear();
                        quotedField = false;
                        i++;
                        break;
                    case '\r':
                        i++;
                        break;
                    case '\n':
                        line++;
                        i++;
                        endOfRecord = true;
                        break;
                    default:
                        field.Append(c);
                        i++;
                        break;
                }
            }
            fields.Add(field.ToString());
            if (fields.Count == 1 && fields[0].Trim().Length == 0 && !quotedField) continue;
            if (bad)
            {
                errors.Add(new DomainError($"line {start}", "UploadMalformedCsv", $"Line {start}: text follows a closing quote.", [start]));
                continue;
            }
            if (fields.Count != 2)
            {
                errors.Add(new DomainError($"line {start}", "UploadWrongFieldCount",
                    $"Line {start}: expected 2 fields (label,text) but found {fields.Count}; quote a text that contains commas.", [start, fields.Count]));
                continue;
            }
            if (result.Count == 0 && IsHeader(fields[0], fields[1])) continue;
            result.Add((start, fields[0], fields[1]));
        }
        return result;
    }

    private static IEnumerable<(int Line, string Label, string Text)> ReadJsonl(string content, List<DomainError> errors)
    {
        var lines = SplitLines(content);
        var result = new List<(int, string, string)>();
        for (var i = 0; i < lines.Count; i++)
        {
            var line = i + 1;
            if (lines[i].Trim().Length == 0) continue;
            try
            {
                using var doc = JsonDocument.Parse(lines[i]);
                if (doc.RootElement.ValueKind != JsonValueKind.Object
                    || !doc.RootElement.TryGetProperty("label", out var label) || label.ValueKind != JsonValueKind.String
                    || !doc.RootElement.TryGetProperty("text", out var text) || text.ValueKind != JsonValueKind.String)
                {
                    errors.Add(new DomainError($"line {line}", "UploadJsonShape", $"Line {line}: expected an object with string fields \"label\" and \"text\".", [line]));
                    continue;
                }
                result.Add((line, label.GetString()!, text.GetString()!));
            }
            catch (JsonException)
            {
                errors.Add(new DomainError($"line {line}", "UploadInvalidJson", $"Line {line}: not valid JSON.", [line]));
            }
        }
        return result;
    }

    private static List<string> SplitLines(string content) =>
        content.Replace("\r\n", "\n").Replace('\r', '\n').Split('\n').ToList();
}
