using Incubator.Domain.Common;
using Incubator.Domain.Common.TextFiles;

namespace Incubator.Web.Cli;

/// <summary>The verbs' input files, read with the portal's one <see cref="TextFileReader"/>: the same formats,
/// encodings, binary refusal and bad-row messages as uploads. A file that is missing, not text or (for files used
/// whole) has bad rows is a usage error (exit code 2) naming the file and the line.</summary>
internal static class CliInputFile
{
    /// <summary>Opens a file to stream its records; the reader owns the file.</summary>
    public static TextFileReader Open(string path, TextFileOptions options)
    {
        if (Directory.Exists(path)) throw new CliUsageException($"{path} is a folder; give a file.");
        FileStream stream;
        try
        {
            stream = File.OpenRead(path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new CliUsageException($"{path}: file not found.");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CliUsageException($"{path}: cannot be read ({ex.Message}).");
        }
        try
        {
            return TextFileReader.Open(stream, options, leaveOpen: false);
        }
        catch (DomainValidationException ex)
        {
            stream.Dispose();
            throw Problem(path, ex);
        }
    }

    /// <summary>The records of a file that is used whole (training data, files to predict on): any bad row refuses it.</summary>
    public static IReadOnlyList<TextRecord> ReadAll(string path, TextFileOptions options)
    {
        using var reader = Open(path, options);
        try
        {
            return reader.ReadAll();
        }
        catch (DomainValidationException ex)
        {
            throw Problem(path, ex);
        }
    }

    /// <summary>The records as they stream; a problem found on the way (an unknown column) becomes a usage error.</summary>
    public static IEnumerable<TextRecord> Records(TextFileReader reader, string path, CancellationToken ct)
    {
        using var records = reader.Records(ct).GetEnumerator();
        while (true)
        {
            bool more;
            try
            {
                more = records.MoveNext();
            }
            catch (DomainValidationException ex)
            {
                throw Problem(path, ex);
            }
            if (!more) yield break;
            yield return records.Current;
        }
    }

    /// <summary>"train.csv, line 3: a quoted field is never closed." — one line per problem.</summary>
    public static CliUsageException Problem(string path, DomainValidationException ex)
    {
        var name = Path.GetFileName(path);
        return new CliUsageException(string.Join('\n', ex.Details.Select(d =>
            d.Message.StartsWith("Line ", StringComparison.Ordinal) ? $"{name}, l{d.Message[1..]}" : $"{name}: {d.Message}")));
    }
}
