using Incubator.Domain.Generation;
using Incubator.Domain.Tasks;

namespace Incubator.Tests.Generation;

public sealed class SampleValidatorTests
{
    private static TaskSpec English(int? minWords = 5, int? maxWords = 20) => new()
    {
        Name = "Reviews",
        Instruction = "Classify customer reviews of kitchen appliances by sentiment: is the customer happy with the product or not?",
        Labels =
        [
            new LabelSpec { Name = "positive", Description = "Happy", Examples = ["Best kettle I have ever owned, boils in a minute."] },
            new LabelSpec { Name = "negative", Description = "Unhappy", CounterExamples = ["Not bad at all for the price."] },
        ],
        Preferences = new TaskPreferences { Language = "en", MinWords = minWords, MaxWords = maxWords },
    };

    private static TaskSpec Japanese(int? minChars = 10, int? maxChars = 40) => new()
    {
        Name = "レビュー",
        Instruction = "家電製品のレビューを、購入者が満足しているかどうかで分類してください。",
        Labels = [new LabelSpec { Name = "肯定的" }, new LabelSpec { Name = "否定的" }],
        Preferences = new TaskPreferences { Language = "ja", MinChars = minChars, MaxChars = maxChars },
    };

    private static RejectReason? Check(string text, TaskSpec spec, params string[] demos)
        => SampleValidator.Check(new ParsedPiece(spec.Labels[0].Name, text, 0), spec, demos)?.Reason;

    private static string Words(int n) => string.Join(' ', Enumerable.Range(0, n).Select(i => $"word{i}"));

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("\n\t ")]
    public void Whitespace_is_empty(string text) => Assert.Equal(RejectReason.Empty, Check(text, English()));

    [Theory]
    [InlineData(2, RejectReason.TooShort)] // min 5, slack 2: 3 is the shortest accepted
    [InlineData(3, null)]
    [InlineData(5, null)]
    [InlineData(20, null)]
    [InlineData(24, null)] // max 20, slack max(2, 20% of 20) = 4
    [InlineData(25, RejectReason.TooLong)]
    public void English_length_is_counted_in_words_with_tolerance(int words, RejectReason? expected)
        => Assert.Equal(expected, Check(Words(words), English()));

    [Fact]
    public void Punctuation_alone_is_not_a_word()
    {
        Assert.Equal(3, SampleValidator.CountWords("Great  kettle — really!"));
        Assert.Equal(RejectReason.TooShort, Check("Great — !", English()));
    }

    [Fact]
    public void Without_length_preferences_any_length_passes()
        => Assert.Null(Check(Words(300), English(null, null)));

    [Theory]
    [InlineData(7, RejectReason.TooShort)] // min 10, slack 2
    [InlineData(8, null)]
    [InlineData(48, null)] // max 40, slack 8
    [InlineData(49, RejectReason.TooLong)]
    public void Japanese_length_is_counted_in_characters_with_tolerance(int chars, RejectReason? expected)
        => Assert.Equal(expected, Check(new string('あ', chars), Japanese()));

    [Fact]
    public void Japanese_characters_exclude_whitespace_and_count_surrogate_pairs_once()
    {
        Assert.Equal(5, SampleValidator.CountCharacters("あいう　え お"));
        Assert.Equal(3, SampleValidator.CountCharacters("𠮷野家"));
        // Seven characters plus spaces is still too short for minChars 10.
        Assert.Equal(RejectReason.TooShort, Check("と て も 良 い で す", Japanese()));
        Assert.Null(Check("とても良い商品でした。", Japanese()));
    }

    [Fact]
    public void Tolerance_is_twenty_percent_with_at_least_two_units()
    {
        Assert.Equal(2, SampleValidator.Slack(1));
        Assert.Equal(2, SampleValidator.Slack(10));
        Assert.Equal(4, SampleValidator.Slack(20));
        Assert.Equal(20, SampleValidator.Slack(100));
    }

    [Fact]
    public void Repeating_the_instruction_is_a_copy()
    {
        var spec = English(null, null);
        Assert.Equal(RejectReason.CopiesInstruction, Check("\"classify customer reviews of kitchen appliances by sentiment: is the customer happy with the product or not\"", spec));
        // A long part of the instruction, or the instruction with something appended.
        Assert.Equal(RejectReason.CopiesInstruction, Check("Classify customer reviews of kitchen appliances", spec));
        Assert.Equal(RejectReason.CopiesInstruction, Check(spec.Instruction + " Positive.", spec));
        // A short word that happens to occur in the instruction is a legitimate sample.
        Assert.Null(Check("Happy with the product", spec));
    }

    [Fact]
    public void Japanese_instruction_copy_uses_the_character_threshold()
    {
        var spec = Japanese(null, null);
        Assert.Equal(RejectReason.CopiesInstruction, Check("家電製品のレビューを、購入者が満足している", spec));
        Assert.Null(Check("家電製品", spec));
    }

    [Fact]
    public void Copying_a_demonstration_or_an_example_is_rejected_after_normalisation()
    {
        var spec = English(null, null);
        Assert.Equal(RejectReason.CopiesDemonstration, Check("“Arrived broken.”", spec, "arrived   broken"));
        Assert.Equal(RejectReason.CopiesDemonstration, Check("best kettle I have ever owned, boils in a minute", spec));
        Assert.Equal(RejectReason.CopiesDemonstration, Check("Not bad at all for the price!", spec));
        Assert.Null(Check("Arrived broken, sent it back.", spec, "Arrived broken."));
    }

    [Fact]
    public void Rejection_carries_label_text_and_detail()
    {
        var spec = English();
        var r = SampleValidator.Check(new ParsedPiece("negative", Words(30), 2), spec, []);
        Assert.NotNull(r);
        Assert.Equal("negative", r.Label);
        Assert.Equal(RejectReason.TooLong, r.Reason);
        Assert.Contains("30 words", r.Detail);
    }
}
