using System.Globalization;
using System.Text.Json;

namespace Incubator.Domain.Common.TextFiles;

/// <summary>What the first bytes of a file look like: encoding, format, columns (CSV/TSV header or JSONL keys) and a
/// few texts, so the user can choose the column before uploading the whole file — or, in <see cref="Problem"/>, why
/// the file is not text.</summary>
public sealed record TextFilePreview(TextFileFormat Format, string Encoding, bool HeaderDetected, IReadOnlyList<string> Columns,
    IReadOnlyList<string> SampleTexts, string? DefaultSource, DomainError? Problem = null)
{
    public static TextFilePreview Of(byte[] head, string? fileName, TextFileFormat? format = null)
    {
        var fmt = format ?? TextFileFormats.FromFileName(fileName) ?? TextFileFormat.Txt;
        var (info, problem) = TextSniffer.SniffHead(head);
        if (info is null) return new TextFilePreview(fmt, "", false, [], [], null, problem);
        // The head may end inside a character: decode whole characters only (the sniffer judged them so).
        var text = info.Encoding.GetString(head, info.BomLength, head.Length - info.BomLength).TrimEnd('\uFFFD');
        var lines = text.Split('\n');
        if (lines.Length > 1) lines = lines[..^1]; // the last line may be cut off
        var sample = string.Join('\n', lines.Take(200));
        var columns = new List<string>();
        var header = false;
        string? source = null;
        switch (fmt)
        {
            case TextFileFormat.Csv or TextFileFormat.Tsv:
                var delimiter = fmt == TextFileFormat.Csv ? ',' : '\t';
                var first = DelimitedRecords.Read(new StringReader(sample), delimiter, CancellationToken.None).FirstOrDefault(r => r.Fields is not [""]);
                if (first.Fields is { } f)
                {
                    header = TextFileReader.LooksLikeHeader(f);
                    columns = header ? f : f.Select((_, i) => (i + 1).ToString(CultureInfo.InvariantCulture)).ToList();
                    var idx = TextFileReader.ResolveColumn(null, header ? f : null);
                    source = columns.Count > idx ? columns[idx] : null;
                }
                break;
            case TextFileFormat.Jsonl:
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
                source = columns.FirstOrDefault(TextFileReader.IsTextColumnName) ?? columns.FirstOrDefault();
                break;
        }
        var options = new TextFileOptions(fmt, fmt is TextFileFormat.Csv or TextFileFormat.Tsv ? source : null, null, fmt == TextFileFormat.Jsonl ? source : null);
        List<string> texts;
        try
        {
            using var reader = TextFileReader.FromText(new StringReader(sample), options);
            texts = reader.Records().Take(5).Select(t => t.Text).ToList();
        }
        catch (DomainValidationException)
        {
            texts = [];
        }
        return new TextFilePreview(fmt, info.Name, header, columns, texts, source);
    }
}
