namespace Incubator.Domain.Embeddings;

/// <summary>Picks the representation for a task's language: MiniLM for English (its vocabulary and training data
/// are English), character n-grams for everything else.</summary>
public sealed class EmbedderSelector(ITextEmbedder english, ITextEmbedder other)
{
    public ITextEmbedder English => english;

    public ITextEmbedder Other => other;

    /// <summary>"en", "en-GB", "EN_us" and null/blank (the spec's default language is English) → <see cref="English"/>;
    /// any other tag → <see cref="Other"/>.</summary>
    public ITextEmbedder ForLanguage(string? language) => IsEnglish(language) ? english : other;

    public static bool IsEnglish(string? language)
    {
        if (string.IsNullOrWhiteSpace(language)) return true;
        var tag = language.Trim();
        return tag.Equals("en", StringComparison.OrdinalIgnoreCase)
            || (tag.Length > 3 && tag.StartsWith("en", StringComparison.OrdinalIgnoreCase) && tag[2] is '-' or '_');
    }
}
