using System.Globalization;

namespace Incubator.Domain.Tasks;

/// <summary>One readable difference between two task versions. <see cref="Kind"/> is "added", "removed" or
/// "changed"; <see cref="Path"/> names the field, using label names where that is clearer than an index
/// (<c>label "billing" · description</c>).</summary>
public sealed record TaskDiffLine(string Path, string Kind, string? Before, string? After);

/// <summary>Compares two task specs the way a person reads them: labels are matched by name (ignoring case, width and
/// spaces, as <see cref="TaskSpecValidator.LabelKey"/>), so reordering is one "label order" line rather than every
/// label changing, and a label renamed in place (same position or same definition) is a rename rather than a removal
/// plus an addition.</summary>
public static class TaskDiff
{
    public const string Added = "added";
    public const string Removed = "removed";
    public const string Changed = "changed";

    public static IReadOnlyList<TaskDiffLine> Compare(TaskSpec before, TaskSpec after)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        var lines = new List<TaskDiffLine>();
        Text(lines, "name", before.Name, after.Name);
        Text(lines, "instruction", before.Instruction, after.Instruction);
        CompareLabels(lines, before.Labels ?? [], after.Labels ?? []);
        ComparePreferences(lines, before.Preferences ?? new(), after.Preferences ?? new());
        return lines;
    }

    private static void CompareLabels(List<TaskDiffLine> lines, IReadOnlyList<LabelSpec> before, IReadOnlyList<LabelSpec> after)
    {
        // pairs[afterIndex] = beforeIndex
        var pairs = new int?[after.Count];
        var usedBefore = new bool[before.Count];

        // 1. Same name (case/space-insensitive).
        var byKey = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < before.Count; i++) byKey.TryAdd(TaskSpecValidator.LabelKey(before[i].Name), i);
        for (var j = 0; j < after.Count; j++)
        {
            if (byKey.TryGetValue(TaskSpecValidator.LabelKey(after[j].Name), out var i) && !usedBefore[i])
            {
                pairs[j] = i;
                usedBefore[i] = true;
            }
        }
        // 2. Renamed: same non-empty definition, anywhere.
        for (var j = 0; j < after.Count; j++)
        {
            if (pairs[j] is not null || string.IsNullOrWhiteSpace(after[j].Description)) continue;
            for (var i = 0; i < before.Count; i++)
            {
                if (usedBefore[i] || !string.Equals(before[i].Description?.Trim(), after[j].Description.Trim(), StringComparison.Ordinal)) continue;
                pairs[j] = i;
                usedBefore[i] = true;
                break;
            }
        }
        // 3. Renamed in place, neither side having a definition: same position, when no label was added or removed
        //    (otherwise positions shift and "removed x, added y" is the honest reading).
        if (before.Count == after.Count)
        {
            for (var j = 0; j < after.Count; j++)
            {
                if (pairs[j] is not null || usedBefore[j]) continue;
                if (!string.IsNullOrWhiteSpace(before[j].Description) || !string.IsNullOrWhiteSpace(after[j].Description)) continue;
                pairs[j] = j;
                usedBefore[j] = true;
            }
        }

        for (var i = 0; i < before.Count; i++)
            if (!usedBefore[i])
                lines.Add(new($"label \"{before[i].Name}\"", Removed, Summary(before[i]), null));

        for (var j = 0; j < after.Count; j++)
        {
            var a = after[j];
            if (pairs[j] is not { } i)
            {
                lines.Add(new($"label \"{a.Name}\"", Added, null, Summary(a)));
                continue;
            }
            var b = before[i];
            if (!string.Equals(b.Name, a.Name, StringComparison.Ordinal))
                lines.Add(new($"labels[{j}].name", Changed, b.Name, a.Name));
            var prefix = $"label \"{a.Name}\" · ";
            Text(lines, prefix + "description", b.Description, a.Description);
            if (b.IsOther != a.IsOther)
                lines.Add(new(prefix + "isOther", Changed, b.IsOther ? "true" : "false", a.IsOther ? "true" : "false"));
            List(lines, prefix + "examples", b.Examples, a.Examples);
            List(lines, prefix + "counterExamples", b.CounterExamples, a.CounterExamples);
        }

        // Order: compare the relative order of the labels present on both sides.
        var keptInBeforeOrder = Enumerable.Range(0, after.Count).Where(j => pairs[j] is not null).OrderBy(j => pairs[j]).ToList();
        var keptInAfterOrder = Enumerable.Range(0, after.Count).Where(j => pairs[j] is not null).ToList();
        if (!keptInBeforeOrder.SequenceEqual(keptInAfterOrder))
            lines.Add(new("label order", Changed, string.Join(", ", before.Select(l => l.Name)), string.Join(", ", after.Select(l => l.Name))));
    }

    private static string Summary(LabelSpec l)
    {
        var s = string.IsNullOrWhiteSpace(l.Description) ? l.Name : $"{l.Name}: {l.Description}";
        return l.IsOther ? s + " (other)" : s;
    }

    private static void ComparePreferences(List<TaskDiffLine> lines, TaskPreferences b, TaskPreferences a)
    {
        Text(lines, "preferences.language", b.Language, a.Language);
        Text(lines, "preferences.textType", TaskJson.TextTypeName(b.TextType), TaskJson.TextTypeName(a.TextType));
        Number(lines, "preferences.minWords", b.MinWords, a.MinWords);
        Number(lines, "preferences.maxWords", b.MaxWords, a.MaxWords);
        Number(lines, "preferences.minChars", b.MinChars, a.MinChars);
        Number(lines, "preferences.maxChars", b.MaxChars, a.MaxChars);
        Text(lines, "preferences.tone", b.Tone, a.Tone);
        Text(lines, "preferences.domain", b.Domain, a.Domain);
        List(lines, "preferences.include", b.Include, a.Include);
        List(lines, "preferences.avoid", b.Avoid, a.Avoid);
        Text(lines, "preferences.notes", b.Notes, a.Notes);
    }

    private static void Number(List<TaskDiffLine> lines, string path, int? b, int? a) =>
        Text(lines, path, b?.ToString(CultureInfo.InvariantCulture), a?.ToString(CultureInfo.InvariantCulture));

    /// <summary>Empty and missing are the same; a value appearing is "added", disappearing "removed".</summary>
    private static void Text(List<TaskDiffLine> lines, string path, string? b, string? a)
    {
        b = string.IsNullOrEmpty(b) ? null : b;
        a = string.IsNullOrEmpty(a) ? null : a;
        if (string.Equals(b, a, StringComparison.Ordinal)) return;
        var kind = b is null ? Added : a is null ? Removed : Changed;
        lines.Add(new(path, kind, b, a));
    }

    /// <summary>Lists of texts (examples, include/avoid) are compared as sets of entries; order inside them does not
    /// change what the generator is told.</summary>
    private static void List(List<TaskDiffLine> lines, string path, IReadOnlyList<string>? b, IReadOnlyList<string>? a)
    {
        b ??= [];
        a ??= [];
        var remaining = a.ToList();
        foreach (var item in b)
        {
            var k = remaining.IndexOf(item);
            if (k >= 0) remaining.RemoveAt(k);
            else lines.Add(new(path, Removed, item, null));
        }
        foreach (var item in remaining) lines.Add(new(path, Added, null, item));
    }
}
