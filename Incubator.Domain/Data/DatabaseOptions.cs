using System.ComponentModel.DataAnnotations;

namespace Incubator.Domain.Data;

public enum DatabaseProvider
{
    /// <summary>The embedded default: one file in the data folder, nothing to install, one instance.</summary>
    Sqlite,

    /// <summary>A PostgreSQL server: several instances share it (docs/decisions/0027-two-providers.md).</summary>
    Postgres,
}

/// <summary>Section "Database" plus <c>ConnectionStrings:Incubator</c>. SQLite needs neither (the file lives in the
/// data folder); PostgreSQL needs the connection string.</summary>
public sealed class DatabaseOptions : IValidatableObject
{
    public const string Section = "Database";

    /// <summary>The name under <c>ConnectionStrings</c>.</summary>
    public const string ConnectionStringName = "Incubator";

    public DatabaseProvider Provider { get; set; } = DatabaseProvider.Sqlite;

    /// <summary>Bound from <c>ConnectionStrings:Incubator</c>; optional for SQLite.</summary>
    public string? ConnectionString { get; set; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!Enum.IsDefined(Provider))
            yield return new ValidationResult("Database:Provider must be 'Sqlite' or 'Postgres'.", [nameof(Provider)]);
        if (Provider == DatabaseProvider.Postgres && string.IsNullOrWhiteSpace(ConnectionString))
            yield return new ValidationResult(
                "Database:Provider is 'Postgres' but ConnectionStrings:Incubator is empty. Set it, e.g. " +
                "ConnectionStrings__Incubator='Host=db;Database=incubator;Username=incubator;Password=...'.", [nameof(ConnectionString)]);
    }

    /// <summary>The connection string to use: the configured one, or for SQLite the file incubator.db in the data folder.</summary>
    public string Resolve(IncubatorOptions incubator) =>
        !string.IsNullOrWhiteSpace(ConnectionString) ? ConnectionString
        : Provider == DatabaseProvider.Sqlite ? $"Data Source={Path.Combine(incubator.ResolveDataDirectory(), "incubator.db")};Pooling=True;Default Timeout=30"
        : throw new InvalidOperationException("ConnectionStrings:Incubator is required for PostgreSQL.");
}
