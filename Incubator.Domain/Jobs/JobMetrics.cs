using System.Diagnostics.Metrics;
using Incubator.Domain.Common.Observability;
using Incubator.Domain.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Incubator.Domain.Jobs;

/// <summary>The job system's metrics: jobs started and finished (by kind and end state) and how long they ran, from the
/// workers of this process; and, read from the database whenever a collector asks (at most every few seconds), how
/// many jobs wait per kind and how long ago each kind's oldest running lease was renewed — above
/// <see cref="JobOptions.LeaseDuration"/> a worker has stopped heart-beating and another will take the job over.</summary>
public sealed class JobMetrics
{
    private static readonly TimeSpan SnapshotFor = TimeSpan.FromSeconds(5);

    private readonly IDbContextFactory<IncubatorDbContext> _dbFactory;
    private readonly TimeProvider _time;
    private readonly TimeSpan _leaseDuration;
    private readonly Lock _gate = new();
    private (long At, Measurement<long>[] Queued, Measurement<double>[] LeaseAge)? _snapshot;

    public JobMetrics(IMeterFactory meters, IDbContextFactory<IncubatorDbContext> dbFactory, TimeProvider time, IOptions<JobOptions> options)
    {
        _dbFactory = dbFactory;
        _time = time;
        _leaseDuration = options.Value.LeaseDuration;
        var meter = meters.Create(IncubatorTelemetry.MeterName);
        Started = meter.CreateCounter<long>("incubator.jobs.started", "{job}", "Jobs this process's worker claimed and started (a resumed job counts again)");
        Finished = meter.CreateCounter<long>("incubator.jobs.finished", "{job}", "Jobs this process's worker ended, by kind and state");
        Duration = meter.CreateHistogram<double>("incubator.jobs.duration", "s", "Time from claim to end of one attempt of a job, by kind and state");
        meter.CreateObservableGauge("incubator.jobs.queued", () => Snapshot().Queued, "{job}", "Jobs waiting for a worker, by kind");
        meter.CreateObservableGauge("incubator.jobs.lease.age", () => Snapshot().LeaseAge, "s",
            "Seconds since the least recently renewed lease of a running job was renewed, by kind");
    }

    internal Counter<long> Started { get; }

    internal Counter<long> Finished { get; }

    internal Histogram<double> Duration { get; }

    private (long At, Measurement<long>[] Queued, Measurement<double>[] LeaseAge) Snapshot()
    {
        lock (_gate)
        {
            if (_snapshot is { } s && _time.GetElapsedTime(s.At) < SnapshotFor) return s;
            // Called on the collector's thread, never on a request or a job; a failing database reports nothing.
            try
            {
                using var db = _dbFactory.CreateDbContext();
                var queued = db.Jobs.AsNoTracking().Where(j => j.State == JobState.Queued).GroupBy(j => j.Kind)
                    .Select(g => new { Kind = g.Key, Count = g.Count() }).ToList();
                var leases = db.Jobs.AsNoTracking().Where(j => j.State == JobState.Running && j.LeaseExpiresAt != null)
                    .Select(j => new { j.Kind, j.LeaseExpiresAt }).ToList();
                var now = _time.GetUtcNow();
                _snapshot = (_time.GetTimestamp(),
                    queued.Select(q => new Measurement<long>(q.Count, new KeyValuePair<string, object?>("kind", q.Kind))).ToArray(),
                    leases.GroupBy(l => l.Kind).Select(g => new Measurement<double>(
                        g.Max(l => (now - (l.LeaseExpiresAt!.Value - _leaseDuration)).TotalSeconds),
                        new KeyValuePair<string, object?>("kind", g.Key))).ToArray());
            }
            catch (Exception ex) when (ex is InvalidOperationException or System.Data.Common.DbException)
            {
                _snapshot = (_time.GetTimestamp(), [], []);
            }
            return _snapshot.Value;
        }
    }
}
