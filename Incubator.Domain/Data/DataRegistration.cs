using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Incubator.Domain.Data;

public static class DataRegistration
{
    /// <summary>Binds <see cref="IncubatorOptions"/> (with INCUBATOR_DATA as an alias for the data folder) and
    /// registers a DbContext factory: one context per operation, never shared between a circuit and a worker.</summary>
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

        services.AddDbContextFactory<IncubatorDbContext>((sp, options) =>
        {
            var o = sp.GetRequiredService<IOptions<IncubatorOptions>>().Value;
            Configure(options, o);
            // Interceptors registered in the container take part in every context (tracing, and the tests' failure
            // injection).
            options.AddInterceptors(sp.GetServices<IInterceptor>());
        });
        services.AddSingleton<DatabaseMigrator>();
        return services;
    }

    internal static void Configure(DbContextOptionsBuilder options, IncubatorOptions o)
    {
        Directory.CreateDirectory(o.ResolveDataDirectory());
        options.UseSqlite(o.ResolveConnectionString(), sql => sql.MigrationsAssembly(typeof(IncubatorDbContext).Assembly.FullName));
    }
}
