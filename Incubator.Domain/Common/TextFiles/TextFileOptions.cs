namespace Incubator.Domain.Common.TextFiles;

/// <summary>Whether records carry a label. <see cref="Required"/>: label and text (training data, gold sets);
/// <see cref="Optional"/>: every row has a label or none does (files to predict on); <see cref="None"/>: texts only
/// (corpora).</summary>
public enum LabelMode
{
    None,
    Required,
    Optional,
}

/// <summary>How to read a file. <see cref="Column"/> (CSV/TSV) is a header name or a 1-based column number and
/// <see cref="HasHeader"/> null means detect; <see cref="Field"/> (JSONL) is a top-level or dotted field name. Both
/// are for texts only: label-and-text files take the columns or fields named <c>label</c> and <c>text</c>, or, without
/// a header, two columns in that order.</summary>
public sealed record TextFileOptions(TextFileFormat Format, string? Column = null, bool? HasHeader = null, string? Field = null,
    int MaxTextChars = TextFileOptions.DefaultMaxTextChars)
{
    public const int DefaultMaxTextChars = InputLimits.SampleText;

    /// <summary>A quoted CSV field may span at most this many physical lines before the row counts as unparseable
    /// (an unclosed quote must not swallow the rest of the file).</summary>
    public const int MaxLinesPerCsvRecord = 50;

    public LabelMode Labels { get; init; } = LabelMode.None;

    /// <summary>Yield rows whose text is empty instead of reporting them (prediction keeps one output row per input
    /// row).</summary>
    public bool KeepEmptyTexts { get; init; }

    /// <summary>For label-and-text files: the format by extension, a TXT file read as TSV.</summary>
    public static TextFileOptions ForLabels(TextFileFormat format, LabelMode labels = LabelMode.Required, int maxTextChars = DefaultMaxTextChars) =>
        new(format == TextFileFormat.Txt ? TextFileFormat.Tsv : format, MaxTextChars: maxTextChars) { Labels = labels };
}
