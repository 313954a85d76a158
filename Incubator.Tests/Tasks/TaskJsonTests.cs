using Incubator.Domain.Common;
using Incubator.Domain.Tasks;

namespace Incubator.Tests.Tasks;

public sealed class TaskJsonTests
{
    /// <summary>The shape from the issue: a support-ticket task with an "other" label and e-mail preferences.</summary>
    internal const string IssueExample = """
        {
          "name": "Support ticket routing",
          "instruction": "Sort incoming support e-mails by what the customer needs.",
          "labels": [
            { "name": "billing", "description": "Questions or complaints about invoices, charges or refunds.",
              "examples": ["I was charged twice this month."] },
            { "name": "outage", "description": "The service or a feature is down or unusably slow.",
              "counterExamples": ["Will there be maintenance next week?"] },
            { "name": "account", "description": "Sign-in, password, profile or user management." },
            { "name": "other", "description": "Anything that is none of the above.", "isOther": true }
          ],
          "preferences": { "language": "en", "textType": "email", "minWords": 20, "maxWords": 120,
                           "tone": "polite", "include": ["order numbers"], "avoid": ["real names"] }
        }
        """;

    internal static TaskSpec Sample() => TaskJson.Parse(IssueExample);

    [Fact]
    public void The_issue_example_parses()
    {
        var spec = TaskJson.Parse(IssueExample);
        Assert.Equal("Support ticket routing", spec.Name);
        Assert.Equal(4, spec.Labels.Count);
        Assert.Equal("other", spec.OtherLabel?.Name);
        Assert.Equal(["I was charged twice this month."], spec.Labels[0].Examples);
        Assert.Equal(["Will there be maintenance next week?"], spec.Labels[1].CounterExamples);
        Assert.Equal(TextType.Email, spec.Preferences.TextType);
        Assert.Equal(20, spec.Preferences.MinWords);
        Assert.Equal(120, spec.Preferences.MaxWords);
        Assert.Null(spec.Preferences.MinChars);
        Assert.Equal("polite", spec.Preferences.Tone);
        Assert.Empty(TaskSpecValidator.Validate(spec));
    }

    [Fact]
    public void Serialize_is_minimal_camel_case_and_round_trips()
    {
        var spec = Sample();
        var json = TaskJson.Serialize(spec, indented: false);
        Assert.StartsWith("""{"name":"Support ticket routing","instruction":""", json);
        Assert.Contains("\"textType\":\"email\"", json);
        Assert.Contains("\"isOther\":true", json);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(json, "isOther"));
        Assert.DoesNotContain("null", json);
        Assert.DoesNotContain("minChars", json);
        Assert.DoesNotContain("\"examples\":[]", json);
        Assert.DoesNotContain("notes", json);
        var again = TaskJson.Serialize(TaskJson.Parse(json), indented: false);
        Assert.Equal(json, again);
        Assert.Equal(TaskJson.Serialize(spec), TaskJson.Serialize(TaskJson.Parse(TaskJson.Serialize(spec))));
    }

    [Fact]
    public void Equal_content_gives_byte_identical_json()
    {
        var a = Sample();
        var b = TaskJson.Parse(IssueExample.Replace("\n", "\r\n"));
        Assert.Equal(TaskJson.Serialize(a), TaskJson.Serialize(b));
        Assert.DoesNotContain("\r", TaskJson.Serialize(a));
    }

    [Fact]
    public void Japanese_and_apostrophes_are_written_readably()
    {
        var spec = Sample() with { Name = "問い合わせの振り分け", Instruction = "Don't guess." };
        var json = TaskJson.Serialize(spec);
        Assert.Contains("問い合わせの振り分け", json);
        Assert.Contains("Don't guess.", json);
        Assert.Equal(spec.Name, TaskJson.Parse(json).Name);
    }

    [Fact]
    public void Optional_fields_may_be_omitted()
    {
        var spec = TaskJson.Parse("""{"name":"n","instruction":"i","labels":[{"name":"a"},{"name":"b","description":null}]}""");
        Assert.Equal("en", spec.Preferences.Language);
        Assert.Equal(TextType.Free, spec.Preferences.TextType);
        Assert.Equal("", spec.Labels[1].Description);
        Assert.Empty(spec.Labels[0].Examples);
    }

    [Fact]
    public void Unknown_fields_are_all_reported_with_paths_and_allowed_names()
    {
        var ex = Assert.Throws<DomainValidationException>(() => TaskJson.Parse("""
            {"name":"n","instructions":"i","labels":[{"name":"a"},{"name":"b","descripton":"x"}],
             "preferences":{"langauge":"en","textType":"email"}}
            """));
        var unknown = ex.Details.Where(d => d.Code == "UnknownField").ToList();
        Assert.Equal(["instructions", "labels[1].descripton", "preferences.langauge"], unknown.Select(d => d.Field));
        Assert.Contains("description", unknown[1].Message);
        Assert.Contains("counterExamples", unknown[1].Message);
        Assert.Contains("language", unknown[2].Message);
    }

    [Fact]
    public void Malformed_json_says_line_and_position()
    {
        var ex = Assert.Throws<DomainValidationException>(() => TaskJson.Parse("{\n  \"name\": \"n\",\n  \"instruction\" \"i\"\n}"));
        var error = Assert.Single(ex.Details);
        Assert.Equal("JsonMalformed", error.Code);
        Assert.Equal(3, error.Args[0]);
        Assert.Contains("line 3", error.Message);
        Assert.True((int)error.Args[1] > 1);
    }

    [Fact]
    public void Over_one_megabyte_is_rejected_with_its_size()
    {
        var big = "{\"name\":\"" + new string('x', TaskJson.MaxBytes) + "\"}";
        var ex = Assert.Throws<DomainValidationException>(() => TaskJson.Parse(big));
        var error = Assert.Single(ex.Details);
        Assert.Equal("JsonTooLarge", error.Code);
        Assert.Equal(TaskJson.MaxBytes + 11, error.Args[0]);
        Assert.Contains("1,048,587", error.Message);
    }

    [Fact]
    public void Multi_byte_text_counts_in_utf8_bytes()
    {
        // 400,000 Japanese characters are 1.2 MB in UTF-8.
        var big = "{\"name\":\"" + new string('あ', 400_000) + "\"}";
        Assert.Equal("JsonTooLarge", Assert.Single(Assert.Throws<DomainValidationException>(() => TaskJson.Parse(big)).Details).Code);
    }

    [Fact]
    public void Wrong_types_are_reported_with_paths()
    {
        var ex = Assert.Throws<DomainValidationException>(() => TaskJson.Parse("""
            {"name":5,"instruction":"i","labels":[{"name":"a","isOther":"yes","examples":"one"},{"name":"b","examples":["ok",3]}],
             "preferences":{"minWords":"10","maxWords":2.5,"include":{}}}
            """));
        Assert.All(ex.Details, d => Assert.Equal("WrongType", d.Code));
        Assert.Equal(
            ["name", "labels[0].isOther", "labels[0].examples", "labels[1].examples[1]", "preferences.minWords", "preferences.maxWords", "preferences.include"],
            ex.Details.Select(d => d.Field));
        Assert.Equal("'name' must be a string, not a number.", ex.Details[0].Message);
    }

    [Fact]
    public void Labels_that_are_not_an_array_and_a_root_that_is_not_an_object_are_wrong_types()
    {
        Assert.Equal("labels", Assert.Single(Assert.Throws<DomainValidationException>(() => TaskJson.Parse("""{"labels":"a,b"}""")).Details).Field);
        Assert.Equal("WrongType", Assert.Single(Assert.Throws<DomainValidationException>(() => TaskJson.Parse("[1,2]")).Details).Code);
    }

    [Fact]
    public void Unknown_text_type_lists_the_allowed_ones()
    {
        var ex = Assert.Throws<DomainValidationException>(() => TaskJson.Parse("""{"preferences":{"textType":"letter"}}"""));
        var error = Assert.Single(ex.Details);
        Assert.Equal(("preferences.textType", "TextTypeInvalid"), (error.Field, error.Code));
        Assert.Contains("free, tweet, email, review, question, headline, chat", error.Message);
        Assert.Equal(TextType.Headline, TaskJson.Parse("""{"preferences":{"textType":"Headline"}}""").Preferences.TextType);
    }

    [Fact]
    public void A_repeated_field_is_an_error()
    {
        var ex = Assert.Throws<DomainValidationException>(() => TaskJson.Parse("""{"name":"a","name":"b"}"""));
        Assert.Equal(("name", "DuplicateField"), (ex.Details[0].Field, ex.Details[0].Code));
    }

    [Fact]
    public void Normalize_trims_drops_blanks_and_lower_cases_the_language()
    {
        var spec = new TaskSpec
        {
            Name = "  Tickets ", Instruction = "\tSort them.\n",
            Labels = [new LabelSpec { Name = " billing ", Description = " money ", Examples = ["  a  ", " ", ""], CounterExamples = ["\n"] }],
            Preferences = new TaskPreferences { Language = " EN-GB ", Tone = "  ", Include = ["x ", " "], Avoid = [""] },
        };
        var n = TaskJson.Normalize(spec);
        Assert.Equal("Tickets", n.Name);
        Assert.Equal("Sort them.", n.Instruction);
        Assert.Equal("billing", n.Labels[0].Name);
        Assert.Equal("money", n.Labels[0].Description);
        Assert.Equal(["a"], n.Labels[0].Examples);
        Assert.Empty(n.Labels[0].CounterExamples);
        Assert.Equal("en-gb", n.Preferences.Language);
        Assert.Null(n.Preferences.Tone);
        Assert.Equal(["x"], n.Preferences.Include);
        Assert.Empty(n.Preferences.Avoid);
        Assert.Equal(TaskJson.Serialize(n), TaskJson.Serialize(TaskJson.Normalize(n)));
    }
}
