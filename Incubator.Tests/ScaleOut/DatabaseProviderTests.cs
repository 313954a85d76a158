using Incubator.Domain.Data;
using Incubator.Domain.Projects;
using Incubator.Tests.Infrastructure;
using Incubator.Tests.Jobs;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Incubator.Tests.ScaleOut;

/// <summary>Database:Provider picks the provider; each provider's own migrations build the one model on a real server.</summary>
public sealed class DatabaseProviderTests
{
    [Theory]
    [MemberData(nameof(TestServers.Providers), MemberType = typeof(TestServers))]
    public async Task Each_provider_migrates_an_empty_database_to_the_current_model(DatabaseProvider provider)
    {
        await using var host = await JobTestHost.CreateAsync(settings: await TestServers.DatabaseSettingsAsync(provider));
        await using var db = await host.Db.CreateDbContextAsync();

        Assert.Equal(provider, db.Provider);
        Assert.Equal(provider == DatabaseProvider.Postgres ? "Npgsql.EntityFrameworkCore.PostgreSQL" : "Microsoft.EntityFrameworkCore.Sqlite",
            db.Database.ProviderName);
        Assert.Empty(await db.Database.GetPendingMigrationsAsync());
        // The provider's snapshot is the model: a model change without a migration for this provider fails here.
        Assert.False(db.Database.HasPendingModelChanges(), $"The model has changes without a {provider} migration; see docs/decisions/0027-two-providers.md.");
        var applied = await db.Database.GetAppliedMigrationsAsync();
        Assert.Contains(applied, m => m.EndsWith("_Initial", StringComparison.Ordinal));

        // Timestamps compare and order in SQL on both (SQLite stores them as integers, PostgreSQL as timestamptz).
        var t0 = DateTimeOffset.UtcNow;
        db.Projects.AddRange(
            new Project { Id = Guid.NewGuid(), Name = "later", CreatedAt = t0.AddMinutes(1) },
            new Project { Id = Guid.NewGuid(), Name = "earlier", CreatedAt = t0 });
        await db.SaveChangesAsync();
        var names = await db.Projects.Where(p => p.CreatedAt >= t0).OrderBy(p => p.CreatedAt).Select(p => p.Name).ToListAsync();
        Assert.Equal(["earlier", "later"], names);
    }

    [Fact]
    public async Task Postgres_without_a_connection_string_is_refused_at_start_with_what_to_set()
    {
        await using var host = await JobTestHost.CreateAsync(settings: new Dictionary<string, string?> { ["Database:Provider"] = "Postgres" }, migrate: false);
        var ex = Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IOptions<DatabaseOptions>>().Value);
        Assert.Contains("ConnectionStrings:Incubator", ex.Message);
    }

    [Fact]
    public async Task An_unknown_provider_is_refused()
    {
        await using var host = await JobTestHost.CreateAsync(settings: new Dictionary<string, string?> { ["Database:Provider"] = "Oracle" }, migrate: false);
        Assert.ThrowsAny<InvalidOperationException>(() => host.Services.GetRequiredService<IOptions<DatabaseOptions>>().Value);
    }
}
