using System.ComponentModel.DataAnnotations;

namespace Incubator.Domain.Data;

/// <summary>Section "Incubator". The data folder holds the SQLite file and keys; the shared folder (the data folder
/// unless <see cref="SharedDirectory"/> says otherwise) holds files every instance must see: model bundles, exports
/// and uploads (docs/decisions/0030-shared-state.md). The database is chosen in section "Database".</summary>
public sealed class IncubatorOptions
{
    public const string Section = "Incubator";

    /// <summary>Defaults to ./data under the current folder; INCUBATOR_DATA overrides it.</summary>
    [Required]
    public string DataDirectory { get; set; } = "data";

    /// <summary>A folder every instance mounts (a shared volume); null: the data folder (one instance).</summary>
    public string? SharedDirectory { get; set; }

    public string ResolveDataDirectory() => Path.GetFullPath(DataDirectory);

    /// <summary>Where model bundles, exports and uploads live.</summary>
    public string ResolveSharedDirectory() => Path.GetFullPath(string.IsNullOrWhiteSpace(SharedDirectory) ? DataDirectory : SharedDirectory);
}
