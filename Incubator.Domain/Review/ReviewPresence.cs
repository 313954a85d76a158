using System.Collections.Concurrent;
using Incubator.Domain.Common;
using Incubator.Domain.Common.Events;
using Incubator.Domain.Data;
using Incubator.Domain.Projects;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Incubator.Domain.Review;

/// <summary>Who has a task's review pages open right now, across instances: each open page is a
/// <see cref="ReviewPresenceEntry"/> row that its instance renews every <see cref="RenewEvery"/> while the page stays
/// open and deletes when it closes; a row whose instance died expires after <see cref="Lifetime"/>. Joins and leaves
/// are announced with <see cref="PresenceChanged"/>, which reaches every instance's pages through the shared event
/// bus (docs/decisions/0030-shared-state.md).</summary>
/// <para>Like every service a page calls, it checks access itself (docs/decisions/0024, amendment sec22): joining and
/// reading who is present need a member of the task's project (Viewer: the review queue is a Viewer page), and the task
/// must be of the project the page names; the page's own checks are not trusted.</para>
public sealed class ReviewPresence(
    IDbContextFactory<IncubatorDbContext> dbFactory, IRunEvents events, InstanceName instance, TimeProvider time, ProjectAccess access,
    ILogger<ReviewPresence> logger)
    : BackgroundService
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(2);
    public static readonly TimeSpan RenewEvery = TimeSpan.FromSeconds(30);

    private readonly ConcurrentDictionary<Guid, byte> _open = new();

    /// <summary>Marks the user as present until the returned handle is disposed (the page is left or the circuit ends).
    /// Allowed in an archived project: being on a page is reading, and the row is the page's, not the project's data.
    /// Throws <see cref="ForbiddenException"/> for a non-member and <see cref="NotFoundException"/> for a task of another
    /// project (the row and its <see cref="PresenceChanged"/> would go to this project's pages).</summary>
    public async Task<IAsyncDisposable> JoinAsync(string userId, Guid projectId, Guid taskId, string display, CancellationToken ct = default)
    {
        var taskProject = await access.RequireTaskAsync(taskId, userId, ProjectRole.Viewer, ct);
        if (taskProject != projectId) throw new NotFoundException("The task is not in this project.");
        var id = Guid.NewGuid();
        var shown = display.Length > 256 ? display[..256] : display;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            db.ReviewPresence.Add(new ReviewPresenceEntry
            {
                Id = id, ProjectId = projectId, TaskId = taskId, Display = shown, Instance = instance.Value, ExpiresAt = time.GetUtcNow() + Lifetime,
            });
            await db.SaveChangesAsync(ct);
        }
        _open[id] = 0;
        await events.PublishAsync(new PresenceChanged(projectId, taskId), ct);
        return new Leave(async () =>
        {
            _open.TryRemove(id, out _);
            try
            {
                await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
                await db.ReviewPresence.Where(p => p.Id == id).ExecuteDeleteAsync(CancellationToken.None);
            }
            catch (Exception ex)
            {
                // The row expires on its own; the page is gone either way.
                logger.LogWarning(ex, "Could not remove review presence {Id}", id);
            }
            await events.PublishAsync(new PresenceChanged(projectId, taskId), CancellationToken.None);
        });
    }

    /// <summary>Distinct people present on the task (on any instance), in alphabetical order; for members of its project.</summary>
    public async Task<IReadOnlyList<string>> WhoAsync(string userId, Guid taskId, CancellationToken ct = default)
    {
        await access.RequireTaskAsync(taskId, userId, ProjectRole.Viewer, ct);
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var names = await db.ReviewPresence.AsNoTracking().Where(p => p.TaskId == taskId && p.ExpiresAt > now).Select(p => p.Display).ToListAsync(ct);
        return names.Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.OrdinalIgnoreCase).ToList();
    }

    /// <summary>Renews this instance's open pages and removes rows that expired (an instance that died).</summary>
    public async Task RenewAsync(CancellationToken ct = default)
    {
        var now = time.GetUtcNow();
        var open = _open.Keys.ToList();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        foreach (var chunk in open.Chunk(500))
            await db.ReviewPresence.Where(p => chunk.Contains(p.Id)).ExecuteUpdateAsync(s => s.SetProperty(p => p.ExpiresAt, now + Lifetime), ct);
        var expired = await db.ReviewPresence.Where(p => p.ExpiresAt <= now).Select(p => new { p.ProjectId, p.TaskId }).Distinct().ToListAsync(ct);
        if (expired.Count == 0) return;
        await db.ReviewPresence.Where(p => p.ExpiresAt <= now).ExecuteDeleteAsync(ct);
        foreach (var e in expired) await events.PublishAsync(new PresenceChanged(e.ProjectId, e.TaskId), ct);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(RenewEvery, time, stoppingToken);
                await RenewAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "Renewing review presence failed; trying again in {Interval}", RenewEvery);
            }
        }
    }

    private sealed class Leave(Func<Task> leave) : IAsyncDisposable
    {
        private int _done;

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0) await leave();
        }
    }
}
