using Incubator.Domain.Common.Events;
using Incubator.Domain.Data;
using Incubator.Domain.Projects;
using Microsoft.EntityFrameworkCore;

namespace Incubator.Domain.Review;

/// <summary>The Owner settles an item whose independent reviews disagree: approve (optionally with another label) or
/// reject with a reason, recorded as <see cref="DecisionKind.Settle"/>. The conflicts list is read through
/// <see cref="ReviewQueries.ConflictsAsync"/>.
/// <para>Error codes: SettleKindUnsupported, NotInConflict, ReasonRequired, CommentRequired, CommentTooLong, LabelUnknown.</para></summary>
public sealed class SettleConflict(IDbContextFactory<IncubatorDbContext> dbFactory, ProjectAccess access, IRunEvents events, TimeProvider time)
{
    public async Task<CandidateRow> SettleAsync(string userId, Guid candidateId, Decision decision, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var (tx, c) = await ReviewStore.BeginDecisionAsync(db, access, userId, candidateId, ProjectRole.Owner, decision, DecisionSource.Settle, ct);
        await using var _ = tx;
        var now = time.GetUtcNow();
        var labels = await ReviewStore.LabelsAsync(db, c, ct);
        var (final, status) = ReviewDecision.Settlement(c, decision, labels);
        var before = CandidateState.Of(c);
        var after = ReviewDecision.Final(before, final, status, userId, now);
        await ReviewStore.WriteStateAsync(db, c.Id, after, expectedVersion: null, ct);
        db.ReviewEvents.Add(ReviewDecision.AuditEvent(c, userId, final, before, after, lost: false, now));
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        var email = await ReviewStore.EmailAsync(db, userId, ct);
        await events.PublishAsync(new ReviewChanged(c.ProjectId, c.TaskId, c.Id, after.Status, after.Label, email), ct);
        return await ReviewStore.RowAsync(db, c.Id, ct);
    }
}
