using System.Text;
using System.Text.Json;

namespace Incubator.Domain.Training;

/// <summary>A malformed data file; the message names the file and line.</summary>
public sealed class DataFileException(string message) : Exception(message);

public enum DataFormat { Tsv, Csv, Jsonl }

/// <summary>One row of a data file: its label (null for text-only files) and the 1-based line it starts on.</summary>
public sealed record DataRow(string? Label, string Text, int Line);

public sealed record DataFile(IReadOnlyList<DataRow> Rows, bool HasLabels)
{
    public List<LabeledText> Labeled() => Rows.Select(r => new LabeledText(r.Label!, r.Text)).ToList();
}

/// <summary>Reads label/text files: TSV (<c>label&lt;TAB&gt;text</c>, or <c>text</c> alone), CSV (two columns
/// label,text or one column text, RFC 4180 quoting, optional header) and JSONL (<c>{"label": ..., "text": ...}</c>).
/// A header row (label/text) is skipped; blank lines are ignored. Every error names the line.</summary>
public static class TabularData
{
    public static DataFormat FormatOf(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".csv" => DataFormat.Csv,
        ".jsonl" or ".ndjson" or ".json" => DataFormat.Jsonl,
        _ => DataFormat.Tsv,
    };

    /// <summary>Reads a file; <paramref name="requireLabels"/> makes text-only rows an error.</summary>
    public static DataFile ReadFile(string path, bool requireLabels)
    {
        if (!File.Exists(path)) throw new DataFileException($"{path}: file not found.");
        using var stream = File.OpenRead(path);
        return Read(stream, FormatOf(path), requireLabels, Path.GetFileName(path));
    }

    public static DataFile Read(Stream stream, DataFormat format, bool requireLabels, string name = "input")
    {
        ArgumentNullException.ThrowIfNull(stream);
        string content;
        try
        {
            using var reader = new StreamReader(stream, new UTF8Encoding(false, throwOnInvalidBytes: true), detectEncodingFromByteOrderMarks: true);
            content = reader.ReadToEnd();
        }
        catch (DecoderFallbackException)
        {
            throw new DataFileException($"{name}: the file is not valid UTF-8 text.");
        }
        var rows = format switch
        {
            DataFormat.Csv => ReadCsv(content, name),
            DataFormat.Jsonl => ReadJsonl(content, name),
            _ => ReadTsv(content, name),
        };
        if (rows.Count == 0) throw new DataFileException($"{name}: the file has no data rows.");
        var labeled = rows.Count(r => r.Label is not null);
        if (labeled > 0 && labeled < rows.Count)
        {
            var first = rows.First(r => r.Label is null);
            throw new DataFileException($"{name}, line {first.Line}: this row has no label but others do; give every row a label or none.");
        }
        if (requireLabels && labeled == 0)
            throw new DataFileException($"{name}, line {rows[0].Line}: expected label and text (label<TAB>text); this file has text only.");
        foreach (var r in rows)
            if (r.Label is not null && r.Label.Trim().Length == 0)
                throw new DataFileException($"{name}, line {r.Line}: the label is empty.");
        return new DataFile(rows, labeled > 0);
    }

    private static IEnumerable<string> Lines(string content) => content.Split('\n').Select(l => l.TrimEnd('\r'));

    private static List<DataRow> ReadTsv(string content, string name)
    {
        var rows = new List<DataRow>();
        var lineNo = 0;
        foreach (var line in Lines(content))
        {
            lineNo++;
            if (line.Trim().Length == 0) continue;
            var tab = line.IndexOf('\t');
            if (tab < 0)
            {
                if (rows.Count == 0 && line.Trim().Equals("text", StringComparison.OrdinalIgnoreCase)) continue;
                rows.Add(new DataRow(null, line, lineNo));
                continue;
            }
            var label = line[..tab].Trim();
            var text = line[(tab + 1)..];
            if (rows.Count == 0 && label.Equals("label", StringComparison.OrdinalIgnoreCase) && text.Trim().Equals("text", StringComparison.OrdinalIgnoreCase)) continue;
            if (text.Contains('\t'))
                throw new DataFileException($"{name}, line {lineNo}: expected 2 tab-separated columns (label, text), found {line.Count(c => c == '\t') + 1}.");
            rows.Add(new DataRow(label, text, lineNo));
        }
        return rows;
    }

    private static List<DataRow> ReadCsv(string content, string name)
    {
        var rows = new List<DataRow>();
        var fields = new List<string>();
        var field = new StringBuilder();
        var line = 1;
        var recordLine = 1;
        var i = 0;
        var inQuotes = false;
        var quotedField = false;
        void EndRecord()
        {
            fields.Add(field.ToString());
            field.Clear();
            if (!(fields.Count == 1 && fields[0].Trim().Length == 0 && !quotedField))
            {
                if (fields.Count > 2)
                    throw new DataFileException($"{name}, line {recordLine}: expected 1 or 2 columns (label,text or text), found {fields.Count}; quote text that contains commas.");
                var isHeader = rows.Count == 0 && (fields.Count == 2
                    ? fields[0].Trim().Equals("label", StringComparison.OrdinalIgnoreCase) && fields[1].Trim().Equals("text", StringComparison.OrdinalIgnoreCase)
                    : fields[0].Trim().Equals("text", StringComparison.OrdinalIgnoreCase));
                if (!isHeader)
                    rows.Add(fields.Count == 2 ? new DataRow(fields[0].Trim(), fields[1], recordLine) : new DataRow(null, fields[0], recordLine));
            }
            fields.Clear();
            quotedField = false;
        }
        while (i < content.Length)
        {
            var c = content[i];
            if (inQuotes)
            {
                if (c == '"')
                {
                    if (i + 1 < content.Length && content[i + 1] == '"')
                    {
                        field.Append('"');
                        i += 2;
                        continue;
                    }
                    inQuotes = false;
                    i++;
                    if (i < content.Length && content[i] is not (',' or '\n' or '\r'))
                        throw new DataFileException($"{name}, line {line}: unexpected character after a closing quote.");
                    continue;
                }
                if (c == '\n') line++;
                field.Append(c);
                i++;
                continue;
            }
            switch (c)
            {
                case '"' when field.Length == 0:
                    inQuotes = true;
                    quotedField = true;
                    break;
                case '"':
                    throw new DataFileException($"{name}, line {line}: a quote inside an unquoted field; quote the whole field and double inner quotes.");
                case ',':
                    fields.Add(field.ToString());
                    field.Clear();
                    break;
                case '\r':
                    break;
                case '\n':
                    EndRecord();
                    line++;
                    recordLine = line;
                    break;
                default:
                    field.Append(c);
                    break;
            }
            i++;
        }
        if (inQuotes) throw new DataFileException($"{name}, line {recordLine}: a quoted field is never closed.");
        if (field.Length > 0 || fields.Count > 0) EndRecord();
        return rows;
    }

    private static List<DataRow> ReadJsonl(string content, string name)
    {
        var rows = new List<DataRow>();
        var lineNo = 0;
        foreach (var line in Lines(content))
        {
            lineNo++;
            if (line.Trim().Length == 0) continue;
            JsonElement root;
            try
            {
                using var doc = JsonDocument.Parse(line);
                root = doc.RootElement.Clone();
            }
            catch (JsonException ex)
            {
                throw new DataFileException($"{name}, line {lineNo}: not valid JSON ({ex.Message}).");
            }
            if (root.ValueKind != JsonValueKind.Object)
                throw new DataFileException($"{name}, line {lineNo}: expected a JSON object with \"text\" (and \"label\").");
            if (!root.TryGetProperty("text", out var text) || text.ValueKind != JsonValueKind.String)
                throw new DataFileException($"{name}, line {lineNo}: \"text\" is missing or not a string.");
            string? label = null;
            if (root.TryGetProperty("label", out var l))
            {
                if (l.ValueKind != JsonValueKind.String) throw new DataFileException($"{name}, line {lineNo}: \"label\" is not a string.");
                label = l.GetString()!.Trim();
            }
            rows.Add(new DataRow(label, text.GetString()!, lineNo));
        }
        return rows;
    }

    /// <summary>Makes text safe for one TSV cell: tabs and line breaks become spaces.</summary>
    public static string TsvCell(string text) => text.Replace("\r\n", " ").Replace('\t', ' ').Replace('\n', ' ').Replace('\r', ' ');
}
