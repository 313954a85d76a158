using System.Text;
using System.Text.RegularExpressions;
using Incubator.Domain.Common;

namespace Incubator.Domain.Tasks;

/// <summary>The content rules of a task. Returns every problem at once, each with the path of the field it belongs to
/// (<c>labels[3].name</c>, <c>preferences.minWords</c>...), a stable code and English message; the Args are listed
/// per code below so the UI can format its own translation.</summary>
/// <remarks>
/// Args per code: TaskNameRequired (), TaskNameTooLong (max, actual), InstructionRequired (),
/// InstructionTooLong (max, actual), TooFewLabels (min, actual), TooManyLabels (max, actual),
/// LabelNameRequired (label number), LabelNameTooLong (label number, max, actual), LabelNameControlCharacter (label number),
/// LabelNameDuplicate (this name, other name, this number, other number),
/// LabelDefinitionTooLong (label name, max, actual), TooManyOtherLabels (label names joined by ", ", count),
/// LengthRangeInvalid (min, max; either may be "" when not set), LengthUnitMismatch (language, unit used,
/// unit expected), LanguageInvalid (language), TextTypeInvalid (value), ExampleTooLong (label name, max, actual),
/// TooManyExamples (label name, max, actual). Label numbers are 1-based, as shown to people.
///
/// Length units: one unit per language. Languages written without spaces between words (ja, zh, th, lo, km, my, bo)
/// take minChars/maxChars; all others take minWords/maxWords. Setting the other unit is LengthUnitMismatch in both
/// directions, so the generator and the length filter never have to reconcile two ranges.
/// Empty definitions are not errors here: the hints feature warns about them.
/// </remarks>
public static partial class TaskSpecValidator
{
    public const int MinLabels = 2;
    public const int MaxLabels = 100;
    public const int MaxLabelNameLength = Common.InputLimits.LabelName;
    public const int MaxDefinitionLength = 1000;
    public const int MaxInstructionLength = 4000;
    public const int MaxNameLength = 200;
    public const int MaxExamplesPerLabel = 20;
    public const int MaxExampleLength = 2000;

    /// <summary>Primary language subtags of scripts written without spaces between words.</summary>
    public static IReadOnlySet<string> LanguagesWithoutSpaces { get; } =
        new HashSet<string>(["ja", "zh", "yue", "th", "lo", "km", "my", "bo"], StringComparer.OrdinalIgnoreCase);

    [GeneratedRegex("^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{1,8})*$")]
    private static partial Regex LanguageTag();

    /// <summary>True when lengths for <paramref name="language"/> are counted in characters rather than words.</summary>
    public static bool CountsCharacters(string? language)
    {
        var primary = (language ?? "").Trim().Split('-', '_')[0];
        return LanguagesWithoutSpaces.Contains(primary);
    }

    /// <summary>The key two label names are compared by: case, width, all whitespace and invisible format characters
    /// (a zero-width space or joiner, a soft hyphen, a byte-order mark pasted with a name) ignored ("Billing issue",
    /// "billingissue", "billing\u200Bissue" and "ＢＩＬＬＩＮＧ　ＩＳＳＵＥ" collide).</summary>
    public static string LabelKey(string? name)
    {
        var normalized = (name ?? "").Normalize(NormalizationForm.FormKC);
        var sb = new StringBuilder(normalized.Length);
        foreach (var c in normalized)
            if (!char.IsWhiteSpace(c) && char.GetUnicodeCategory(c) != System.Globalization.UnicodeCategory.Format) sb.Append(char.ToLowerInvariant(c));
        return sb.ToString();
    }

    public static IReadOnlyList<DomainError> Validate(TaskSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var errors = new List<DomainError>();
        void Add(string field, string code, string message, params object[] args) => errors.Add(new(field, code, message, args));

        var name = (spec.Name ?? "").Trim();
        if (name.Length == 0) Add("name", "TaskNameRequired", "Give the task a name.");
        else if (name.Length > MaxNameLength)
            Add("name", "TaskNameTooLong", $"The task name must be at most {MaxNameLength} characters (it has {name.Length}).", MaxNameLength, name.Length);

        var instruction = (spec.Instruction ?? "").Trim();
        if (instruction.Length == 0) Add("instruction", "InstructionRequired", "Write the instruction: what should the classifier decide?");
        else if (instruction.Length > MaxInstructionLength)
            Add("instruction", "InstructionTooLong", $"The instruction must be at most {MaxInstructionLength} characters (it has {instruction.Length}).", MaxInstructionLength, instruction.Length);

        var labels = spec.Labels ?? [];
        if (labels.Count < MinLabels)
            Add("labels", "TooFewLabels", $"A classifier needs at least {MinLabels} labels (this task has {labels.Count}).", MinLabels, labels.Count);
        else if (labels.Count > MaxLabels)
            Add("labels", "TooManyLabels", $"A task can have at most {MaxLabels} labels (this one has {labels.Count}).", MaxLabels, labels.Count);

        var firstByKey = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < labels.Count; i++)
        {
            var label = labels[i] ?? new LabelSpec();
            var path = $"labels[{i}]";
            var labelName = (label.Name ?? "").Trim();
            var shown = labelName.Length == 0 ? $"#{i + 1}" : labelName;
            if (labelName.Length == 0 || LabelKey(labelName).Length == 0)
                Add($"{path}.name", "LabelNameRequired", $"Label {i + 1} needs a name.", i + 1);
            else if (labelName.Length > MaxLabelNameLength)
                Add($"{path}.name", "LabelNameTooLong", $"The name of label {i + 1} must be at most {MaxLabelNameLength} characters (it has {labelName.Length}).", i + 1, MaxLabelNameLength, labelName.Length);
            else if (labelName.Any(char.IsControl))
                // A tab or line break inside a name would split every label<TAB>text row written with it (exports,
                // the CLI's files) and cannot be typed back when reviewing.
                Add($"{path}.name", "LabelNameControlCharacter",
                    $"The name of label {i + 1} contains a tab, line break or other control character; use letters, digits, spaces and punctuation.", i + 1);
            if (LabelKey(labelName).Length > 0)
            {
                var key = LabelKey(labelName);
                if (firstByKey.TryGetValue(key, out var first))
                {
                    var other = (labels[first]?.Name ?? "").Trim();
                    Add($"{path}.name", "LabelNameDuplicate",
                        $"Label {i + 1} '{labelName}' is the same as label {first + 1} '{other}': label names must differ by more than case or spaces.",
                        labelName, other, i + 1, first + 1);
                }
                else firstByKey[key] = i;
            }

            var definition = (label.Description ?? "").Trim();
            if (definition.Length > MaxDefinitionLength)
                Add($"{path}.description", "LabelDefinitionTooLong", $"The definition of '{shown}' must be at most {MaxDefinitionLength} characters (it has {definition.Length}).", shown, MaxDefinitionLength, definition.Length);

            CheckExamples(label.Examples, $"{path}.examples", shown, Add);
            CheckExamples(label.CounterExamples, $"{path}.counterExamples", shown, Add);
        }

        var others = labels.Select((l, i) => (Label: l, Index: i)).Where(x => x.Label?.IsOther == true).ToList();
        if (others.Count > 1)
        {
            var names = string.Join(", ", others.Select(o => (o.Label.Name ?? "").Trim()));
            Add($"labels[{others[1].Index}].isOther", "TooManyOtherLabels",
                $"Only one label can mean \"none of the others\"; {others.Count} are marked: {names}.", names, others.Count);
        }

        ValidatePreferences(spec.Preferences ?? new TaskPreferences(), Add);
        return errors;
    }

    public static void EnsureValid(TaskSpec spec)
    {
        var errors = Validate(spec);
        if (errors.Count > 0) throw new DomainValidationException(errors);
    }

    private delegate void AddError(string field, string code, string message, params object[] args);

    private static void CheckExamples(IReadOnlyList<string>? examples, string path, string labelName, AddError add)
    {
        if (examples is null) return;
        if (examples.Count > MaxExamplesPerLabel)
            add(path, "TooManyExamples", $"'{labelName}' can have at most {MaxExamplesPerLabel} texts here (it has {examples.Count}).", labelName, MaxExamplesPerLabel, examples.Count);
        for (var k = 0; k < examples.Count; k++)
        {
            var length = (examples[k] ?? "").Trim().Length;
            if (length > MaxExampleLength)
                add($"{path}[{k}]", "ExampleTooLong", $"An example of '{labelName}' must be at most {MaxExampleLength} characters (it has {length}).", labelName, MaxExampleLength, length);
        }
    }

    private static void ValidatePreferences(TaskPreferences p, AddError add)
    {
        var language = (p.Language ?? "").Trim();
        var languageOk = LanguageTag().IsMatch(language);
        if (!languageOk)
            add("preferences.language", "LanguageInvalid", $"'{language}' is not a language code; use a code such as en or ja.", language);
        if (!Enum.IsDefined(p.TextType))
        {
            var allowed = string.Join(", ", TaskJson.TextTypeNames);
            add("preferences.textType", "TextTypeInvalid", $"'{p.TextType}' is not a text type. Use one of: {allowed}.", p.TextType.ToString(), allowed);
        }

        CheckRange(p.MinWords, p.MaxWords, "Words", add);
        CheckRange(p.MinChars, p.MaxChars, "Chars", add);

        if (!languageOk) return;
        var chars = CountsCharacters(language);
        if (chars && (p.MinWords is not null || p.MaxWords is not null))
            add(p.MinWords is not null ? "preferences.minWords" : "preferences.maxWords", "LengthUnitMismatch",
                $"'{language}' is written without spaces between words, so give the length in characters (minChars/maxChars), not words.",
                language, "words", "characters");
        if (!chars && (p.MinChars is not null || p.MaxChars is not null))
            add(p.MinChars is not null ? "preferences.minChars" : "preferences.maxChars", "LengthUnitMismatch",
                $"Texts in '{language}' are measured in words; give the length as minWords/maxWords, not characters.",
                language, "characters", "words");
    }

    private static void CheckRange(int? min, int? max, string unit, AddError add)
    {
        object[] args = [min?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "", max?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? ""];
        if (min < 0)
            add($"preferences.min{unit}", "LengthRangeInvalid", $"The minimum length cannot be negative ({min}).", args);
        if (max < 0)
            add($"preferences.max{unit}", "LengthRangeInvalid", $"The maximum length cannot be negative ({max}).", args);
        if (min >= 0 && max >= 0 && min > max)
            add($"preferences.min{unit}", "LengthRangeInvalid", $"The minimum length ({min}) is larger than the maximum ({max}).", args);
    }
}
