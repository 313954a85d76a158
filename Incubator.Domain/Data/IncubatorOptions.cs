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

    /// <summary>The ISO 4217 code of the currency that every connection's prices, budgets, spending caps and costs are
    /// in (one per site; nothing converts between currencies).</summary>
    [Required, RegularExpression("^[A-Z]{3}$", ErrorMessage = "Incubator:Currency must be an ISO 4217 code such as USD, EUR or JPY.")]
    public string Currency { get; set; } = "USD";

    public string ResolveDataDirectory() => Path.GetFullPath(DataDirectory);

    /// <summary>Where model bundles, exports and uploads live.</summary>
    public string ResolveSharedDirectory() => Path.GetFullPath(string.IsNullOrWhiteSpace(SharedDirectory) ? DataDirectory : SharedDirectory);
}
