using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Incubator.Domain.Data;

/// <summary>Applies the real EF migrations (never EnsureCreated) and switches SQLite to WAL so readers don't block
/// the job worker's writes.</summary>
public sealed class DatabaseMigrator(IDbContextFactory<IncubatorDbContext> factory, ILogger<DatabaseMigrator> logger)
{
    public async Task<IReadOnlyList<string>> MigrateAsync(CancellationToken ct = default)
    {
        await using var db = await factory.CreateDbContextAsync(ct);
        var pending = (await db.Database.GetPendingMigrationsAsync(ct)).ToList();
        if (db.Database.IsSqlite())
        {
            var conn = (SqliteConnection)db.Database.GetDbConnection();
            logger.LogInformation("Database: SQLite file {DataSource}", conn.DataSource);
            await db.Database.OpenConnectionAsync(ct);
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", ct);
        }
        else
        {
            var conn = db.Database.GetDbConnection();
            logger.LogInformation("Database: PostgreSQL {DataSource}/{Database}", conn.DataSource, conn.Database);
        }
        if (pending.Count > 0)
        {
            logger.LogInformation("Applying {Count} migration(s): {Migrations}", pending.Count, string.Join(", ", pending));
            await db.Database.MigrateAsync(ct);
        }
        return pending;
    }
}
