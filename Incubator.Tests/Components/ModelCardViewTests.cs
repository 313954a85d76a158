using Bunit;
using Incubator.Domain.Datasets;
using Incubator.Domain.Tasks;
using Incubator.Domain.Training;
using Incubator.Tests.Training;
using Incubator.Web.Components.Pages.Training;

namespace Incubator.Tests.Components;

/// <summary>bUnit: the model page shows the model card formatted (headings, lists, tables, bold) rather than as raw
/// markdown, and the text users and LLMs put in it (task name, instruction, labels, reviewers) stays text: an HTML tag
/// in a task name is shown as typed, not made an element; "**x**" typed in a name is shown with its stars, not bold; no
/// link is made of a "javascript:" address.</summary>
public sealed class ModelCardViewTests
{
    private const string HostileName = "<img src=x onerror=alert(1)> **x**";

    private static string Card(CardLanguage language = CardLanguage.En)
    {
        var rows = TrainingFixtures.English();
        var labels = TrainingFixtures.LabelsOf(rows);
        var (train, validation) = StratifiedSplit.Split(rows, 0.2, 5);
        var options = new TrainingOptions(ModelFamily.Sparse, 5);
        var result = new ClassifierTrainer().Train(labels, train, validation, null, options, null, default);
        var task = new TaskSpec
        {
            Name = HostileName,
            Instruction = "- Route <b>support</b> mail, see [here](javascript:alert(1)) `code` and \\*",
            Labels = [.. labels.Select((l, i) => new LabelSpec { Name = l, Description = i == 0 ? "Money | <script>alert(1)</script>" : "# not a heading" })],
        };
        var dataset = new DatasetVersionView(Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), 2, 3, "abc123", 330,
            labels.ToDictionary(l => l, _ => 110),
            new DatasetLineage(3, [Guid.NewGuid()], ["**reviewer**@example.com"], 330, 0, 0, 0, 0), 5, 0.2, 264, 66, DateTimeOffset.UnixEpoch, null);
        return ModelCardBuilder.Write(ModelCardInput.For(HostileName, result, options, null, DateTimeOffset.UnixEpoch,
            new DatasetCardSource("Helpdesk", task, 3, dataset, ["gpt-test"])), language);
    }

    [Fact]
    public async Task A_card_renders_its_headings_lists_and_tables_and_keeps_names_as_text()
    {
        var card = Card();
        await using var ctx = PortalBunit.NewContext();
        var cut = ctx.Render<ModelCardView>(p => p.Add(x => x.Markdown, card));

        // Formatted: the title and the sections are headings, the model's facts a list, labels and metrics tables.
        Assert.Equal(HostileName, cut.Find("h3").TextContent.Trim());
        var sections = cut.FindAll("h4").Select(h => h.TextContent.Trim()).ToList();
        Assert.Equal(["Task", "Labels", "Model", "Data provenance", "Metrics", "Known limits"], sections);
        Assert.Contains(cut.FindAll("li"), li => li.TextContent.StartsWith("Family: sparse", StringComparison.Ordinal));
        Assert.Equal("sparse", cut.FindAll("strong").First().TextContent);
        var tables = cut.FindAll("table");
        Assert.True(tables.Count >= 2, cut.Markup);
        Assert.Equal(["label", "definition"], tables[0].QuerySelectorAll("th").Select(th => th.TextContent).ToArray());
        Assert.Contains(tables[0].QuerySelectorAll("td"), td => td.TextContent == "Money | <script>alert(1)</script>");
        Assert.Contains(tables[0].QuerySelectorAll("td"), td => td.TextContent == "# not a heading");
        Assert.Contains(cut.FindAll("code"), c => c.TextContent == "abc123");

        // Text stays text: no element, no bold, no list and no link made from what users and LLMs wrote.
        Assert.Empty(cut.FindAll("img"));
        Assert.Empty(cut.FindAll("script"));
        Assert.Empty(cut.FindAll("b"));
        Assert.Empty(cut.FindAll("a"));
        Assert.DoesNotContain(cut.FindAll("strong"), s => s.TextContent is "x" or "reviewer");
        Assert.DoesNotContain(cut.FindAll("code"), c => c.TextContent == "code");
        Assert.Contains(cut.FindAll("p"), p => p.TextContent == "- Route <b>support</b> mail, see [here](javascript:alert(1)) `code` and \\*");
        Assert.Contains(cut.FindAll("li"), li => li.TextContent.Contains("**reviewer**@example.com", StringComparison.Ordinal));
        Assert.DoesNotContain("<img", cut.Markup, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", cut.Markup, StringComparison.Ordinal);
    }

    /// <summary>The downloaded card says the same: a name's markdown marks are escaped, so any markdown viewer shows it
    /// as typed too.</summary>
    [Fact]
    public void The_card_escapes_markdown_and_html_in_names()
    {
        var card = Card();
        Assert.StartsWith("# \\<img src=x onerror=alert(1)\\> \\*\\*x\\*\\*", card, StringComparison.Ordinal);
        Assert.Contains("\n\\- Route \\<b\\>support\\</b\\> mail, see \\[here\\](javascript:alert(1)) \\`code\\` and \\\\\\*", card, StringComparison.Ordinal);
        Assert.Contains("| Money \\| \\<script\\>alert(1)\\</script\\> |", card, StringComparison.Ordinal);
    }

    /// <summary>A Japanese user's card (decision 0012, amendment card21): the same blocks with Japanese headings, table
    /// headers and family names (the id kept in parentheses), and what users typed still text, not markup.</summary>
    [Fact]
    public async Task A_japanese_card_renders_in_japanese_and_keeps_names_as_text()
    {
        var card = Card(CardLanguage.Ja);
        await using var ctx = PortalBunit.NewContext();
        var cut = Incubator.Tests.Infrastructure.Localized.In("ja", () => ctx.Render<ModelCardView>(p => p.Add(x => x.Markdown, card)));

        Assert.Equal(HostileName, cut.Find("h3").TextContent.Trim());
        Assert.Equal(["タスク", "ラベル", "モデル", "データの来歴", "評価指標", "既知の限界"], cut.FindAll("h4").Select(h => h.TextContent.Trim()).ToList());
        Assert.Contains(cut.FindAll("li"), li => li.TextContent.StartsWith("ファミリー: n-gram 特徴（sparse）（指定: n-gram 特徴（sparse））", StringComparison.Ordinal));
        Assert.Equal("n-gram 特徴（sparse）", cut.FindAll("strong").First().TextContent);
        var tables = cut.FindAll("table");
        Assert.Equal(["ラベル", "定義"], tables[0].QuerySelectorAll("th").Select(th => th.TextContent).ToArray());
        Assert.Equal(["ラベル", "適合率", "再現率", "F1", "件数"], tables[1].QuerySelectorAll("th").Select(th => th.TextContent).ToArray());
        Assert.Contains(tables[0].QuerySelectorAll("td"), td => td.TextContent == "Money | <script>alert(1)</script>");
        Assert.Empty(cut.FindAll("img"));
        Assert.Empty(cut.FindAll("script"));
        Assert.Empty(cut.FindAll("a"));
        Assert.Contains(cut.FindAll("p"), p => p.TextContent == "- Route <b>support</b> mail, see [here](javascript:alert(1)) `code` and \\*");
        Assert.DoesNotContain("<img", cut.Markup, StringComparison.Ordinal);
    }

    /// <summary>A card stored before cards had a language (English markdown in an old bundle or row) still shows as it is,
    /// also to a Japanese reader.</summary>
    [Fact]
    public async Task An_old_english_card_still_shows_to_a_japanese_reader()
    {
        var card = Card();
        await using var ctx = PortalBunit.NewContext();
        var cut = Incubator.Tests.Infrastructure.Localized.In("ja", () => ctx.Render<ModelCardView>(p => p.Add(x => x.Markdown, card)));
        Assert.Equal(["Task", "Labels", "Model", "Data provenance", "Metrics", "Known limits"], cut.FindAll("h4").Select(h => h.TextContent.Trim()).ToList());
    }

    /// <summary>The model page shows the card in the reader's UI language (decision 0012, amendment card22): a model
    /// trained now has both cards, whoever started it; a Japanese reader sees the Japanese one, an English reader the
    /// English one, each with the ordinary note.</summary>
    [Theory]
    [InlineData("ja")]
    [InlineData("en")]
    public async Task The_model_page_shows_the_card_in_the_readers_language(string starter)
    {
        var (en, ja) = (Card(), Card(CardLanguage.Ja));
        var (card, other) = starter == "ja" ? (ja, en) : (en, ja);
        await using var ctx = PortalBunit.NewContext();
        foreach (var reader in new[] { "ja", "en" })
        {
            var cut = Incubator.Tests.Infrastructure.Localized.In(reader, () => ctx.Render<ReaderModelCard>(p => p
                .Add(x => x.Card, card).Add(x => x.CardLanguage, starter).Add(x => x.OtherCard, other)));
            Assert.Equal(reader == "ja" ? ["タスク", "ラベル", "モデル", "データの来歴", "評価指標", "既知の限界"] : ["Task", "Labels", "Model", "Data provenance", "Metrics", "Known limits"],
                cut.FindAll("h4").Select(h => h.TextContent.Trim()).ToList());
            Assert.Equal(reader, cut.Find("[data-testid=model-card-text]").GetAttribute("lang"));
            Assert.Equal(Incubator.Tests.Infrastructure.Localized.In(reader, () => Incubator.Tests.Infrastructure.Localized.L["Model.CardNote"].Value),
                cut.Find("[data-testid=model-card-note]").TextContent);
            Assert.Empty(cut.FindAll("[data-testid=model-card-only-in]"));
        }
    }

    /// <summary>A model trained before cards were written in both languages has one card, its language not recorded: it
    /// is shown to every reader as it is, and a reader of the other language is told, in their language, that the card
    /// exists only in that one. A Japanese card of that time (amendment card21) is recognised as Japanese.</summary>
    [Fact]
    public async Task An_old_model_shows_its_one_card_and_says_it_exists_only_in_the_other_language()
    {
        await using var ctx = PortalBunit.NewContext();
        var english = Incubator.Tests.Infrastructure.Localized.In("ja", () => ctx.Render<ReaderModelCard>(p => p.Add(x => x.Card, Card())));
        Assert.Equal(["Task", "Labels", "Model", "Data provenance", "Metrics", "Known limits"], english.FindAll("h4").Select(h => h.TextContent.Trim()).ToList());
        var note = english.Find("[data-testid=model-card-only-in]");
        Assert.Equal("en", note.GetAttribute("data-card-language"));
        Assert.Contains("カードは英語版しかありません", note.TextContent, StringComparison.Ordinal);
        Assert.Empty(english.FindAll("[data-testid=model-card-note]"));

        var japanese = Incubator.Tests.Infrastructure.Localized.In("en", () => ctx.Render<ReaderModelCard>(p => p.Add(x => x.Card, Card(CardLanguage.Ja))));
        Assert.Equal(["タスク", "ラベル", "モデル", "データの来歴", "評価指標", "既知の限界"], japanese.FindAll("h4").Select(h => h.TextContent.Trim()).ToList());
        Assert.Equal("ja", japanese.Find("[data-testid=model-card-text]").GetAttribute("lang"));
        Assert.Contains("its card exists only in Japanese", japanese.Find("[data-testid=model-card-only-in]").TextContent, StringComparison.Ordinal);

        // A reader of the card's own language sees it with the ordinary note.
        var same = Incubator.Tests.Infrastructure.Localized.In("en", () => ctx.Render<ReaderModelCard>(p => p.Add(x => x.Card, Card())));
        Assert.Empty(same.FindAll("[data-testid=model-card-only-in]"));
        Assert.Single(same.FindAll("[data-testid=model-card-note]"));
    }
}
