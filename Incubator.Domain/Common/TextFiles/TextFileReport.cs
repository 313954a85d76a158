namespace Incubator.Domain.Common.TextFiles;

public enum BadRowReason
{
    UnparseableCsv,
    InvalidJson,
    MissingField,
    EmptyText,
    TooLong,
    EmptyLabel,
    MissingLabel,
    WrongFieldCount,
}

/// <summary>A row that was skipped: its (1-based, physical) line, why, and a stable <see cref="Code"/> with
/// <see cref="Args"/> (the line first) for callers that refuse the whole file and localise each problem.</summary>
public sealed record BadRow(long Line, BadRowReason Reason, string Detail, string? Code = null, object[]? Args = null)
{
    /// <summary>The problem as a domain error: "Line 3: a quoted field is never closed."</summary>
    public DomainError ToError() => new($"line {Line}", Code ?? "UploadBadRow", $"Line {Line}: {Detail}.", Args ?? [Line]);
}

/// <summary>One record: the line it starts on, its text (trimmed) and, for label-and-text files, its label.</summary>
public sealed record TextRecord(long Line, string Text, string? Label = null);

/// <summary>What reading a file found; filled while reading, so it is complete when the enumeration ends.</summary>
public sealed class TextFileReport
{
    public const int MaxBadRowsKept = 100;

    private readonly List<BadRow> _badRows = [];

    public string Encoding { get; set; } = "utf-8";

    /// <summary>Set when the bytes were not valid UTF-8 and were read as Latin-1 instead: the byte offset of the first
    /// invalid sequence.</summary>
    public long? Latin1FallbackAtByte { get; set; }

    /// <summary>Data rows read (header and blank lines between records excluded; a CSV record spanning several lines
    /// counts once).</summary>
    public long RowsRead { get; set; }

    public long Kept { get; set; }

    /// <summary>Rows that repeated an earlier text exactly and were folded into it (kept by the caller).</summary>
    public long DuplicatesCollapsed { get; set; }

    public long BadRowCount { get; set; }

    public bool HeaderDetected { get; set; }

    /// <summary>The column or field the texts were taken from, as resolved (header name or number).</summary>
    public string? Source { get; set; }

    /// <summary>The first <see cref="MaxBadRowsKept"/> bad rows; <see cref="BadRowCount"/> has them all.</summary>
    public IReadOnlyList<BadRow> BadRows => _badRows;

    public Dictionary<BadRowReason, long> BadByReason { get; } = [];

    internal void Bad(long line, BadRowReason reason, string code, string detail, params object[] args)
    {
        BadRowCount++;
        BadByReason[reason] = BadByReason.GetValueOrDefault(reason) + 1;
        if (_badRows.Count < MaxBadRowsKept)
            _badRows.Add(new BadRow(line, reason, detail.Length > 200 ? detail[..200] + "…" : detail, code, [line, .. args]));
    }
}
