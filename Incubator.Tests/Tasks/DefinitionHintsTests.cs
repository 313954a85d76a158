using System.Diagnostics;
using Incubator.Domain.Embeddings;
using Incubator.Domain.Tasks;
using Incubator.Tests.Embeddings;

namespace Incubator.Tests.Tasks;

[Collection(EmbeddingsCollection.Name)]
public sealed class DefinitionHintsTests(EmbeddingsFixture fixture)
{
    private DefinitionHints Hints => fixture.Hints;

    private static TaskSpec Spec(string language, params (string Name, string Description)[] labels) => new()
    {
        Name = "t",
        Instruction = "Sort the texts into the labels.",
        Labels = labels.Select(l => new LabelSpec { Name = l.Name, Description = l.Description }).ToArray(),
        Preferences = new TaskPreferences { Language = language },
    };

    private static TaskSpec WithOther(TaskSpec spec) =>
        spec with { Labels = [.. spec.Labels, new LabelSpec { Name = "other", Description = "Anything that fits none of the labels above.", IsOther = true }] };

    private static IEnumerable<DefinitionWarning> OfCode(DefinitionReport r, string code) => r.Warnings.Where(w => w.Code == code);

    // ---- DefinitionsSimilar, English (MiniLM) ----------------------------------------------------------------------

    [Fact]
    public void Two_nearly_identical_English_definitions_are_flagged_naming_both_labels()
    {
        var report = Hints.Analyze(WithOther(Spec("en",
            ("billing", "Questions about invoices, charges and refunds."),
            ("payments", "Questions about charges, invoices and getting refunds."),
            ("outage", "Reports that the service is down or unreachable."))));

        Assert.Equal("all-MiniLM-L6-v2", report.Representation);
        var w = Assert.Single(OfCode(report, "DefinitionsSimilar"));
        Assert.Equal([0, 1], w.LabelIndexes);
        Assert.Equal("billing", w.Args[0]);
        Assert.Equal("payments", w.Args[1]);
        var percent = Assert.IsType<int>(w.Args[2]);
        Assert.InRange(percent, 90, 100);
        Assert.Equal((int)Math.Round(report.Overlap[0][1] * 100), percent);
        Assert.Contains("'billing'", w.Message);
        Assert.Contains("'payments'", w.Message);
        Assert.Contains($"{percent}%", w.Message);
    }

    [Fact]
    public void Clearly_different_English_definitions_are_not_flagged()
    {
        var report = Hints.Analyze(WithOther(Spec("en",
            ("billing", "Questions about invoices, charges and refunds."),
            ("outage", "Reports that the service is down or unreachable."),
            ("account", "Problems signing in, resetting passwords or changing account details."),
            ("feature request", "Suggestions for new features or improvements."))));

        Assert.Empty(report.Warnings);
        Assert.All(Pairs(4), p => Assert.True(report.Overlap[p.I][p.J] < 0.5, $"{p.I},{p.J}: {report.Overlap[p.I][p.J]:F3}"));
    }

    [Fact]
    public void Templated_opposite_definitions_are_not_mistaken_for_duplicates()
    {
        // Sentence embeddings put antonyms close (measured 0.87-0.88 here): the reason the MiniLM threshold is 0.90.
        var report = Hints.Analyze(Spec("en",
            ("positive", "Positive reviews of the product."),
            ("negative", "Negative reviews of the product.")));

        Assert.Empty(report.Warnings);
        Assert.InRange(report.Overlap[0][1], 0.5, DefinitionHints.MiniLmSimilarThreshold);
    }

    [Fact]
    public void The_MiniLM_threshold_separates_observed_copies_from_observed_distinct_pairs()
    {
        (string, string)[] copies =
        [
            ("Questions about invoices, charges and refunds.", "Questions about charges, invoices and getting refunds."),
            ("Problems signing in or resetting a password.", "Trouble logging in or resetting passwords."),
        ];
        (string, string)[] distinct =
        [
            ("Positive reviews of the product.", "Negative reviews of the product."),
            ("The claim is true.", "The claim is false."),
            ("The service is down or unreachable.", "The service is slow but working."),
            ("Tweets about football.", "Tweets about basketball."),
            ("Questions about invoices, charges and refunds.", "Reports that the service is down or unreachable."),
        ];
        var english = fixture.Selector.ForLanguage("en");
        foreach (var (a, b) in copies)
            Assert.True(Cos(english, a, b) >= DefinitionHints.MiniLmSimilarThreshold, $"{a} | {b}: {Cos(english, a, b):F3}");
        foreach (var (a, b) in distinct)
            Assert.True(Cos(english, a, b) < DefinitionHints.MiniLmSimilarThreshold, $"{a} | {b}: {Cos(english, a, b):F3}");
    }

    // ---- DefinitionsSimilar, Japanese (char n-grams) ---------------------------------------------------------------

    [Fact]
    public void Two_nearly_identical_Japanese_definitions_are_flagged_with_the_char_ngram_representation()
    {
        var report = Hints.Analyze(WithOther(Spec("ja",
            ("配送", "配送が遅れている、荷物が届かないという苦情。"),
            ("未着", "荷物が届かない、配送が遅れているという苦情。"),
            ("請求", "請求書、料金、返金に関する問い合わせ。"))));

        Assert.Equal("char-ngram", report.Representation);
        var w = Assert.Single(OfCode(report, "DefinitionsSimilar"));
        Assert.Equal([0, 1], w.LabelIndexes);
        Assert.Equal(["配送", "未着"], w.Args.Take(2).Cast<string>());
    }

    [Fact]
    public void Clearly_different_Japanese_definitions_are_not_flagged()
    {
        var report = Hints.Analyze(WithOther(Spec("ja",
            ("請求", "請求書、料金、返金に関する問い合わせ。"),
            ("障害", "サービスが停止している、または応答しないという報告。"),
            ("アカウント", "ログインできない、パスワードを再設定したいという相談。"),
            ("要望", "新しい機能の追加を求める要望。"))));

        Assert.Empty(report.Warnings);
        Assert.All(Pairs(4), p => Assert.True(report.Overlap[p.I][p.J] < 0.2, $"{p.I},{p.J}: {report.Overlap[p.I][p.J]:F3}"));
    }

    [Fact]
    public void Short_Japanese_definitions_sharing_a_template_stay_below_the_char_ngram_threshold()
    {
        var report = Hints.Analyze(WithOther(Spec("ja",
            ("請求", "請求書に関する問い合わせ。"),
            ("配送", "配送に関する問い合わせ。"))));

        Assert.Empty(OfCode(report, "DefinitionsSimilar"));
        Assert.InRange(report.Overlap[0][1], 0.4, DefinitionHints.CharNgramSimilarThreshold);
    }

    // ---- per-label checks --------------------------------------------------------------------------------------

    [Fact]
    public void Empty_definitions_are_reported_and_not_compared()
    {
        var report = Hints.Analyze(WithOther(Spec("en", ("billing", ""), ("outage", "   "), ("account", "Problems signing in."))));

        var empty = OfCode(report, "DefinitionEmpty").ToArray();
        Assert.Equal([[0], [1]], empty.Select(w => w.LabelIndexes.ToArray()));
        Assert.Equal("billing", empty[0].Args[0]);
        Assert.Empty(OfCode(report, "DefinitionsSimilar"));
        Assert.Empty(OfCode(report, "DefinitionRepeatsName"));
    }

    [Theory]
    [InlineData("billing", "billing")]
    [InlineData("billing", "Billing.")]
    [InlineData("billing", "The billing")]
    [InlineData("Billing", "  the BILLING!  ")]
    [InlineData("account_access", "Account access")]
    [InlineData("請求", "「請求」。")]
    public void A_definition_that_only_repeats_the_name_is_reported(string name, string description)
    {
        var report = Hints.Analyze(WithOther(Spec(name.Any(c => c > 0x3000) ? "ja" : "en", (name, description), ("outage", "Reports that the service is down."))));

        var w = Assert.Single(OfCode(report, "DefinitionRepeatsName"));
        Assert.Equal([0], w.LabelIndexes);
        Assert.Equal(name, w.Args[0]);
    }

    [Theory]
    [InlineData("billing", "Billing questions.")]
    [InlineData("billing", "Questions about billing.")]
    [InlineData("billing", "Billing and invoices.")]
    public void A_definition_that_says_more_than_the_name_is_not_reported(string name, string description)
    {
        var report = Hints.Analyze(WithOther(Spec("en", (name, description), ("outage", "Reports that the service is down."))));
        Assert.Empty(OfCode(report, "DefinitionRepeatsName"));
    }

    // ---- other label -------------------------------------------------------------------------------------------

    private static readonly (string, string)[] SupportTopics =
    [
        ("billing", "Questions about invoices, charges and refunds."),
        ("outage", "Reports that the service is down or unreachable."),
        ("account", "Problems signing in, resetting passwords or changing account details."),
        ("feature request", "Suggestions for new features or improvements."),
    ];

    [Fact]
    public void A_topic_task_without_an_other_label_is_told_to_add_one()
    {
        var report = Hints.Analyze(Spec("en", SupportTopics));
        var w = Assert.Single(OfCode(report, "OtherLabelMissing"));
        Assert.Empty(w.LabelIndexes);
        Assert.Empty(w.Args);
    }

    [Fact]
    public void A_topic_task_with_an_other_label_is_not()
    {
        Assert.Empty(Hints.Analyze(WithOther(Spec("en", SupportTopics))).Warnings);
    }

    [Theory]
    [InlineData("positive", "negative")]
    [InlineData("Positive", "Negative")]
    [InlineData("spam", "ham")]
    [InlineData("yes", "no")]
    [InlineData("true", "false")]
    [InlineData("relevant", "irrelevant")]
    [InlineData("toxic", "non-toxic")]
    [InlineData("urgent", "not urgent")]
    [InlineData("ポジティブ", "ネガティブ")]
    public void An_exhaustive_pair_needs_no_other_label(string a, string b)
    {
        var report = Hints.Analyze(Spec("en", (a, $"The text is {a}."), (b, $"The text is {b}.")));
        Assert.Empty(OfCode(report, "OtherLabelMissing"));
        Assert.Empty(OfCode(report, "OtherLabelNotMarked"));
    }

    [Theory]
    [InlineData("positive", "neutral", "negative")]
    [InlineData("1", "2", "3", "4", "5")]
    [InlineData("low", "medium", "high")]
    public void A_closed_scale_needs_no_other_label(params string[] names)
    {
        var report = Hints.Analyze(Spec("en", names.Select(n => (n, $"Texts rated {n}.")).ToArray()));
        Assert.Empty(OfCode(report, "OtherLabelMissing"));
    }

    [Fact]
    public void An_instruction_that_speaks_of_a_rest_asks_for_an_other_label_even_for_an_exhaustive_pair()
    {
        var spec = Spec("en", ("positive", "The review likes the product."), ("negative", "The review dislikes the product.")) with
        {
            Instruction = "Is the review positive, negative, or neither?",
        };
        Assert.Single(OfCode(Hints.Analyze(spec), "OtherLabelMissing"));

        var plain = spec with { Instruction = "Is the review positive or negative? In other words, did they like it?" };
        Assert.Empty(OfCode(Hints.Analyze(plain), "OtherLabelMissing"));
    }

    [Fact]
    public void A_label_named_other_but_not_marked_is_pointed_at()
    {
        var report = Hints.Analyze(Spec("en", [.. SupportTopics, ("Other", "Everything else.")]));
        var w = Assert.Single(OfCode(report, "OtherLabelNotMarked"));
        Assert.Equal([4], w.LabelIndexes);
        Assert.Empty(OfCode(report, "OtherLabelMissing"));
    }

    // ---- matrix and scale --------------------------------------------------------------------------------------

    [Theory]
    [InlineData("en")]
    [InlineData("ja")]
    public void The_overlap_matrix_is_square_symmetric_with_ones_on_the_diagonal(string language)
    {
        var spec = WithOther(Spec(language, [.. SupportTopics, ("empty", "")]));
        var report = Hints.Analyze(spec);

        var n = spec.Labels.Count;
        Assert.Equal(spec.Labels.Select(l => l.Name), report.Labels);
        Assert.Equal(n, report.Overlap.Length);
        for (var i = 0; i < n; i++)
        {
            Assert.Equal(n, report.Overlap[i].Length);
            Assert.Equal(1.0, report.Overlap[i][i]);
            for (var j = 0; j < n; j++)
            {
                Assert.Equal(report.Overlap[i][j], report.Overlap[j][i]);
                Assert.InRange(report.Overlap[i][j], -1.0, 1.0);
            }
        }
    }

    [Fact]
    public void No_labels_gives_an_empty_report()
    {
        var report = Hints.Analyze(new TaskSpec());
        Assert.Empty(report.Warnings);
        Assert.Empty(report.Labels);
        Assert.Empty(report.Overlap);
    }

    [Fact]
    public void A_hundred_labels_with_empty_and_duplicated_definitions_are_analysed_in_one_batch_quickly()
    {
        var labels = Enumerable.Range(0, 100).Select(i => new LabelSpec
        {
            Name = $"topic {i}",
            Description = i % 10 == 0 ? "" : i % 10 == 1 ? "Questions about invoices, charges and refunds." : $"Texts about subject number {i} and nothing else, e.g. item {i * 7}.",
        }).ToArray();
        var spec = new TaskSpec { Name = "big", Instruction = "Sort.", Labels = labels };
        var counting = new CountingEmbedder(fixture.Selector.ForLanguage("en"));
        var hints = new DefinitionHints(new EmbedderSelector(counting, counting));

        var sw = Stopwatch.StartNew();
        var report = hints.Analyze(spec);
        sw.Stop();

        Assert.Equal(1, counting.Calls);
        Assert.Equal(100, report.Overlap.Length);
        Assert.Equal(10, OfCode(report, "DefinitionEmpty").Count());
        // The ten copies make 45 identical pairs; the hints stop at the cap and keep the most similar pairs.
        var similar = OfCode(report, "DefinitionsSimilar").ToArray();
        Assert.Equal(DefinitionHints.MaxSimilarPairs, similar.Length);
        Assert.All(similar, w =>
        {
            Assert.Equal(100, w.Args[2]);
            Assert.All(w.LabelIndexes, i => Assert.Equal(1, i % 10));
        });
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), $"100 labels took {sw.Elapsed}");
    }

    private static double Cos(ITextEmbedder e, string a, string b)
    {
        var v = e.Embed([a, b]);
        return VectorMath.Cosine(v[0], v[1]);
    }

    private static IEnumerable<(int I, int J)> Pairs(int n) =>
        from i in Enumerable.Range(0, n) from j in Enumerable.Range(i + 1, n - i - 1) select (i, j);

    private sealed class CountingEmbedder(ITextEmbedder inner) : ITextEmbedder
    {
        public int Calls { get; private set; }

        public string Name => inner.Name;

        public int Dimensions => inner.Dimensions;

        public float[][] Embed(IReadOnlyList<string> texts)
        {
            Calls++;
            return inner.Embed(texts);
        }
    }
}
