using System.Text.Json.Serialization;

namespace Incubator.Domain.Tasks;

/// <summary>What the classifier should do: an instruction and labels defined together. This record is also the JSON
/// shape of import/export, the CLI and the API (camelCase; optional fields may be omitted).</summary>
public sealed record TaskSpec
{
    public string Name { get; init; } = "";

    public string Instruction { get; init; } = "";

    public IReadOnlyList<LabelSpec> Labels { get; init; } = [];

    public TaskPreferences Preferences { get; init; } = new();

    /// <summary>The single label meaning "none of the other labels", if there is one.</summary>
    [JsonIgnore]
    public LabelSpec? OtherLabel => Labels.FirstOrDefault(l => l.IsOther);
}

public sealed record LabelSpec
{
    public string Name { get; init; } = "";

    /// <summary>One-sentence definition, read by the generator and by reviewers.</summary>
    public string Description { get; init; } = "";

    /// <summary>True for the "none of the above" label; generation asks for near-miss texts for it.</summary>
    public bool IsOther { get; init; }

    /// <summary>Optional texts that belong to this label.</summary>
    public IReadOnlyList<string> Examples { get; init; } = [];

    /// <summary>Optional texts that look close but do not belong to this label.</summary>
    public IReadOnlyList<string> CounterExamples { get; init; } = [];
}

[JsonConverter(typeof(JsonStringEnumConverter<TextType>))]
public enum TextType
{
    Free,
    Tweet,
    Email,
    Review,
    Question,
    Headline,
    Chat,
}

public sealed record TaskPreferences
{
    /// <summary>BCP 47 language of the texts, e.g. "en" or "ja".</summary>
    public string Language { get; init; } = "en";

    public TextType TextType { get; init; } = TextType.Free;

    /// <summary>Length in words, for languages written with spaces.</summary>
    public int? MinWords { get; init; }

    public int? MaxWords { get; init; }

    /// <summary>Length in characters, for languages written without spaces (Japanese, Chinese).</summary>
    public int? MinChars { get; init; }

    public int? MaxChars { get; init; }

    public string? Tone { get; init; }

    public string? Domain { get; init; }

    public IReadOnlyList<string> Include { get; init; } = [];

    public IReadOnlyList<string> Avoid { get; init; } = [];

    public string? Notes { get; init; }
}
