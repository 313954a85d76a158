using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Incubator.Domain.Data;

public static class DataRegistration
{
    /// <summary>Binds <see cref="IncubatorOptions"/> (with INCUBATOR_DATA as an alias for the data folder) and
    /// <see cref="DatabaseOptions"/> (section "Database" and <c>ConnectionStrings:Incubator</c>), and registers a
    /// DbContext factory for the configured provider: one context per operation, never shared between a circuit and a
    /// worker.</summary>
    public static IServiceCollection AddIncubatorData(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<IncubatorOptions>()
            .Bind(configuration.GetSection(IncubatorOptions.Section))
            .PostConfigure(o =>
            {
                var env = configuration["INCUBATOR_DATA"];
                if (!string.IsNullOrWhiteSpace(env)) o.DataDirectory = env;
            })
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddOptions<DatabaseOptions>()
            .Bind(configuration.GetSection(DatabaseOptions.Section))
            .PostConfigure(o => o.ConnectionString = configuration.GetConnectionString(DatabaseOptions.ConnectionStringName) ?? o.ConnectionString)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        services.AddDbContextFactory<IncubatorDbContext, ProviderDbContextFactory>((sp, options) =>
        {
            var incubator = sp.GetRequiredService<IOptions<IncubatorOptions>>().Value;
            var database = sp.GetRequiredService<IOptions<DatabaseOptions>>().Value;
            if (database.Provider == DatabaseProvider.Sqlite) Directory.CreateDirectory(incubator.ResolveDataDirectory());
            UseProvider(options, database.Provider, database.Resolve(incubator));
            // Interceptors registered in the container take part in every context (tracing, and the tests' failure
            // injection).
            options.AddInterceptors(sp.GetServices<IInterceptor>());
        });
        services.AddSingleton<DatabaseMigrator>();
        return services;
    }

    internal static void UseProvider(DbContextOptionsBuilder options, DatabaseProvider provider, string connectionString)
    {
        var assembly = typeof(IncubatorDbContext).Assembly.FullName;
        if (provider == DatabaseProvider.Postgres)
            options.UseNpgsql(connectionString, pg => pg.MigrationsAssembly(assembly));
        else
            options.UseSqlite(connectionString, sql => sql.MigrationsAssembly(assembly));
    }
}

/// <summary>Creates the provider's subclass of <see cref="IncubatorDbContext"/> (the one whose migrations apply) from
/// the options every context shares.</summary>
internal sealed class ProviderDbContextFactory(DbContextOptions<IncubatorDbContext> options, IOptions<DatabaseOptions> database)
    : IDbContextFactory<IncubatorDbContext>
{
    private readonly DatabaseProvider _provider = database.Value.Provider;

    public IncubatorDbContext CreateDbContext() => _provider == DatabaseProvider.Postgres
        ? new PostgresIncubatorDbContext(options)
        : new SqliteIncubatorDbContext(options);
}
