using Incubator.Domain.Common.Events;
using System.Text.Json;
using Incubator.Domain.Common;
using Incubator.Domain.Data;
using Incubator.Domain.Projects;
using Microsoft.EntityFrameworkCore;

namespace Incubator.Domain.Jobs;

/// <summary>A job as pages, the API and the CLI see it. <see cref="Note"/> says why it stopped short or failed, or
/// what it waits for (<see cref="Waiting"/>: running, but waiting for its endpoint since <see cref="WaitingSince"/>).</summary>
public sealed record JobView(
    Guid Id, Guid ProjectId, string Kind, string Title, JobState State, double Progress, string? ProgressMessage,
    int Attempts, string? Error, bool CancelRequested, bool PauseRequested, DateTimeOffset CreatedAt, DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt, string? CreatedByEmail, JobNote? Note = null, DateTimeOffset? WaitingSince = null, JobNote? ProgressNote = null,
    JobNote? TitleNote = null)
{
    public bool Waiting => WaitingSince is not null && State == JobState.Running;
}

/// <summary>One log line: <see cref="Message"/> in English, <see cref="Note"/> the same line as a code with arguments
/// (null for lines written before notes existed).</summary>
public sealed record JobLogView(long Id, DateTimeOffset At, string Level, string Message, JobNote? Note = null);

public sealed record Page<T>(IReadOnlyList<T> Items, int Total, int PageIndex, int PageSize);

/// <summary>Which job runs a piece of work: its kind, its title on the Jobs page (in English, and as a note the page says
/// in the reader's language when it has one), and its input.</summary>
public sealed record JobStart(string Kind, string Title, object Payload, JobNote? TitleNote = null)
{
    public JobStart(string kind, JobNote title, object payload) : this(kind, title.Message, payload, title)
    {
    }
}

/// <summary>Use cases around jobs: start one (Author), list and read them (Viewer), cancel, pause and resume one
/// (Author).</summary>
public sealed class JobQueue(
    IDbContextFactory<IncubatorDbContext> dbFactory,
    ProjectAccess access,
    JobHandlerRegistry registry,
    JobOwners owners,
    JobSignals signals,
    IRunEvents events,
    TimeProvider time)
{
    /// <summary>The one way to start work that has a row of its own (a generation run, a model version, a mining run,
    /// a query run): <paramref name="writeOwner"/> adds the owner row — pointing at the job id it is given — and says
    /// which job runs it; the owner and the job are committed in one transaction, so either both exist or neither
    /// does. Only after the commit are watchers told (Queued) and the worker woken: nothing is announced that a
    /// rollback could take back (docs/decisions/0016-one-way-to-start-work.md).</summary>
    public async Task<JobView> StartAsync(string userId, Guid projectId, Func<IncubatorDbContext, Guid, Task<JobStart>> writeOwner,
        CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(writeOwner);
        await access.RequireWriteAsync(projectId, userId, ProjectRole.Author, ct);
        return await StartCoreAsync(userId, projectId, writeOwner, ct);
    }

    /// <summary>A job that owns nothing but itself (diagnostics, rescoring, exports).</summary>
    public Task<JobView> EnqueueAsync(string userId, Guid projectId, string kind, string title, object payload, CancellationToken ct = default) =>
        EnqueueCheckedAsync(userId, projectId, new JobStart(kind, title, payload), ct);

    /// <summary><see cref="EnqueueAsync(string, Guid, string, string, object, CancellationToken)"/> with a title the
    /// portal says in the reader's language (<see cref="JobTitles"/>).</summary>
    public Task<JobView> EnqueueAsync(string userId, Guid projectId, string kind, JobNote title, object payload, CancellationToken ct = default) =>
        EnqueueCheckedAsync(userId, projectId, new JobStart(kind, title, payload), ct);

    private async Task<JobView> EnqueueCheckedAsync(string userId, Guid projectId, JobStart start, CancellationToken ct)
    {
        await access.RequireWriteAsync(projectId, userId, ProjectRole.Author, ct);
        return await EnqueueCoreAsync(userId, projectId, start, ct, null);
    }

    /// <summary>For the CLI and the system itself: no user, no role check. <paramref name="admit"/> (optional) runs inside
    /// the start transaction, before the job row is added, and may refuse by throwing: a per-user limit counted there
    /// cannot be passed by starting many jobs at once.</summary>
    public Task<JobView> EnqueueInternalAsync(string? userId, Guid projectId, string kind, string title, object payload, CancellationToken ct = default,
        Func<IncubatorDbContext, CancellationToken, Task>? admit = null) =>
        EnqueueCoreAsync(userId, projectId, new JobStart(kind, title, payload), ct, admit);

    /// <summary>The internal start with a title as a note (<see cref="JobTitles"/>).</summary>
    public Task<JobView> EnqueueInternalAsync(string? userId, Guid projectId, string kind, JobNote title, object payload, CancellationToken ct = default,
        Func<IncubatorDbContext, CancellationToken, Task>? admit = null) =>
        EnqueueCoreAsync(userId, projectId, new JobStart(kind, title, payload), ct, admit);

    /// <summary>Job kinds that only read the project (they write a file outside it and their own job row): allowed in an
    /// archived project, which keeps its read access — exporting is reading (decision 0024, amendment arch21).</summary>
    public static readonly IReadOnlySet<string> ReadOnlyKinds = new HashSet<string>(StringComparer.Ordinal) { Review.ReviewExportJob.KindName };

    private Task<JobView> EnqueueCoreAsync(string? userId, Guid projectId, JobStart start, CancellationToken ct,
        Func<IncubatorDbContext, CancellationToken, Task>? admit) =>
        StartCoreAsync(userId, projectId, async (db, _) =>
        {
            if (admit is not null) await admit(db, ct);
            return start;
        }, ct, ownerWrites: false, readOnly: ReadOnlyKinds.Contains(start.Kind));

    private async Task<JobView> StartCoreAsync(string? userId, Guid projectId, Func<IncubatorDbContext, Guid, Task<JobStart>> writeOwner,
        CancellationToken ct, bool ownerWrites = true, bool readOnly = false)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var project = await db.Projects.AsNoTracking().SingleOrDefaultAsync(p => p.Id == projectId, ct)
            ?? throw new NotFoundException("Project not found.");
        if (project.IsArchived && !readOnly) throw ProjectAccess.Archived();
        var now = time.GetUtcNow();
        var jobId = Guid.NewGuid();
        Job job;
        await using (var tx = await db.Database.BeginTransactionAsync(ct))
        {
            var start = await writeOwner(db, jobId);
            // The owner is saved first, on its own: its writes may depend on what it read (the next version number) and
            // fail on its own constraints before a job row exists. The commit below is still all or nothing.
            if (ownerWrites) await db.SaveChangesAsync(ct);
            if (!registry.TryGet(start.Kind, out _))
                throw new DomainValidationException("kind", "JobKindUnknown", $"Unknown job kind '{start.Kind}'. Known kinds: {string.Join(", ", registry.Kinds.Order())}.", start.Kind);
            var title = (start.Title ?? "").Trim();
            if (title.Length is 0 or > 200)
                throw new DomainValidationException("title", "JobTitleInvalid", "A job needs a title of 1 to 200 characters.");
            job = new Job
            {
                Id = jobId, ProjectId = projectId, Kind = start.Kind, Title = title, TitleNoteJson = JobNote.JsonWithin(start.TitleNote, JobContext.ProgressNoteMaxLength),
                State = JobState.Queued,
                Payload = JsonSerializer.Serialize(start.Payload, JobContext.JsonOptions), CreatedAt = now, CreatedById = userId,
            };
            db.Jobs.Add(job);
            db.Activity.Add(new ActivityEntry { ProjectId = projectId, UserId = userId, At = now, Kind = ActivityKinds.JobQueued, Detail = JobNote.JsonWithin(start.TitleNote, ActivityEntry.DetailMaxLength) ?? title });
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
        }
        // Tell watchers before waking the worker, so "Queued" reaches them before "Running".
        await events.PublishAsync(new JobChanged(projectId, job.Id, job.Kind, job.Title, JobState.Queued, 0, null, null, now), ct);
        signals.WorkAvailable();
        return ToView(job, null);
    }

    /// <summary>A queued (or paused) job is cancelled at once, and its owner row with it in the same transaction; a
    /// running one is asked to stop and finishes as Cancelled after keeping what it already committed.</summary>
    public async Task<JobView> CancelAsync(string userId, Guid jobId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var projectId = await db.Jobs.Where(j => j.Id == jobId).Select(j => (Guid?)j.ProjectId).SingleOrDefaultAsync(ct)
            ?? throw new ForbiddenException("You do not have access to this job.");
        await access.RequireAsync(projectId, userId, ProjectRole.Author, ct);
        var now = time.GetUtcNow();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var cancelledQueued = await db.Jobs.Where(j => j.Id == jobId && (j.State == JobState.Queued || j.State == JobState.Paused))
            .ExecuteUpdateAsync(s => s.SetProperty(j => j.State, JobState.Cancelled).SetProperty(j => j.CancelRequested, true)
                .SetProperty(j => j.FinishedAt, now).SetProperty(j => j.Version, j => j.Version + 1), ct);
        if (cancelledQueued == 0)
        {
            await db.Jobs.Where(j => j.Id == jobId && j.State == JobState.Running)
                .ExecuteUpdateAsync(s => s.SetProperty(j => j.CancelRequested, true).SetProperty(j => j.Version, j => j.Version + 1), ct);
        }
        var job = await db.Jobs.AsNoTracking().SingleAsync(j => j.Id == jobId, ct);
        // Ended without its handler: the owner row must say so too (a model version left "Training" would be a lie).
        await using var closing = cancelledQueued > 0 ? await owners.CloseAsync(job, JobState.Cancelled, null, db) : null;
        db.Activity.Add(new ActivityEntry { ProjectId = projectId, UserId = userId, At = now, Kind = ActivityKinds.JobCancelled, Detail = ActivityEntry.DetailFor(job) });
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        if (cancelledQueued == 0) signals.RequestCancel(jobId);
        if (cancelledQueued > 0)
        {
            await events.PublishAsync(new JobChanged(projectId, job.Id, job.Kind, job.Title, JobState.Cancelled, job.Progress, job.ProgressMessage, null, now) { ProgressNote = JobNote.FromJson(job.ProgressNoteJson) }, ct);
            if (closing is not null) await closing.AfterCommitAsync();
        }
        return ToView(job, null);
    }

    /// <summary>A queued job is paused at once; a running one stops after its current step, keeping its checkpoint.</summary>
    public async Task<JobView> PauseAsync(string userId, Guid jobId, CancellationToken ct = default)
    {
        var (db, projectId) = await OpenForAuthorAsync(userId, jobId, ct);
        await using (db)
        {
            var now = time.GetUtcNow();
            var pausedQueued = await db.Jobs.Where(j => j.Id == jobId && j.State == JobState.Queued)
                .ExecuteUpdateAsync(s => s.SetProperty(j => j.State, JobState.Paused).SetProperty(j => j.Version, j => j.Version + 1), ct);
            if (pausedQueued == 0)
            {
                await db.Jobs.Where(j => j.Id == jobId && j.State == JobState.Running)
                    .ExecuteUpdateAsync(s => s.SetProperty(j => j.PauseRequested, true).SetProperty(j => j.Version, j => j.Version + 1), ct);
                signals.RequestCancel(jobId);
            }
            var job = await db.Jobs.AsNoTracking().SingleAsync(j => j.Id == jobId, ct);
            db.Activity.Add(new ActivityEntry { ProjectId = projectId, UserId = userId, At = now, Kind = ActivityKinds.JobPaused, Detail = ActivityEntry.DetailFor(job) });
            await db.SaveChangesAsync(ct);
            if (pausedQueued > 0)
                await events.PublishAsync(new JobChanged(projectId, job.Id, job.Kind, job.Title, JobState.Paused, job.Progress, job.ProgressMessage, null, now) { ProgressNote = JobNote.FromJson(job.ProgressNoteJson) }, ct);
            return ToView(job, null);
        }
    }

    /// <summary>Queues a paused job again; it continues from its checkpoint.</summary>
    public async Task<JobView> ResumeAsync(string userId, Guid jobId, CancellationToken ct = default)
    {
        // Resuming starts spending again: refused in an archived project (pausing and cancelling are not: a user must
        // be able to stop work there).
        var (db, projectId) = await OpenForAuthorAsync(userId, jobId, ct, write: true);
        await using (db)
        {
            var now = time.GetUtcNow();
            var resumed = await db.Jobs.Where(j => j.Id == jobId && j.State == JobState.Paused)
                .ExecuteUpdateAsync(s => s.SetProperty(j => j.State, JobState.Queued).SetProperty(j => j.PauseRequested, false)
                    .SetProperty(j => j.Version, j => j.Version + 1), ct);
            // Pausing a running job that has not stopped yet: withdraw the request instead.
            if (resumed == 0)
                await db.Jobs.Where(j => j.Id == jobId && j.State == JobState.Running)
                    .ExecuteUpdateAsync(s => s.SetProperty(j => j.PauseRequested, false), ct);
            var job = await db.Jobs.AsNoTracking().SingleAsync(j => j.Id == jobId, ct);
            db.Activity.Add(new ActivityEntry { ProjectId = projectId, UserId = userId, At = now, Kind = ActivityKinds.JobResumed, Detail = ActivityEntry.DetailFor(job) });
            await db.SaveChangesAsync(ct);
            if (resumed > 0)
            {
                await events.PublishAsync(new JobChanged(projectId, job.Id, job.Kind, job.Title, JobState.Queued, job.Progress, job.ProgressMessage, null, now) { ProgressNote = JobNote.FromJson(job.ProgressNoteJson) }, ct);
                signals.WorkAvailable();
            }
            return ToView(job, null);
        }
    }

    private async Task<(IncubatorDbContext Db, Guid ProjectId)> OpenForAuthorAsync(string userId, Guid jobId, CancellationToken ct, bool write = false)
    {
        var db = await dbFactory.CreateDbContextAsync(ct);
        try
        {
            var projectId = await db.Jobs.Where(j => j.Id == jobId).Select(j => (Guid?)j.ProjectId).SingleOrDefaultAsync(ct)
                ?? throw new ForbiddenException("You do not have access to this job.");
            if (write) await access.RequireWriteAsync(projectId, userId, ProjectRole.Author, ct);
            else await access.RequireAsync(projectId, userId, ProjectRole.Author, ct);
            return (db, projectId);
        }
        catch
        {
            await db.DisposeAsync();
            throw;
        }
    }

    public async Task<Page<JobView>> ListAsync(string userId, Guid projectId, int pageIndex, int pageSize, bool activeOnly = false, CancellationToken ct = default)
    {
        await access.RequireAsync(projectId, userId, ProjectRole.Viewer, ct);
        pageSize = Math.Clamp(pageSize, 1, 200);
        pageIndex = Math.Max(0, pageIndex);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var query = db.Jobs.AsNoTracking().Where(j => j.ProjectId == projectId);
        if (activeOnly) query = query.Where(j => j.State == JobState.Queued || j.State == JobState.Running || j.State == JobState.Paused);
        var total = await query.CountAsync(ct);
        var rows = await query.OrderByDescending(j => j.CreatedAt)
            .Skip(pageIndex * pageSize).Take(pageSize)
            .Select(j => new { Job = j, Email = db.Users.Where(u => u.Id == j.CreatedById).Select(u => u.Email).FirstOrDefault() })
            .ToListAsync(ct);
        return new Page<JobView>(rows.Select(r => ToView(r.Job, r.Email)).ToList(), total, pageIndex, pageSize);
    }

    public async Task<JobView> GetAsync(string userId, Guid jobId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var job = await db.Jobs.AsNoTracking().SingleOrDefaultAsync(j => j.Id == jobId, ct)
            ?? throw new ForbiddenException("You do not have access to this job.");
        await access.RequireAsync(job.ProjectId, userId, ProjectRole.Viewer, ct);
        return ToView(job, null);
    }

    public async Task<IReadOnlyList<JobLogView>> GetLogAsync(string userId, Guid jobId, int max = 500, CancellationToken ct = default)
    {
        var job = await GetAsync(userId, jobId, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await db.JobLog.AsNoTracking().Where(l => l.JobId == job.Id).OrderByDescending(l => l.Id).Take(Math.Clamp(max, 1, 5000))
            .Select(l => new { l.Id, l.At, l.Level, l.Message, l.NoteJson }).ToListAsync(ct);
        rows.Reverse();
        return rows.Select(l => new JobLogView(l.Id, l.At, l.Level, l.Message, JobNote.FromJson(l.NoteJson))).ToList();
    }

    internal static JobView ToView(Job j, string? email) => new(j.Id, j.ProjectId, j.Kind, j.Title, j.State, j.Progress, j.ProgressMessage,
        j.Attempts, j.Error, j.CancelRequested, j.PauseRequested, j.CreatedAt, j.StartedAt, j.FinishedAt, email, JobNote.FromJson(j.NoteJson),
        j.State == JobState.Running ? j.WaitingSince : null, JobNote.FromJson(j.ProgressNoteJson), JobNote.FromJson(j.TitleNoteJson));
}
