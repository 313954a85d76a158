using Incubator.Domain.Common.Events;
using System.Security.Cryptography;
using System.Text;
using Incubator.Domain.Common;
using Incubator.Domain.Data;
using Incubator.Domain.Jobs;
using Incubator.Domain.Projects;
using Microsoft.EntityFrameworkCore;

namespace Incubator.Domain.Tasks;

/// <summary>One version of a task as a member sees it. <see cref="Version"/> is the version shown, which may be older
/// than <see cref="CurrentVersion"/>.</summary>
public sealed record TaskView(Guid Id, Guid ProjectId, int Version, int CurrentVersion, TaskSpec Spec, DateTimeOffset UpdatedAt, ProjectRole MyRole);

public sealed record TaskSummary(Guid Id, string Name, int CurrentVersion, int LabelCount, string Language, DateTimeOffset UpdatedAt);

public sealed record TaskVersionSummary(int Number, DateTimeOffset CreatedAt, string? CreatedByEmail, string? Comment, string ContentHash);

/// <summary>Create and edit classifier tasks. Content is stored as immutable versions of canonical JSON; saving adds a
/// version only when the normalised content changed, and two people saving from the same version cannot both win:
/// the task's <c>CurrentVersion</c> is a concurrency token and (TaskId, Number) is unique.</summary>
public sealed class TaskService(
    IDbContextFactory<IncubatorDbContext> dbFactory,
    ProjectAccess access,
    IRunEvents events,
    TimeProvider time)
{
    public const int MaxCommentLength = 400;
    private const int MaxSourceTemplateLength = 200;

    public async Task<TaskView> CreateTaskAsync(string userId, Guid projectId, TaskSpec spec, string? sourceTemplate, CancellationToken ct = default)
    {
        var role = await access.RequireWriteAsync(projectId, userId, ProjectRole.Author, ct);
        ArgumentNullException.ThrowIfNull(spec);
        var normalized = TaskJson.Normalize(spec);
        TaskSpecValidator.EnsureValid(normalized);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await EnsureNotArchivedAsync(db, projectId, ct);
        var now = time.GetUtcNow();
        var (json, hash) = Canonical(normalized);
        var task = new ClassifierTask
        {
            Id = Guid.NewGuid(), ProjectId = projectId, Name = normalized.Name, CurrentVersion = 1,
            SourceTemplate = Clip(sourceTemplate?.Trim(), MaxSourceTemplateLength) is { Length: > 0 } s ? s : null,
            CreatedAt = now, UpdatedAt = now, CreatedById = userId,
        };
        db.Tasks.Add(task);
        db.TaskVersions.Add(new TaskVersion
        {
            Id = Guid.NewGuid(), TaskId = task.Id, Number = 1, SpecJson = json, ContentHash = hash, CreatedAt = now, CreatedById = userId,
        });
        db.Activity.Add(Entry(projectId, userId, ActivityKinds.TaskCreated, normalized.Name, now));
        await db.SaveChangesAsync(ct);
        await events.PublishAsync(new TaskChanged(projectId, task.Id, 1), ct);
        return new TaskView(task.Id, projectId, 1, 1, normalized, now, role);
    }

    public async Task<TaskView> SaveAsync(string userId, Guid taskId, TaskSpec spec, int expectedVersion, string? comment, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var task = await db.Tasks.SingleOrDefaultAsync(t => t.Id == taskId, ct) ?? throw NoAccess();
        // Same message as an unknown task for a non-member (RequireMemberAsync); then the role and the archive (ProjectAccess).
        await RequireMemberAsync(task.ProjectId, userId, ct);
        var role = await access.RequireWriteAsync(task.ProjectId, userId, ProjectRole.Author, ct);
        ArgumentNullException.ThrowIfNull(spec);
        var normalized = TaskJson.Normalize(spec);
        TaskSpecValidator.EnsureValid(normalized);
        var trimmedComment = string.IsNullOrWhiteSpace(comment) ? null : comment.Trim();
        if (trimmedComment is { Length: > MaxCommentLength })
            throw new DomainValidationException("comment", "CommentTooLong",
                $"The comment must be at most {MaxCommentLength} characters (it has {trimmedComment.Length}).", MaxCommentLength, trimmedComment.Length);
        await EnsureNotArchivedAsync(db, task.ProjectId, ct);

        var (json, hash) = Canonical(normalized);
        var current = await db.TaskVersions.AsNoTracking()
            .Where(v => v.TaskId == taskId && v.Number == task.CurrentVersion)
            .Select(v => new { v.ContentHash, v.SpecJson })
            .SingleAsync(ct);
        // Saving what is already stored is not a change, even from a stale page: nothing would be lost.
        if (current.ContentHash == hash && current.SpecJson == json)
            return new TaskView(task.Id, task.ProjectId, task.CurrentVersion, task.CurrentVersion, normalized, task.UpdatedAt, role);
        if (expectedVersion != task.CurrentVersion)
            throw Stale(task.CurrentVersion, expectedVersion);

        var now = time.GetUtcNow();
        var number = task.CurrentVersion + 1;
        task.CurrentVersion = number;
        task.Name = normalized.Name;
        task.UpdatedAt = now;
        db.TaskVersions.Add(new TaskVersion
        {
            Id = Guid.NewGuid(), TaskId = task.Id, Number = number, SpecJson = json, ContentHash = hash, Comment = trimmedComment,
            CreatedAt = now, CreatedById = userId,
        });
        db.Activity.Add(Entry(task.ProjectId, userId, ActivityKinds.TaskSaved, $"{normalized.Name} (v{number})", now));
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException)
        {
            // Another save committed first: either the UPDATE found CurrentVersion already moved (concurrency token)
            // or the INSERT hit the unique (TaskId, Number) index. The whole SaveChanges rolled back. Anything else
            // (the version did not move) is not a conflict and is rethrown as it is.
            await using var fresh = await dbFactory.CreateDbContextAsync(ct);
            var latest = await fresh.Tasks.Where(t => t.Id == taskId).Select(t => (int?)t.CurrentVersion).SingleOrDefaultAsync(ct);
            if (latest is null || latest == expectedVersion) throw;
            throw Stale(latest.Value, expectedVersion);
        }
        await events.PublishAsync(new TaskChanged(task.ProjectId, task.Id, number), ct);
        return new TaskView(task.Id, task.ProjectId, number, number, normalized, now, role);
    }

    public async Task<IReadOnlyList<TaskSummary>> ListTasksAsync(string userId, Guid projectId, CancellationToken ct = default)
    {
        await access.RequireAsync(projectId, userId, ProjectRole.Viewer, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await db.Tasks.AsNoTracking()
            .Where(t => t.ProjectId == projectId && !t.IsArchived)
            .Join(db.TaskVersions, t => new { TaskId = t.Id, Number = t.CurrentVersion }, v => new { v.TaskId, v.Number },
                (t, v) => new { t.Id, t.Name, t.CurrentVersion, t.UpdatedAt, v.SpecJson })
            .ToListAsync(ct);
        return rows
            .Select(r =>
            {
                var spec = TaskJson.Parse(r.SpecJson);
                return new TaskSummary(r.Id, r.Name, r.CurrentVersion, spec.Labels.Count, spec.Preferences.Language, r.UpdatedAt);
            })
            .OrderBy(t => t.Name, StringComparer.CurrentCultureIgnoreCase)
            .ToList();
    }

    /// <param name="version">Null: the current version.</param>
    public async Task<TaskView> GetTaskAsync(string userId, Guid taskId, int? version = null, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var task = await db.Tasks.AsNoTracking().SingleOrDefaultAsync(t => t.Id == taskId, ct) ?? throw NoAccess();
        var role = await RequireMemberAsync(task.ProjectId, userId, ct);
        var number = version ?? task.CurrentVersion;
        var row = await db.TaskVersions.AsNoTracking()
            .Where(v => v.TaskId == taskId && v.Number == number)
            .Select(v => new { v.SpecJson, v.CreatedAt })
            .SingleOrDefaultAsync(ct)
            ?? throw new NotFoundException($"This task has no version {number}; the latest is {task.CurrentVersion}.");
        var updated = number == task.CurrentVersion ? task.UpdatedAt : row.CreatedAt;
        return new TaskView(task.Id, task.ProjectId, number, task.CurrentVersion, TaskJson.Parse(row.SpecJson), updated, role);
    }

    /// <summary>Newest first.</summary>
    public async Task<IReadOnlyList<TaskVersionSummary>> ListVersionsAsync(string userId, Guid taskId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var projectId = await db.Tasks.Where(t => t.Id == taskId).Select(t => (Guid?)t.ProjectId).SingleOrDefaultAsync(ct) ?? throw NoAccess();
        await RequireMemberAsync(projectId, userId, ct);
        return await db.TaskVersions.AsNoTracking()
            .Where(v => v.TaskId == taskId)
            .OrderByDescending(v => v.Number)
            .Select(v => new TaskVersionSummary(v.Number, v.CreatedAt, db.Users.Where(u => u.Id == v.CreatedById).Select(u => u.Email).FirstOrDefault(), v.Comment, v.ContentHash))
            .ToListAsync(ct);
    }

    /// <summary>The stored form of a spec and its SHA-256 (lower-case hex).</summary>
    public static (string Json, string Hash) Canonical(TaskSpec normalized)
    {
        var json = TaskJson.Serialize(normalized, indented: false);
        return (json, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(json))));
    }

    private async Task<ProjectRole> RequireMemberAsync(Guid projectId, string userId, CancellationToken ct)
    {
        // Same message as an unknown task: a non-member learns nothing about what exists.
        var role = await access.GetRoleAsync(projectId, userId, ct);
        return role ?? throw NoAccess();
    }

    private static ForbiddenException NoAccess() => new("You do not have access to this task.");

    private static ConflictException Stale(int latest, int expected) =>
        new($"This task changed while you were editing: someone saved version {latest} meanwhile (you started from version {expected}). " +
            "Reload it, compare, and save again.");

    private static async Task EnsureNotArchivedAsync(IncubatorDbContext db, Guid projectId, CancellationToken ct)
    {
        var archived = await db.Projects.Where(p => p.Id == projectId).Select(p => p.IsArchived).SingleAsync(ct);
        if (archived) throw ProjectAccess.Archived();
    }

    private static string? Clip(string? s, int max) => s is null ? null : s.Length > max ? s[..max] : s;

    private static ActivityEntry Entry(Guid projectId, string userId, string kind, string detail, DateTimeOffset at) =>
        new() { ProjectId = projectId, UserId = userId, At = at, Kind = kind, Detail = Clip(detail, 400)! };
}
