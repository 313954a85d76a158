using System.Globalization;
using Incubator.Domain.Jobs;

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
/// was recognised, null otherwise; <see cref="Note"/> says why in detail as a code with arguments (one of
/// <see cref="SampleNotes"/>; none when the reason says it all), which the portal renders in the reader's language;
/// <see cref="Detail"/> is its English sentence (for UnknownLabel: the key as written), as the API and CLI show it.</summary>
public sealed record RejectedPiece(string? Label, string Text, RejectReason Reason, JobNote? Note)
{
    public string Detail => Note?.Message ?? "";
}

/// <summary>The details of a rejected piece ("JobNote.Sample.{Code}" in the resources). Arguments are data — labels,
/// counts, excerpts of the model's text — never English prose.</summary>
public static class SampleNotes
{
    public static JobNote Empty() => new("Sample.Empty", "The text is empty.");

    public static JobNote AnswerEmpty() => new("Sample.AnswerEmpty", "The answer is empty.");

    public static JobNote NoJson() => new("Sample.NoJson", "No JSON object found in the answer.");

    public static JobNote Malformed() => new("Sample.Malformed", "The object is malformed here; the pairs before this point were kept.");

    public static JobNote CutOff() => new("Sample.CutOff", "The answer was cut off inside this text.");

    /// <param name="kind">The JSON kind of the value: number, list, object, true/false, null.</param>
    public static JobNote NotText(string kind) => new("Sample.NotText", $"The value is {kind}, not a text.", kind);

    /// <summary>The English sentence is the key itself, as the API has always given it.</summary>
    public static JobNote UnknownLabel(string key) => new("Sample.UnknownLabel", key, key);

    public static JobNote LabelTwice(string label) => new("Sample.LabelTwice", $"'{label}' appears twice in one object; the first is kept.", label);

    public static JobNote TooLongForSample(int length, int max) =>
        new("Sample.TooLongForSample", $"{length} characters; a sample may have at most {max}.", length, max);

    public static JobNote CopiesInstruction() => new("Sample.CopiesInstruction", "The text repeats the task instruction.");

    public static JobNote CopiesDemonstration() => new("Sample.CopiesDemonstration", "The text copies a demonstration sample.");

    public static JobNote CopiesExample(string label) => new("Sample.CopiesExample", $"The text copies an example given for '{label}'.", label);

    public static JobNote TooShort(bool characters, int length, int min) => characters
        ? new("Sample.TooShortChars", $"{length} characters; at least {min} asked.", length, min)
        : new("Sample.TooShortWords", $"{length} words; at least {min} asked.", length, min);

    public static JobNote TooLong(bool characters, int length, int max) => characters
        ? new("Sample.TooLongChars", $"{length} characters; at most {max} asked.", length, max)
        : new("Sample.TooLongWords", $"{length} words; at most {max} asked.", length, max);

    /// <param name="similarity">Cosine similarity, written with three decimals.</param>
    public static JobNote Similar(double similarity, string excerpt, string? label)
    {
        var value = similarity.ToString("0.000", CultureInfo.InvariantCulture);
        return new("Sample.Similar", $"{value} similar to \"{excerpt}\" ({label})", value, excerpt, label ?? "");
    }
}

/// <summary><see cref="ObjectsFound"/> counts the top-level JSON objects read (an array of objects counts each);
/// <see cref="Truncated"/> is true when the answer ended inside an object, i.e. was cut off.</summary>
public sealed record ParseResult(IReadOnlyList<ParsedPiece> Accepted, IReadOnlyList<RejectedPiece> Rejected, int ObjectsFound, bool Truncated);
