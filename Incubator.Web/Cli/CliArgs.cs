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
        if (unknown.Count > 0) throw new CliUsageException($"Unknown option(s): {string.Join(", ", unknown.Select(u => "--" + u))}. Usage: {usage}");
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

    /// <summary>A required output file: not a folder, in a folder that exists (checked before any work is done, so a
    /// typo never throws away a finished run).</summary>
    public string Output(string name = "out")
    {
        var output = Required(name);
        if (Directory.Exists(output)) throw new CliUsageException($"--{name} '{output}' is a folder; give a file path.");
        var folder = Path.GetDirectoryName(Path.GetFullPath(output));
        if (!string.IsNullOrEmpty(folder) && !Directory.Exists(folder))
            throw new CliUsageException($"--{name} '{output}': the folder '{folder}' does not exist.");
        return output;
    }

    /// <summary>Refuses an output that is one of the verb's input files, however the path is spelled: writing the
    /// output there would replace the input (a model overwritten by its own predictions, training data by a zip).</summary>
    public void OutputIsNotAnInput(string output, params string[] inputs)
    {
        var comparison = OperatingSystem.IsLinux() ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase;
        var full = Path.GetFullPath(output);
        foreach (var name in inputs)
            if (this[name] is { } input && !string.IsNullOrWhiteSpace(input) && string.Equals(Path.GetFullPath(input), full, comparison))
                throw new CliUsageException($"--out '{output}' is the --{name} file; writing there would replace it. Give another path.");
    }
}
