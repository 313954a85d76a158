using System.Globalization;
using System.Text.RegularExpressions;
using Incubator.Domain.Datasets;
using Incubator.Domain.Jobs;
using Incubator.Domain.Mining;
using Incubator.Domain.Tasks;
using Incubator.Domain.Training;
using Incubator.Web.Extensions;

namespace Incubator.Tests.Training;

/// <summary>The model card in the language of the person who started the training (decision 0012, amendment card21):
/// the Japanese card carries the same facts, numbers and sections as the English one, every sentence of it is
/// Japanese, names and texts users typed stay as typed (and escaped), and family names are Japanese with the id kept.</summary>
public sealed partial class ModelCardLanguageTests
{
    private static readonly Dictionary<string, int> Counts = new() { ["billing"] = 110, ["shipping"] = 110, ["technical"] = 9 };

    private static TaskSpec Task() => new()
    {
        Name = "Support",
        Instruction = "Route support mail.",
        Preferences = new TaskPreferences { Language = "en" },
        Labels = [new LabelSpec { Name = "billing", Description = "Money" }, new LabelSpec { Name = "shipping", Description = "Parcels" },
            new LabelSpec { Name = "technical", Description = "Bugs", IsOther = true }],
    };

    /// <summary>A sparse model with a gold set, a size and speed, and the three sources it can come from.</summary>
    private static ModelCardInput Input(ModelCardSource source)
    {
        var rows = TrainingFixtures.English();
        var labels = TrainingFixtures.LabelsOf(rows);
        var (train, validation) = StratifiedSplit.Split(rows, 0.2, 5);
        var gold = validation.Take(20).ToList();
        var options = new TrainingOptions(ModelFamily.Sparse, 5);
        var result = new ClassifierTrainer { ConjunctionCount = 12 }.Train(labels, train, validation, gold, options, null, default);
        return ModelCardInput.For("support classifier", result, options, "gold.tsv", new DateTimeOffset(2026, 12, 7, 9, 5, 0, TimeSpan.Zero), source)
            with { Speed = new BundleSpeed(35_000, 3666.4, 66, 64, 5) };
    }

    private static readonly DatasetVersionView Dataset = new(Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), 2, 3, "abc123", 229, Counts,
        new DatasetLineage(3, [Guid.NewGuid()], ["reviewer@example.com"], 200, 20, 7, 2, 4), 5, 0.2, 183, 46, DateTimeOffset.UnixEpoch, null);

    private static SelfTrainingCardSource SelfTraining(bool embedding) => new(Task(), "pool.txt", 5000, 60, 12, 900, Counts, 800, 200,
        ["Round 1: 60 seeds + 300 pseudo-labels; held-out agreement 0.812.", "Round 2: 60 seeds + 900 pseudo-labels; held-out agreement 0.834 (kept)."])
    {
        OriginProject = "Helpdesk", OriginCorpus = "mail 2026", Origin = "project Helpdesk, mining run of mail 2026", ReviewedSeeds = 14, ReviewedWeight = 3,
        EmbeddingRounds = embedding, RawView = true, RawLean = 0.4213, FinalShare = 0.8,
    };

    public static TheoryData<string> Sources => ["dataset", "file", "self-training", "self-training-embedding", "cli-self-training"];

    private static ModelCardSource SourceOf(string name) => name switch
    {
        "dataset" => new DatasetCardSource("Helpdesk", Task(), 3, Dataset, ["gpt-test"]),
        "file" => new FileCardSource("support-en.tsv", Counts, 183, 46),
        "self-training" => SelfTraining(false),
        "self-training-embedding" => SelfTraining(true),
        _ => SelfTraining(false) with { OriginProject = null, OriginCorpus = null, Origin = null, ReviewedSeeds = 0 },
    };

    [GeneratedRegex(@"\d+(?:[.,]\d+)*")]
    private static partial Regex Number();

    /// <summary>The numbers of a card but its date line (the date is written "2026-12-07 09:05" and 「2026年12月7日 09:05」).</summary>
    private static List<string> Numbers(string card) => card.Split('\n').Where((_, i) => i != 2)
        .SelectMany(l => Number().Matches(l).Select(m => m.Value)).Order(StringComparer.Ordinal).ToList();

    private static List<string> Shape(string card) => card.Split('\n').Select(l => l.StartsWith('#') ? l.TakeWhile(c => c == '#').Count() + "#"
        : l.StartsWith("- ", StringComparison.Ordinal) ? "-" : l.StartsWith('|') ? "|" + l.Count(c => c == '|') : l.Length == 0 ? "" : "p").ToList();

    [Theory]
    [MemberData(nameof(Sources))]
    public void Japanese_and_English_cards_of_one_model_carry_the_same_numbers_and_sections(string source)
    {
        var input = Input(SourceOf(source));
        var en = ModelCardBuilder.Write(input);
        var ja = ModelCardBuilder.Write(input, CardLanguage.Ja);
        Assert.NotEqual(en, ja);
        // Same sections, lists and tables, line for line.
        Assert.Equal(Shape(en), Shape(ja));
        // Same numbers: metrics, counts, sizes, texts/s, seeds and pseudo-labels (English "1–2-grams" and "model.onnx 34 KiB"
        // are written the same in Japanese; "8-bit", "three" and the like are no number of the card's).
        var (a, b) = (Numbers(en), Numbers(ja));
        Assert.True(a.SequenceEqual(b), $"Only in English: {string.Join(" ", a.Except(b))}; only in Japanese: {string.Join(" ", b.Except(a))}; counts {a.Count} vs {b.Count}\n{en}\n{ja}");
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"{input.Validation.Accuracy:0.000}"), ja);
        Assert.Contains("34 KiB", ja);
        Assert.Contains("3666", ja);
        if (source.StartsWith("self-training", StringComparison.Ordinal) || source == "cli-self-training")
        {
            Assert.Contains("**No human labels**", en);
            Assert.Contains("**人手のラベルなし**", ja);
            Assert.Contains("900", ja);
        }
        else
        {
            Assert.DoesNotContain("人手のラベルなし", ja);
        }
    }

    /// <summary>Every sentence, heading and table header of the Japanese card is Japanese: once the names and texts users
    /// typed are taken out, the only Latin words left are technical names (families' ids, file formats, tools).</summary>
    [Theory]
    [MemberData(nameof(Sources))]
    public void The_Japanese_card_has_no_English_sentence(string source)
    {
        var ja = ModelCardBuilder.Write(Input(SourceOf(source)), CardLanguage.Ja);
        string[] typed = ["support classifier", "Route support mail.", "Helpdesk", "mail 2026", "billing", "shipping", "technical", "Money", "Parcels",
            "Bugs", "gpt-test", "reviewer@example.com", "support-en.tsv", "pool.txt", "gold.tsv", "abc123",
            // The rounds' lines are the self-training's own notes; without the portal's resources they keep their English.
            "Round 1: 60 seeds + 300 pseudo-labels; held-out agreement 0.812.", "Round 2: 60 seeds + 900 pseudo-labels; held-out agreement 0.834 (kept)."];
        var rest = typed.Aggregate(ja, (s, t) => s.Replace(t, " ", StringComparison.Ordinal));
        string[] technical = ["gram", "sparse", "dense", "hybrid", "auto", "pooled", "TF", "IDF", "ONNX", "Runtime", "model", "onnx", "KiB", "MiB",
            "MiniLM", "all", "v2", "ML", "NET", "BFGS", "SHA", "UTC", "Incubator", "train", "mine", "self", "gold", "nats", "F1", "L6", "L2", "L", "n", "en", "LLM"];
        var words = Regex.Matches(rest, "[A-Za-z][A-Za-z0-9]*").Select(m => m.Value).Where(w => !technical.Contains(w)).Distinct().ToList();
        Assert.True(words.Count == 0, "English left in the Japanese card: " + string.Join(", ", words) + "\n" + ja);
    }

    [Fact]
    public void The_Japanese_card_names_families_in_Japanese_with_the_id_and_keeps_typed_text_escaped()
    {
        var input = Input(new DatasetCardSource("<b>Help</b> **desk**", Task() with { Instruction = "- Route <i>mail</i> `now`" }, 3, Dataset, ["gpt-test"]))
            with { Title = "# **x** <img src=x>" };
        var ja = ModelCardBuilder.Write(input, CardLanguage.Ja);
        Assert.Contains("- ファミリー: **n-gram 特徴（sparse）**（指定: n-gram 特徴（sparse））。", ja);
        Assert.StartsWith("# \\# \\*\\*x\\*\\* \\<img src=x\\>\n", ja.ReplaceLineEndings("\n"));
        Assert.Contains("プロジェクト: \\<b\\>Help\\</b\\> \\*\\*desk\\*\\* · タスク バージョン 3 · 学習 2026年12月7日 09:05 (UTC)。", ja);
        Assert.Contains("\\- Route \\<i\\>mail\\</i\\> \\`now\\`", ja);
        Assert.Contains("| technical | Bugs（ほかのどのラベルにも当たらないもの） |", ja);
        Assert.Contains("| ラベル | 適合率 | 再現率 | F1 | 件数 |", ja);
        Assert.Contains("- 「technical」の例が少ない（9 件）ため、そのスコアは不確かです。", ja);
        Assert.Contains("## 既知の限界", ja);
    }

    /// <summary>Auto's choice and the rounds are notes: a Japanese card says them with the portal's Japanese sentences
    /// (families named in Japanese), an English card keeps the notes' English.</summary>
    [Fact]
    public void Notes_in_a_Japanese_card_are_said_in_Japanese_by_the_portals_resources()
    {
        var notes = ResourceCardNotes.Standalone();
        var choice = TrainingNotes.OnlyFamily("sparse");
        var input = Input(SelfTraining(false) with
        {
            RoundNotes = [(SelfTrainingNotes.Round(1, 4, 0.812, true), false), (SelfTrainingNotes.Round(2, 4, 0.834, true), true)],
        }) with { Choice = choice.Message, ChoiceNote = choice };
        var ja = ModelCardBuilder.Write(input, CardLanguage.Ja, n => notes.Say(n, CardLanguage.Ja));
        var en = ModelCardBuilder.Write(input, CardLanguage.En, n => notes.Say(n, CardLanguage.En));
        Assert.Contains("- Choice: sparse (the only family trained).", en);
        Assert.Contains("- 選択: n-gram 特徴（sparse）(学習した唯一のファミリー)。", ja);
        Assert.DoesNotContain("Round 1", ja);
        Assert.Contains("（採用）", ja);
        Assert.Null(notes.Say(choice, CardLanguage.En));
    }

    [Theory]
    [InlineData(null, CardLanguage.En)]
    [InlineData("en", CardLanguage.En)]
    [InlineData("ja", CardLanguage.Ja)]
    [InlineData("ja-JP", CardLanguage.Ja)]
    [InlineData("fr", CardLanguage.En)]
    public void A_card_language_is_japanese_only_when_asked(string? name, CardLanguage expected) => Assert.Equal(expected, CardLanguages.Parse(name));
}
