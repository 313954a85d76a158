using System.Diagnostics;
using Incubator.Domain.Data;
using Incubator.Domain.Jobs;
using Incubator.Domain.Projects;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Incubator.Domain.Benchmarks;

/// <summary>How many short jobs per second the durable queue moves (queue → claim with lease → run → finish) on a
/// fresh SQLite file, with one worker slot as the baseline and then four slots, measured in the same run.</summary>
internal sealed class JobThroughputBenchmark : IBenchmark
{
    private const int JobCount = 200;

    public string Name => "jobs.throughput";

    public string Description => $"{JobCount} zero-step jobs through the SQLite-leased queue, concurrency 1 vs 4";

    public async Task<IReadOnlyList<BenchmarkRow>> RunAsync(CancellationToken ct)
    {
        var one = await MeasureAsync(1, ct);
        var four = await MeasureAsync(4, ct);
        return
        [
            new BenchmarkRow(Name, "jobs/s, concurrency 1", one, "jobs/s"),
            new BenchmarkRow(Name, "jobs/s, concurrency 4", four, "jobs/s", one, "baseline: concurrency 1; SQLite serialises writes"),
        ];
    }

    private static async Task<double> MeasureAsync(int concurrency, CancellationToken ct)
    {
        var dir = Path.Combine(Path.GetTempPath(), "incubator-bench-" + Guid.NewGuid().ToString("N"));
        try
        {
            var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Incubator:DataDirectory"] = dir,
                ["Jobs:Concurrency"] = concurrency.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Jobs:PollInterval"] = "00:00:00.050",
            }).Build();
            var services = new ServiceCollection()
                .AddLogging(b => b.SetMinimumLevel(LogLevel.Warning))
                .AddIncubatorData(config)
                .AddIncubatorProjects()
                .AddIncubatorJobs(config, runWorker: false)
                .AddSingleton<JobWorker>();
            await using var sp = services.BuildServiceProvider();
            await sp.GetRequiredService<DatabaseMigrator>().MigrateAsync(ct);
            var factory = sp.GetRequiredService<IDbContextFactory<IncubatorDbContext>>();
            var projectId = Guid.NewGuid();
            await using (var db = await factory.CreateDbContextAsync(ct))
            {
                db.Projects.Add(new Project { Id = projectId, Name = "bench", CreatedAt = DateTimeOffset.UtcNow });
                await db.SaveChangesAsync(ct);
            }
            var queue = sp.GetRequiredService<JobQueue>();
            for (var i = 0; i < JobCount; i++)
                await queue.EnqueueInternalAsync(null, projectId, DiagnosticsJob.KindName, $"bench {i}", new DiagnosticsJob.Payload(0, 0), ct);

            var worker = sp.GetRequiredService<JobWorker>();
            var sw = Stopwatch.StartNew();
            await ((IHostedService)worker).StartAsync(ct);
            while (true)
            {
                await using var db = await factory.CreateDbContextAsync(ct);
                if (await db.Jobs.CountAsync(j => j.State == JobState.Succeeded, ct) == JobCount) break;
                await Task.Delay(10, ct);
            }
            sw.Stop();
            await ((IHostedService)worker).StopAsync(ct);
            return JobCount / sw.Elapsed.TotalSeconds;
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { /* temp folder; the OS cleans it */ }
        }
    }
}
