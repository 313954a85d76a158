using System.Text;
using Incubator.Domain.Tasks;

namespace Incubator.Domain.Generation;

/// <summary>Per-sample checks against the task, after parsing and before dedup: empty, length, copies of the
/// instruction, copies of a demonstration or of an example the author gave.
/// <para>Length: words for languages written with spaces, characters (excluding whitespace) for those written
/// without (<see cref="TaskSpecValidator.CountsCharacters"/>). LLMs miss exact counts — asked for "10–20 words" they
/// write 22 — and a sample two words over is still a good sample, so a bound is only enforced beyond a tolerance of
/// <see cref="LengthTolerance"/> of the bound, at least <see cref="MinLengthSlack"/> units: with maxWords 20 a
/// 24-word text passes and a 25-word text is TooLong; with minChars 10 an 8-character text passes and a 7-character
/// one is TooShort.</para>
/// <para>Copies: normalised (<see cref="TextNormalizer"/>) equality with the instruction, or containment either way
/// when the shared part is long (at least <see cref="MinCopyOverlapWords"/> words for spaced languages,
/// <see cref="MinCopyOverlapChars"/> characters for the others — short samples such as "happy with the product"
/// legitimately occur inside an instruction). Demonstration samples, label examples and counter-examples are copies only when equal after
/// normalisation; paraphrases are the dedup index's job.</para></summary>
public static class SampleValidator
{
    public const double LengthTolerance = 0.2;
    public const int MinLengthSlack = 2;

    /// <summary>Shortest overlap, in words, that counts as copying the instruction (spaced languages).</summary>
    public const int MinCopyOverlapWords = 6;

    /// <summary>The same in characters, for languages written without spaces.</summary>
    public const int MinCopyOverlapChars = 12;

    public static RejectedPiece? Check(ParsedPiece piece, TaskSpec spec, IReadOnlyCollection<string> demonstrationTexts)
    {
        ArgumentNullException.ThrowIfNull(piece);
        ArgumentNullException.ThrowIfNull(spec);
        demonstrationTexts ??= [];
        var text = piece.Text ?? "";
        if (string.IsNullOrWhiteSpace(text))
            return new RejectedPiece(piece.Label, text, RejectReason.Empty, SampleNotes.Empty());
        // The portal's one limit for a sample, whatever the task's preferences say (or do not say).
        if (text.Length > Common.InputLimits.SampleText)
            return new RejectedPiece(piece.Label, text, RejectReason.TooLong,
                SampleNotes.TooLongForSample(text.Length, Common.InputLimits.SampleText));

        var preferences = spec.Preferences ?? new TaskPreferences();
        var chars = TaskSpecValidator.CountsCharacters(preferences.Language);
        var normalized = TextNormalizer.Normalize(text);

        var instruction = TextNormalizer.Normalize(spec.Instruction ?? "");
        if (normalized.Length > 0 && instruction.Length > 0)
        {
            bool Long(string s) => chars ? CountCharacters(s) >= MinCopyOverlapChars : CountWords(s) >= MinCopyOverlapWords;
            if (normalized == instruction
                || (Long(normalized) && instruction.Contains(normalized, StringComparison.Ordinal))
                || (Long(instruction) && normalized.Contains(instruction, StringComparison.Ordinal)))
                return new RejectedPiece(piece.Label, text, RejectReason.CopiesInstruction, SampleNotes.CopiesInstruction());
        }

        foreach (var demo in demonstrationTexts)
            if (TextNormalizer.Normalize(demo) == normalized)
                return new RejectedPiece(piece.Label, text, RejectReason.CopiesDemonstration, SampleNotes.CopiesDemonstration());
        foreach (var label in spec.Labels ?? [])
            foreach (var example in (label.Examples ?? []).Concat(label.CounterExamples ?? []))
                if (TextNormalizer.Normalize(example ?? "") == normalized)
                    return new RejectedPiece(piece.Label, text, RejectReason.CopiesDemonstration, SampleNotes.CopiesExample(label.Name));

        var (min, max) = chars ? (preferences.MinChars, preferences.MaxChars) : (preferences.MinWords, preferences.MaxWords);
        var length = chars ? CountCharacters(text) : CountWords(text);
        if (min is > 0 && length < min.Value - Slack(min.Value))
            return new RejectedPiece(piece.Label, text, RejectReason.TooShort, SampleNotes.TooShort(chars, length, min.Value));
        if (max is >= 0 && length > max.Value + Slack(max.Value))
            return new RejectedPiece(piece.Label, text, RejectReason.TooLong, SampleNotes.TooLong(chars, length, max.Value));
        return null;
    }

    /// <summary>How far past a bound a text may go before it is rejected.</summary>
    public static int Slack(int bound) => Math.Max(MinLengthSlack, (int)Math.Ceiling(bound * LengthTolerance));

    /// <summary>Whitespace-separated tokens that contain at least one letter or digit (a lone dash is not a word).</summary>
    public static int CountWords(string text)
    {
        var count = 0;
        foreach (var token in (text ?? "").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
            if (token.Any(char.IsLetterOrDigit)) count++;
        return count;
    }

    /// <summary>Unicode scalars other than whitespace, after NFKC (a surrogate pair counts once; half-width katakana
    /// such as ｶﾞ counts like ガ).</summary>
    public static int CountCharacters(string text)
    {
        string s;
        try
        {
            s = (text ?? "").Normalize(NormalizationForm.FormKC);
        }
        catch (ArgumentException)
        {
            s = text ?? "";
        }
        var count = 0;
        foreach (var rune in s.EnumerateRunes())
            if (!Rune.IsWhiteSpace(rune)) count++;
        return count;
    }
}
