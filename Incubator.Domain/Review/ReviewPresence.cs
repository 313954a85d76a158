using System.Collections.Concurrent;
using Incubator.Domain.Common;
using Incubator.Domain.Common.Events;
using Incubator.Domain.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Incubator.Domain.Review;

/// <summary>Who has a task's review pages open right now, across instances: each open page is a
/// <see cref="ReviewPresenceEntry"/> row that its instance renews every <see cref="RenewEvery"/> while the page stays
/// open and deletes when it closes; a row whose instance died expires after <see cref="Lifetime"/>. Joins and leaves
/// are announced with <see cref="PresenceChanged"/>, which reaches every instance's pages through the shared event
/// bus (docs/decisions/0030-shared-state.md).</summary>
public sealed class ReviewPresence(
    IDbContextFactory<IncubatorDbContext> dbFactory, IRunEvents events, InstanceName instance, TimeProvider time, ILogger<ReviewPresence> logger)
    : BackgroundService
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(2);
    public static readonly TimeSpan RenewEvery = TimeSpan.FromSeconds(30);

    private readonly ConcurrentDictionary<Guid, byte> _open = new();

    /// <summary>Marks the user as present until the returned handle is disposed (the page is left or the circuit ends).</summary>
    public async Task<IAsyncDisposable> JoinAsync(Guid projectId, Guid taskId, string display, CancellationToken ct = default)
    {
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

    /// <summary>Distinct people present on the task (on any instance), in alphabetical order.</summary>
    public async Task<IReadOnlyList<string>> WhoAsync(Guid taskId, CancellationToken ct = default)
    {
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
