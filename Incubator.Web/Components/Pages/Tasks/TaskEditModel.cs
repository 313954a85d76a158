using Incubator.Domain.Tasks;

namespace Incubator.Web.Components.Pages.Tasks;

/// <summary>The editor's mutable copy of a <see cref="TaskSpec"/>. Lists of examples are edited as one text per line.</summary>
public sealed class TaskEditModel
{
    public string Name { get; set; } = "";
    public string Instruction { get; set; } = "";
    public List<LabelEditModel> Labels { get; set; } = [];
    public string Language { get; set; } = "en";
    public TextType TextType { get; set; } = TextType.Free;
    public int? MinLength { get; set; }
    public int? MaxLength { get; set; }
    public string Tone { get; set; } = "";
    public string Domain { get; set; } = "";
    public string Include { get; set; } = "";
    public string Avoid { get; set; } = "";
    public string Notes { get; set; } = "";

    /// <summary>Languages written without spaces measure length in characters, others in words.</summary>
    public static bool CountsCharacters(string language) =>
        language.Split('-')[0].ToLowerInvariant() is "ja" or "zh" or "th" or "lo" or "km" or "my";

    public bool UsesCharacters => CountsCharacters(Language);

    public static TaskEditModel From(TaskSpec spec)
    {
        var p = spec.Preferences;
        var chars = CountsCharacters(p.Language);
        return new TaskEditModel
        {
            Name = spec.Name,
            Instruction = spec.Instruction,
            Labels = spec.Labels.Select(l => new LabelEditModel
            {
                Name = l.Name, Description = l.Description, IsOther = l.IsOther,
                Examples = string.Join('\n', l.Examples), CounterExamples = string.Join('\n', l.CounterExamples),
            }).ToList(),
            Language = p.Language,
            TextType = p.TextType,
            MinLength = chars ? p.MinChars ?? p.MinWords : p.MinWords ?? p.MinChars,
            MaxLength = chars ? p.MaxChars ?? p.MaxWords : p.MaxWords ?? p.MaxChars,
            Tone = p.Tone ?? "",
            Domain = p.Domain ?? "",
            Include = string.Join('\n', p.Include),
            Avoid = string.Join('\n', p.Avoid),
            Notes = p.Notes ?? "",
        };
    }

    public TaskSpec ToSpec()
    {
        var chars = UsesCharacters;
        return new TaskSpec
        {
            Name = Name,
            Instruction = Instruction,
            Labels = Labels.Select(l => new LabelSpec
            {
                Name = l.Name, Description = l.Description, IsOther = l.IsOther,
                Examples = Lines(l.Examples), CounterExamples = Lines(l.CounterExamples),
            }).ToList(),
            Preferences = new TaskPreferences
            {
                Language = Language,
                TextType = TextType,
                MinWords = chars ? null : MinLength,
                MaxWords = chars ? null : MaxLength,
                MinChars = chars ? MinLength : null,
                MaxChars = chars ? MaxLength : null,
                Tone = Blank(Tone),
                Domain = Blank(Domain),
                Include = Lines(Include),
                Avoid = Lines(Avoid),
                Notes = Blank(Notes),
            },
        };
    }

    private static string? Blank(string s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();

    private static IReadOnlyList<string> Lines(string s) =>
        s.Split('\n').Select(x => x.Trim()).Where(x => x.Length > 0).ToList();
}

public sealed class LabelEditModel
{
    /// <summary>Stable identity for Blazor's @key while labels are reordered.</summary>
    public Guid Key { get; } = Guid.NewGuid();
    public string Name { get; set; } = "";
    public string Description { get; set; } = "";
    public bool IsOther { get; set; }
    public string Examples { get; set; } = "";
    public string CounterExamples { get; set; } = "";
    public bool ShowExamples { get; set; }
}
