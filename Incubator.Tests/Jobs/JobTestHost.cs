using System.Text.Json;
using System.Text.RegularExpressions;
using Incubator.Domain.Accounts;
using Incubator.Domain.Data;
using Incubator.Domain.Jobs;
using Incubator.Domain.Projects;
using Incubator.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Incubator.Tests.Jobs;

/// <summary>The job system as one Incubator instance composes it (data, projects, jobs), on a SQLite file in a data
/// folder or a fresh database on the tests' PostgreSQL server, with the worker registered but started only when a test
/// says so. Two hosts on the same folder and <see cref="DatabaseSettings"/> behave like two instances sharing a
/// database: separate signals, separate events, one database.</summary>
internal sealed class JobTestHost : IAsyncDisposable
{
    private readonly TempFolder? _ownedFolder;
    private bool _workerStarted;

    private JobTestHost(ServiceProvider services, string dataDirectory, TempFolder? ownedFolder, IReadOnlyDictionary<string, string?> databaseSettings)
    {
        Services = services;
        DataDirectory = dataDirectory;
        _ownedFolder = ownedFolder;
        DatabaseSettings = databaseSettings;
    }

    /// <summary>The settings that point at this host's database: pass them to a second host to share it.</summary>
    public IReadOnlyDictionary<string, string?> DatabaseSettings { get; }

    /// <summary>No configuration: for areas whose options keep their defaults in a test (<c>AddIncubatorReview(NoSettings)</c>).</summary>
    public static readonly IConfiguration NoSettings = new ConfigurationBuilder().Build();

    public ServiceProvider Services { get; }

    public string DataDirectory { get; }

    public IDbContextFactory<IncubatorDbContext> Db => Services.GetRequiredService<IDbContextFactory<IncubatorDbContext>>();

    public JobQueue Queue => Services.GetRequiredService<JobQueue>();

    public JobWorker Worker => Services.GetRequiredService<JobWorker>();

    /// <param name="dataDirectory">Null: a fresh temporary folder this host owns and deletes.</param>
    /// <param name="provider">PostgreSQL: a fresh database on the tests' server, unless <paramref name="settings"/>
    /// already name one (a second host sharing the first one's).</param>
    public static async Task<JobTestHost> CreateAsync(
        string? dataDirectory = null,
        string workerName = "test-worker",
        Action<IServiceCollection>? configure = null,
        IReadOnlyDictionary<string, string?>? settings = null,
        bool migrate = true,
        DatabaseProvider provider = DatabaseProvider.Sqlite)
    {
        TempFolder? owned = null;
        if (dataDirectory is null)
        {
            owned = new TempFolder("incubator-jobs");
            dataDirectory = owned.Path;
        }
        var values = new Dictionary<string, string?>
        {
            ["Incubator:DataDirectory"] = dataDirectory,
            ["Jobs:WorkerName"] = workerName,
            ["Jobs:PollInterval"] = "00:00:00.050",
            ["Jobs:Concurrency"] = "2",
        };
        if (settings is not null)
            foreach (var (k, v) in settings) values[k] = v;
        if (provider == DatabaseProvider.Postgres && !values.ContainsKey("ConnectionStrings:Incubator"))
            foreach (var (k, v) in await TestServers.DatabaseSettingsAsync(provider)) values[k] = v;
        var databaseSettings = values.Where(kv => kv.Key.StartsWith("Database:", StringComparison.Ordinal) || kv.Key.StartsWith("ConnectionStrings:", StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key, kv => kv.Value);
        var config = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var services = new ServiceCollection()
            .AddLogging(b => b.SetMinimumLevel(LogLevel.Warning))
            .AddIncubatorData(config)
            .AddIncubatorProjects()
            .AddIncubatorJobs(config, runWorker: false)
            .AddSingleton<JobWorker>();
        configure?.Invoke(services);
        var sp = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        var host = new JobTestHost(sp, dataDirectory, owned, databaseSettings);
        if (migrate) await sp.GetRequiredService<DatabaseMigrator>().MigrateAsync();
        return host;
    }

    /// <summary>A worker that is not the registered one: same database and services, its own name and options.</summary>
    public JobWorker CreateExtraWorker(string workerName, TimeSpan? leaseDuration = null)
    {
        var options = Options.Create(new JobOptions
        {
            WorkerName = workerName,
            PollInterval = TimeSpan.FromMilliseconds(50),
            LeaseDuration = leaseDuration ?? TimeSpan.FromSeconds(30),
        });
        return ActivatorUtilities.CreateInstance<JobWorker>(Services, options);
    }

    public async Task StartWorkerAsync()
    {
        await ((IHostedService)Worker).StartAsync(CancellationToken.None);
        _workerStarted = true;
    }

    /// <summary>Stops the worker and waits for its running jobs to end (a running job is handed back to the queue).</summary>
    public async Task StopWorkerAsync()
    {
        if (!_workerStarted) return;
        _workerStarted = false;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await ((IHostedService)Worker).StopAsync(timeout.Token);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopWorkerAsync();
        }
        finally
        {
            await Services.DisposeAsync();
            _ownedFolder?.Dispose();
        }
    }

    // ---- data helpers -------------------------------------------------------------------------------------------

    public async Task<Guid> CreateProjectAsync(string name = "jobs test")
    {
        var id = Guid.NewGuid();
        await using var db = await Db.CreateDbContextAsync();
        db.Projects.Add(new Project { Id = id, Name = name, CreatedAt = DateTimeOffset.UtcNow });
        await db.SaveChangesAsync();
        return id;
    }

    /// <summary>Creates an account and, when <paramref name="role"/> is given, makes it a member of the project.</summary>
    public async Task<string> CreateUserAsync(Guid projectId, ProjectRole? role, string label)
    {
        var id = Guid.NewGuid().ToString();
        var email = $"{label}-{id[..8]}@example.test";
        await using var db = await Db.CreateDbContextAsync();
        db.Users.Add(new AppUser
        {
            Id = id, UserName = email, NormalizedUserName = email.ToUpperInvariant(), Email = email,
            NormalizedEmail = email.ToUpperInvariant(), DisplayName = label, CreatedAt = DateTimeOffset.UtcNow,
        });
        if (role is { } r)
            db.ProjectMembers.Add(new ProjectMember { ProjectId = projectId, UserId = id, Role = r, AddedAt = DateTimeOffset.UtcNow });
        await db.SaveChangesAsync();
        return id;
    }

    /// <summary>Runs <paramref name="query"/> on a fresh context of this host's database.</summary>
    public async Task<T> QueryAsync<T>(Func<IncubatorDbContext, Task<T>> query)
    {
        await using var db = await Db.CreateDbContextAsync();
        return await query(db);
    }

    public async Task<Job> InsertJobAsync(Job job)
    {
        await using var db = await Db.CreateDbContextAsync();
        db.Jobs.Add(job);
        await db.SaveChangesAsync();
        return job;
    }

    public async Task<Guid> AddCandidateAsync(Incubator.Domain.Review.Candidate candidate)
    {
        await using var db = await Db.CreateDbContextAsync();
        db.Candidates.Add(candidate);
        await db.SaveChangesAsync();
        return candidate.Id;
    }

    public async Task<Incubator.Domain.Review.Candidate> GetCandidateAsync(Guid id)
    {
        await using var db = await Db.CreateDbContextAsync();
        return await db.Candidates.AsNoTracking().SingleAsync(c => c.Id == id);
    }

    public async Task<Job> GetJobAsync(Guid id)
    {
        await using var db = await Db.CreateDbContextAsync();
        return await db.Jobs.AsNoTracking().SingleAsync(j => j.Id == id);
    }

    public async Task<List<JobLogEntry>> GetLogAsync(Guid id)
    {
        await using var db = await Db.CreateDbContextAsync();
        return await db.JobLog.AsNoTracking().Where(l => l.JobId == id).OrderBy(l => l.Id).ToListAsync();
    }

    /// <summary>Polls until <paramref name="condition"/> holds for the job row; fails with the row and its log.</summary>
    public async Task<Job> WaitForJobAsync(Guid id, Func<Job, bool> condition, string what, TimeSpan? timeout = null)
    {
        Job? last = null;
        await Poll.UntilAsync(async () =>
        {
            last = await GetJobAsync(id);
            return condition(last);
        }, timeout ?? TimeSpan.FromSeconds(30), async () => $"job {id} never became {what}; last row: {Describe(last)}; log:\n{FormatLog(await GetLogAsync(id))}");
        return last!;
    }

    /// <summary>The worker marks a job finished, then writes its closing log line ("Job succeeded." and so on);
    /// waits for that line and returns the whole log.</summary>
    public async Task<List<JobLogEntry>> WaitForFinishLineAsync(Guid id, TimeSpan? timeout = null)
    {
        List<JobLogEntry> log = [];
        await Poll.UntilAsync(async () =>
        {
            log = await GetLogAsync(id);
            return log.Any(l => l.Message is "Job succeeded." or "Job cancelled." || l.Message.StartsWith("Job failed", StringComparison.Ordinal)
                || l.Message.StartsWith("Job stopped short", StringComparison.Ordinal));
        }, timeout ?? TimeSpan.FromSeconds(30), () => Task.FromResult($"job {id} has no closing log line; log:\n{FormatLog(log)}"));
        return log;
    }

    public static string Describe(Job? j) => j is null
        ? "(none)"
        : $"State={j.State} Progress={j.Progress} Attempts={j.Attempts} LeaseOwner={j.LeaseOwner} Checkpoint={j.Checkpoint} CancelRequested={j.CancelRequested} Error={j.Error}";

    public static string FormatLog(IEnumerable<JobLogEntry> log) => string.Join("\n", log.Select(l => $"  #{l.Id} [{l.Level}] {l.Message}"));

    /// <summary>UTC now cut to whole milliseconds, so it survives the round trip through the stored binary form.</summary>
    public static DateTimeOffset UtcNowMs()
    {
        var now = DateTimeOffset.UtcNow;
        return new DateTimeOffset(now.Ticks - now.Ticks % TimeSpan.TicksPerMillisecond, TimeSpan.Zero);
    }

    public static string Json(object value) => JsonSerializer.Serialize(value, JsonSerializerOptions.Web);
}

internal static class Poll
{
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, Func<Task<string>> describeFailure)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (await condition()) return;
            if (DateTime.UtcNow > deadline)
                throw new Xunit.Sdk.XunitException($"Timed out after {timeout.TotalSeconds:0} s: {await describeFailure()}");
            await Task.Delay(50);
        }
    }
}

/// <summary>Reads what <see cref="DiagnosticsJob"/> wrote into a job's log.</summary>
internal static partial class DiagnosticsLog
{
    [GeneratedRegex(@"^Step (\d+) done\.$")]
    private static partial Regex StepDone();

    [GeneratedRegex(@"^Resuming after step (\d+) of (\d+)\.$")]
    private static partial Regex Resuming();

    public static List<int> Steps(IEnumerable<JobLogEntry> log) =>
        log.Select(l => StepDone().Match(l.Message)).Where(m => m.Success).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();

    public static List<int> ResumedAfter(IEnumerable<JobLogEntry> log) =>
        log.Select(l => Resuming().Match(l.Message)).Where(m => m.Success).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
}
