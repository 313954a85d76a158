namespace Incubator.Domain.Data;

/// <summary>The data folder cannot be used: missing and not creatable, not writable, or not a folder.</summary>
public sealed class DataFolderException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Checks that the data folder can hold the database, keys and artefacts: it exists (or can be created) and a
/// file can be written and removed in it. Called before anything else touches the folder, so an unusable folder is one
/// clear sentence, not a stack trace from deep inside SQLite or Data Protection.</summary>
public static class DataFolder
{
    public static void EnsureUsable(string path)
    {
        try
        {
            if (File.Exists(path))
                throw new DataFolderException($"The data folder {path} is a file, not a folder. Point INCUBATOR_DATA (or --Incubator:DataDirectory) at a folder.");
            Directory.CreateDirectory(path);
            var probe = Path.Combine(path, $".write-check-{Guid.NewGuid():N}");
            File.WriteAllText(probe, "ok");
            File.Delete(probe);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new DataFolderException(
                $"The data folder {path} cannot be used: {ex.Message} The portal needs to create and write files there (database, keys, models). " +
                "Fix its permissions, or point INCUBATOR_DATA (or --Incubator:DataDirectory) at a folder it may write.", ex);
        }
    }

    /// <summary>Free bytes on the volume that holds <paramref name="path"/>.</summary>
    public static long FreeBytes(string path) => new DriveInfo(Path.GetFullPath(path)).AvailableFreeSpace;
}
