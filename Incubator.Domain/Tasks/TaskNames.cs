namespace Incubator.Domain.Tasks;

/// <summary>Task names are not unique (two teams may well want "Urgency"), but a task imported under a name the project
/// already has is usually the same file twice: the import asks first, offering the next free name.</summary>
public static class TaskNames
{
    /// <summary>Same name as a person reads it: trimmed, case and width ignored.</summary>
    public static bool Same(string a, string b) =>
        string.Equals(a.Trim().Normalize(System.Text.NormalizationForm.FormKC), b.Trim().Normalize(System.Text.NormalizationForm.FormKC), StringComparison.OrdinalIgnoreCase);

    /// <summary>The existing task <paramref name="name"/> clashes with, or null.</summary>
    public static TaskSummary? Clash(string name, IEnumerable<TaskSummary> existing) => existing.FirstOrDefault(t => Same(t.Name, name));

    /// <summary>"Name (2)", "Name (3)", … — the first that no existing task has; the name itself when it is free.</summary>
    public static string NextFree(string name, IEnumerable<string> taken)
    {
        var names = taken.ToList();
        var trimmed = name.Trim();
        if (!names.Any(n => Same(n, trimmed))) return trimmed;
        for (var i = 2; ; i++)
        {
            var candidate = $"{trimmed} ({i})";
            if (!names.Any(n => Same(n, candidate))) return candidate;
        }
    }
}
