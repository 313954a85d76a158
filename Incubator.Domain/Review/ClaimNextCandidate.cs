using Incubator.Domain.Common;
using Incubator.Domain.Common.Events;
using Incubator.Domain.Data;
using Incubator.Domain.Projects;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Incubator.Domain.Review;

/// <summary>"Review next": hands each reviewer disjoint items through expiring leases (Reviewer role and up).
/// <para><see cref="ClaimNextAsync"/> gives a reviewer the first pending item — oldest first, or in the
/// <see cref="ClaimScope"/>'s run/label/source and order (e.g. most uncertain first) — that nobody else holds (in overlap
/// mode: that they have not reviewed yet and that fewer than k people have reviewed or hold), under the task's claim
/// lock (SQLite's write lock; on PostgreSQL an advisory lock per task), so two reviewers claiming at the same moment get
/// different items. A lease lives <see cref="ReviewOptions.LeaseDuration"/>
/// from the reviewer's last activity; an expired lease no longer counts and the item returns to the pool. Who holds what
/// is read through <see cref="ReviewQueries.ProgressAsync"/> and <see cref="ReviewQueries.HoldersAsync"/>.</para></summary>
public sealed class ClaimNextCandidate(
    IDbContextFactory<IncubatorDbContext> dbFactory, ProjectAccess access, IRunEvents events, TimeProvider time, IOptions<ReviewOptions> options)
{
    private TimeSpan LeaseDuration => options.Value.LeaseDuration;

    /// <summary>Hands the reviewer their next item and leases it to them. Returns the item they already hold (renewed)
    /// when they hold a live lease on a still-open item in <paramref name="scope"/> and not in <paramref name="skip"/>;
    /// otherwise the first open item of the scope, in its order (default: all items, oldest first), that nobody else may
    /// take; null when there is nothing left for them there. Leases on skipped items are released.</summary>
    public Task<CandidateRow?> ClaimNextAsync(string userId, Guid taskId, IReadOnlyCollection<Guid>? skip = null, ClaimScope? scope = null,
        CancellationToken ct = default) =>
        DbRetry.RunAsync(() => ClaimNextOnceAsync(userId, taskId, skip, scope, ct), ct);

    private async Task<CandidateRow?> ClaimNextOnceAsync(string userId, Guid taskId, IReadOnlyCollection<Guid>? skip, ClaimScope? scope,
        CancellationToken ct)
    {
        var projectId = await access.RequireTaskWriteAsync(taskId, userId, ProjectRole.Reviewer, ct);
        skip ??= [];
        scope ??= ClaimScope.All;
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        Guid? picked;
        await using (var tx = await db.Database.BeginTransactionAsync(ct))
        {
            await db.LockAsync(ReviewStore.ClaimLock, taskId, ct);
            var k = await ReviewStore.OverlapOfAsync(db, taskId, ct);
            await db.ReviewLeases.Where(l => l.TaskId == taskId && l.ExpiresAt <= now).ExecuteDeleteAsync(ct);
            if (skip.Count > 0)
                await db.ReviewLeases.Where(l => l.TaskId == taskId && l.UserId == userId && skip.Contains(l.CandidateId)).ExecuteDeleteAsync(ct);

            var open = ReviewStore.Filter(Open(db, taskId, userId, k), scope.Filter, db);
            picked = await db.ReviewLeases.AsNoTracking()
                .Where(l => l.TaskId == taskId && l.UserId == userId && open.Any(c => c.Id == l.CandidateId))
                .OrderBy(l => l.Id).Select(l => (Guid?)l.CandidateId).FirstOrDefaultAsync(ct);
            if (picked is { } held)
            {
                await db.ReviewLeases.Where(l => l.CandidateId == held && l.UserId == userId)
                    .ExecuteUpdateAsync(s => s.SetProperty(l => l.ExpiresAt, now + LeaseDuration), ct);
            }
            else
            {
                picked = await Ordered(open.Where(c => !skip.Contains(c.Id)), scope.Order).Select(c => (Guid?)c.Id).FirstOrDefaultAsync(ct);
                if (picked is { } id)
                {
                    db.ReviewLeases.Add(new ReviewLease
                    {
                        ProjectId = projectId, TaskId = taskId, CandidateId = id, UserId = userId, AcquiredAt = now, ExpiresAt = now + LeaseDuration,
                    });
                    await db.SaveChangesAsync(ct);
                }
            }
            await tx.CommitAsync(ct);
        }
        if (picked is null) return null;
        await events.PublishAsync(new AssignmentChanged(projectId, taskId), ct);
        return await ReviewStore.RowAsync(db, picked.Value, ct);
    }

    /// <summary>The reviewer is working on the item: extends their lease, or takes it again if theirs expired and the
    /// item is still open to them. False when the item is no longer theirs to review.</summary>
    public async Task<bool> RenewAsync(string userId, Guid candidateId, CancellationToken ct = default)
    {
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var c = await ReviewStore.FindAsync(db, candidateId, ct);
        await access.RequireWriteAsync(c.ProjectId, userId, ProjectRole.Reviewer, ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await db.LockAsync(ReviewStore.ClaimLock, c.TaskId, ct);
        var renewed = await db.ReviewLeases.Where(l => l.CandidateId == candidateId && l.UserId == userId && l.ExpiresAt > now)
            .ExecuteUpdateAsync(s => s.SetProperty(l => l.ExpiresAt, now + LeaseDuration), ct);
        if (renewed == 0)
        {
            var k = await ReviewStore.OverlapOfAsync(db, c.TaskId, ct);
            await db.ReviewLeases.Where(l => l.CandidateId == candidateId && l.ExpiresAt <= now).ExecuteDeleteAsync(ct);
            if (!await Open(db, c.TaskId, userId, k).AnyAsync(x => x.Id == candidateId, ct)) return false;
            db.ReviewLeases.Add(new ReviewLease
            {
                ProjectId = c.ProjectId, TaskId = c.TaskId, CandidateId = candidateId, UserId = userId, AcquiredAt = now, ExpiresAt = now + LeaseDuration,
            });
            await db.SaveChangesAsync(ct);
        }
        await tx.CommitAsync(ct);
        return true;
    }

    /// <summary>Gives back every item the reviewer holds on the task (they left focus mode).</summary>
    public async Task<int> ReleaseAsync(string userId, Guid taskId, CancellationToken ct = default)
    {
        var projectId = await access.RequireTaskAsync(taskId, userId, ProjectRole.Viewer, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var n = await db.ReviewLeases.Where(l => l.TaskId == taskId && l.UserId == userId).ExecuteDeleteAsync(ct);
        if (n > 0) await events.PublishAsync(new AssignmentChanged(projectId, taskId), ct);
        return n;
    }

    /// <summary>The order "Review next" hands items out in; ties go to the oldest item so nothing waits forever.</summary>
    private static IQueryable<Candidate> Ordered(IQueryable<Candidate> q, CandidateSort order) => order switch
    {
        CandidateSort.Newest => q.OrderByDescending(c => c.CreatedAt).ThenBy(c => c.Id),
        CandidateSort.Spread => q.OrderBy(c => c.SpreadRank).ThenBy(c => c.Label).ThenBy(c => c.CreatedAt).ThenBy(c => c.Id),
        CandidateSort.Label => q.OrderBy(c => c.Label).ThenBy(c => c.CreatedAt).ThenBy(c => c.Id),
        CandidateSort.MostUncertain => q.OrderBy(c => c.Uncertainty == null).ThenByDescending(c => c.Uncertainty).ThenBy(c => c.CreatedAt).ThenBy(c => c.Id),
        _ => q.OrderBy(c => c.CreatedAt).ThenBy(c => c.Id),
    };

    /// <summary>Items the reviewer may be handed: pending, not waiting for the Owner, and — single review — held by
    /// nobody else, or — overlap — not reviewed by them and reviewed or held by fewer than k others.</summary>
    private static IQueryable<Candidate> Open(IncubatorDbContext db, Guid taskId, string userId, int k)
    {
        // Live leases only: callers delete the task's expired leases in the same transaction before asking.
        var q = db.Candidates.AsNoTracking().Where(c => c.TaskId == taskId && c.Status == CandidateStatus.Pending && !c.InConflict);
        return k <= 1
            ? q.Where(c => !db.ReviewLeases.Any(l => l.CandidateId == c.Id && l.UserId != userId))
            : q.Where(c => !db.ReviewVotes.Any(v => v.CandidateId == c.Id && v.UserId == userId)
                && db.ReviewVotes.Count(v => v.CandidateId == c.Id) + db.ReviewLeases.Count(l => l.CandidateId == c.Id && l.UserId != userId) < k);
    }
}
