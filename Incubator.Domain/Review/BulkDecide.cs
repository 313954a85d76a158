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

    /// <summary>Applies <paramref name="decision"/> to everything <paramref name="filter"/> matches, provided it still matches
    /// what the reviewer confirmed; otherwise <see cref="ConflictException"/> and nothing changes. Each candidate gets its
    /// own audit event, so each can be undone on its own. Returns how many changed.</summary>
    public async Task<int> ApplyAsync(
        string userId, Guid taskId, CandidateFilter filter, Decision decision, int confirmedTotal, int confirmedAlreadyDecided,
        CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentNullException.ThrowIfNull(decision);
        var projectId = await access.RequireTaskAsync(taskId, userId, ProjectRole.Reviewer, ct);
        ReviewDecision.Check(decision, DecisionSource.Bulk);

        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
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

        var items = await ReviewStore.Filter(db.Candidates.Where(c => c.TaskId == taskId), filter, db).AsNoTracking().ToListAsync(ct);
        var status = decision.Kind == DecisionKind.Approve ? CandidateStatus.Approved : CandidateStatus.Rejected;
        var reason = decision.Kind == DecisionKind.Reject ? decision.Reason : null;
        var reviewReason = decision.Kind == DecisionKind.Reject ? ReviewDecision.ReviewText(decision) : null;
        var ids = items.Select(i => i.Id).ToList();
        // Candidates matched by the filter at the confirmed counts, under our write lock: update exactly those.
        var changed = await db.Candidates.Where(c => ids.Contains(c.Id))
            .ExecuteUpdateAsync(s => s
                .SetProperty(x => x.Status, status)
                .SetProperty(x => x.RejectionReason, reason)
                .SetProperty(x => x.ReviewReason, reviewReason)
                .SetProperty(x => x.ReviewedById, userId)
                .SetProperty(x => x.ReviewedAt, now)
                .SetProperty(x => x.Version, x => x.Version + 1), ct);
        if (changed != items.Count)
            throw new ConflictException("The selection changed while it was being decided. Nothing was changed; check the selection again.");
        foreach (var c in items)
        {
            var before = CandidateState.Of(c);
            var after = before with { Status = status, RejectionReason = reason, ReviewReason = reviewReason, ReviewedById = userId, ReviewedAt = now };
            db.ReviewEvents.Add(ReviewDecision.AuditEvent(c, userId, decision, before, after, lost: false, now));
        }
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);

        var email = await ReviewStore.EmailAsync(db, userId, ct);
        foreach (var c in items)
            await events.PublishAsync(new ReviewChanged(projectId, taskId, c.Id, status, c.Label, email), ct);
        return items.Count;
    }

    private static async Task<BulkPreview> CountAsync(IncubatorDbContext db, Guid taskId, CandidateFilter filter, CancellationToken ct)
    {
        var q = ReviewStore.Filter(db.Candidates.AsNoTracking().Where(c => c.TaskId == taskId), filter, db);
        var total = await q.CountAsync(ct);
        var decided = total == 0 ? 0 : await q.CountAsync(c => c.Status != CandidateStatus.Pending, ct);
        return new BulkPreview(total, decided);
    }
}
