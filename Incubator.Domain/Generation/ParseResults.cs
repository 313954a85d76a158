namespace Incubator.Domain.Generation;

/// <summary>Why a piece of LLM output did not become a candidate sample. The values are persisted and shown as
/// rejection reasons, so their names are stable.</summary>
public enum RejectReason
{
    /// <summary>Not readable as a label/text pair: no JSON at all, a non-string value, or a value cut off mid-string.</summary>
    Unparseable,

    /// <summary>A key that is not one of the task's labels (the key is in <see cref="RejectedPiece.Detail"/>).</summary>
    UnknownLabel,

    Empty,
    TooShort,
    TooLong,

    /// <summary>The same label twice in one object, or the same normalised text already held for the same label.</summary>
    Duplicate,

    /// <summary>Embedding similarity at or above the near-duplicate threshold with a text already held for the label.</summary>
    NearDuplicate,

    CopiesInstruction,
    CopiesDemonstration,
}

/// <summary>One sample read from the answer: <see cref="Label"/> is always the task's exact label name;
/// <see cref="ObjectIndex"/> is the 0-based JSON object it came from (samples of one object were written side by
/// side).</summary>
public sealed record ParsedPiece(string Label, string Text, int ObjectIndex);

/// <summary>Something in the answer that was not accepted. <see cref="Label"/> is the exact label name when the key
/// was recognised, null otherwise; <see cref="Detail"/> is a short English explanation (for UnknownLabel: the key as
/// written).</summary>
public sealed record RejectedPiece(string? Label, string Text, RejectReason Reason, string Detail);

/// <summary><see cref="ObjectsFound"/> counts the top-level JSON objects read (an array of objects counts each);
/// <see cref="Truncated"/> is true when the answer ended inside an object, i.e. was cut off.</summary>
public sealed record ParseResult(IReadOnlyList<ParsedPiece> Accepted, IReadOnlyList<RejectedPiece> Rejected, int ObjectsFound, bool Truncated);
