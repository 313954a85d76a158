using Incubator.Domain.Common;
using Incubator.Domain.Common.TextFiles;
using Incubator.Domain.Tasks;

namespace Incubator.Web.Cli;

/// <summary>Reads the task JSON (the task editor's export) that the offline verbs take, with the same messages for each.</summary>
internal static class CliTaskFile
{
    /// <summary>The validated task, or null after the problems were written to <paramref name="stderr"/> (exit code 2).
    /// An unreadable file is a usage error.</summary>
    public static async Task<TaskSpec?> ReadAsync(string path, TextWriter stderr, CancellationToken ct)
    {
        string json;
        if (Directory.Exists(path)) throw new CliUsageException($"--task '{path}' is a folder; give the task JSON file.");
        try
        {
            // The same check as every other input: a file that is not text is refused with what it is and where.
            await using var stream = File.OpenRead(path);
            var encoding = TextSniffer.Sniff(stream);
            stream.Position = encoding.BomLength;
            using var reader = new StreamReader(stream, encoding.Encoding, detectEncodingFromByteOrderMarks: false);
            json = await reader.ReadToEndAsync(ct);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CliUsageException($"Cannot read the task file '{path}': {ex.Message}");
        }
        catch (DomainValidationException ex)
        {
            throw CliInputFile.Problem(path, ex);
        }
        try
        {
            var spec = TaskJson.Parse(json);
            TaskSpecValidator.EnsureValid(spec);
            return spec;
        }
        catch (DomainValidationException ex)
        {
            stderr.WriteLine($"error: the task file '{path}' is not valid:");
            foreach (var d in ex.Details) stderr.WriteLine($"  {d.Field}: {d.Message}");
            return null;
        }
    }
}
