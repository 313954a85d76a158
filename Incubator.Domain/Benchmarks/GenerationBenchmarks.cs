using Incubator.Domain.Common.Events;
using System.Diagnostics;
using Incubator.Domain.Data;
using Incubator.Domain.Embeddings;
using Incubator.Domain.Generation;
using Incubator.Domain.Jobs;
using Incubator.Domain.Llm;
using Incubator.Domain.Projects;
using Incubator.Domain.Tasks;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging;
using Incubator.Domain.Common;

namespace Incubator.Domain.Benchmarks;

/// <summary>Accepted samples per second through the whole engine — parse, validate, embed, dedup, persist, publish —
/// against <see cref="InProcessFakeLlm"/> with zero latency, so the model costs nothing and what is left is Incubator's
/// own work. The baseline, measured in the same run, keeps samples in <see cref="MemoryGenerationStore"/>; the
/// realistic figure persists every sample and rejected piece as a row through <see cref="DbGenerationStore"/> on a
/// fresh SQLite file (the portal's path). Both publish every event to an <see cref="InProcessRunEvents"/> with one
/// subscriber. Embedding uses character n-grams for both, so this measures the pipeline rather than the encoder
/// (generation.embedding-ratio measures MiniLM inside the engine).</summary>
internal sealed class GenerationEngineBenchmark : IBenchmark
{
    private const int PerLabel = 100;
    private const double Oversample = 2;
    private const int Concurrency = 4;

    public string Name => "generation.engine";

    public string Description => $"engine with a zero-latency fake LLM, {GenerationBench.SupportLabels.Length} labels × {PerLabel} (oversample ×{Oversample}), memory vs SQLite store";

    public async Task<IReadOnlyList<BenchmarkRow>> RunAsync(CancellationToken ct)
    {
        var engine = GenerationBench.NgramEngine();
        var spec = GenerationBench.SupportSpec();
        var settings = new GenerationSettings(PerLabel, Oversample, Concurrency);
        await using var database = await BenchDatabase.CreateAsync(ct);
        using var events = new CountingRunEvents();

        // Warm-up (JIT, the bank's vectors, EF's model and query cache), not measured.
        await engine.RunAsync(spec, new InProcessFakeLlm(GenerationBench.SupportLabels, seed: 99), GenerationBench.Profile, settings with { PerLabel = 5 },
            new MemoryGenerationStore(), events.Observer(Guid.NewGuid(), Guid.NewGuid()), ct);
        var warm = await database.NewRunAsync(spec, ct);
        await engine.RunAsync(spec, new InProcessFakeLlm(GenerationBench.SupportLabels, seed: 98), GenerationBench.Profile, settings with { PerLabel = 5 },
            warm.Store, events.Observer(database.ProjectId, warm.Run.Id), ct);

        var memory = await engine.RunAsync(spec, new InProcessFakeLlm(GenerationBench.SupportLabels, seed: 1), GenerationBench.Profile, settings,
            new MemoryGenerationStore(), events.Observer(Guid.NewGuid(), Guid.NewGuid()), ct);
        var memoryEvents = events.Published;
        var memoryRate = memory.Accepted / memory.Elapsed.TotalSeconds;

        var run = await database.NewRunAsync(spec, ct);
        var db = await engine.RunAsync(spec, new InProcessFakeLlm(GenerationBench.SupportLabels, seed: 1), GenerationBench.Profile, settings,
            run.Store, events.Observer(database.ProjectId, run.Run.Id), ct);
        var dbEvents = events.Published;
        var dbRate = db.Accepted / db.Elapsed.TotalSeconds;
        var rows = await database.CountRowsAsync(run.Run.Id, ct);

        return
        [
            new BenchmarkRow(Name, "accepted samples/s, memory store", memoryRate, "samples/s",
                Note: $"{memory.Accepted} accepted, {Rejected(memory)} rejected, {memory.Calls} calls, {memoryEvents} events published in {memory.Elapsed.TotalSeconds:0.00} s; concurrency {Concurrency}; char n-grams{GenerationBench.BuildNote()}"),
            new BenchmarkRow(Name, "accepted samples/s, SQLite store", dbRate, "samples/s", memoryRate,
                $"baseline: memory store; {db.Accepted} accepted, {Rejected(db)} rejected, {db.Calls} calls, {dbEvents} events in {db.Elapsed.TotalSeconds:0.00} s; {rows.Candidates} candidate + {rows.Rejected} rejected rows written"),
        ];
    }

    private static int Rejected(GenerationSummary s) => s.RejectedByReason.Values.Sum();
}

/// <summary>How fast MiniLM embeds inside the engine compared with the bare encoder, measured in the same run on the
/// same texts in the same batches. The engine's English embedder — the portal's stack, an embedding cache over
/// <see cref="MiniLmEmbedder"/> — is wrapped in a timing decorator handed to the engine through its
/// <see cref="EmbedderSelector"/>. Each time the engine embeds a batch, the decorator also has the bare SentenceEncoder
/// (a session of its own) embed exactly that batch, alternately just before and just after the engine's call and
/// outside the engine's timed window, so both figures are taken under the same machine load (this box is shared and
/// its load swings by a factor of three within seconds; timing the two halves seconds apart made the ratio
/// meaningless). With a zero-latency fake model and the memory store every engine call completes synchronously, so
/// embedding calls never overlap (the note shows the most seen at once). The ratio (engine texts/s ÷ bare texts/s) is
/// what the engine's own overhead around the encoder (cache lookups, the embedder's lock, length sorting,
/// normalising) leaves of the encoder's speed. The demonstration bank embeds through a separate, untimed selector.</summary>
internal sealed class EmbeddingRatioBenchmark : IBenchmark
{
    private const int PerLabel = 40;
    private const double Oversample = 2;
    private const int Concurrency = 4;

    public string Name => "generation.embedding-ratio";

    public string Description => $"MiniLM texts/s inside the engine vs the bare encoder on the same batches ({GenerationBench.SupportLabels.Length} labels × {PerLabel}, oversample ×{Oversample})";

    public Task<IReadOnlyList<BenchmarkRow>> RunAsync(CancellationToken ct) => Task.Run(() => RunCoreAsync(ct), ct);

    private async Task<IReadOnlyList<BenchmarkRow>> RunCoreAsync(CancellationToken ct)
    {
        using var miniLm = new MiniLmEmbedder();
        using var encoder = MiniLmEmbedder.CreateEncoder();
        var ngrams = new CharNgramEmbedder();
        var bank = new DemonstrationBank(new EmbedderSelector(miniLm, ngrams));
        var spec = GenerationBench.SupportSpec();
        var settings = new GenerationSettings(PerLabel, Oversample, Concurrency);
        TimeSpan Bare(string[] batch)
        {
            var start = Stopwatch.GetTimestamp();
            encoder.Encode(batch, ct);
            return Stopwatch.GetElapsedTime(start);
        }

        // Warm-up: loads both sessions, embeds the bank, JITs the engine; a throwaway timer.
        await new GenerationEngine(bank, new EmbedderSelector(new TimingEmbedder(new CachedEmbedder(miniLm, new EmbeddingCache()), Bare), ngrams),
                NullLogger<GenerationEngine>.Instance)
            .RunAsync(spec, new InProcessFakeLlm(GenerationBench.SupportLabels, seed: 97), GenerationBench.Profile, settings with { PerLabel = 4 },
                new MemoryGenerationStore(), NullGenerationObserver.Instance, ct);

        var timer = new TimingEmbedder(new CachedEmbedder(miniLm, new EmbeddingCache()), Bare);
        var engine = new GenerationEngine(bank, new EmbedderSelector(timer, ngrams), NullLogger<GenerationEngine>.Instance);
        var summary = await engine.RunAsync(spec, new InProcessFakeLlm(GenerationBench.SupportLabels, seed: 2), GenerationBench.Profile, settings,
            new MemoryGenerationStore(), NullGenerationObserver.Instance, ct);
        var batches = timer.Batches;
        var texts = batches.Sum(b => b.Length);
        var engineRate = texts / timer.Busy.TotalSeconds;
        var bareRate = texts / timer.Baseline.TotalSeconds;
        var shapes = string.Join(", ", batches.GroupBy(b => b.Length).OrderBy(g => g.Key).Select(g => $"{g.Count()}×{g.Key}"));

        return
        [
            new BenchmarkRow(Name, "bare encoder texts/s", bareRate, "texts/s",
                Note: $"{texts} texts in {batches.Count} batches ({shapes}), {timer.Baseline.TotalSeconds:0.00} s; each batch beside the engine's call{GenerationBench.BuildNote()}"),
            new BenchmarkRow(Name, "in-engine embedding texts/s", engineRate, "texts/s", bareRate,
                $"baseline: bare encoder on the same batches; {timer.Busy.TotalSeconds:0.00} s embedding in a {summary.Elapsed.TotalSeconds:0.00} s run (bare replays included); "
                + $"{summary.Accepted} accepted; at most {EnglishCount.Of(timer.MaxConcurrent, "embedding call", "embedding calls")} at once; MiniLM + cache; aim ratio ≥ 0.9"),
        ];
    }

    /// <summary>Records every batch and the wall time during which any call is in progress, and runs the paired bare
    /// measurement for each batch outside that time (before the call for odd calls, after it for even ones).</summary>
    private sealed class TimingEmbedder(ITextEmbedder inner, Func<string[], TimeSpan> baseline) : ITextEmbedder
    {
        private readonly Lock _gate = new();
        private readonly List<string[]> _batches = [];
        private int _active;
        private int _maxActive;
        private long _since;
        private long _busyTicks;
        private TimeSpan _baseline;

        public string Name => inner.Name;

        public int Dimensions => inner.Dimensions;

        public IReadOnlyList<string[]> Batches
        {
            get { lock (_gate) return _batches.ToList(); }
        }

        public TimeSpan Busy
        {
            get { lock (_gate) return Stopwatch.GetElapsedTime(0, _busyTicks); }
        }

        public TimeSpan Baseline
        {
            get { lock (_gate) return _baseline; }
        }

        public int MaxConcurrent
        {
            get { lock (_gate) return _maxActive; }
        }

        public float[][] Embed(IReadOnlyList<string> texts)
        {
            var batch = texts.ToArray();
            bool before;
            lock (_gate)
            {
                before = _batches.Count % 2 == 1;
                _batches.Add(batch);
            }
            if (before) Record(baseline(batch));
            lock (_gate)
            {
                if (_active++ == 0) _since = Stopwatch.GetTimestamp();
                _maxActive = Math.Max(_maxActive, _active);
            }
            float[][] result;
            try
            {
                result = inner.Embed(texts);
            }
            finally
            {
                lock (_gate)
                    if (--_active == 0) _busyTicks += Stopwatch.GetTimestamp() - _since;
            }
            if (!before) Record(baseline(batch));
            return result;
        }

        private void Record(TimeSpan elapsed)
        {
            lock (_gate) _baseline += elapsed;
        }
    }
}

/// <summary>Wall time for a fixed amount of work against <see cref="InProcessFakeLlm"/> answering after 300 ms (a
/// fast hosted model): concurrency 1 (the baseline) vs 8, measured in the same run, through the database store and the
/// publishing observer like a portal run. Speed-up = baseline time ÷ concurrent time; 8 is the ceiling.</summary>
internal sealed class ConcurrencyBenchmark : IBenchmark
{
    private static readonly TimeSpan Latency = TimeSpan.FromMilliseconds(300);
    private static readonly string[] Labels = ["billing", "outage"];
    private const int PerLabel = 12;
    private const double Oversample = 2;

    public string Name => "generation.concurrency";

    public string Description => $"{Labels.Length} labels × {PerLabel} (oversample ×{Oversample}) against a fake LLM with {Latency.TotalMilliseconds:0} ms latency, concurrency 1 vs 8";

    public async Task<IReadOnlyList<BenchmarkRow>> RunAsync(CancellationToken ct)
    {
        var engine = GenerationBench.NgramEngine();
        var spec = GenerationBench.SupportSpec(Labels);
        await using var database = await BenchDatabase.CreateAsync(ct);
        using var events = new CountingRunEvents();

        async Task<(TimeSpan Elapsed, int Calls, int Accepted)> MeasureAsync(int concurrency, int perLabel, TimeSpan latency)
        {
            var run = await database.NewRunAsync(spec, ct);
            var client = new InProcessFakeLlm(Labels, latency, seed: 3);
            var summary = await engine.RunAsync(spec, client, GenerationBench.Profile, new GenerationSettings(perLabel, Oversample, concurrency),
                run.Store, events.Observer(database.ProjectId, run.Run.Id), ct);
            return (summary.Elapsed, summary.Calls, summary.Accepted);
        }

        await MeasureAsync(8, 2, TimeSpan.Zero); // warm-up: JIT, bank vectors, EF
        var one = await MeasureAsync(1, PerLabel, Latency);
        var eight = await MeasureAsync(8, PerLabel, Latency);
        var ideal = one.Calls * Latency.TotalSeconds;
        return
        [
            new BenchmarkRow(Name, "wall time, concurrency 1", one.Elapsed.TotalSeconds, "s",
                Note: $"{one.Calls} calls, {one.Accepted} accepted; {ideal:0.0} s is latency alone; SQLite store{GenerationBench.BuildNote()}"),
            new BenchmarkRow(Name, "wall time, concurrency 8", eight.Elapsed.TotalSeconds, "s", one.Elapsed.TotalSeconds,
                $"baseline: concurrency 1; {eight.Calls} calls, {eight.Accepted} accepted; ratio = time share (lower is better)"),
            new BenchmarkRow(Name, "speed-up, concurrency 8 over 1", one.Elapsed.TotalSeconds / eight.Elapsed.TotalSeconds, "×",
                Note: "aim ≥ 6×; ceiling 8× (calls arrive in waves of 8)"),
        ];
    }
}

/// <summary>What a run costs in LLM calls per selected sample, against the estimate shown before it starts
/// (docs/decisions/0021-proportional-generation.md): a balanced task (every label written freely) and the same task with
/// one scarce label (written in only a few ways, as a model with few ideas for "abbreviation" does). The fake model
/// follows the prompt — it writes only the labels it is asked for — so calls and tokens are what proportional
/// generation pays. The baseline is the estimate's expected calls per selected sample (expected calls ÷ labels × target).</summary>
internal sealed class GenerationCallsBenchmark : IBenchmark
{
    private static readonly string[] Labels = ["billing", "outage", "account", "refund", "shipping", "abbreviation"];
    private const int PerLabel = 30;
    private const double Oversample = 3;
    private const int Concurrency = 4;
    private const int ScarceWays = 12;

    public string Name => "generation.calls";

    public string Description => $"LLM calls per selected sample vs the estimate, {Labels.Length} labels × {PerLabel} (oversample ×{Oversample}): balanced, and one label written only {ScarceWays} ways";

    public async Task<IReadOnlyList<BenchmarkRow>> RunAsync(CancellationToken ct)
    {
        var engine = GenerationBench.NgramEngine();
        var spec = GenerationBench.SupportSpec(Labels);
        var settings = new GenerationSettings(PerLabel, Oversample, Concurrency);
        var estimate = engine.Estimate(spec, settings, GenerationBench.Profile);
        var expectedPerSelected = estimate.Calls / (double)(Labels.Length * PerLabel);

        async Task<BenchmarkRow> MeasureAsync(string metric, string? scarce, string aim)
        {
            var client = new InProcessFakeLlm(Labels, seed: 5, scarce: scarce, scarceWays: scarce is null ? 0 : ScarceWays, followPrompt: true);
            var s = await engine.RunAsync(spec, client, GenerationBench.Profile, settings, new MemoryGenerationStore(), NullGenerationObserver.Instance, ct);
            var shortfalls = s.End.Shortfalls.Count == 0 ? "none short" : "short: " + RunNotes.LabelList(s.End.Shortfalls);
            return new BenchmarkRow(Name, metric, s.Calls / (double)Math.Max(1, s.Selected), "calls/sample", expectedPerSelected,
                $"baseline: the estimate's expected calls per sample; {s.Calls} calls for {s.Selected} selected ({s.Outcome}, {shortfalls}); estimate {estimate.Calls} expected, "
                + $"{estimate.WorstCalls} worst; {s.Surplus} samples not kept; {s.InputTokens + s.OutputTokens:N0} tokens; aim ratio ≤ {aim}");
        }

        return
        [
            await MeasureAsync("balanced: calls per selected sample", null, "1.5"),
            await MeasureAsync($"one scarce label ({ScarceWays} ways): calls per selected sample", Labels[^1], "2.5"),
        ];
    }
}

/// <summary>Shared pieces of the generation benchmarks.</summary>
internal static class GenerationBench
{
    public static readonly string[] SupportLabels = ["billing", "outage", "account", "other"];

    public static readonly LlmProfile Profile = new(null, "in-process fake", LlmProvider.OpenAICompatible, "http://127.0.0.1:1/v1", "fake", null,
        0.9, 1024, 8, null, 1m, 2m);

    public static TaskSpec SupportSpec(IReadOnlyList<string>? labels = null) => new()
    {
        Name = "Support tickets",
        Instruction = $"Sort customer support tickets into {string.Join(", ", labels ?? SupportLabels)}.",
        Labels = (labels ?? SupportLabels).Select(l => new LabelSpec { Name = l, Description = $"Tickets about {l}." }).ToList(),
        Preferences = new TaskPreferences { Language = "en" },
    };

    /// <summary>The engine with character n-grams for every language, so a bench measures the pipeline rather than the
    /// encoder.</summary>
    public static GenerationEngine NgramEngine()
    {
        var ngrams = new CharNgramEmbedder();
        var selector = new EmbedderSelector(ngrams, ngrams);
        return new GenerationEngine(new DemonstrationBank(selector), selector, NullLogger<GenerationEngine>.Instance);
    }

    public static string BuildNote() =>
        typeof(GenerationEngine).Assembly.GetCustomAttributes(typeof(DebuggableAttribute), false).OfType<DebuggableAttribute>().Any(a => a.IsJITOptimizerDisabled)
            ? "; DEBUG build: use -c Release for real figures"
            : "";
}

/// <summary>An <see cref="InProcessRunEvents"/> with one subscriber (delivery is off the engine's path, on the
/// subscriber's own loop), and observers that publish the engine's callbacks into it.</summary>
internal sealed class CountingRunEvents : IDisposable
{
    private readonly InProcessRunEvents _events = new(NullLogger<InProcessRunEvents>.Instance);
    private readonly IDisposable _subscription;
    private PublishingObserver? _last;

    public CountingRunEvents()
    {
        _subscription = _events.SubscribeAll(_ => Task.CompletedTask);
    }

    /// <summary>Events published by the latest observer.</summary>
    public int Published => _last?.Published ?? 0;

    public IGenerationObserver Observer(Guid projectId, Guid runId) => _last = new PublishingObserver(_events, projectId, runId);

    public void Dispose() => _subscription.Dispose();
}

/// <summary>Publishes the engine's callbacks as the portal's events (as the generation job's observer does) and counts
/// them.</summary>
internal sealed class PublishingObserver(IRunEvents events, Guid projectId, Guid runId) : IGenerationObserver
{
    private int _published;

    public int Published => Volatile.Read(ref _published);

    public Task SampleAcceptedAsync(Guid id, string label, string text, int round, bool ambiguous) =>
        PublishAsync(new SampleAccepted(projectId, runId, id, label, text, round, ambiguous));

    public Task SampleRejectedAsync(RejectedPiece piece, int round) =>
        PublishAsync(new SampleRejected(projectId, runId, piece.Label, piece.Text, piece.Reason.ToString(), piece.Detail));

    public Task ProgressAsync(GenerationProgress p) =>
        PublishAsync(new RunProgress(projectId, runId, p.Round, p.Pool, p.Selected, p.Target, p.InputTokens, p.OutputTokens, p.Cost,
            p.Calls, p.AcceptedPerSecond, p.Goal, p.UsefulPerSecond, p.Missing, Fraction: p.Fraction));

    private Task PublishAsync(RunEvent e)
    {
        Interlocked.Increment(ref _published);
        return events.PublishAsync(e).AsTask();
    }
}

/// <summary>A fresh, migrated SQLite database in a temporary folder with one project; each run gets its own task, so
/// earlier runs' samples do not take part in a later run's dedup. Deleted on dispose.</summary>
internal sealed class BenchDatabase : IAsyncDisposable
{
    private readonly string _directory;
    private readonly ServiceProvider _services;

    private BenchDatabase(string directory, ServiceProvider services, Guid projectId)
    {
        _directory = directory;
        _services = services;
        ProjectId = projectId;
    }

    public Guid ProjectId { get; }

    public IDbContextFactory<IncubatorDbContext> Factory => _services.GetRequiredService<IDbContextFactory<IncubatorDbContext>>();

    public static async Task<BenchDatabase> CreateAsync(CancellationToken ct)
    {
        var dir = Path.Combine(Path.GetTempPath(), "incubator-bench-" + Guid.NewGuid().ToString("N"));
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Incubator:DataDirectory"] = dir }).Build();
        var services = new ServiceCollection()
            .AddLogging(b => b.SetMinimumLevel(LogLevel.Warning))
            .AddIncubatorData(config)
            .BuildServiceProvider();
        await services.GetRequiredService<DatabaseMigrator>().MigrateAsync(ct);
        var projectId = Guid.NewGuid();
        await using (var db = await services.GetRequiredService<IDbContextFactory<IncubatorDbContext>>().CreateDbContextAsync(ct))
        {
            db.Projects.Add(new Project { Id = projectId, Name = "bench", CreatedAt = DateTimeOffset.UtcNow });
            await db.SaveChangesAsync(ct);
        }
        return new BenchDatabase(dir, services, projectId);
    }

    public async Task<(GenerationRun Run, DbGenerationStore Store)> NewRunAsync(TaskSpec spec, CancellationToken ct)
    {
        await using var db = await Factory.CreateDbContextAsync(ct);
        var now = DateTimeOffset.UtcNow;
        var task = new ClassifierTask { Id = Guid.NewGuid(), ProjectId = ProjectId, Name = spec.Name, CurrentVersion = 1, CreatedAt = now, UpdatedAt = now };
        var json = TaskJson.Serialize(spec);
        var version = new TaskVersion { Id = Guid.NewGuid(), TaskId = task.Id, Number = 1, SpecJson = json, ContentHash = Guid.NewGuid().ToString("N"), CreatedAt = now };
        var run = new GenerationRun
        {
            Id = Guid.NewGuid(), ProjectId = ProjectId, TaskId = task.Id, TaskVersionId = version.Id, TaskVersionNumber = 1, ConnectionId = Guid.NewGuid(),
            ConnectionName = "in-process fake", Model = "fake", Seed = 1, CreatedAt = now,
        };
        db.Tasks.Add(task);
        db.TaskVersions.Add(version);
        db.GenerationRuns.Add(run);
        await db.SaveChangesAsync(ct);
        return (run, new DbGenerationStore(Factory, run, TimeProvider.System));
    }

    public async Task<(int Candidates, int Rejected)> CountRowsAsync(Guid runId, CancellationToken ct)
    {
        await using var db = await Factory.CreateDbContextAsync(ct);
        return (await db.Candidates.CountAsync(c => c.RunId == runId, ct), await db.RejectedSamples.CountAsync(r => r.RunId == runId, ct));
    }

    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // temp folder; the OS cleans it
        }
    }
}
