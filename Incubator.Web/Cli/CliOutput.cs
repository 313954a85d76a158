namespace Incubator.Web.Cli;

/// <summary>Every verb's output file is written beside its final path under a hidden temporary name and moved over it
/// only when complete: a run that fails half-way (a bad column found while streaming, a full disk, Ctrl+C) leaves no
/// half-written file, and an earlier output of the same name stays as it was.</summary>
internal static class CliOutput
{
    public static void Write(string path, Action<Stream> write) =>
        WriteAsync(path, stream =>
        {
            write(stream);
            return Task.CompletedTask;
        }).GetAwaiter().GetResult();

    public static async Task WriteAsync(string path, Func<Stream, Task> write)
    {
        var full = Path.GetFullPath(path);
        var temp = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            await using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
                await write(stream);
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>UTF-8 text (no byte-order mark), written whole or not at all.</summary>
    public static Task WriteTextAsync(string path, Func<TextWriter, Task> write) =>
        WriteAsync(path, async stream =>
        {
            await using var writer = new StreamWriter(stream, new System.Text.UTF8Encoding(false), leaveOpen: true);
            await write(writer);
        });
}
