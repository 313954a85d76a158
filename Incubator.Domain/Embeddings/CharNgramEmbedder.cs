using System.Globalization;
using System.Text;

namespace Incubator.Domain.Embeddings;

/// <summary>A language-agnostic bag of character n-grams, for texts MiniLM (English-only vocabulary) cannot read:
/// Japanese, Chinese and the rest. Text is NFKC-normalised (full-width letters and half-width katakana fold onto
/// their usual forms) and lower-cased; every run of whitespace, punctuation or symbols becomes one boundary; the
/// character 1-, 2- and 3-grams (by Unicode scalar, so surrogate pairs count as one character) that contain at least
/// one letter or digit are hashed (FNV-1a, stable across processes) into <see cref="Dimensions"/> buckets; each
/// bucket is weighted by sublinear term frequency, 1 + ln(tf), with unigrams down-weighted (see
/// <see cref="UnigramWeight"/>) because common kana and particles are shared by almost any two Japanese sentences;
/// the vector is L2-normalised. No learnt weights, no IDF: it measures surface overlap, which is what "two
/// definitions say nearly the same thing" looks like in a language we have no model for.</summary>
public sealed class CharNgramEmbedder : ITextEmbedder
{
    public const string RepresentationName = "char-ngram";

    /// <summary>8,192 buckets (32 KiB a vector): collisions stay rare for sentence-length texts, and a run that embeds
    /// thousands of generated samples for dedup and clustering fits in memory.</summary>
    public const int DefaultDimensions = 1 << 13;

    /// <summary>Weight of a single character relative to a 2- or 3-gram. (Measured: 0, 0.25 or 0.5 move Japanese
    /// similarities by at most 0.05; unigrams mainly keep texts that share no 2-gram from scoring exactly 0.)</summary>
    public const float UnigramWeight = 0.5f;

    public CharNgramEmbedder(int dimensions = DefaultDimensions)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimensions, 16);
        Dimensions = dimensions;
    }

    public string Name => RepresentationName;

    public int Dimensions { get; }

    public float[][] Embed(IReadOnlyList<string> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var result = new float[texts.Count][];
        for (var i = 0; i < texts.Count; i++) result[i] = EmbedOne(texts[i]);
        return result;
    }

    private float[] EmbedOne(string? text)
    {
        var vector = new float[Dimensions];
        var counts = new Dictionary<(int Bucket, int N), int>();
        foreach (var gram in Grams(Prepare(text)))
            counts[gram] = counts.GetValueOrDefault(gram) + 1;
        // Sublinear tf: a gram repeated ten times is not ten times as telling.
        var touched = new HashSet<int>();
        foreach (var ((bucket, n), tf) in counts)
        {
            vector[bucket] += (n == 1 ? UnigramWeight : 1f) * (1 + MathF.Log(tf));
            touched.Add(bucket);
        }
        // Normalise over the touched buckets only: the other 99% of the vector is zero.
        double sum = 0;
        foreach (var b in touched) sum += (double)vector[b] * vector[b];
        if (sum > 0)
        {
            var inv = (float)(1 / Math.Sqrt(sum));
            foreach (var b in touched) vector[b] *= inv;
        }
        return vector;
    }

    /// <summary>NFKC, lower case, and every run of non-letter/non-digit characters collapsed to one space.</summary>
    internal static int[] Prepare(string? text)
    {
        if (string.IsNullOrEmpty(text)) return [];
        string normalised;
        try
        {
            normalised = text.Normalize(NormalizationForm.FormKC);
        }
        catch (ArgumentException)
        {
            normalised = text; // lone surrogates cannot be normalised; use the text as it is
        }
        var runes = new List<int>(normalised.Length);
        var pendingBoundary = false;
        foreach (var rune in normalised.EnumerateRunes())
        {
            if (IsContent(rune))
            {
                if (pendingBoundary && runes.Count > 0) runes.Add(' ');
                pendingBoundary = false;
                runes.Add(Rune.ToLowerInvariant(rune).Value);
            }
            else
            {
                pendingBoundary = true;
            }
        }
        return [.. runes];
    }

    private static bool IsContent(Rune r) => Rune.GetUnicodeCategory(r) switch
    {
        UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
            or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter
            or UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber
            or UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark => true,
        _ => false,
    };

    private IEnumerable<(int Bucket, int N)> Grams(int[] chars)
    {
        for (var n = 1; n <= 3; n++)
        {
            for (var start = 0; start + n <= chars.Length; start++)
            {
                var hasContent = false;
                var hash = 14695981039346656037UL ^ (ulong)n;
                for (var k = 0; k < n; k++)
                {
                    var c = chars[start + k];
                    if (c != ' ') hasContent = true;
                    for (var shift = 0; shift < 32; shift += 8)
                    {
                        hash ^= (byte)(c >> shift);
                        hash *= 1099511628211UL;
                    }
                }
                if (hasContent) yield return ((int)(hash % (ulong)Dimensions), n);
            }
        }
    }
}
