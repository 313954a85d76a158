using Incubator.Domain.Common;
using Incubator.Domain.Tasks;

namespace Incubator.Tests.Tasks;

public sealed class TaskSpecValidatorTests
{
    internal static TaskSpec Valid() => new()
    {
        Name = "Tickets",
        Instruction = "Sort support tickets by what the customer needs.",
        Labels =
        [
            new LabelSpec { Name = "billing", Description = "Invoices, charges, refunds." },
            new LabelSpec { Name = "outage", Description = "The service is down." },
            new LabelSpec { Name = "other", Description = "None of the above.", IsOther = true },
        ],
    };

    private static DomainError Single(TaskSpec spec, string code)
    {
        var errors = TaskSpecValidator.Validate(spec);
        return Assert.Single(errors, e => e.Code == code);
    }

    private static LabelSpec[] Labels(int n) =>
        Enumerable.Range(1, n).Select(i => new LabelSpec { Name = $"label {i}", Description = $"Definition {i}." }).ToArray();

    [Fact]
    public void A_valid_spec_has_no_errors_and_empty_definitions_are_allowed()
    {
        Assert.Empty(TaskSpecValidator.Validate(Valid()));
        var noDefinitions = Valid() with { Labels = [new LabelSpec { Name = "a" }, new LabelSpec { Name = "b" }] };
        Assert.Empty(TaskSpecValidator.Validate(noDefinitions));
        TaskSpecValidator.EnsureValid(Valid());
    }

    [Fact]
    public void Name_is_required_and_limited()
    {
        Assert.Equal("name", Single(Valid() with { Name = "  " }, "TaskNameRequired").Field);
        var e = Single(Valid() with { Name = new string('n', 201) }, "TaskNameTooLong");
        Assert.Equal(new object[] { 200, 201 }, e.Args);
        Assert.Empty(TaskSpecValidator.Validate(Valid() with { Name = new string('n', 200) }));
    }

    [Fact]
    public void Instruction_is_required_and_limited_to_4000()
    {
        Assert.Equal("instruction", Single(Valid() with { Instruction = "" }, "InstructionRequired").Field);
        var e = Single(Valid() with { Instruction = new string('i', 4001) }, "InstructionTooLong");
        Assert.Equal(("instruction", 4000, 4001), (e.Field, e.Args[0], e.Args[1]));
        Assert.Empty(TaskSpecValidator.Validate(Valid() with { Instruction = new string('i', 4000) }));
    }

    [Fact]
    public void Fewer_than_two_and_more_than_a_hundred_labels()
    {
        var few = Single(Valid() with { Labels = Labels(1) }, "TooFewLabels");
        Assert.Equal(("labels", 2, 1), (few.Field, few.Args[0], few.Args[1]));
        Assert.Equal("TooFewLabels", Assert.Single(TaskSpecValidator.Validate(Valid() with { Labels = [] })).Code);
        var many = Single(Valid() with { Labels = Labels(101) }, "TooManyLabels");
        Assert.Equal(("labels", 100, 101), (many.Field, many.Args[0], many.Args[1]));
        Assert.Empty(TaskSpecValidator.Validate(Valid() with { Labels = Labels(100) }));
        Assert.Empty(TaskSpecValidator.Validate(Valid() with { Labels = Labels(2) }));
    }

    [Fact]
    public void Label_names_are_required_and_at_most_64_characters()
    {
        var spec = Valid() with { Labels = [.. Valid().Labels, new LabelSpec { Name = " " }, new LabelSpec { Name = new string('x', 65) }] };
        var errors = TaskSpecValidator.Validate(spec);
        Assert.Contains(errors, e => e is { Field: "labels[3].name", Code: "LabelNameRequired" });
        var tooLong = Assert.Single(errors, e => e.Code == "LabelNameTooLong");
        Assert.Equal("labels[4].name", tooLong.Field);
        Assert.Equal(new object[] { 5, 64, 65 }, tooLong.Args);
        Assert.Empty(TaskSpecValidator.Validate(Valid() with { Labels = [.. Valid().Labels, new LabelSpec { Name = new string('x', 64) }] }));
    }

    [Theory]
    [InlineData("Billing")]
    [InlineData("BILLING")]
    [InlineData(" bil ling ")]
    [InlineData("bil\tling")]
    [InlineData("ＢＩＬＬＩＮＧ")]
    public void Duplicate_label_names_differing_only_by_case_or_spaces(string duplicate)
    {
        var spec = Valid() with { Labels = [.. Valid().Labels, new LabelSpec { Name = duplicate, Description = "Again." }] };
        var e = Single(spec, "LabelNameDuplicate");
        Assert.Equal("labels[3].name", e.Field);
        Assert.Contains(duplicate.Trim(), e.Message);
        Assert.Contains("'billing'", e.Message);
        Assert.Equal(new object[] { duplicate.Trim(), "billing", 4, 1 }, e.Args);
    }

    [Theory]
    [InlineData("bil\u200Bling")]   // a zero-width space pasted with the name
    [InlineData("\uFEFFBilling")]   // a byte-order mark
    [InlineData("bil\u00ADling")]   // a soft hyphen
    public void Label_names_differing_only_by_invisible_characters_are_duplicates(string duplicate)
    {
        var spec = Valid() with { Labels = [.. Valid().Labels, new LabelSpec { Name = duplicate, Description = "Again." }] };
        Assert.Equal("labels[3].name", Single(spec, "LabelNameDuplicate").Field);
    }

    [Theory]
    [InlineData("bill\ting")]
    [InlineData("bill\ning")]
    [InlineData("bill\u0085ing")]
    [InlineData("bill\u0007ing")]
    public void Label_names_with_a_control_character_are_refused_with_the_label_number(string name)
    {
        var labels = Valid().Labels.ToArray();
        labels[1] = labels[1] with { Name = name };
        var e = Single(Valid() with { Labels = labels }, "LabelNameControlCharacter");
        Assert.Equal(("labels[1].name", 2), (e.Field, e.Args[0]));
        Assert.Contains("control character", e.Message);
    }

    [Fact]
    public void A_label_name_of_only_invisible_characters_is_missing_and_emoji_and_japanese_names_are_fine()
    {
        var labels = Valid().Labels.ToArray();
        labels[1] = labels[1] with { Name = "\u200B\u200D" };
        Assert.Equal("labels[1].name", Single(Valid() with { Labels = labels }, "LabelNameRequired").Field);
        labels[1] = labels[1] with { Name = "🔥 緊急" };
        Assert.Empty(TaskSpecValidator.Validate(Valid() with { Labels = labels }));
    }

    [Fact]
    public void Definition_over_1000_characters()
    {
        var labels = Valid().Labels.ToArray();
        labels[1] = labels[1] with { Description = new string('d', 1001) };
        var e = Single(Valid() with { Labels = labels }, "LabelDefinitionTooLong");
        Assert.Equal("labels[1].description", e.Field);
        Assert.Equal(new object[] { "outage", 1000, 1001 }, e.Args);
        labels[1] = labels[1] with { Description = new string('d', 1000) };
        Assert.Empty(TaskSpecValidator.Validate(Valid() with { Labels = labels }));
    }

    [Fact]
    public void Two_other_labels()
    {
        var labels = Valid().Labels.ToArray();
        labels[0] = labels[0] with { IsOther = true };
        var e = Single(Valid() with { Labels = labels }, "TooManyOtherLabels");
        Assert.Equal("labels[2].isOther", e.Field);
        Assert.Contains("billing, other", e.Message);
    }

    [Fact]
    public void Examples_too_long_and_too_many()
    {
        var labels = Valid().Labels.ToArray();
        labels[0] = labels[0] with { Examples = ["fine", new string('e', 2001)] };
        labels[1] = labels[1] with { Examples = Enumerable.Range(0, 21).Select(i => $"ex {i}").ToArray(), CounterExamples = [new string('c', 2001)] };
        var errors = TaskSpecValidator.Validate(Valid() with { Labels = labels });
        Assert.Contains(errors, e => e is { Field: "labels[0].examples[1]", Code: "ExampleTooLong" });
        Assert.Contains(errors, e => e is { Field: "labels[1].counterExamples[0]", Code: "ExampleTooLong" });
        var many = Assert.Single(errors, e => e.Code == "TooManyExamples");
        Assert.Equal("labels[1].examples", many.Field);
        Assert.Equal(new object[] { "outage", 20, 21 }, many.Args);
    }

    [Theory]
    [InlineData(10, 5, "preferences.minWords")]
    [InlineData(-1, null, "preferences.minWords")]
    [InlineData(null, -3, "preferences.maxWords")]
    public void Length_range_invalid(int? min, int? max, string field)
    {
        var spec = Valid() with { Preferences = new TaskPreferences { MinWords = min, MaxWords = max } };
        Assert.Equal(field, Single(spec, "LengthRangeInvalid").Field);
    }

    [Fact]
    public void Character_ranges_are_checked_too()
    {
        var spec = Valid() with { Preferences = new TaskPreferences { Language = "ja", MinChars = 50, MaxChars = 10 } };
        Assert.Equal("preferences.minChars", Single(spec, "LengthRangeInvalid").Field);
        Assert.Empty(TaskSpecValidator.Validate(Valid() with { Preferences = new TaskPreferences { Language = "ja", MinChars = 10, MaxChars = 50 } }));
        Assert.Empty(TaskSpecValidator.Validate(Valid() with { Preferences = new TaskPreferences { MinWords = 0, MaxWords = 0 } }));
    }

    [Theory]
    [InlineData("ja", 10, null, null, "preferences.minWords")]
    [InlineData("zh-Hant", null, 40, null, "preferences.maxWords")]
    [InlineData("en", null, null, 280, "preferences.maxChars")]
    public void Length_unit_must_fit_the_language(string language, int? minWords, int? maxWords, int? maxChars, string field)
    {
        var spec = Valid() with { Preferences = new TaskPreferences { Language = language, MinWords = minWords, MaxWords = maxWords, MaxChars = maxChars } };
        var e = Single(spec, "LengthUnitMismatch");
        Assert.Equal(field, e.Field);
        Assert.Equal(language, e.Args[0]);
    }

    [Theory]
    [InlineData("")]
    [InlineData("english")]
    [InlineData("e")]
    [InlineData("en_US")]
    [InlineData("日本語")]
    public void Language_must_be_a_language_code(string language)
    {
        var e = Single(Valid() with { Preferences = new TaskPreferences { Language = language } }, "LanguageInvalid");
        Assert.Equal("preferences.language", e.Field);
    }

    [Theory]
    [InlineData("en")]
    [InlineData("ja")]
    [InlineData("pt-BR")]
    [InlineData("zh-Hans")]
    public void Language_codes_accepted(string language) =>
        Assert.Empty(TaskSpecValidator.Validate(Valid() with { Preferences = new TaskPreferences { Language = language } }));

    [Fact]
    public void Every_problem_is_reported_at_once()
    {
        var spec = new TaskSpec
        {
            Name = "",
            Instruction = "",
            Labels = [new LabelSpec { Name = "" }],
            Preferences = new TaskPreferences { Language = "xx-", MinWords = 5, MaxWords = 1 },
        };
        var codes = TaskSpecValidator.Validate(spec).Select(e => e.Code).ToList();
        Assert.Equal(["TaskNameRequired", "InstructionRequired", "TooFewLabels", "LabelNameRequired", "LanguageInvalid", "LengthRangeInvalid"], codes);
        var ex = Assert.Throws<DomainValidationException>(() => TaskSpecValidator.EnsureValid(spec));
        Assert.Equal(6, ex.Details.Count);
    }
}
