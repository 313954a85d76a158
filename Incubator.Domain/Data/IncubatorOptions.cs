using System.ComponentModel.DataAnnotations;

namespace Incubator.Domain.Data;

/// <summary>Section "Incubator". The data folder holds the SQLite file, keys and (later) model artefacts.</summary>
public sealed class IncubatorOptions
{
    public const string Section = "Incubator";

    /// <summary>Defaults to ./data under the current folder; INCUBATOR_DATA overrides it.</summary>
    [Required]
    public string DataDirectory { get; set; } = "data";

    /// <summary>"Sqlite" (embedded default). The provider is read from configuration so a server database can be
    /// added as another value without touching callers.</summary>
    [Required]
    [RegularExpression("^(?i)sqlite$", ErrorMessage = "Incubator:DatabaseProvider must be 'Sqlite'.")]
    public string DatabaseProvider { get; set; } = "Sqlite";

    /// <summary>Optional full connection string; by default the SQLite file incubator.db inside DataDirectory.</summary>
    public string? ConnectionString { get; set; }

    public string ResolveDataDirectory() => Path.GetFullPath(DataDirectory);

    public string ResolveConnectionString() =>
        string.IsNullOrWhiteSpace(ConnectionString)
            ? $"Data Source={Path.Combine(ResolveDataDirectory(), "incubator.db")};Pooling=True;Default Timeout=30"
            : ConnectionString;
}
