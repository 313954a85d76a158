using Incubator.Domain.Data;

namespace Incubator.Domain.Benchmarks;

/// <summary>Where a benchmark's throw-away database lives: a SQLite file in its data folder, or a fresh database on a
/// private PostgreSQL cluster started once per bench run (<see cref="LocalPostgres"/>, Debian's postgresql package).</summary>
internal static class BenchDatabases
{
    private static readonly Lazy<Task<LocalPostgres>> Postgres = new(LocalPostgres.StartAsync, LazyThreadSafetyMode.ExecutionAndPublication);

    public static bool PostgresAvailable => LocalPostgres.FindBinaries() is not null;

    public static async Task<Dictionary<string, string?>> SettingsAsync(DatabaseProvider provider, string dataDirectory)
    {
        var settings = new Dictionary<string, string?> { ["Incubator:DataDirectory"] = dataDirectory, ["Database:Provider"] = provider.ToString() };
        if (provider == DatabaseProvider.Postgres) settings["ConnectionStrings:Incubator"] = await (await Postgres.Value).CreateDatabaseAsync();
        return settings;
    }

    /// <summary>A positive whole number from the environment, or <paramref name="fallback"/>.</summary>
    public static int Knob(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var n) && n > 0
            ? n
            : fallback;
}
