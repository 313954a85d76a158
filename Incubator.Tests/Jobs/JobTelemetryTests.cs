using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Incubator.Domain.Common.Observability;
using Incubator.Domain.Jobs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Incubator.Tests.Jobs;

/// <summary>What a job leaves for operators: its metrics (started, finished, duration; queue depth and lease age read
/// from the database), a span tagged with the job, and every log line of the job — whichever logger wrote it — inside a
/// JobId/Kind/ProjectId scope.</summary>
public sealed class JobTelemetryTests
{
    /// <summary>Records the measurements of one host's meter (instruments of other hosts in this process are left out).</summary>
    private sealed class Measurements : IDisposable
    {
        private readonly MeterListener _listener = new();

        public Measurements(IMeterFactory scope)
        {
            _listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Scope == scope && instrument.Meter.Name == IncubatorTelemetry.MeterName) l.EnableMeasurementEvents(instrument);
            };
            _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Add(i, v, tags));
            _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Add(i, v, tags));
            _listener.Start();
        }

        public ConcurrentQueue<(string Name, double Value, Dictionary<string, object?> Tags)> All { get; } = new();

        public void Observe() => _listener.RecordObservableInstruments();

        public List<(double Value, Dictionary<string, object?> Tags)> Of(string name) =>
            All.Where(m => m.Name == name).Select(m => (m.Value, m.Tags)).ToList();

        private void Add(Instrument i, double v, ReadOnlySpan<KeyValuePair<string, object?>> tags) =>
            All.Enqueue((i.Name, v, tags.ToArray().ToDictionary(t => t.Key, t => t.Value)));

        public void Dispose() => _listener.Dispose();
    }

    private sealed class LoggingJob(ILogger<LoggingJob> logger) : IJobHandler
    {
        public const string KindName = "test.logging";

        public string Kind => KindName;

        public Task RunAsync(JobContext context)
        {
            logger.LogInformation("Working on something");
            return Task.CompletedTask;
        }
    }

    /// <summary>Keeps each line with the scopes it was written in.</summary>
    private sealed class ScopeCapturingProvider : ILoggerProvider, ISupportExternalScope
    {
        private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

        public ConcurrentQueue<(string Category, string Message, Dictionary<string, object?> Scope)> Lines { get; } = new();

        public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(ScopeCapturingProvider owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => owner._scopes.Push(state);

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var scope = new Dictionary<string, object?>();
                owner._scopes.ForEachScope((s, d) =>
                {
                    if (s is IEnumerable<KeyValuePair<string, object>> pairs)
                        foreach (var (k, v) in pairs) d[k] = v;
                }, scope);
                owner.Lines.Enqueue((category, formatter(state, exception), scope));
            }
        }
    }

    [Fact]
    public async Task Running_a_job_records_started_finished_and_duration_by_kind_and_state()
    {
        await using var host = await JobTestHost.CreateAsync();
        using var measured = new Measurements(host.Services.GetRequiredService<IMeterFactory>());
        var projectId = await host.CreateProjectAsync();
        var job = await host.Queue.EnqueueInternalAsync(null, projectId, DiagnosticsJob.KindName, "counts", new DiagnosticsJob.Payload(2, 0));

        await host.StartWorkerAsync();
        await host.WaitForJobAsync(job.Id, j => j.State == JobState.Succeeded, "succeeded");
        await Poll.UntilAsync(() => Task.FromResult(measured.Of("incubator.jobs.duration").Count > 0), TimeSpan.FromSeconds(30),
            () => Task.FromResult("no duration recorded"));

        var started = Assert.Single(measured.Of("incubator.jobs.started"));
        Assert.Equal((1.0, DiagnosticsJob.KindName), (started.Value, started.Tags["kind"]));
        var finished = Assert.Single(measured.Of("incubator.jobs.finished"));
        Assert.Equal((DiagnosticsJob.KindName, "Succeeded"), (finished.Tags["kind"], finished.Tags["state"]));
        var duration = Assert.Single(measured.Of("incubator.jobs.duration"));
        Assert.True(duration.Value >= 0);
        Assert.Equal("Succeeded", duration.Tags["state"]);
    }

    [Fact]
    public async Task Queue_depth_and_lease_age_are_read_from_the_database_per_kind()
    {
        await using var host = await JobTestHost.CreateAsync();
        using var measured = new Measurements(host.Services.GetRequiredService<IMeterFactory>());
        _ = host.Worker; // its metrics register the gauges
        var projectId = await host.CreateProjectAsync();
        await host.Queue.EnqueueInternalAsync(null, projectId, DiagnosticsJob.KindName, "waits 1", new DiagnosticsJob.Payload(1, 0));
        await host.Queue.EnqueueInternalAsync(null, projectId, DiagnosticsJob.KindName, "waits 2", new DiagnosticsJob.Payload(1, 0));
        // A running job of another kind whose lease (30 s by default) was last renewed 12 s ago.
        await host.InsertJobAsync(new Job
        {
            Id = Guid.NewGuid(), ProjectId = projectId, Kind = "other.kind", Title = "running", State = JobState.Running, Payload = "{}",
            LeaseOwner = "elsewhere", LeaseExpiresAt = DateTimeOffset.UtcNow.AddSeconds(18), CreatedAt = DateTimeOffset.UtcNow,
        });

        measured.Observe();

        var queued = Assert.Single(measured.Of("incubator.jobs.queued"));
        Assert.Equal((2.0, DiagnosticsJob.KindName), (queued.Value, queued.Tags["kind"]));
        var age = Assert.Single(measured.Of("incubator.jobs.lease.age"));
        Assert.Equal("other.kind", age.Tags["kind"]);
        Assert.InRange(age.Value, 11, 20);
    }

    [Fact]
    public async Task Every_log_line_of_a_job_carries_its_id_kind_and_project_and_so_does_its_span()
    {
        var logs = new ScopeCapturingProvider();
        await using var host = await JobTestHost.CreateAsync(configure: s => s
            .AddLogging(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Information))
            .AddJobHandler<LoggingJob>(LoggingJob.KindName));
        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == IncubatorTelemetry.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        var projectId = await host.CreateProjectAsync();
        var job = await host.Queue.EnqueueInternalAsync(null, projectId, LoggingJob.KindName, "logs", new { });

        await host.StartWorkerAsync();
        await host.WaitForJobAsync(job.Id, j => j.State == JobState.Succeeded, "succeeded");
        await Poll.UntilAsync(() => Task.FromResult(spans.Any(a => Equals(a.GetTagItem("JobId"), job.Id))), TimeSpan.FromSeconds(30),
            () => Task.FromResult("no span for the job"));

        var line = Assert.Single(logs.Lines, l => l.Message == "Working on something");
        Assert.Contains(nameof(LoggingJob), line.Category);
        Assert.Equal((job.Id, LoggingJob.KindName, projectId), (line.Scope["JobId"], line.Scope["Kind"], line.Scope["ProjectId"]));
        var span = spans.Single(a => Equals(a.GetTagItem("JobId"), job.Id));
        Assert.Equal($"job {LoggingJob.KindName}", span.DisplayName);
        Assert.Equal((LoggingJob.KindName, projectId, "Succeeded"), (span.GetTagItem("Kind"), span.GetTagItem("ProjectId"), span.GetTagItem("State")));
    }
}
