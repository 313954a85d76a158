using System.Diagnostics;
using System.Globalization;
using Incubator.Domain.Accounts;
using Incubator.Domain.Data;
using Incubator.Domain.Generation;
using Incubator.Domain.Jobs;
using Incubator.Domain.Projects;
using Incubator.Domain.Review;
using Incubator.Domain.Tasks;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Incubator.Domain.Benchmarks;

/// <summary>How fast the review queue lists a task of 100,000 candidates through <see cref="ReviewQueries.QueryAsync"/>:
/// the first page with no filter (the baseline) and a page filtered by label, status and a search word.</summary>
internal sealed class ReviewQueueBenchmark : IBenchmark
{
    private const int CandidateCount = 100_000;
    private const int WarmUps = 3;
    private const int Repeats = 40;
    private const int PageSize = 50;

    public string Name => "review.queue";

    public string Description => $"ReviewQueries.QueryAsync over {CandidateCount:N0} candidates: first page vs label+Pending+search page, p50/p95";

    public async Task<IReadOnlyList<BenchmarkRow>> RunAsync(CancellationToken ct)
    {
        await using var bench = await ReviewBenchDatabase.CreateAsync(reviewers: 1, ct);
        var seed = Stopwatch.StartNew();
        await bench.SeedCandidatesAsync(CandidateCount, ct);
        seed.Stop();

        var review = bench.Queries;
        var reviewer = bench.Reviewers[0];
        var plain = new CandidateFilter();
        var filtered = new CandidateFilter(Label: ReviewBenchDatabase.Labels[1], Status: CandidateStatus.Pending, Search: "refund");

        // Sanity: the filtered page must find something, or it would measure an empty result.
        var check = await review.QueryAsync(reviewer, bench.TaskId, filtered, 0, PageSize, ct: ct);
        if (check.Items.Count == 0) throw new InvalidOperationException("The filtered review page matched nothing; the seed data is wrong.");

        var (p50All, p95All) = await TimeAsync(() => review.QueryAsync(reviewer, bench.TaskId, plain, 0, PageSize, ct: ct));
        var (p50Filtered, p95Filtered) = await TimeAsync(() => review.QueryAsync(reviewer, bench.TaskId, filtered, 0, PageSize, ct: ct));
        // The page's default: the main view in the order that spreads labels, first page and a page deep in the queue.
        var main = new CandidateFilter(Stage: CandidateStage.Selected);
        var (p50Main, p95Main) = await TimeAsync(() => review.QueryAsync(reviewer, bench.TaskId, main, 0, PageSize, CandidateSort.Spread, ct));
        var (p50Deep, p95Deep) = await TimeAsync(() => review.QueryAsync(reviewer, bench.TaskId, main, 500, PageSize, CandidateSort.Spread, ct));

        const string baselineNote = "baseline: first page p95";
        return
        [
            new BenchmarkRow(Name, "seed 100k candidates", seed.Elapsed.TotalSeconds, "s", Note: "batches of 5,000, one DbContext each (setup, not measured)"),
            new BenchmarkRow(Name, "first page p50", p50All, "ms", Note: $"page size {PageSize}, no filter, newest first, {Repeats} runs"),
            new BenchmarkRow(Name, "first page p95", p95All, "ms", Note: "target < 200 ms"),
            new BenchmarkRow(Name, "filtered page p50", p50Filtered, "ms", p95All,
                $"{baselineNote}; label + Pending + 'refund' ({check.Total:N0} matches)"),
            new BenchmarkRow(Name, "filtered page p95", p95Filtered, "ms", p95All, $"{baselineNote}; target < 200 ms"),
            new BenchmarkRow(Name, "main view, labels spread, first page p95", p95Main, "ms", p95All, $"{baselineNote}; the queue's default view and order (p50 {p50Main:0.#} ms)"),
            new BenchmarkRow(Name, "main view, labels spread, page 500 p95", p95Deep, "ms", p95All, $"{baselineNote}; 25,000 rows in (p50 {p50Deep:0.#} ms)"),
        ];
    }

    private static async Task<(double P50, double P95)> TimeAsync<T>(Func<Task<T>> query)
    {
        for (var i = 0; i < WarmUps; i++) await query();
        var times = new double[Repeats];
        for (var i = 0; i < Repeats; i++)
        {
            var sw = Stopwatch.StartNew();
            await query();
            times[i] = sw.Elapsed.TotalMilliseconds;
        }
        Array.Sort(times);
        return (Percentile(times, 0.50), Percentile(times, 0.95));
    }

    /// <summary>Nearest-rank percentile of sorted values.</summary>
    private static double Percentile(double[] sorted, double p) =>
        sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
}

/// <summary>Sustained review decisions per second through <see cref="DecideCandidate.DecideAsync"/> (each one its own
/// write transaction plus audit event): one reviewer in sequence (the baseline), then four reviewers in parallel on
/// disjoint candidates. SQLite serialises the writes, so the ratio shows how much the parallel reads still win.</summary>
internal sealed class ReviewDecisionsBenchmark : IBenchmark
{
    private const int CandidateCount = 10_000;
    private const int Sequential = 1_000;
    private const int Reviewers = 4;
    private const int PerReviewer = 250;

    public string Name => "review.decisions";

    public string Description => $"DecideCandidate.DecideAsync approve/reject: {Sequential:N0} sequential vs {Reviewers}×{PerReviewer} concurrent, on {CandidateCount:N0} candidates";

    public async Task<IReadOnlyList<BenchmarkRow>> RunAsync(CancellationToken ct)
    {
        await using var bench = await ReviewBenchDatabase.CreateAsync(Reviewers, ct);
        await bench.SeedCandidatesAsync(CandidateCount, ct, allPending: true);
        var ids = await bench.CandidateIdsAsync(WarmUp + Sequential + Reviewers * PerReviewer, ct);
        var review = bench.Decide;

        // Warm-up on candidates of their own: JIT, query compilation, connection pool.
        for (var i = 0; i < WarmUp; i++)
            await DecideAsync(review, bench.Reviewers[0], ids[i], i, ct);

        var sw = Stopwatch.StartNew();
        for (var i = 0; i < Sequential; i++)
            await DecideAsync(review, bench.Reviewers[0], ids[WarmUp + i], i, ct);
        var sequential = Sequential / sw.Elapsed.TotalSeconds;

        var offset = WarmUp + Sequential;
        sw.Restart();
        await Task.WhenAll(Enumerable.Range(0, Reviewers).Select(r => Task.Run(async () =>
        {
            for (var i = 0; i < PerReviewer; i++)
                await DecideAsync(review, bench.Reviewers[r], ids[offset + r * PerReviewer + i], i, ct);
        }, ct)));
        var concurrent = Reviewers * PerReviewer / sw.Elapsed.TotalSeconds;

        var decided = await bench.DecidedCountAsync(ct);
        if (decided != WarmUp + Sequential + Reviewers * PerReviewer)
            throw new InvalidOperationException($"Expected every decision to apply, but {decided:N0} candidates are decided.");

        return
        [
            new BenchmarkRow(Name, "decisions/s, 1 reviewer", sequential, "decisions/s", Note: $"{Sequential:N0} approve/reject alternating, sequential"),
            new BenchmarkRow(Name, $"decisions/s, {Reviewers} reviewers", concurrent, "decisions/s", sequential,
                $"baseline: 1 reviewer; {Reviewers}×{PerReviewer} on disjoint candidates; SQLite serialises writes"),
        ];
    }

    private const int WarmUp = 20;

    private static readonly Decision Approve = new(DecisionKind.Approve);
    private static readonly Decision Reject = new(DecisionKind.Reject, RejectionReason.LowQuality, "Too vague to teach the label.");

    private static Task<CandidateRow> DecideAsync(DecideCandidate review, string userId, Guid candidateId, int i, CancellationToken ct) =>
        review.DecideAsync(userId, candidateId, i % 2 == 0 ? Approve : Reject, expectedVersion: 0, ct);
}

/// <summary>A throw-away database (a SQLite file in a temp folder, or a fresh PostgreSQL database) with one project, its reviewers and one task of three
/// labels, plus the review use cases wired as in the app.</summary>
internal sealed class ReviewBenchDatabase : IAsyncDisposable
{
    public static readonly string[] Labels = ["praise", "complaint", "question"];

    private const int BatchSize = 5_000;

    private readonly string _directory;
    private readonly ServiceProvider _services;

    private ReviewBenchDatabase(string directory, ServiceProvider services, Guid projectId, Guid taskId, IReadOnlyList<string> reviewers)
    {
        _directory = directory;
        _services = services;
        ProjectId = projectId;
        TaskId = taskId;
        Reviewers = reviewers;
    }

    public Guid ProjectId { get; }

    public Guid TaskId { get; }

    public IReadOnlyList<string> Reviewers { get; }

    public ReviewQueries Queries => _services.GetRequiredService<ReviewQueries>();

    public DecideCandidate Decide => _services.GetRequiredService<DecideCandidate>();

    public IServiceProvider Services => _services;

    private IDbContextFactory<IncubatorDbContext> Factory => _services.GetRequiredService<IDbContextFactory<IncubatorDbContext>>();

    public static async Task<ReviewBenchDatabase> CreateAsync(int reviewers, CancellationToken ct,
        DatabaseProvider provider = DatabaseProvider.Sqlite, Action<IServiceCollection, IConfiguration>? configure = null)
    {
        var dir = Path.Combine(Path.GetTempPath(), "incubator-bench-" + Guid.NewGuid().ToString("N"));
        var config = new ConfigurationBuilder().AddInMemoryCollection(await BenchDatabases.SettingsAsync(provider, dir)).Build();
        var collection = new ServiceCollection()
            .AddLogging(b => b.SetMinimumLevel(LogLevel.Warning))
            .AddIncubatorData(config)
            .AddIncubatorProjects()
            .AddIncubatorJobs(config, runWorker: false)
            .AddIncubatorReview(config);
        configure?.Invoke(collection, config);
        var services = collection.BuildServiceProvider();
        try
        {
            await services.GetRequiredService<DatabaseMigrator>().MigrateAsync(ct);
            var now = DateTimeOffset.UtcNow;
            var projectId = Guid.NewGuid();
            var taskId = Guid.NewGuid();
            var users = new List<string>();
            await using (var db = await services.GetRequiredService<IDbContextFactory<IncubatorDbContext>>().CreateDbContextAsync(ct))
            {
                db.Projects.Add(new Project { Id = projectId, Name = "review bench", CreatedAt = now });
                for (var i = 0; i < reviewers; i++)
                {
                    var id = Guid.NewGuid().ToString();
                    var email = $"reviewer{i + 1}-{id[..8]}@example.test";
                    db.Users.Add(new AppUser
                    {
                        Id = id, UserName = email, NormalizedUserName = email.ToUpperInvariant(), Email = email,
                        NormalizedEmail = email.ToUpperInvariant(), DisplayName = $"Reviewer {i + 1}", CreatedAt = now,
                    });
                    db.ProjectMembers.Add(new ProjectMember { ProjectId = projectId, UserId = id, Role = ProjectRole.Reviewer, AddedAt = now });
                    users.Add(id);
                }
                var spec = new TaskSpec
                {
                    Name = "Seaside Inn guest messages",
                    Instruction = "Sort messages from guests of the Seaside Inn into praise, complaints and questions.",
                    Labels =
                    [
                        new LabelSpec { Name = Labels[0], Description = "The guest liked something." },
                        new LabelSpec { Name = Labels[1], Description = "The guest reports a problem." },
                        new LabelSpec { Name = Labels[2], Description = "The guest asks for information." },
                    ],
                    Preferences = new TaskPreferences { Language = "en" },
                };
                db.Tasks.Add(new ClassifierTask { Id = taskId, ProjectId = projectId, Name = spec.Name, CurrentVersion = 1, CreatedAt = now, UpdatedAt = now });
                db.TaskVersions.Add(new TaskVersion
                {
                    Id = Guid.NewGuid(), TaskId = taskId, Number = 1, SpecJson = TaskJson.Serialize(spec), ContentHash = Guid.NewGuid().ToString("N"), CreatedAt = now,
                });
                await db.SaveChangesAsync(ct);
            }
            return new ReviewBenchDatabase(dir, services, projectId, taskId, users);
        }
        catch
        {
            await services.DisposeAsync();
            Cleanup(dir);
            throw;
        }
    }

    /// <summary>Inserts <paramref name="count"/> candidates in batches, one context per batch, change detection off.
    /// Texts are assembled from label-specific phrases so lengths and words vary like real generated samples; some
    /// mention a refund (the search word). Unless <paramref name="allPending"/>, about 70 % are pending, 20 %
    /// approved and 10 % rejected.</summary>
    public async Task SeedCandidatesAsync(int count, CancellationToken ct, bool allPending = false)
    {
        var rng = new Random(20261201);
        var start = DateTimeOffset.UtcNow.AddDays(-30);
        var reviewer = Reviewers[0];
        // Each label's main-view samples in order, as selection and mining rank them.
        var ranks = new int[Labels.Length];
        for (var done = 0; done < count; done += BatchSize)
        {
            var n = Math.Min(BatchSize, count - done);
            await using var db = await Factory.CreateDbContextAsync(ct);
            db.ChangeTracker.AutoDetectChangesEnabled = false;
            var batch = new List<Candidate>(n);
            for (var i = 0; i < n; i++)
            {
                var index = done + i;
                var labelIndex = rng.Next(Labels.Length);
                var text = Text(rng, labelIndex, index);
                var created = start.AddSeconds(index * 20 + rng.Next(20));
                var status = allPending ? CandidateStatus.Pending : rng.Next(10) switch
                {
                    < 7 => CandidateStatus.Pending,
                    < 9 => CandidateStatus.Approved,
                    _ => CandidateStatus.Rejected,
                };
                var c = new Candidate
                {
                    Id = Guid.NewGuid(), ProjectId = ProjectId, TaskId = TaskId, TaskVersionNumber = 1, Label = Labels[labelIndex], Text = text,
                    NormalizedText = TextNormalizer.Normalize(text),
                    Source = rng.Next(10) == 0 ? CandidateSource.Mining : CandidateSource.Generation,
                    Stage = rng.Next(20) switch { < 12 => CandidateStage.Selected, < 17 => CandidateStage.Reserve, _ => CandidateStage.Pool },
                    Status = status, IsAmbiguous = rng.Next(25) == 0, Round = 1 + index / 10_000, CreatedAt = created,
                };
                if (c.Stage == CandidateStage.Selected) c.SpreadRank = ranks[labelIndex]++;
                if (status != CandidateStatus.Pending)
                {
                    c.ReviewedById = reviewer;
                    c.ReviewedAt = created.AddHours(1);
                    c.Version = 1;
                    if (status == CandidateStatus.Rejected)
                    {
                        c.RejectionReason = RejectionReason.WrongLabel;
                        c.ReviewReason = "WrongLabel";
                    }
                }
                batch.Add(c);
            }
            db.Candidates.AddRange(batch);
            await db.SaveChangesAsync(ct);
        }
    }

    public async Task<IReadOnlyList<Guid>> CandidateIdsAsync(int count, CancellationToken ct)
    {
        await using var db = await Factory.CreateDbContextAsync(ct);
        return await db.Candidates.AsNoTracking().Where(c => c.TaskId == TaskId && c.Status == CandidateStatus.Pending)
            .OrderBy(c => c.CreatedAt).Select(c => c.Id).Take(count).ToListAsync(ct);
    }

    public async Task<int> DecidedCountAsync(CancellationToken ct)
    {
        await using var db = await Factory.CreateDbContextAsync(ct);
        return await db.Candidates.CountAsync(c => c.TaskId == TaskId && c.Status != CandidateStatus.Pending, ct);
    }

    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync();
        Cleanup(_directory);
    }

    private static void Cleanup(string dir)
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(dir, recursive: true); } catch (IOException) { /* temp folder; the OS cleans it */ }
    }

    // ---- texts --------------------------------------------------------------------------------------------------

    private static readonly string[] Places =
    [
        "room", "breakfast room", "spa", "pool", "restaurant", "bar", "lobby", "car park", "garden terrace", "gym", "sea-view suite", "reception",
    ];

    private static readonly string[][] Openings =
    [
        ["Loved the {0}", "The {0} was spotless", "Our stay was made by the {0}", "Five stars for the {0}", "Honestly impressed by the {0}"],
        ["The {0} was a letdown", "Very disappointed with the {0}", "Nobody cleaned the {0}", "The {0} smelled of smoke", "We waited ages at the {0}"],
        ["Is the {0} open late", "Can we book the {0} in advance", "How much does the {0} cost", "Does the {0} allow dogs", "When does the {0} close"],
    ];

    private static readonly string[][] Details =
    [
        ["and the staff remembered our names", "with fresh flowers every morning", "after a long drive it felt like home", "and the view over the bay was stunning",
            "so we already booked again for next summer", "and the kids did not want to leave"],
        ["and we had to ask for a refund", "and the manager never called back", "even though we paid for the premium package", "and the noise kept us up until two",
            "so we want a refund for the second night", "and the towels were still wet"],
        ["on a Sunday evening", "for a group of six", "if we arrive after midnight", "and can we get a refund if plans change", "with a toddler", "during the winter months"],
    ];

    private static readonly string[] Endings = [".", "!", "?", " — thanks.", ". Kind regards, a returning guest.", " Please let us know."];

    private static string Text(Random rng, int label, int index)
    {
        var opening = string.Format(CultureInfo.InvariantCulture, Openings[label][rng.Next(Openings[label].Length)], Places[rng.Next(Places.Length)]);
        var detail = Details[label][rng.Next(Details[label].Length)];
        var extra = rng.Next(3) == 0 ? " " + Details[label][rng.Next(Details[label].Length)] : "";
        var ending = label == 2 ? "?" : Endings[rng.Next(Endings.Length)];
        // The visit number keeps every text distinct, as generated samples are after de-duplication.
        return $"{opening} {detail}{extra} (visit {index.ToString(CultureInfo.InvariantCulture)}){ending}";
    }
}
