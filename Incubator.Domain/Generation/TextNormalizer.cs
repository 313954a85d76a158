using System.Globalization;
using System.Text;

namespace Incubator.Domain.Generation;

/// <summary>The form two texts are compared in for exact duplicates and copies: NFKC (full-width letters and
/// half-width katakana fold onto their usual forms), lower case (invariant culture), every run of whitespace as one
/// space, and quotes, brackets and other punctuation stripped from both ends ("\"Great product!\"" and "great
/// product" are the same sample; the LLM often adds quotes or a final full stop on one of two otherwise identical
/// answers). Punctuation inside the text is kept: it can change the meaning.</summary>
public static class TextNormalizer
{
    public static string Normalize(string text)
    {
        if (string.IsNullOrEmpty(text)) return "";
        string s;
        try
        {
            s = text.Normalize(NormalizationForm.FormKC);
        }
        catch (ArgumentException)
        {
            s = text; // lone surrogates cannot be normalised; compare the text as it is
        }
        var sb = new StringBuilder(s.Length);
        var space = false;
        foreach (var c in s)
        {
            if (char.IsWhiteSpace(c))
            {
                space = sb.Length > 0;
                continue;
            }
            if (space) sb.Append(' ');
            space = false;
            sb.Append(char.ToLowerInvariant(c));
        }
        var start = 0;
        var end = sb.Length;
        while (start < end && IsEdge(sb[start])) start++;
        while (end > start && IsEdge(sb[end - 1])) end--;
        return sb.ToString(start, end - start);
    }

    private static bool IsEdge(char c) => char.IsWhiteSpace(c) || char.GetUnicodeCategory(c) switch
    {
        UnicodeCategory.OpenPunctuation or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
            or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation or UnicodeCategory.DashPunctuation
            or UnicodeCategory.ConnectorPunctuation => true,
        _ => false,
    };
}
