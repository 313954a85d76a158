using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Incubator.Domain.Data;

/// <summary>Applies the real EF migrations (never EnsureCreated) and switches SQLite to WAL so readers don't block
/// the job worker's writes.</summary>
public sealed class DatabaseMigrator(IDbContextFactory<IncubatorDbContext> factory, ILogger<DatabaseMigrator> logger)
{
    /// <summary>The SQLite migrations before they were squashed into one Initial (docs/decisions/0027-two-providers.md).
    /// A database that went through all of them has exactly the schema of the squashed Initial.</summary>
    internal static readonly string[] SquashedSqliteMigrations =
    [
        "20261128181741_Initial", "20261128184937_Tasks", "20261128191539_JobPause", "20261128191839_LlmConnections",
        "20261128193455_Generation", "20261128193933_TeamDemonstrations", "20261128200620_Review", "20261128203207_SpotChecks",
        "20261128210412_CorporaMining", "20261128221409_TrainingRegistry", "20261128221459_ReviewAssignment", "20261128222353_QueryRuns",
        "20261201090000_CloseModelVersionsOfEndedJobs",
    ];

    internal const string SquashedSqliteInitial = "20261205231159_Initial";

    public async Task<IReadOnlyList<string>> MigrateAsync(CancellationToken ct = default)
    {
        await using var db = await factory.CreateDbContextAsync(ct);
        if (db.Database.IsSqlite())
        {
            var conn = (SqliteConnection)db.Database.GetDbConnection();
            logger.LogInformation("Database: SQLite file {DataSource}", conn.DataSource);
            await db.Database.OpenConnectionAsync(ct);
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", ct);
            await AdoptSquashedHistoryAsync(db, conn, ct);
        }
        else
        {
            var conn = db.Database.GetDbConnection();
            logger.LogInformation("Database: PostgreSQL {DataSource}/{Database}", conn.DataSource, conn.Database);
        }
        var pending = (await db.Database.GetPendingMigrationsAsync(ct)).ToList();
        if (pending.Count > 0)
        {
            logger.LogInformation("Applying migrations ({Count}): {Migrations}", pending.Count, string.Join(", ", pending));
            await db.Database.MigrateAsync(ct);
        }
        return pending;
    }

    /// <summary>A database made before the squash records the thirteen old migrations; its schema is the squashed
    /// Initial's, so its history is rewritten to say so (one transaction) and only the later migrations run. Nothing
    /// else is touched. A history that stops part-way through the old chain cannot be upgraded safely: it is refused
    /// with what to do, before anything is changed.</summary>
    private async Task AdoptSquashedHistoryAsync(IncubatorDbContext db, SqliteConnection conn, CancellationToken ct)
    {
        await using (var check = conn.CreateCommand())
        {
            check.CommandText = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '__EFMigrationsHistory'";
            if (Convert.ToInt64(await check.ExecuteScalarAsync(ct), System.Globalization.CultureInfo.InvariantCulture) == 0) return;
        }
        var applied = new List<string>();
        await using (var read = conn.CreateCommand())
        {
            read.CommandText = "SELECT MigrationId FROM __EFMigrationsHistory";
            await using var reader = await read.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct)) applied.Add(reader.GetString(0));
        }
        var legacy = applied.Where(SquashedSqliteMigrations.Contains).ToList();
        if (legacy.Count == 0 || applied.Contains(SquashedSqliteInitial)) return;
        if (legacy.Count != SquashedSqliteMigrations.Length || applied.Count != legacy.Count)
            throw new InvalidOperationException(
                $"The database {conn.DataSource} was made by an early Incubator and records {legacy.Count} of the {SquashedSqliteMigrations.Length} migrations " +
                $"that are now one (missing: {string.Join(", ", SquashedSqliteMigrations.Except(applied))}). Start the Incubator version that made it once " +
                "(it completes its own migrations), or move the file aside to start with an empty database. Nothing was changed.");
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await db.Database.ExecuteSqlRawAsync("DELETE FROM \"__EFMigrationsHistory\"", ct);
        await db.Database.ExecuteSqlRawAsync(
            "INSERT INTO \"__EFMigrationsHistory\" (\"MigrationId\", \"ProductVersion\") VALUES ({0}, {1})", [SquashedSqliteInitial, "10.0.15"], ct);
        await tx.CommitAsync(ct);
        logger.LogInformation("The database's {Count} migrations from before the squash are recorded as {Initial}", legacy.Count, SquashedSqliteInitial);
    }
}
