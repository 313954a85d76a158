namespace Incubator.Domain.Common.TextFiles;

/// <summary>TXT: one text per line. CSV/TSV: one record per line (quoted fields may span lines), a chosen column.
/// JSONL: one JSON object per line, a chosen field. Label-and-text files use the same formats (see
/// <see cref="LabelMode"/>); a TXT file read for labels is read as TSV (<c>label&lt;TAB&gt;text</c>).</summary>
public enum TextFileFormat
{
    Txt,
    Csv,
    Tsv,
    Jsonl,
}

public static class TextFileFormats
{
    /// <summary>The extensions the readers know, for a file picker's accept attribute.</summary>
    public const string Extensions = ".txt,.text,.csv,.tsv,.tab,.jsonl,.ndjson,.json";

    public static TextFileFormat? FromFileName(string? fileName) =>
        Path.GetExtension(fileName ?? "").ToLowerInvariant() switch
        {
            ".txt" or ".text" => TextFileFormat.Txt,
            ".csv" => TextFileFormat.Csv,
            ".tsv" or ".tab" => TextFileFormat.Tsv,
            ".jsonl" or ".ndjson" or ".json" => TextFileFormat.Jsonl,
            _ => null,
        };
}
