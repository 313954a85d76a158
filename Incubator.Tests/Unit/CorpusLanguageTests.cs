using Incubator.Domain.Mining;
using Incubator.Web;

using static Incubator.Tests.Infrastructure.Localized;

namespace Incubator.Tests.Unit;

/// <summary>The corpora page and the mining page name a corpus's guessed language in the reader's language, as the
/// task editor names a task's: "Japanese" in English ("This corpus looks like Japanese, not English"), 英語 on a
/// Japanese page — not the language's own name (日本語 in an English sentence, "English" on a Japanese page) nor the
/// raw tag ("other").</summary>
public sealed class CorpusLanguageTests
{
    [Theory]
    [InlineData("今日は友達とラーメンを食べに行った。", "Japanese", "日本語")]
    [InlineData("The parcel arrived late and the box was open when it came to my door.", "English", "英語")]
    [InlineData("Ceci n'est pas une pipe, mais une image peinte par un artiste belge.", "another language", "その他の言語")]
    public void A_guessed_language_is_named_in_the_readers_language(string text, string english, string japanese)
    {
        var tag = LanguageGuess.Guess([text]);
        Assert.Equal(english, In("en", () => L.CorpusLanguage(tag)));
        Assert.Equal(japanese, In("ja", () => L.CorpusLanguage(tag)));
        Assert.Equal($"Language guess: {english}", In("en", () => L["Corpora.Language", L.CorpusLanguage(tag)].Value));
    }

    [Fact]
    public void Every_tag_the_guess_gives_has_a_name_in_both_languages()
    {
        foreach (var tag in new[] { "en", "ja", "ko", "zh", "ru", "other" })
        {
            var en = In("en", () => L.CorpusLanguage(tag));
            var ja = In("ja", () => L.CorpusLanguage(tag));
            Assert.Matches("^[A-Z][a-z]+$|^another language$", en);
            Assert.Matches(@"^[\p{IsCJKUnifiedIdeographs}\p{IsKatakana}\p{IsHiragana}]+$", ja);
        }
        // A tag a newer guess might give is named as "another language", never shown raw.
        Assert.Equal("another language", In("en", () => L.CorpusLanguage("xx")));
    }
}
