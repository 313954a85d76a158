using Incubator.Domain.Embeddings;
using Incubator.Domain.Generation;
using Incubator.Domain.Tasks;
using Incubator.Tests.Embeddings;

namespace Incubator.Tests.Generation;

[Collection(EmbeddingsCollection.Name)]
public sealed class DemonstrationBankTests(EmbeddingsFixture fixture)
{
    private DemonstrationBank Bank => new(fixture.Selector);

    [Fact]
    public void Ships_at_least_forty_demonstrations_with_one_sample_per_label()
    {
        var demos = Bank.BuiltIn;
        Assert.True(demos.Count >= 40, $"{demos.Count} demonstrations");
        Assert.True(demos.Count(d => d.Language == "ja") >= 8);
        Assert.All(demos, d =>
        {
            Assert.True(d.Labels.Count >= 2);
            Assert.Equal(d.Labels.Count, d.Labels.Distinct().Count());
            Assert.Equal(d.Labels.Order(StringComparer.Ordinal), d.Samples.Keys.Order(StringComparer.Ordinal));
            Assert.All(d.Samples.Values, s => Assert.False(string.IsNullOrWhiteSpace(s)));
            Assert.Contains(d.Language, new[] { "en", "ja" });
        });
        Assert.Equal(demos.Count, demos.Select(d => d.Instruction).Distinct().Count());
        // Every built-in sample set would survive the parser and validator as an LLM answer.
        Assert.All(demos, d =>
        {
            var json = "{" + string.Join(", ", d.Labels.Select(l => $"{System.Text.Json.JsonSerializer.Serialize(l)}: {System.Text.Json.JsonSerializer.Serialize(d.Samples[l])}")) + "}";
            var parsed = OutputParser.Parse(json, d.Labels);
            Assert.Equal(d.Labels.Count, parsed.Accepted.Count);
            Assert.Empty(parsed.Rejected);
        });
    }

    [Fact]
    public void Japanese_task_gets_Japanese_demonstrations()
    {
        var spec = new TaskSpec
        {
            Name = "問い合わせ",
            Instruction = "オンラインショップへの問い合わせを、配送・返金・その他に分類してください。",
            Labels = [new LabelSpec { Name = "配送", Description = "荷物が届かない、遅れている。" }, new LabelSpec { Name = "返金" }, new LabelSpec { Name = "その他", IsOther = true }],
            Preferences = new TaskPreferences { Language = "ja" },
        };
        var nearest = Bank.Nearest(spec, 5);
        Assert.Equal(5, nearest.Count);
        Assert.All(nearest, d => Assert.Equal("ja", d.Language));
        // The closest is the mail-order inquiry demonstration (shared vocabulary: 問い合わせ, 配送, その他).
        Assert.Contains("通販サイトへの問い合わせ", nearest[0].Instruction);
    }

    [Fact]
    public void English_task_gets_related_English_demonstrations()
    {
        var spec = new TaskSpec
        {
            Name = "Reviews",
            Instruction = "Classify customer reviews of headphones as positive or negative.",
            Labels = [new LabelSpec { Name = "positive", Description = "The buyer likes the product." }, new LabelSpec { Name = "negative", Description = "The buyer is unhappy." }],
        };
        var nearest = Bank.Nearest(spec, 3);
        Assert.Equal(3, nearest.Count);
        Assert.All(nearest, d => Assert.Equal("en", d.Language));
        Assert.Contains(nearest, d => d.Labels.SequenceEqual(["positive", "negative"]));
    }

    [Fact]
    public void Never_returns_the_task_itself_and_includes_extra_demonstrations()
    {
        var bank = Bank;
        var own = bank.BuiltIn.First(d => d.Language == "en");
        var spec = new TaskSpec
        {
            Name = "x",
            Instruction = "  " + own.Instruction.ToUpperInvariant() + " ",
            Labels = own.Labels.Select(l => new LabelSpec { Name = l }).ToList(),
        };
        var nearest = bank.Nearest(spec, bank.BuiltIn.Count + 5);
        Assert.DoesNotContain(nearest, d => d.Instruction == own.Instruction);
        Assert.Equal(bank.BuiltIn.Count - 1, nearest.Count);

        var extra = new Demonstration("Sort customer reviews of kitchen knives by whether the buyer is satisfied.", ["positive", "negative"],
            new Dictionary<string, string> { ["positive"] = "Still razor sharp after a year.", ["negative"] = "Rusted after one wash." }, "en");
        var withExtra = bank.Nearest(spec, 2, [extra, own]);
        Assert.Contains(extra, withExtra);
        Assert.DoesNotContain(own, withExtra);
        Assert.Empty(bank.Nearest(spec, 0));
    }

    [Fact]
    public void Ranking_is_deterministic()
    {
        var spec = new TaskSpec { Name = "n", Instruction = "Detect spam in comments on a cooking blog.", Labels = [new LabelSpec { Name = "spam" }, new LabelSpec { Name = "ham" }] };
        Assert.Equal(Bank.Nearest(spec, 6), Bank.Nearest(spec, 6));
        var charOnly = new DemonstrationBank(new EmbedderSelector(new CharNgramEmbedder(), new CharNgramEmbedder()));
        Assert.Equal(charOnly.Nearest(spec, 6), charOnly.Nearest(spec, 6));
    }
}
