using System.Text;

namespace Incubator.Domain.Mining;

/// <summary>A cheap guess of a corpus's language from a sample of its texts: the script of its letters (kana →
/// Japanese, Hangul → Korean, Han only → Chinese, Cyrillic → Russian) and, for Latin script, how many words are
/// common English function words. It only has to choose the embedder: English goes to MiniLM, the rest to char n-grams.</summary>
public static class LanguageGuess
{
    private static readonly HashSet<string> EnglishWords = new(StringComparer.OrdinalIgnoreCase)
    {
        "the", "a", "an", "and", "or", "to", "of", "in", "on", "for", "with", "is", "are", "was", "were", "be", "it", "this", "that",
        "i", "you", "my", "we", "our", "your", "not", "no", "have", "has", "had", "do", "does", "did", "at", "from", "by", "as", "but",
        "me", "can", "will", "would", "so", "if", "they", "he", "she", "all", "just", "what", "when", "there", "been", "very", "its", "about",
    };

    public static string Guess(IEnumerable<string> texts)
    {
        long latin = 0, kana = 0, han = 0, hangul = 0, cyrillic = 0, other = 0, words = 0, english = 0;
        foreach (var text in texts)
        {
            foreach (var rune in text.EnumerateRunes())
            {
                if (!Rune.IsLetter(rune)) continue;
                var v = rune.Value;
                if (v is >= 0x3040 and <= 0x30FF or >= 0xFF66 and <= 0xFF9F) kana++;
                else if (v is >= 0x4E00 and <= 0x9FFF or >= 0x3400 and <= 0x4DBF) han++;
                else if (v is >= 0xAC00 and <= 0xD7AF or >= 0x1100 and <= 0x11FF) hangul++;
                else if (v is >= 0x0400 and <= 0x04FF) cyrillic++;
                else if (v < 0x0250 || v is >= 0x1E00 and <= 0x1EFF) latin++;
                else other++;
            }
            foreach (var w in text.Split([' ', '\t', ',', '.', '!', '?', ';', ':', '"', '(', ')'], StringSplitOptions.RemoveEmptyEntries))
            {
                words++;
                if (EnglishWords.Contains(w)) english++;
            }
        }
        var letters = latin + kana + han + hangul + cyrillic + other;
        if (letters == 0) return "other";
        if (kana > letters * 0.05) return "ja";
        if (hangul > letters * 0.2) return "ko";
        if (han > letters * 0.3) return "zh";
        if (cyrillic > letters * 0.3) return "ru";
        if (latin > letters * 0.5) return words > 0 && english >= words * 0.12 ? "en" : "other";
        return "other";
    }

}
