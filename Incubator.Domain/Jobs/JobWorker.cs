using Incubator.Domain.Common.Events;
using System.Collections.Concurrent;
using System.Diagnostics;
using Incubator.Domain.Common;
using Incubator.Domain.Common.Observability;
using Incubator.Domain.Data;
using Incubator.Domain.Projects;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Query;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Incubator.Domain.Jobs;

/// <summary>Claims queued (or abandoned) jobs with a database lease and runs them, each in its own DI scope.
/// Claiming is one conditional UPDATE, so two workers — in one process or in two instances — can never both win; on
/// PostgreSQL the candidate row is picked with <c>FOR UPDATE SKIP LOCKED</c>, so competing instances each take a
/// different job instead of queueing on the same one (docs/decisions/0028-write-discipline.md). The worker's name
/// (<see cref="InstanceName"/> unless Jobs:WorkerName says otherwise) is the lease owner every instance can read.</summary>
public sealed class JobWorker : BackgroundService
{
    private readonly IDbContextFactory<IncubatorDbContext> _dbFactory;
    private readonly IServiceScopeFactory _scopes;
    private readonly IRunEvents _events;
    private readonly JobSignals _signals;
    private readonly JobHandlerRegistry _registry;
    private readonly JobOwners _owners;
    private readonly JobMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<JobWorker> _logger;
    private readonly JobOptions _options;
    private readonly ConcurrentDictionary<Guid, Task> _running = new();

    public JobWorker(IDbContextFactory<IncubatorDbContext> dbFactory, IServiceScopeFactory scopes, IRunEvents events,
        JobSignals signals, JobHandlerRegistry registry, JobOwners owners, JobMetrics metrics, TimeProvider time, IOptions<JobOptions> options,
        ILogger<JobWorker> logger, InstanceName instance)
    {
        _dbFactory = dbFactory;
        _scopes = scopes;
        _events = events;
        _signals = signals;
        _registry = registry;
        _owners = owners;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _options = options.Value;
        WorkerName = string.IsNullOrWhiteSpace(_options.WorkerName) ? instance.Value : _options.WorkerName;
    }

    public string WorkerName { get; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.RunWorker)
        {
            _logger.LogInformation("Job worker disabled on this instance (Jobs:RunWorker=false)");
            return;
        }
        _logger.LogInformation("Job worker {Worker} started with concurrency {Concurrency}", WorkerName, _options.Concurrency);
        using var slots = new SemaphoreSlim(_options.Concurrency);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await slots.WaitAsync(stoppingToken);
                Job? job;
                try
                {
                    job = await TryClaimAsync(stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    _logger.LogError(ex, "Claiming a job failed; retrying after the poll interval");
                    job = null;
                }
                if (job is null)
                {
                    slots.Release();
                    await _signals.WaitForWorkAsync(_options.PollInterval, stoppingToken);
                    continue;
                }
                var task = Task.Run(() => RunAsync(job, stoppingToken), CancellationToken.None);
                _running[job.Id] = task;
                _ = task.ContinueWith(_ =>
                {
                    _running.TryRemove(job.Id, out var _);
                    slots.Release();
                    _signals.WorkAvailable();
                }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            await Task.WhenAll(_running.Values.ToArray());
        }
    }

    /// <summary>Claims the oldest runnable job: queued, or running under a lease that has expired (its worker died).</summary>
    public async Task<Job?> TryClaimAsync(CancellationToken ct)
    {
        await using var db = await _dbFactory.CreateDbContextAsync(ct);
        var now = _time.GetUtcNow();
        if (db.Provider == DatabaseProvider.Postgres) return await TryClaimSkipLockedAsync(db, now, ct);
        // A job this worker is still running can show a lapsed lease (its heartbeat stalled past the lease). Claiming
        // it again under the same name would start a second run that passes every lease check of the first one, so
        // both would commit. Leave it to the running attempt, whose heartbeat renews the lease, or to another worker.
        var mine = _running.Keys.ToList();
        var candidates = await db.Jobs.AsNoTracking()
            .Where(j => j.State == JobState.Queued || (j.State == JobState.Running && j.LeaseExpiresAt < now))
            .Where(j => !mine.Contains(j.Id))
            .OrderBy(j => j.CreatedAt)
            .Select(j => j.Id)
            .Take(8)
            .ToListAsync(ct);
        foreach (var id in candidates)
        {
            var expires = now + _options.LeaseDuration;
            var claimed = await db.Jobs
                .Where(j => j.Id == id && (j.State == JobState.Queued || (j.State == JobState.Running && j.LeaseExpiresAt < now)))
                .ExecuteUpdateAsync(s => Claim(s, expires, now), ct);
            if (claimed == 1)
                return await db.Jobs.AsNoTracking().SingleAsync(j => j.Id == id, ct);
        }
        return null;
    }

    /// <summary>What a claim writes, on both providers. Whatever an earlier attempt was waiting for, this attempt has not
    /// waited yet, so its waiting state and note are cleared.</summary>
    private void Claim(UpdateSettersBuilder<Job> s, DateTimeOffset expires, DateTimeOffset now) => s
        .SetProperty(j => j.State, JobState.Running)
        .SetProperty(j => j.LeaseOwner, WorkerName)
        .SetProperty(j => j.LeaseExpiresAt, expires)
        .SetProperty(j => j.Attempts, j => j.Attempts + 1)
        .SetProperty(j => j.StartedAt, j => j.StartedAt ?? now)
        .SetProperty(j => j.WaitingSince, (DateTimeOffset?)null)
        .SetProperty(j => j.NoteJson, (string?)null)
        .SetProperty(j => j.Version, j => j.Version + 1);

    /// <summary>PostgreSQL: the oldest runnable job no other claimer has locked right now, locked for this transaction
    /// and leased in it; competing instances skip each other's rows rather than wait for them.</summary>
    private async Task<Job?> TryClaimSkipLockedAsync(IncubatorDbContext db, DateTimeOffset now, CancellationToken ct)
    {
        var mine = _running.Keys.ToArray();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var queued = nameof(JobState.Queued);
        var running = nameof(JobState.Running);
        var picked = await db.Database.SqlQuery<Guid>($"""
            SELECT "Id" AS "Value" FROM "Jobs"
            WHERE ("State" = {queued} OR ("State" = {running} AND "LeaseExpiresAt" < {now})) AND NOT ("Id" = ANY({mine}))
            ORDER BY "CreatedAt" LIMIT 1 FOR UPDATE SKIP LOCKED
            """).ToListAsync(ct);
        if (picked.Count == 0) return null;
        var id = picked[0];
        var expires = now + _options.LeaseDuration;
        await db.Jobs.Where(j => j.Id == id)
            .ExecuteUpdateAsync(s => Claim(s, expires, now), ct);
        var job = await db.Jobs.AsNoTracking().SingleAsync(j => j.Id == id, ct);
        await tx.CommitAsync(ct);
        return job;
    }

    private async Task RunAsync(Job job, CancellationToken stoppingToken)
    {
        // Every log line of this job — the worker's, the heartbeat's and the handler's, whatever their logger — carries
        // the job's id, kind and project; so does the job's span.
        using var logScope = _logger.BeginScope(new Dictionary<string, object> { ["JobId"] = job.Id, ["Kind"] = job.Kind, ["ProjectId"] = job.ProjectId });
        using var activity = IncubatorTelemetry.ActivitySource.StartActivity($"job {job.Kind}");
        activity?.SetTag("JobId", job.Id).SetTag("Kind", job.Kind).SetTag("ProjectId", job.ProjectId).SetTag("Attempt", job.Attempts);
        var kindTag = new KeyValuePair<string, object?>("kind", job.Kind);
        var started = _time.GetTimestamp();
        JobState? outcome = null;
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        _signals.Register(job.Id, cts);
        var leaseLost = false;
        using var heartbeatStop = new CancellationTokenSource();
        var heartbeat = Task.Run(async () =>
        {
            var renewEvery = TimeSpan.FromTicks(Math.Max(_options.LeaseDuration.Ticks / 3, TimeSpan.FromMilliseconds(100).Ticks));
            var lastRenew = _time.GetTimestamp();
            while (!heartbeatStop.IsCancellationRequested)
            {
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(500, renewEvery.TotalMilliseconds)), _time, heartbeatStop.Token);
                    await using var db = await _dbFactory.CreateDbContextAsync(heartbeatStop.Token);
                    if (_time.GetElapsedTime(lastRenew) >= renewEvery)
                    {
                        var expires = _time.GetUtcNow() + _options.LeaseDuration;
                        var renewed = await db.Jobs.Where(j => j.Id == job.Id && j.LeaseOwner == WorkerName && j.State == JobState.Running)
                            .ExecuteUpdateAsync(s => s.SetProperty(j => j.LeaseExpiresAt, expires), heartbeatStop.Token);
                        lastRenew = _time.GetTimestamp();
                        if (renewed == 0)
                        {
                            leaseLost = true;
                            await cts.CancelAsync();
                            return;
                        }
                    }
                    var flags = await db.Jobs.Where(j => j.Id == job.Id).Select(j => new { j.CancelRequested, j.PauseRequested }).SingleOrDefaultAsync(heartbeatStop.Token);
                    if (flags is { CancelRequested: true } or { PauseRequested: true })
                        await cts.CancelAsync();
                }
                catch (OperationCanceledException) when (heartbeatStop.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception ex)
                {
                    _logger.LogWarning(ex, "Heartbeat for job {JobId} failed; will retry", job.Id);
                }
            }
        }, CancellationToken.None);

        try
        {
            if (job.Attempts > job.MaxAttempts)
            {
                outcome = await FinishAsync(job, JobState.Failed, $"Gave up after {job.MaxAttempts} attempts: the job was interrupted every time.");
                return;
            }
            if (!_registry.TryGet(job.Kind, out var handlerType))
            {
                outcome = await FinishAsync(job, JobState.Failed, $"This version of Incubator has no handler for job kind '{job.Kind}'.");
                return;
            }
            _metrics.Started.Add(1, kindTag);
            await _events.PublishAsync(new JobChanged(job.ProjectId, job.Id, job.Kind, job.Title, JobState.Running, job.Progress, job.ProgressMessage, null, _time.GetUtcNow()), CancellationToken.None);
            await using var scope = _scopes.CreateAsyncScope();
            var handler = (IJobHandler)scope.ServiceProvider.GetRequiredService(handlerType);
            var context = new JobContext(job, WorkerName, _dbFactory, _events, _time, scope.ServiceProvider, cts.Token);
            _logger.LogInformation("Job {JobId} ({Kind}) started, attempt {Attempt}", job.Id, job.Kind, job.Attempts);
            await handler.RunAsync(context);
            outcome = context.ShortNote is { } shortNote
                ? await FinishAsync(job, JobState.StoppedShort, null, shortNote)
                : await FinishAsync(job, JobState.Succeeded, null);
        }
        catch (Exception ex) when (leaseLost || ex is LeaseLostException)
        {
            _logger.LogWarning("Job {JobId}: lease lost, another worker owns it now; stopping here", job.Id);
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            var (cancel, pause) = await StopRequestsAsync(job.Id);
            if (cancel)
            {
                outcome = await FinishAsync(job, JobState.Cancelled, null);
            }
            else if (pause)
            {
                await PauseAsync(job);
            }
            else
            {
                // Shutting down: hand the job back at once so the next start (or another instance) resumes it from
                // its checkpoint without waiting for the lease to expire.
                await ReleaseAsync(job);
            }
        }
        catch (JobFailedException ex)
        {
            // The handler said why, in words the user can read: not a bug, so no stack trace — unless the note wraps an
            // error the handler did not foresee (JobFailures.WithNoteAsync), whose stack is what an operator needs.
            if (ex.InnerException is { } unforeseen)
                _logger.LogError(unforeseen, "Job {JobId} ({Kind}) failed: {Reason}", job.Id, job.Kind, ex.Message);
            else
                _logger.LogWarning("Job {JobId} ({Kind}) failed: {Reason}", job.Id, job.Kind, ex.Message);
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            outcome = await FinishAsync(job, JobState.Failed, ex.Message, ex.Note);
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "Job {JobId} ({Kind}) failed", job.Id, job.Kind);
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            outcome = await FinishAsync(job, JobState.Failed, ex.Message);
        }
        finally
        {
            _signals.Unregister(job.Id);
            await heartbeatStop.CancelAsync();
            await heartbeat;
            if (outcome is { } state)
            {
                var stateTag = new KeyValuePair<string, object?>("state", state.ToString());
                _metrics.Finished.Add(1, kindTag, stateTag);
                _metrics.Duration.Record(_time.GetElapsedTime(started).TotalSeconds, kindTag, stateTag);
                activity?.SetTag("State", state.ToString());
            }
        }
    }

    private async Task<(bool Cancel, bool Pause)> StopRequestsAsync(Guid jobId)
    {
        await using var db = await _dbFactory.CreateDbContextAsync(CancellationToken.None);
        var flags = await db.Jobs.Where(j => j.Id == jobId).Select(j => new { j.CancelRequested, j.PauseRequested }).SingleOrDefaultAsync();
        return (flags?.CancelRequested == true, flags?.PauseRequested == true);
    }

    /// <summary>Stops on a user's request keeping the checkpoint; like a graceful hand-back, not a used-up attempt.</summary>
    private async Task PauseAsync(Job job)
    {
        var now = _time.GetUtcNow();
        await using var db = await _dbFactory.CreateDbContextAsync(CancellationToken.None);
        var updated = await db.Jobs.Where(j => j.Id == job.Id && j.LeaseOwner == WorkerName && j.State == JobState.Running)
            .ExecuteUpdateAsync(s => s
                .SetProperty(j => j.State, JobState.Paused)
                .SetProperty(j => j.PauseRequested, false)
                .SetProperty(j => j.LeaseOwner, (string?)null)
                .SetProperty(j => j.LeaseExpiresAt, (DateTimeOffset?)null)
                .SetProperty(j => j.Attempts, j => j.Attempts - 1)
                .SetProperty(j => j.Version, j => j.Version + 1), CancellationToken.None);
        if (updated == 0) return;
        db.JobLog.Add(JobContext.Line(job.Id, now, "info", ProgressNotes.Paused()));
        await db.SaveChangesAsync(CancellationToken.None);
        var current = await db.Jobs.AsNoTracking().Where(j => j.Id == job.Id).Select(j => new { j.Progress, j.ProgressMessage, j.ProgressNoteJson }).SingleAsync();
        _logger.LogInformation("Job {JobId} ({Kind}) paused", job.Id, job.Kind);
        await _events.PublishAsync(new JobChanged(job.ProjectId, job.Id, job.Kind, job.Title, JobState.Paused, current.Progress, current.ProgressMessage, null, now)
        {
            ProgressNote = JobNote.FromJson(current.ProgressNoteJson),
        }, CancellationToken.None);
    }

    /// <summary>Writes the job's end (and, for Failed or Cancelled, its owner's) in one transaction, with its note
    /// (why it stopped short or failed) and a line in the project's activity feed; null when this worker no longer held
    /// the lease. A transient lock error runs it again rather than leaving the job Running.</summary>
    private Task<JobState?> FinishAsync(Job job, JobState state, string? error, JobNote? note = null) =>
        DbRetry.RunAsync(() => FinishOnceAsync(job, state, error, note));

    private async Task<JobState?> FinishOnceAsync(Job job, JobState state, string? error, JobNote? note)
    {
        var now = _time.GetUtcNow();
        await using var db = await _dbFactory.CreateDbContextAsync(CancellationToken.None);
        var truncated = error is { Length: > 4000 } ? error[..4000] : error;
        var noteJson = note?.ToJson();
        // The final state and its closing log line are one transaction: a reader never sees one without the other.
        await using var tx = await db.Database.BeginTransactionAsync(CancellationToken.None);
        var updated = await db.Jobs.Where(j => j.Id == job.Id && j.LeaseOwner == WorkerName)
            .ExecuteUpdateAsync(s =>
            {
                s.SetProperty(j => j.State, state)
                    .SetProperty(j => j.Error, truncated)
                    .SetProperty(j => j.FinishedAt, now)
                    .SetProperty(j => j.LeaseOwner, (string?)null)
                    .SetProperty(j => j.LeaseExpiresAt, (DateTimeOffset?)null)
                    .SetProperty(j => j.NoteJson, noteJson)
                    .SetProperty(j => j.WaitingSince, (DateTimeOffset?)null)
                    .SetProperty(j => j.Version, j => j.Version + 1);
                if (state == JobState.Succeeded) s.SetProperty(j => j.Progress, 1.0);
            }, CancellationToken.None);
        if (updated == 0) return null;
        var current = await db.Jobs.AsNoTracking().Where(j => j.Id == job.Id).Select(j => new { j.Progress, j.ProgressMessage, j.ProgressNoteJson }).SingleAsync();
        // The owner row (a model version) ends with its job, in the same transaction, whichever way the job ended.
        await using var closing = await _owners.CloseAsync(job, state, truncated, db);
        db.JobLog.Add(JobContext.Line(job.Id, now, state == JobState.Failed ? "error" : "info", EndLine(state, truncated, note)));
        // A cancel is already in the feed under the name of whoever asked for it.
        if (ActivityKinds.JobEnded(state) is { } kind)
            db.Activity.Add(new ActivityEntry { ProjectId = job.ProjectId, UserId = null, At = now, Kind = kind, Detail = ActivityEntry.DetailFor(job) });
        await db.SaveChangesAsync(CancellationToken.None);
        await tx.CommitAsync(CancellationToken.None);
        _logger.LogInformation("Job {JobId} ({Kind}) finished: {State}", job.Id, job.Kind, state);
        await _events.PublishAsync(new JobChanged(job.ProjectId, job.Id, job.Kind, job.Title, state, state == JobState.Succeeded ? 1.0 : current.Progress,
            current.ProgressMessage, truncated, now, note) { ProgressNote = JobNote.FromJson(current.ProgressNoteJson) }, CancellationToken.None);
        if (closing is not null) await closing.AfterCommitAsync();
        return state;
    }

    private static JobNote EndLine(JobState state, string? error, JobNote? note) => state switch
    {
        JobState.Failed => ProgressNotes.Failed(error ?? "", note),
        JobState.StoppedShort when note is not null => ProgressNotes.StoppedShort(note),
        JobState.Succeeded => ProgressNotes.Succeeded(),
        JobState.Cancelled => ProgressNotes.Cancelled(),
        _ => ProgressNotes.Ended(state),
    };

    private async Task ReleaseAsync(Job job)
    {
        await using var db = await _dbFactory.CreateDbContextAsync(CancellationToken.None);
        await db.Jobs.Where(j => j.Id == job.Id && j.LeaseOwner == WorkerName && j.State == JobState.Running)
            .ExecuteUpdateAsync(s => s
                .SetProperty(j => j.State, JobState.Queued)
                .SetProperty(j => j.LeaseOwner, (string?)null)
                .SetProperty(j => j.LeaseExpiresAt, (DateTimeOffset?)null)
                // A deliberate stop (deploy, restart) is not a failed attempt: only crashes count towards MaxAttempts.
                .SetProperty(j => j.Attempts, j => j.Attempts - 1)
                .SetProperty(j => j.Version, j => j.Version + 1), CancellationToken.None);
        _logger.LogInformation("Job {JobId} handed back for the next start", job.Id);
    }
}
