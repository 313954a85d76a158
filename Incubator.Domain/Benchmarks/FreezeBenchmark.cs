using System.Collections.Concurrent;
using System.Data.Common;
using System.Diagnostics;
using Incubator.Domain.Data;
using Incubator.Domain.Datasets;
using Incubator.Domain.Projects;
using Incubator.Domain.Review;
using Incubator.Domain.Training;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Domain.Benchmarks;

/// <summary>How long freezing a task's approved samples into a dataset version holds SQLite's write lock
/// (docs/decisions/0028-write-discipline.md): the longest write transaction (BEGIN to COMMIT, or one statement outside a
/// transaction) the freeze ran, and the slowest of a small write another "user" repeats every 20 ms meanwhile. Sizes:
/// INCUBATOR_BENCH_FREEZE_SIZES (comma separated, default 2,000, 10,000, 50,000 and 1,000,000 — a labelling run or a
/// generation run can each put 1,000,000 samples in a task, and bulk approval approves them all). Three paths in the same
/// run, interleaved: before (the version and every item in one transaction), batches back to back, and batches
/// <see cref="DbBatches.Yield"/> apart (shipped) (INCUBATOR_BENCH_FREEZE_REPEATS runs each, default 3 up to 50,000 and 1 above).</summary>
internal sealed class FreezeBenchmark : IBenchmark
{
    private bool _warm;

    private static IReadOnlyList<int> Sizes =>
        (Environment.GetEnvironmentVariable("INCUBATOR_BENCH_FREEZE_SIZES") ?? "2000,10000,50000,1000000")
        .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(int.Parse).ToList();

    public string Name => "datasets.freeze";

    public string Description => $"SQLite write lock held while freezing {string.Join(" / ", Sizes.Select(s => s.ToString("N0")))} approved samples; a concurrent small writer's slowest write";

    public async Task<IReadOnlyList<BenchmarkRow>> RunAsync(CancellationToken ct)
    {
        var rows = new List<BenchmarkRow>();
        foreach (var size in Sizes) rows.AddRange(await RunSizeAsync(size, ct));
        return rows;
    }

    private async Task<IEnumerable<BenchmarkRow>> RunSizeAsync(int size, CancellationToken ct)
    {
        var watch = new WriteWatch();
        await using var bench = await ReviewBenchDatabase.CreateAsync(1, ct, configure: (s, _) => s.AddIncubatorTraining().AddSingleton<IInterceptor>(watch));
        var seed = Stopwatch.StartNew();
        await bench.SeedCandidatesAsync(size, ct);
        var factory = bench.Services.GetRequiredService<IDbContextFactory<IncubatorDbContext>>();
        var author = bench.Reviewers[0];
        await using (var db = await factory.CreateDbContextAsync(ct))
        {
            await db.Candidates.Where(c => c.TaskId == bench.TaskId).ExecuteUpdateAsync(s => s
                .SetProperty(c => c.Status, CandidateStatus.Approved).SetProperty(c => c.ReviewedById, author), ct);
            await db.ProjectMembers.Where(m => m.ProjectId == bench.ProjectId && m.UserId == author)
                .ExecuteUpdateAsync(s => s.SetProperty(m => m.Role, ProjectRole.Author), ct);
        }
        seed.Stop();
        var datasets = bench.Services.GetRequiredService<DatasetService>();
        // The path before 0028's 2026-12-06 freeze amendment: the same plan, the version and every item in one SaveChanges.
        async Task<int> OneTransactionAsync(int seed)
        {
            var plan = await datasets.PlanFreezeAsync(author, bench.TaskId, seed, DatasetService.DefaultValidationShare, ct);
            await using var db = await factory.CreateDbContextAsync(ct);
            plan.Version.Number = (await db.DatasetVersions.Where(d => d.TaskId == bench.TaskId).MaxAsync(d => (int?)d.Number, ct) ?? 0) + 1;
            db.DatasetVersions.Add(plan.Version);
            db.DatasetItems.AddRange(plan.Items);
            db.Activity.Add(new ActivityEntry { ProjectId = bench.ProjectId, UserId = author, At = plan.Version.CreatedAt, Kind = ActivityKinds.DatasetFrozen, Detail = "bench" });
            await db.SaveChangesAsync(ct);
            return plan.Items.Count;
        }

        async Task<int> UnpausedAsync(int seed) => (await datasets.WriteAndPublishAsync(author,
            await datasets.PlanFreezeAsync(author, bench.TaskId, seed, DatasetService.DefaultValidationShare, ct), TimeSpan.Zero, ct)).Count;
        async Task<int> ShippedAsync(int seed) => (await datasets.FreezeAsync(author, bench.TaskId, seed: seed, ct: ct)).Count;

        // Once per process, unmeasured: the first use of each path compiles its queries (inside its transactions).
        if (!_warm)
        {
            await OneTransactionAsync(900);
            await UnpausedAsync(901);
            await ShippedAsync(902);
            _warm = true;
        }
        var before = new List<Measured>();
        var unpaused = new List<Measured>();
        var after = new List<Measured>();
        // Interleaved, each freeze with a seed of its own (the same seed would return the version already there). Back to
        // back only up to 50,000: above, it starves the probe as one transaction does and only lengthens the run.
        for (var r = 0; r < Repeats(size); r++)
        {
            before.Add(await MeasureAsync(watch, factory, bench.ProjectId, () => OneTransactionAsync(100 + r), ct));
            if (size <= 50_000) unpaused.Add(await MeasureAsync(watch, factory, bench.ProjectId, () => UnpausedAsync(200 + r), ct));
            after.Add(await MeasureAsync(watch, factory, bench.ProjectId, () => ShippedAsync(300 + r), ct));
        }
        var n = $"{size:N0} approved samples (seeded in {seed.Elapsed.TotalSeconds:0} s), {before.Count} interleaved runs each, worst shown";
        var b = Worst(before);
        var u = unpaused.Count > 0 ? Worst(unpaused) : null;
        var a = Worst(after);
        var yield = $"{DbBatches.Yield.TotalMilliseconds:0} ms";
        return
        [
            new BenchmarkRow(Name, $"{size:N0}: longest write transaction", a.Longest, "ms", b.Longest,
                $"baseline: one transaction (before); {n}; {a.Writes} vs {b.Writes} write transactions; {a.Count:N0} items"),
            new BenchmarkRow(Name, $"{size:N0}: concurrent writer's slowest write, batches {yield} apart", a.ProbeMax, "ms", b.ProbeMax,
                $"baseline: one transaction; a one-row UPDATE every 20 ms; failed {a.ProbeFailed} vs {b.ProbeFailed}"),
            .. u is null ? Array.Empty<BenchmarkRow>() :
            [
                new BenchmarkRow(Name, $"{size:N0}: concurrent writer's slowest write, batches back to back", u.ProbeMax, "ms", b.ProbeMax,
                    $"baseline: one transaction; longest transaction {u.Longest:0} ms; failed {u.ProbeFailed}; wall time {u.Total:0} ms"),
            ],
            new BenchmarkRow(Name, $"{size:N0}: freeze wall time, batches {yield} apart", a.Total, "ms", b.Total, "baseline: one transaction"),
        ];
    }

    private static int Repeats(int size) => BenchDatabases.Knob("INCUBATOR_BENCH_FREEZE_REPEATS", size <= 50_000 ? 3 : 1);

    private sealed record Measured(double Longest, int Writes, double ProbeMax, int ProbeFailed, double Total, int Count);

    private static Measured Worst(IReadOnlyList<Measured> runs) => new(runs.Max(m => m.Longest), runs.Max(m => m.Writes), runs.Max(m => m.ProbeMax),
        runs.Sum(m => m.ProbeFailed), runs.Max(m => m.Total), runs[0].Count);

    /// <summary>Runs <paramref name="freeze"/> while a probe repeats a one-row write; returns the freeze's longest write
    /// transaction, how many it ran, the probe's slowest write and failures, the freeze's wall time and its result.</summary>
    private static async Task<Measured> MeasureAsync(
        WriteWatch watch, IDbContextFactory<IncubatorDbContext> factory, Guid projectId, Func<Task<int>> freeze, CancellationToken ct)
    {
        watch.Reset();
        using var stop = new CancellationTokenSource();
        var probe = Task.Run(async () =>
        {
            var max = 0.0;
            var failed = 0;
            while (!stop.IsCancellationRequested)
            {
                var sw = Stopwatch.StartNew();
                try
                {
                    await using var db = await factory.CreateDbContextAsync(CancellationToken.None);
                    await db.Projects.Where(p => p.Id == projectId).ExecuteUpdateAsync(s => s.SetProperty(p => p.Name, "review bench"), CancellationToken.None);
                }
                catch (DbException)
                {
                    failed++;
                }
                max = Math.Max(max, sw.Elapsed.TotalMilliseconds);
                try
                {
                    await Task.Delay(20, stop.Token);
                }
                catch (OperationCanceledException)
                {
                }
            }
            return (max, failed);
        }, ct);
        var clock = Stopwatch.StartNew();
        var count = await Task.Run(async () =>
        {
            WriteWatch.Measuring.Value = true;
            return await freeze();
        }, ct);
        clock.Stop();
        await stop.CancelAsync();
        var (probeMax, probeFailed) = await probe;
        return new Measured(watch.Longest, watch.Count, probeMax, probeFailed, clock.Elapsed.TotalMilliseconds, count);
    }

    /// <summary>Times the write transactions (and write statements outside one) of the code flow that set
    /// <see cref="Measuring"/>: on SQLite EF begins them IMMEDIATE, so BEGIN to COMMIT is the time the write lock is held.</summary>
    private sealed class WriteWatch : IDbTransactionInterceptor, IDbCommandInterceptor
    {
        public static readonly AsyncLocal<bool> Measuring = new();

        private readonly ConcurrentDictionary<DbTransaction, long> _started = new();
        private readonly Lock _gate = new();
        private double _longest;
        private int _count;

        public double Longest
        {
            get { lock (_gate) return _longest; }
        }

        public int Count
        {
            get { lock (_gate) return _count; }
        }

        public void Reset()
        {
            lock (_gate)
            {
                _longest = 0;
                _count = 0;
            }
        }

        public DbTransaction TransactionStarted(DbConnection connection, TransactionEndEventData eventData, DbTransaction result)
        {
            if (Measuring.Value) _started[result] = Stopwatch.GetTimestamp() - (long)(eventData.Duration.TotalSeconds * Stopwatch.Frequency);
            return result;
        }

        public ValueTask<DbTransaction> TransactionStartedAsync(DbConnection connection, TransactionEndEventData eventData, DbTransaction result,
            CancellationToken cancellationToken = default) => ValueTask.FromResult(TransactionStarted(connection, eventData, result));

        public void TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData) => End(transaction);

        public Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
        {
            End(transaction);
            return Task.CompletedTask;
        }

        public void TransactionRolledBack(DbTransaction transaction, TransactionEndEventData eventData) => End(transaction);

        public Task TransactionRolledBackAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
        {
            End(transaction);
            return Task.CompletedTask;
        }

        public int NonQueryExecuted(DbCommand command, CommandExecutedEventData eventData, int result)
        {
            Statement(command, eventData);
            return result;
        }

        public ValueTask<int> NonQueryExecutedAsync(DbCommand command, CommandExecutedEventData eventData, int result, CancellationToken cancellationToken = default)
        {
            Statement(command, eventData);
            return ValueTask.FromResult(result);
        }

        public DbDataReader ReaderExecuted(DbCommand command, CommandExecutedEventData eventData, DbDataReader result)
        {
            Statement(command, eventData);
            return result;
        }

        public ValueTask<DbDataReader> ReaderExecutedAsync(DbCommand command, CommandExecutedEventData eventData, DbDataReader result,
            CancellationToken cancellationToken = default)
        {
            Statement(command, eventData);
            return ValueTask.FromResult(result);
        }

        private void End(DbTransaction transaction)
        {
            if (_started.TryRemove(transaction, out var start)) Record(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }

        /// <summary>A write statement outside a transaction holds the lock for its own duration.</summary>
        private void Statement(DbCommand command, CommandExecutedEventData eventData)
        {
            if (!Measuring.Value || command.Transaction is not null) return;
            if (command.CommandText.TrimStart().StartsWith("SELECT", StringComparison.OrdinalIgnoreCase)) return;
            Record(eventData.Duration.TotalMilliseconds);
        }

        private void Record(double ms)
        {
            lock (_gate)
            {
                _longest = Math.Max(_longest, ms);
                _count++;
            }
        }
    }
}
