using Incubator.Domain.Common;
using Incubator.Domain.Common.Events;
using Incubator.Domain.Data;
using Incubator.Domain.Projects;
using Microsoft.EntityFrameworkCore;

namespace Incubator.Domain.Review;

/// <summary>One decision for every sample a filter matches, in two steps: <see cref="PreviewAsync"/> says how many would
/// change (and how many are already decided), the reviewer confirms those numbers, and <see cref="ApplyAsync"/> applies
/// only if the selection still has them. Approve and reject only; refused in overlap mode, where every sample needs its
/// independent reviews. Bulk decisions ignore leases: they are an explicit, confirmed override.
/// <para>Error codes: BulkKindUnsupported, BulkEmpty, BulkOverlap (k), ReasonRequired, CommentRequired, CommentTooLong.</para></summary>
public sealed class BulkDecide(IDbContextFactory<IncubatorDbContext> dbFactory, ProjectAccess access, IRunEvents events, TimeProvider time)
{
    public async Task<BulkPreview> PreviewAsync(string userId, Guid taskId, CandidateFilter filter, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        await access.RequireTaskAsync(taskId, userId, ProjectRole.Viewer, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await CountAsync(db, taskId, filter, ct);
    }

    /// <summary>Samples decided per transaction: a bulk decision over a whole queue never holds the database for long.</summary>
    internal const int BatchSize = 500;

    /// <summary>Applies <paramref name="decision"/> to everything <paramref name="filter"/> matches, provided it still matches
    /// what the reviewer confirmed; otherwise <see cref="ConflictException"/> and nothing changes. Each candidate gets its
    /// own audit event, so each can be undone on its own. The samples are decided in batches of <see cref="BatchSize"/>,
    /// each one short transaction under the samples' own locks (docs/decisions/0028-write-discipline.md): a sample that
    /// someone else decided meanwhile so that it no longer matches is left as they decided it. Returns how many changed.
    /// <paramref name="progress"/> hears, after each committed batch, how many of the selection's samples have been gone
    /// through and how many there are (a sample someone else decided meanwhile counts as gone through).</summary>
    public async Task<int> ApplyAsync(
        string userId, Guid taskId, CandidateFilter filter, Decision decision, int confirmedTotal, int confirmedAlreadyDecided,
        IProgress<BulkProgress>? progress = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentNullException.ThrowIfNull(decision);
        var projectId = await access.RequireTaskWriteAsync(taskId, userId, ProjectRole.Reviewer, ct);
        ReviewDecision.Check(decision, DecisionSource.Bulk);

        List<Guid> ids;
        string? email;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            if (await ReviewStore.OverlapOfAsync(db, taskId, ct) is > 1 and var k)
                throw new DomainValidationException("kind", "BulkOverlap",
                    $"This queue needs {k} independent reviews per sample, so samples cannot be decided in bulk.", k);
            var counts = await CountAsync(db, taskId, filter, ct);
            if (counts.Total == 0)
                throw new DomainValidationException("filter", "BulkEmpty", "No samples match this selection.");
            if (counts.Total != confirmedTotal || counts.AlreadyDecided != confirmedAlreadyDecided)
                throw new ConflictException(
                    $"The selection changed since you confirmed it: it now matches {counts.Total} samples ({counts.AlreadyDecided} already decided), "
                    + $"not {confirmedTotal} ({confirmedAlreadyDecided}). Nothing was changed; check the selection again.");
            ids = await ReviewStore.Filter(db.Candidates.AsNoTracking().Where(c => c.TaskId == taskId), filter, db)
                .OrderBy(c => c.CreatedAt).ThenBy(c => c.Id).Select(c => c.Id).ToListAsync(ct);
            email = await ReviewStore.EmailAsync(db, userId, ct);
        }

        var status = decision.Kind == DecisionKind.Approve ? CandidateStatus.Approved : CandidateStatus.Rejected;
        var reason = decision.Kind == DecisionKind.Reject ? decision.Reason : null;
        var reviewReason = decision.Kind == DecisionKind.Reject ? ReviewDecision.ReviewText(decision) : null;
        var changed = 0;
        var done = 0;
        foreach (var chunk in ids.Chunk(BatchSize))
        {
            var items = await DbRetry.RunAsync(() => ApplyBatchAsync(taskId, filter, chunk, decision, status, reason, reviewReason, userId, ct), ct);
            changed += items.Count;
            done += chunk.Length;
            foreach (var c in items)
                await events.PublishAsync(new ReviewChanged(projectId, taskId, c.Id, status, c.Label, email), ct);
            progress?.Report(new BulkProgress(done, ids.Count));
        }
        return changed;
    }

    /// <summary>One batch: under the samples' locks, those of <paramref name="chunk"/> that still match the filter are
    /// decided, each with its audit event, in one short transaction.</summary>
    private async Task<List<Candidate>> ApplyBatchAsync(Guid taskId, CandidateFilter filter, Guid[] chunk, Decision decision, CandidateStatus status,
        RejectionReason? reason, string? reviewReason, string userId, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await db.LockAllAsync(ReviewStore.CandidateLock, chunk, ct);
        var items = await ReviewStore.Filter(db.Candidates.Where(c => c.TaskId == taskId && chunk.Contains(c.Id)), filter, db).AsNoTracking().ToListAsync(ct);
        var matching = items.Select(i => i.Id).ToList();
        await db.Candidates.Where(c => matching.Contains(c.Id))
            .ExecuteUpdateAsync(s => s
                .SetProperty(x => x.Status, status)
                .SetProperty(x => x.RejectionReason, reason)
                .SetProperty(x => x.ReviewReason, reviewReason)
                .SetProperty(x => x.ReviewedById, userId)
                .SetProperty(x => x.ReviewedAt, now)
                .SetProperty(x => x.Version, x => x.Version + 1), ct);
        foreach (var c in items)
        {
            var before = CandidateState.Of(c);
            var after = before with { Status = status, RejectionReason = reason, ReviewReason = reviewReason, ReviewedById = userId, ReviewedAt = now };
            db.ReviewEvents.Add(ReviewDecision.AuditEvent(c, userId, decision, before, after, lost: false, now));
        }
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return items;
    }

    private static async Task<BulkPreview> CountAsync(IncubatorDbContext db, Guid taskId, CandidateFilter filter, CancellationToken ct)
    {
        var q = ReviewStore.Filter(db.Candidates.AsNoTracking().Where(c => c.TaskId == taskId), filter, db);
        var total = await q.CountAsync(ct);
        var decided = total == 0 ? 0 : await q.CountAsync(c => c.Status != CandidateStatus.Pending, ct);
        return new BulkPreview(total, decided);
    }
}
