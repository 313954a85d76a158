using Incubator.Domain.Generation;
using Incubator.Domain.Tasks;

namespace Incubator.Tests.Generation;

public sealed class PromptBuilderTests
{
    private static TaskSpec Support(bool withOther = true) => new()
    {
        Name = "Support tickets",
        Instruction = "Route support tickets of our accounting app to the team that handles them.",
        Labels =
        [
            new LabelSpec { Name = "Billing issue", Description = "Invoices, charges and refunds.", Examples = ["I was charged twice in May."], CounterExamples = ["How do I download my invoice as PDF?"] },
            new LabelSpec { Name = "outage", Description = "The service is down or unusably slow." },
            new LabelSpec { Name = "account_access", Description = "Login, password and 2FA problems." },
            .. withOther ? [new LabelSpec { Name = "その他 / other", Description = "Anything else.", IsOther = true }] : Array.Empty<LabelSpec>(),
        ],
        Preferences = new TaskPreferences
        {
            Language = "en", TextType = TextType.Email, MinWords = 12, MaxWords = 40, Tone = "polite but annoyed",
            Domain = "small-business accounting", Include = ["invoice numbers"], Avoid = ["profanity"], Notes = "Customers are in Ireland.",
        },
    };

    private static readonly Demonstration Demo = new("Flag SMS messages as spam or not spam.", ["spam", "not spam"],
        new Dictionary<string, string> { ["spam"] = "You won a prize! Reply YES.", ["not spam"] = "Running late, see you at 8." }, "en");

    [Fact]
    public void System_message_names_every_label_verbatim_and_asks_for_one_object()
    {
        var prompt = PromptBuilder.Build(Support(), [], [], null, seed: 1);
        foreach (var name in new[] { "\"Billing issue\"", "\"outage\"", "\"account_access\"", "\"その他 / other\"" })
            Assert.Contains(name, prompt.System);
        Assert.Contains("exactly ONE JSON object", prompt.System);
        Assert.Contains("exactly these 4 label names", prompt.System);
        Assert.Contains("\"Billing issue\", \"outage\", \"account_access\", \"その他 / other\"", prompt.System);
        Assert.Contains("side by side", prompt.System);
        Assert.Contains("Invoices, charges and refunds.", prompt.System);
        Assert.Contains("I was charged twice in May.", prompt.System);
        Assert.Contains("How do I download my invoice as PDF?", prompt.System);
        Assert.Contains(Support().Instruction, prompt.System);
    }

    [Fact]
    public void Near_miss_instruction_only_when_there_is_an_other_label()
    {
        var with = PromptBuilder.Build(Support(withOther: true), [], [], null, 1);
        var without = PromptBuilder.Build(Support(withOther: false), [], [], null, 1);
        Assert.Contains("near miss", with.System);
        Assert.Contains("For \"その他 / other\":", with.System);
        Assert.DoesNotContain("near miss", without.System);
        Assert.DoesNotContain("near miss", without.User);
    }

    [Fact]
    public void Preferences_are_stated()
    {
        var s = PromptBuilder.Build(Support(), [], [], null, 1).System;
        Assert.Contains("English", s);
        Assert.Contains("an email", s);
        Assert.Contains("between 12 and 40 words each", s);
        Assert.Contains("polite but annoyed", s);
        Assert.Contains("small-business accounting", s);
        Assert.Contains("invoice numbers", s);
        Assert.Contains("profanity", s);
        Assert.Contains("Customers are in Ireland.", s);
    }

    [Fact]
    public void Japanese_task_asks_for_characters_in_Japanese()
    {
        var spec = new TaskSpec
        {
            Name = "レビュー", Instruction = "家電のレビューを分類する。",
            Labels = [new LabelSpec { Name = "肯定的" }, new LabelSpec { Name = "否定的" }],
            Preferences = new TaskPreferences { Language = "ja", MinChars = 20, MaxChars = 60 },
        };
        var prompt = PromptBuilder.Build(spec, [], [], null, 1);
        Assert.Contains("Japanese", prompt.System);
        Assert.Contains("between 20 and 60 characters (not counting spaces) each", prompt.System);
        Assert.DoesNotContain("words", PromptBuilder.LengthRequirement(spec.Preferences));
        Assert.Contains("\"肯定的\", \"否定的\"", prompt.System); // not \u-escaped
    }

    [Theory]
    [InlineData(5, null, "at least 5 words each")]
    [InlineData(null, 9, "at most 9 words each")]
    [InlineData(null, null, null)]
    public void Length_with_one_or_no_bound(int? min, int? max, string? expected)
        => Assert.Equal(expected, PromptBuilder.LengthRequirement(new TaskPreferences { MinWords = min, MaxWords = max }));

    [Fact]
    public void Demonstrations_are_instruction_to_json_pairs_and_the_prompt_ends_with_the_task()
    {
        var user = PromptBuilder.Build(Support(), [Demo], [], null, 1).User;
        Assert.Contains("Instruction: Flag SMS messages as spam or not spam.", user);
        Assert.Contains("Output: {\"spam\": \"You won a prize! Reply YES.\", \"not spam\": \"Running late, see you at 8.\"}", user);
        Assert.EndsWith($"Instruction: {Support().Instruction}\nOutput:", user.ReplaceLineEndings("\n"));
        Assert.True(user.IndexOf("Flag SMS", StringComparison.Ordinal) < user.IndexOf(Support().Instruction, StringComparison.Ordinal));
    }

    [Fact]
    public void Previous_centres_are_shown_as_already_have()
    {
        IReadOnlyDictionary<string, string> centre = new Dictionary<string, string> { ["outage"] = "Nothing loads since 9am.", ["Billing issue"] = "Refund still missing." };
        var user = PromptBuilder.Build(Support(), [], [centre], null, 1).User;
        Assert.Contains("already has", user);
        Assert.Contains("clearly different", user);
        // Rendered in the task's label order.
        Assert.Contains("{\"Billing issue\": \"Refund still missing.\", \"outage\": \"Nothing loads since 9am.\"}", user);
        Assert.DoesNotContain("already has", PromptBuilder.Build(Support(), [], [], null, 1).User);
    }

    [Fact]
    public void Feedback_is_summarised_with_reasons_and_edits()
    {
        var feedback = new GenerationFeedback(
            [new FeedbackItem("outage", "The app is down.", "too generic"), new FeedbackItem("outage", "Site down!!", "too generic"), new FeedbackItem("Billing issue", "Money.", "not a real email")],
            [new FeedbackEdit("Billing issue", "Charged twice.", "Hi, invoice INV-2231 was charged twice on my Visa, please refund one.")]);
        var user = PromptBuilder.Build(Support(), [], [], feedback, 1).User;
        Assert.Contains("Rejected 3 samples", user);
        Assert.Contains("too generic (×2)", user);
        Assert.Contains("[outage] \"The app is down.\" — too generic", user);
        Assert.Contains("not a real email", user);
        Assert.Contains("[Billing issue] \"Charged twice.\" → \"Hi, invoice INV-2231 was charged twice on my Visa, please refund one.\"", user);
        Assert.DoesNotContain("Reviewer feedback", PromptBuilder.Build(Support(), [], [], new GenerationFeedback([], []), 1).User);
    }

    [Fact]
    public void Long_feedback_lists_are_capped()
    {
        var many = Enumerable.Range(0, 25).Select(i => new FeedbackItem("outage", $"text {i}", "dull")).ToList();
        var user = PromptBuilder.Build(Support(), [], [], new GenerationFeedback(many, []), 1).User;
        Assert.Contains("(and 15 more)", user);
        Assert.Contains("text 24", user);
        Assert.DoesNotContain("\"text 14\"", user);
    }

    [Fact]
    public void Seed_varies_the_hint_and_nothing_else()
    {
        var hints = Enumerable.Range(0, 40).Select(seed => PromptBuilder.Build(Support(), [Demo], [], null, seed)).ToList();
        Assert.True(hints.Select(p => p.User).Distinct().Count() > 3);
        Assert.Single(hints.Select(p => p.System).Distinct());
        Assert.Equal(PromptBuilder.Build(Support(), [Demo], [], null, 7), PromptBuilder.Build(Support(), [Demo], [], null, 7));
        Assert.All(hints, p => Assert.Contains(PromptBuilder.VariationHints, h => p.User.Contains(h, StringComparison.Ordinal)));
    }
}
