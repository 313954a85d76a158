using System.Globalization;

namespace Incubator.Web.Cli;

/// <summary>A verb's options: <c>--name value</c> pairs and bare <c>--flag</c>s, checked against what the verb knows,
/// with the same messages for every verb. Every problem is a <see cref="CliUsageException"/> (exit code 2).</summary>
internal sealed class CliArgs
{
    private readonly Dictionary<string, string> _values;
    private readonly HashSet<string> _flags;

    private CliArgs(Dictionary<string, string> values, HashSet<string> flags, string usage)
    {
        _values = values;
        _flags = flags;
        Usage = usage;
    }

    public string Usage { get; }

    public static CliArgs Parse(string[] args, string usage, string[] options, string[]? flags = null)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var set = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            var a = args[i];
            if (a.StartsWith("--", StringComparison.Ordinal) && flags?.Contains(a[2..]) == true)
            {
                set.Add(a[2..]);
                continue;
            }
            if (!a.StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
                throw new CliUsageException($"Unexpected argument '{a}'. Usage: {usage}");
            values[a[2..]] = args[++i];
        }
        var unknown = values.Keys.Except(options).ToList();
        if (unknown.Count > 0) throw new CliUsageException($"Unknown {(unknown.Count == 1 ? "option" : "options")}: {string.Join(", ", unknown.Select(u => "--" + u))}. Usage: {usage}");
        return new CliArgs(values, set, usage);
    }

    public string? this[string name] => _values.GetValueOrDefault(name);

    public bool Has(string name) => _values.ContainsKey(name);

    public bool Flag(string name) => _flags.Contains(name);

    public string Required(string name) =>
        _values.TryGetValue(name, out var v) && !string.IsNullOrWhiteSpace(v) ? v : throw new CliUsageException($"--{name} is required. Usage: {Usage}");

    /// <summary>A whole number from <paramref name="min"/> to <paramref name="max"/>; <paramref name="fallback"/> when
    /// the option is not given (null: required).</summary>
    public int Int(string name, int min, int max, int? fallback = null)
    {
        if (!_values.TryGetValue(name, out var v))
            return fallback ?? throw new CliUsageException($"--{name} is required. Usage: {Usage}");
        return int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
            ? n : throw new CliUsageException($"--{name} must be a whole number from {min} to {max} (got '{v}').");
    }

    /// <summary>A required output file: not a folder, in a folder that exists, and none of the verb's <paramref name="inputs"/>
    /// (option names: a pool, training data or a task file overwritten by the output would be lost). Checked before any
    /// work is done, so a typo never throws away a finished run or the files it was made from.</summary>
    public string Output(string name = "out", params string[] inputs)
    {
        var output = Required(name);
        if (Directory.Exists(output)) throw new CliUsageException($"--{name} '{output}' is a folder; give a file path.");
        foreach (var input in inputs)
            if (this[input] is { } path && !string.IsNullOrWhiteSpace(path) && SameFile(path, output))
                throw new CliUsageException($"--{name} '{output}' is the --{input} file; give another path (the output would overwrite it).");
        var folder = Path.GetDirectoryName(Path.GetFullPath(output));
        if (!string.IsNullOrEmpty(folder) && !Directory.Exists(folder))
            throw new CliUsageException($"--{name} '{output}': the folder '{folder}' does not exist.");
        // A folder that exists may still refuse new files (read-only, another owner, a pseudo file system): found now,
        // not after a run whose result would then be lost. The probe is the same kind of file CliOutput writes.
        var probe = Path.Combine(folder ?? ".", $".{Path.GetFileName(output)}.{Guid.NewGuid():N}.probe");
        try
        {
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose)) { }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CliUsageException($"--{name} '{output}': cannot write a file in the folder '{folder}'; give a path you can write to.");
        }
        return output;
    }

    private static bool SameFile(string a, string b) =>
        string.Equals(Path.GetFullPath(a), Path.GetFullPath(b), OperatingSystem.IsLinux() ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase);
}
