using Incubator.Domain.Common.Events;
using System.Text.Json;
using Incubator.Domain.Data;
using Microsoft.EntityFrameworkCore;

namespace Incubator.Domain.Jobs;

/// <summary>What a handler sees of its job: input, resume point, cancellation, and one way to record progress.</summary>
public sealed class JobContext
{
    private readonly IDbContextFactory<IncubatorDbContext> _dbFactory;
    private readonly IRunEvents _events;
    private readonly TimeProvider _time;
    private readonly string _workerName;

    internal JobContext(Job job, string workerName, IDbContextFactory<IncubatorDbContext> dbFactory, IRunEvents events,
        TimeProvider time, IServiceProvider services, CancellationToken cancellationToken)
    {
        Job = job;
        _workerName = workerName;
        _dbFactory = dbFactory;
        _events = events;
        _time = time;
        Services = services;
        CancellationToken = cancellationToken;
        Checkpoint = job.Checkpoint;
    }

    /// <summary>A snapshot of the row as it was claimed.</summary>
    public Job Job { get; }

    public Guid JobId => Job.Id;

    public Guid ProjectId => Job.ProjectId;

    /// <summary>The last committed checkpoint (JSON), or null on a first attempt.</summary>
    public string? Checkpoint { get; private set; }

    /// <summary>Cancelled when a user cancels the job, the host shuts down, or the lease is lost.</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>The job's own DI scope.</summary>
    public IServiceProvider Services { get; }

    public T ReadPayload<T>() => JsonSerializer.Deserialize<T>(Job.Payload, JsonOptions) ?? throw new InvalidOperationException($"Job {Job.Id} has an empty payload.");

    public T? ReadCheckpoint<T>() => Checkpoint is null ? default : JsonSerializer.Deserialize<T>(Checkpoint, JsonOptions);

    /// <summary>Set by <see cref="StopShort"/>: the job ends <see cref="JobState.StoppedShort"/> with this note when the
    /// handler returns.</summary>
    public JobNote? ShortNote { get; private set; }

    /// <summary>What the job is waiting for while <see cref="SetWaitingAsync"/> holds it, else null.</summary>
    public JobNote? WaitingNote { get; private set; }

    /// <summary>The work ends without meeting every target: when the handler returns, the job finishes
    /// <see cref="JobState.StoppedShort"/> (not Succeeded) with <paramref name="why"/>. What was committed stays.</summary>
    public void StopShort(JobNote why) => ShortNote = why ?? throw new ArgumentNullException(nameof(why));

    /// <summary>Marks the running job as waiting for something outside it (<paramref name="note"/>: what and the last
    /// error), or — with null — as working again. Written to the row (only while this worker holds the lease) and told
    /// to watchers, so the Jobs page, the run page and the API say "waiting" rather than "running".</summary>
    public async Task SetWaitingAsync(JobNote? note)
    {
        var since = note is null ? (DateTimeOffset?)null : _time.GetUtcNow();
        var json = note?.ToJson();
        Job current;
        await using (var db = await _dbFactory.CreateDbContextAsync(CancellationToken.None))
        {
            var updated = await db.Jobs
                .Where(j => j.Id == Job.Id && j.LeaseOwner == _workerName && j.State == JobState.Running)
                .ExecuteUpdateAsync(s =>
                {
                    // Waiting since the first failure, not the latest: the page says how long it has been waiting.
                    if (since is null) s.SetProperty(j => j.WaitingSince, (DateTimeOffset?)null);
                    else s.SetProperty(j => j.WaitingSince, j => j.WaitingSince ?? since);
                    s.SetProperty(j => j.NoteJson, json).SetProperty(j => j.Version, j => j.Version + 1);
                }, CancellationToken.None);
            if (updated == 0) throw new LeaseLostException(Job.Id);
            if (note is not null)
                db.JobLog.Add(Line(Job.Id, _time.GetUtcNow(), "warning", note));
            await db.SaveChangesAsync(CancellationToken.None);
            current = await db.Jobs.AsNoTracking().SingleAsync(j => j.Id == Job.Id, CancellationToken.None);
        }
        WaitingNote = note;
        await _events.PublishAsync(new JobChanged(Job.ProjectId, Job.Id, Job.Kind, Job.Title, JobState.Running, current.Progress,
            current.ProgressMessage, null, _time.GetUtcNow(), note, note is not null) { ProgressNote = JobNote.FromJson(current.ProgressNoteJson) });
    }

    /// <summary>Records progress (its line a note: <see cref="ProgressNotes"/>), an optional new checkpoint, an optional
    /// log line and any extra writes the handler makes, all in one transaction and only while this worker still holds
    /// the lease. Then tells watchers. A transient lock or serialization error runs the transaction again
    /// (<see cref="DbRetry"/>), so <paramref name="extraWrites"/> must only add and update, as it may run twice on fresh
    /// contexts.</summary>
    public async Task CommitAsync(double progress, JobNote? message, object? checkpoint = null, JobNote? log = null,
        Func<IncubatorDbContext, Task>? extraWrites = null)
    {
        var clamped = Math.Clamp(double.IsFinite(progress) ? progress : 0, 0, 1);
        var checkpointJson = checkpoint is null ? Checkpoint : JsonSerializer.Serialize(checkpoint, JsonOptions);
        var msg = Truncate(message?.Message, 400);
        var noteJson = JobNote.JsonWithin(message, ProgressNoteMaxLength);
        // Commit even while cancellation is pending: what was done before the cancel must be kept.
        await DbRetry.RunAsync(async () =>
        {
            await using var db = await _dbFactory.CreateDbContextAsync(CancellationToken.None);
            await using var tx = await db.Database.BeginTransactionAsync(CancellationToken.None);
            var updated = await db.Jobs
                .Where(j => j.Id == Job.Id && j.LeaseOwner == _workerName && j.State == JobState.Running)
                .ExecuteUpdateAsync(s => s
                    .SetProperty(j => j.Progress, clamped)
                    .SetProperty(j => j.ProgressMessage, msg)
                    .SetProperty(j => j.ProgressNoteJson, noteJson)
                    .SetProperty(j => j.Checkpoint, checkpointJson)
                    .SetProperty(j => j.Version, j => j.Version + 1), CancellationToken.None);
            if (updated == 0) throw new LeaseLostException(Job.Id);
            if (log is not null) db.JobLog.Add(Line(Job.Id, _time.GetUtcNow(), "info", log));
            if (extraWrites is not null) await extraWrites(db);
            await db.SaveChangesAsync(CancellationToken.None);
            await tx.CommitAsync(CancellationToken.None);
        });
        Checkpoint = checkpointJson;
        await _events.PublishAsync(new JobChanged(Job.ProjectId, Job.Id, Job.Kind, Job.Title, JobState.Running, clamped, msg, null, _time.GetUtcNow(),
            WaitingNote, WaitingNote is not null) { ProgressNote = noteJson is null ? null : message });
    }

    /// <summary>Adds a line to the job's log: its English sentence for the API and CLI, its note for the portal.</summary>
    public async Task LogAsync(JobNote message, string level = "info")
    {
        await using var db = await _dbFactory.CreateDbContextAsync(CancellationToken.None);
        db.JobLog.Add(Line(Job.Id, _time.GetUtcNow(), level, message));
        await db.SaveChangesAsync(CancellationToken.None);
    }

    /// <summary>The <see cref="Job.ProgressNoteJson"/> column's length; a longer note keeps only its English line.</summary>
    internal const int ProgressNoteMaxLength = 2000;

    /// <summary>The <see cref="JobLogEntry.NoteJson"/> column's length.</summary>
    internal const int LogNoteMaxLength = 8000;

    internal static JobLogEntry Line(Guid jobId, DateTimeOffset at, string level, JobNote note) => new()
    {
        JobId = jobId, At = at, Level = level, Message = Truncate(note.Message, 4000)!, NoteJson = JobNote.JsonWithin(note, LogNoteMaxLength),
    };

    internal static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    private static string? Truncate(string? s, int max) => s is null || s.Length <= max ? s : s[..max];
}
