namespace Incubator.Tests.Infrastructure;

public sealed class TempFolder : IDisposable
{
    public TempFolder(string prefix = "incubator-test")
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A process we started may still hold a file for a moment; the OS cleans temp folders.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
