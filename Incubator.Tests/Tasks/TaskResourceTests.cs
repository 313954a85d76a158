using System.Xml.Linq;

namespace Incubator.Tests.Tasks;

/// <summary>Task error codes are built with computed field paths, which the source scan in LocalizationTests cannot
/// see, so they are listed here.</summary>
public sealed class TaskResourceTests
{
    public static readonly TheoryData<string> Codes =
    [
        "JsonTooLarge", "JsonMalformed", "UnknownField", "DuplicateField", "WrongType", "TextTypeInvalid",
        "TaskNameRequired", "TaskNameTooLong", "InstructionRequired", "InstructionTooLong", "TooFewLabels", "TooManyLabels",
        "LabelNameRequired", "LabelNameTooLong", "LabelNameControlCharacter", "LabelNameDuplicate", "LabelDefinitionTooLong", "TooManyOtherLabels",
        "LengthRangeInvalid", "LengthUnitMismatch", "LanguageInvalid", "ExampleTooLong", "TooManyExamples",
        "CommentTooLong", "TemplateVariableMissing", "TemplateNotFound", "TemplateNameRequired", "TemplateNameTooLong",
        "TemplateDescriptionTooLong", "ProjectArchived",
    ];

    private static HashSet<string> Keys(string file) =>
        XDocument.Load(Path.Combine(Incubator.Tests.Infrastructure.Repo.Root, "Incubator.Web", "Resources", file)).Root!
            .Elements("data").Select(d => (string)d.Attribute("name")!).ToHashSet();

    [Theory]
    [MemberData(nameof(Codes))]
    public void Every_task_error_code_is_translated(string code)
    {
        Assert.Contains("Error." + code, Keys("SharedResource.resx"));
        Assert.Contains("Error." + code, Keys("SharedResource.ja.resx"));
    }
}
