using System.Diagnostics;
using System.Text;
using Incubator.Domain.Common.TextFiles;
using Incubator.Domain.Data;
using Incubator.Domain.Embeddings;
using Incubator.Domain.Jobs;
using Incubator.Domain.Mining;
using Incubator.Domain.Projects;
using Incubator.Domain.Review;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Incubator.Domain.Benchmarks;

/// <summary>SQLite and PostgreSQL side by side (docs/decisions/0028-write-discipline.md): the review queue over a large
/// task (first page, and a label + Pending + search page), decisions per second with 8 reviewers against 1, a reviewer's
/// decision p95 while a large corpus import runs against the same reviewer idle, and job-lease throughput with two
/// instances against one. Sizes: INCUBATOR_BENCH_QUEUE_CANDIDATES (1,000,000), INCUBATOR_BENCH_IMPORT_TEXTS (300,000).</summary>
internal sealed class ScaleOutBenchmark : IBenchmark
{
    private const int PageSize = 50;
    private const int QueueRepeats = 20;
    private const int Reviewers = 8;
    private const int PerReviewer = 100;
    private const int Jobs = 200;

    private static int QueueCandidates => BenchDatabases.Knob("INCUBATOR_BENCH_QUEUE_CANDIDATES", 1_000_000);

    private static int ImportTexts => BenchDatabases.Knob("INCUBATOR_BENCH_IMPORT_TEXTS", 300_000);

    public string Name => "scaleout";

    public string Description =>
        $"SQLite vs PostgreSQL: queue over {QueueCandidates:N0} candidates, decisions/s ({Reviewers} vs 1 reviewers), decision p95 during a {ImportTexts:N0}-text import, job leases (2 instances vs 1)";

    public async Task<IReadOnlyList<BenchmarkRow>> RunAsync(CancellationToken ct)
    {
        var rows = new List<BenchmarkRow>();
        DatabaseProvider[] providers = BenchDatabases.PostgresAvailable ? [DatabaseProvider.Sqlite, DatabaseProvider.Postgres] : [DatabaseProvider.Sqlite];
        foreach (var p in providers) rows.AddRange(await QueueAsync(p, ct));
        foreach (var p in providers) rows.AddRange(await DecisionsAsync(p, ct));
        foreach (var p in providers) rows.AddRange(await DecisionsDuringImportAsync(p, ct));
        foreach (var p in providers) rows.AddRange(await JobLeasesAsync(p, ct));
        if (!BenchDatabases.PostgresAvailable)
            rows.Add(new BenchmarkRow(Name, "PostgreSQL rows", 0, "-", Note: "skipped: install Debian's postgresql (or set INCUBATOR_PG_BIN)"));
        return rows;
    }

    private async Task<IEnumerable<BenchmarkRow>> QueueAsync(DatabaseProvider provider, CancellationToken ct)
    {
        await using var bench = await ReviewBenchDatabase.CreateAsync(1, ct, provider);
        var seed = Stopwatch.StartNew();
        await bench.SeedCandidatesAsync(QueueCandidates, ct);
        seed.Stop();
        var reviewer = bench.Reviewers[0];
        var filtered = new CandidateFilter(Label: ReviewBenchDatabase.Labels[1], Status: CandidateStatus.Pending, Search: "refund");
        var check = await bench.Queries.QueryAsync(reviewer, bench.TaskId, filtered, 0, PageSize, ct: ct);
        if (check.Items.Count == 0) throw new InvalidOperationException("The filtered page matched nothing; the seed data is wrong.");
        var (firstP50, firstP95) = await TimeAsync(QueueRepeats, () => bench.Queries.QueryAsync(reviewer, bench.TaskId, new CandidateFilter(), 0, PageSize, ct: ct));
        var (filteredP50, filteredP95) = await TimeAsync(QueueRepeats, () => bench.Queries.QueryAsync(reviewer, bench.TaskId, filtered, 0, PageSize, ct: ct));
        var n = $"{QueueCandidates:N0} candidates";
        return
        [
            new BenchmarkRow(Name, $"{provider}: queue first page p50", firstP50, "ms", Note: $"{n}, page {PageSize}, newest first (seeded in {seed.Elapsed.TotalSeconds:0} s)"),
            new BenchmarkRow(Name, $"{provider}: queue first page p95", firstP95, "ms", Note: n),
            new BenchmarkRow(Name, $"{provider}: queue filtered+search p50", filteredP50, "ms", firstP50, $"baseline: first page p50; label + Pending + 'refund' ({check.Total:N0} matches)"),
            new BenchmarkRow(Name, $"{provider}: queue filtered+search p95", filteredP95, "ms", firstP95, "baseline: first page p95"),
        ];
    }

    private async Task<IEnumerable<BenchmarkRow>> DecisionsAsync(DatabaseProvider provider, CancellationToken ct)
    {
        await using var bench = await ReviewBenchDatabase.CreateAsync(Reviewers, ct, provider);
        await bench.SeedCandidatesAsync(20 + PerReviewer + Reviewers * PerReviewer, ct, allPending: true);
        var ids = await bench.CandidateIdsAsync(20 + PerReviewer + Reviewers * PerReviewer, ct);
        for (var i = 0; i < 20; i++) await Decide(bench, 0, ids[i], i, ct);
        var sw = Stopwatch.StartNew();
        for (var i = 0; i < PerReviewer; i++) await Decide(bench, 0, ids[20 + i], i, ct);
        var one = PerReviewer / sw.Elapsed.TotalSeconds;
        var offset = 20 + PerReviewer;
        sw.Restart();
        await Task.WhenAll(Enumerable.Range(0, Reviewers).Select(r => Task.Run(async () =>
        {
            for (var i = 0; i < PerReviewer; i++) await Decide(bench, r, ids[offset + r * PerReviewer + i], i, ct);
        }, ct)));
        var eight = Reviewers * PerReviewer / sw.Elapsed.TotalSeconds;
        return
        [
            new BenchmarkRow(Name, $"{provider}: decisions/s, 1 reviewer", one, "decisions/s", Note: $"{PerReviewer} sequential approve/reject"),
            new BenchmarkRow(Name, $"{provider}: decisions/s, {Reviewers} reviewers", eight, "decisions/s", one, $"baseline: 1 reviewer; {Reviewers}×{PerReviewer} on disjoint candidates"),
        ];
    }

    private async Task<IEnumerable<BenchmarkRow>> DecisionsDuringImportAsync(DatabaseProvider provider, CancellationToken ct)
    {
        await using var bench = await ReviewBenchDatabase.CreateAsync(1, ct, provider, (s, _) => s.AddIncubatorEmbeddings().AddIncubatorMining());
        await bench.SeedCandidatesAsync(20_000, ct, allPending: true);
        var ids = new Queue<Guid>(await bench.CandidateIdsAsync(20_000, ct));
        var author = await AuthorAsync(bench, ct);
        for (var i = 0; i < 20; i++) await Decide(bench, 0, ids.Dequeue(), i, ct);
        var idle = new List<double>();
        for (var i = 0; i < 200; i++) idle.Add(await TimedDecisionAsync(bench, ids.Dequeue(), i, ct));

        var file = Path.Combine(Path.GetTempPath(), $"incubator-bench-import-{Guid.NewGuid():N}.txt");
        try
        {
            await using (var w = new StreamWriter(file, false, new UTF8Encoding(false), 1 << 20))
                for (var i = 0; i < ImportTexts; i++)
                    await w.WriteLineAsync($"Ticket {i}: my order {i * 7 % 100_003} has a problem with the invoice and the parcel, please look at it.");
            var import = Task.Run(async () =>
            {
                await using var stream = File.OpenRead(file);
                return await bench.Services.GetRequiredService<CorpusService>().ImportAsync(author, bench.ProjectId, "bench", "bench.txt", stream,
                    new TextFileOptions(TextFileFormat.Txt), ct);
            }, ct);
            var busy = new List<double>();
            var importClock = Stopwatch.StartNew();
            while (!import.IsCompleted && ids.Count > 0) busy.Add(await TimedDecisionAsync(bench, ids.Dequeue(), busy.Count, ct));
            var imported = await import;
            importClock.Stop();
            var idleP95 = Percentile(idle, 0.95);
            return
            [
                new BenchmarkRow(Name, $"{provider}: decision p95, idle", idleP95, "ms", Note: $"{idle.Count} sequential decisions"),
                new BenchmarkRow(Name, $"{provider}: decision p95, during import", Percentile(busy, 0.95), "ms", idleP95,
                    $"baseline: idle p95 (aim ≤ 3×); {busy.Count} decisions while {imported.Corpus.TextCount:N0} texts imported in {importClock.Elapsed.TotalSeconds:0.0} s"),
            ];
        }
        finally
        {
            File.Delete(file);
        }
    }

    private async Task<IEnumerable<BenchmarkRow>> JobLeasesAsync(DatabaseProvider provider, CancellationToken ct)
    {
        // Unmeasured first pass: JIT, the provider's model and connection pool, so neither side carries the warm-up.
        await JobsPerSecondAsync(provider, 1, ct, jobs: 40);
        var one = await JobsPerSecondAsync(provider, 1, ct);
        var two = await JobsPerSecondAsync(provider, 2, ct);
        return
        [
            new BenchmarkRow(Name, $"{provider}: jobs/s, 1 instance", one, "jobs/s", Note: $"{Jobs} zero-step jobs, concurrency 2 per instance"),
            new BenchmarkRow(Name, $"{provider}: jobs/s, 2 instances", two, "jobs/s", one,
                $"baseline: 1 instance; {(provider == DatabaseProvider.Postgres ? "FOR UPDATE SKIP LOCKED" : "conditional UPDATE, one writer")}"),
        ];
    }

    /// <summary>Instances are separate service providers on one database (separate signals, separate workers).</summary>
    private static async Task<double> JobsPerSecondAsync(DatabaseProvider provider, int instances, CancellationToken ct, int jobs = Jobs)
    {
        var dir = Path.Combine(Path.GetTempPath(), "incubator-bench-" + Guid.NewGuid().ToString("N"));
        var settings = await BenchDatabases.SettingsAsync(provider, dir);
        settings["Jobs:Concurrency"] = "2";
        settings["Jobs:PollInterval"] = "00:00:00.050";
        var hosts = new List<ServiceProvider>();
        try
        {
            for (var i = 0; i < instances; i++)
            {
                var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>(settings) { ["Instance:Name"] = $"bench-{i}" }).Build();
                hosts.Add(new ServiceCollection().AddLogging(b => b.SetMinimumLevel(LogLevel.Warning)).AddIncubatorData(config).AddIncubatorProjects()
                    .AddIncubatorJobs(config, runWorker: false).AddSingleton<JobWorker>().BuildServiceProvider());
            }
            await hosts[0].GetRequiredService<DatabaseMigrator>().MigrateAsync(ct);
            var factory = hosts[0].GetRequiredService<IDbContextFactory<IncubatorDbContext>>();
            var projectId = Guid.NewGuid();
            await using (var db = await factory.CreateDbContextAsync(ct))
            {
                db.Projects.Add(new Project { Id = projectId, Name = "bench", CreatedAt = DateTimeOffset.UtcNow });
                await db.SaveChangesAsync(ct);
            }
            var queue = hosts[0].GetRequiredService<JobQueue>();
            for (var i = 0; i < jobs; i++)
                await queue.EnqueueInternalAsync(null, projectId, DiagnosticsJob.KindName, $"bench {i}", new DiagnosticsJob.Payload(0, 0), ct);
            var sw = Stopwatch.StartNew();
            foreach (var h in hosts) await ((IHostedService)h.GetRequiredService<JobWorker>()).StartAsync(ct);
            while (true)
            {
                await using var db = await factory.CreateDbContextAsync(ct);
                if (await db.Jobs.CountAsync(j => j.State == JobState.Succeeded, ct) == jobs) break;
                await Task.Delay(10, ct);
            }
            sw.Stop();
            foreach (var h in hosts) await ((IHostedService)h.GetRequiredService<JobWorker>()).StopAsync(ct);
            return jobs / sw.Elapsed.TotalSeconds;
        }
        finally
        {
            foreach (var h in hosts) await h.DisposeAsync();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { /* temp folder; the OS cleans it */ }
        }
    }

    private static async Task<string> AuthorAsync(ReviewBenchDatabase bench, CancellationToken ct)
    {
        await using var db = await bench.Services.GetRequiredService<IDbContextFactory<IncubatorDbContext>>().CreateDbContextAsync(ct);
        await db.ProjectMembers.Where(m => m.ProjectId == bench.ProjectId && m.UserId == bench.Reviewers[0])
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.Role, ProjectRole.Author), ct);
        return bench.Reviewers[0];
    }

    private static readonly Decision Approve = new(DecisionKind.Approve);
    private static readonly Decision Reject = new(DecisionKind.Reject, RejectionReason.LowQuality, "Too vague to teach the label.");

    private static Task<CandidateRow> Decide(ReviewBenchDatabase bench, int reviewer, Guid id, int i, CancellationToken ct) =>
        bench.Decide.DecideAsync(bench.Reviewers[reviewer], id, i % 2 == 0 ? Approve : Reject, expectedVersion: 0, ct);

    private static async Task<double> TimedDecisionAsync(ReviewBenchDatabase bench, Guid id, int i, CancellationToken ct)
    {
        var sw = Stopwatch.StartNew();
        await Decide(bench, 0, id, i, ct);
        return sw.Elapsed.TotalMilliseconds;
    }

    private static async Task<(double P50, double P95)> TimeAsync<T>(int repeats, Func<Task<T>> query)
    {
        for (var i = 0; i < 3; i++) await query();
        var times = new List<double>();
        for (var i = 0; i < repeats; i++)
        {
            var sw = Stopwatch.StartNew();
            await query();
            times.Add(sw.Elapsed.TotalMilliseconds);
        }
        return (Percentile(times, 0.50), Percentile(times, 0.95));
    }

    /// <summary>Nearest-rank percentile.</summary>
    private static double Percentile(List<double> values, double p)
    {
        if (values.Count == 0) return double.NaN;
        var sorted = values.Order().ToList();
        return sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];
    }
}
