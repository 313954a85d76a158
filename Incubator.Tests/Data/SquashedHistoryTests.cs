using Incubator.Domain.Data;
using Incubator.Tests.Jobs;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.Data;

/// <summary>A SQLite database made before the migrations were squashed keeps working: its history is adopted, the later
/// migrations run, its rows stay (docs/decisions/0027-two-providers.md).</summary>
public sealed class SquashedHistoryTests
{
    private static async Task<JobTestHost> LegacyAsync(Func<string, string>? edit = null)
    {
        var host = await JobTestHost.CreateAsync(migrate: false);
        var sql = await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "Data", "Fixtures", "pre-squash.sql"));
        await using var db = await host.Db.CreateDbContextAsync();
        var conn = (SqliteConnection)db.Database.GetDbConnection();
        await conn.OpenAsync();
        await using var cmd = conn.CreateCommand();
        cmd.CommandText = edit?.Invoke(sql) ?? sql;
        await cmd.ExecuteNonQueryAsync();
        return host;
    }

    [Fact]
    public async Task A_database_from_before_the_squash_is_upgraded_and_keeps_its_rows()
    {
        await using var host = await LegacyAsync();

        var applied = await host.Services.GetRequiredService<DatabaseMigrator>().MigrateAsync();

        Assert.DoesNotContain(DatabaseMigrator.SquashedSqliteInitial, applied);
        Assert.NotEmpty(applied);
        await using var db = await host.Db.CreateDbContextAsync();
        Assert.Empty(await db.Database.GetPendingMigrationsAsync());
        var history = (await db.Database.GetAppliedMigrationsAsync()).ToList();
        Assert.Equal(DatabaseMigrator.SquashedSqliteInitial, history[0]);
        Assert.DoesNotContain(history, DatabaseMigrator.SquashedSqliteMigrations.Contains);
        Assert.Equal(["made before the squash"], await db.Projects.Select(p => p.Name).ToListAsync());
        // The later migrations' tables exist and take rows.
        Assert.Equal(0, await db.LlmConnectionTests.CountAsync());

        // A second start changes nothing.
        Assert.Empty(await host.Services.GetRequiredService<DatabaseMigrator>().MigrateAsync());
    }

    [Fact]
    public async Task A_history_that_stops_part_way_through_the_old_chain_is_refused_and_left_as_it_was()
    {
        const string last = "20261201090000_CloseModelVersionsOfEndedJobs";
        await using var host = await LegacyAsync(sql => string.Join('\n', sql.Split('\n').Where(l => !l.Contains(last, StringComparison.Ordinal))));

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => host.Services.GetRequiredService<DatabaseMigrator>().MigrateAsync());

        Assert.Contains(last, ex.Message);
        Assert.Contains("Nothing was changed", ex.Message);
        await using var db = await host.Db.CreateDbContextAsync();
        var conn = (SqliteConnection)db.Database.GetDbConnection();
        await conn.OpenAsync();
        await using var cmd = conn.CreateCommand();
        cmd.CommandText = "SELECT COUNT(*) FROM __EFMigrationsHistory";
        Assert.Equal(DatabaseMigrator.SquashedSqliteMigrations.Length - 1, Convert.ToInt32(await cmd.ExecuteScalarAsync()));
    }
}
