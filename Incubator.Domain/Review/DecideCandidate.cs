using Incubator.Domain.Common;
using Incubator.Domain.Common.Events;
using Incubator.Domain.Data;
using Incubator.Domain.Projects;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.Options;

namespace Incubator.Domain.Review;

/// <summary>One reviewer decides one sample: approve, reject, edit, relabel or undo (Reviewer role and up).
/// <para>A decision applies only to the version the reviewer saw (<c>WHERE Id = @id AND Version = @expected</c>, bumping
/// <see cref="Candidate.Version"/>), inside one write transaction together with its <see cref="ReviewEvent"/>. An attempt
/// that finds a newer version changes nothing, is kept in the audit trail as lost, and fails with
/// <see cref="ConflictException"/> (409) saying whose decision stands.</para>
/// <para>Single-review mode: a pending item leased by someone else cannot be decided by anyone else (409, kept as lost).
/// Overlap mode (k ≥ 2): a decision on a pending item is one independent review; with the k-th the item is settled or
/// goes to the Owner (<see cref="ReviewDecision.Complete"/>).</para>
/// <para>Error codes (resource "Error.{Code}"): DecisionKindNotAllowed, ReasonRequired, CommentRequired, CommentTooLong,
/// EditEmpty, TextTooLong, LabelUnknown, NothingToUndo, UndoSettled, AwaitingOwner, OverlapEditLater.</para></summary>
public sealed class DecideCandidate(
    IDbContextFactory<IncubatorDbContext> dbFactory, ProjectAccess access, IRunEvents events, TimeProvider time, IOptions<ReviewOptions> options)
{
    /// <summary>Runs again from the start on a transient lock or serialization error (<see cref="DbRetry"/>).</summary>
    public Task<CandidateRow> DecideAsync(string userId, Guid candidateId, Decision decision, long expectedVersion, CancellationToken ct = default) =>
        DbRetry.RunAsync(() => DecideOnceAsync(userId, candidateId, decision, expectedVersion, ct), ct);

    private async Task<CandidateRow> DecideOnceAsync(string userId, Guid candidateId, Decision decision, long expectedVersion, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var (tx, c) = await ReviewStore.BeginDecisionAsync(db, access, userId, candidateId, ProjectRole.Reviewer, decision, DecisionSource.Reviewer, ct);
        await using var _ = tx;
        var now = time.GetUtcNow();
        var before = CandidateState.Of(c);

        if (c.InConflict)
            throw new DomainValidationException("candidate", "AwaitingOwner", "The independent reviews of this sample disagree; the Owner settles it.");
        var k = await ReviewStore.OverlapOfAsync(db, c.TaskId, ct);
        if (k > 1 && c.Status == CandidateStatus.Pending && decision.Kind != DecisionKind.Undo)
            return await VoteAsync(db, tx, c, decision, k, userId, now, ct);
        if (k == 1 && c.Status == CandidateStatus.Pending)
        {
            var holder = await (from l in db.ReviewLeases
                                where l.CandidateId == c.Id && l.UserId != userId && l.ExpiresAt > now
                                join u in db.Users on l.UserId equals u.Id into us
                                from u in us.DefaultIfEmpty()
                                select new { Email = u == null ? null : u.Email }).FirstOrDefaultAsync(ct);
            if (holder is not null)
            {
                db.ReviewEvents.Add(ReviewDecision.AuditEvent(c, userId, decision, before, before, lost: true, now));
                await db.SaveChangesAsync(ct);
                await tx.CommitAsync(ct);
                throw new ConflictException(ReviewDecision.HeldMessage(decision, holder.Email));
            }
        }

        if (c.Version != expectedVersion)
            return await LoseAsync(db, tx, c, before, decision, userId, now, ct);

        CandidateState after;
        ReviewEvent? undone = null;
        if (decision.Kind == DecisionKind.Undo)
        {
            var history = await db.ReviewEvents.AsNoTracking().Where(e => e.CandidateId == c.Id).ToListAsync(ct);
            (after, undone) = ReviewDecision.Undo(before, history, userId, now);
        }
        else
        {
            var labels = decision.Kind == DecisionKind.Relabel ? await ReviewStore.LabelsAsync(db, c, ct) : [];
            after = ReviewDecision.Apply(before, decision, c.Text, labels, userId, now);
        }
        if (await ReviewStore.WriteStateAsync(db, candidateId, after, expectedVersion, ct) == 0)
            return await LoseAsync(db, tx, c, before, decision, userId, now, ct);

        db.ReviewEvents.Add(ReviewDecision.AuditEvent(c, userId, decision, before, after, lost: false, now, undone));
        await db.SaveChangesAsync(ct);
        // The reviewer's lease: done with a decided item, renewed while the item is still pending (edit, relabel, undo).
        if (after.Status == CandidateStatus.Pending)
            await db.ReviewLeases.Where(l => l.CandidateId == c.Id && l.UserId == userId)
                .ExecuteUpdateAsync(s => s.SetProperty(l => l.ExpiresAt, now + options.Value.LeaseDuration), ct);
        else
            await db.ReviewLeases.Where(l => l.CandidateId == c.Id && l.UserId == userId).ExecuteDeleteAsync(ct);
        await tx.CommitAsync(ct);

        var email = await ReviewStore.EmailAsync(db, userId, ct);
        await events.PublishAsync(new ReviewChanged(c.ProjectId, c.TaskId, c.Id, after.Status, after.Label, email), ct);
        return await ReviewStore.RowAsync(db, candidateId, ct);
    }

    /// <summary>Overlap mode: records this reviewer's independent review; with the k-th the item is complete.</summary>
    private async Task<CandidateRow> VoteAsync(
        IncubatorDbContext db, IDbContextTransaction tx, Candidate c, Decision d, int k, string userId, DateTimeOffset now, CancellationToken ct)
    {
        var labels = d.Kind == DecisionKind.Relabel ? await ReviewStore.LabelsAsync(db, c, ct) : [];
        var votes = await db.ReviewVotes.Where(v => v.CandidateId == c.Id).OrderBy(v => v.Id).ToListAsync(ct);
        var before = CandidateState.Of(c);
        var outcome = ReviewDecision.Vote(c, d, votes, k, labels, userId, now);
        var independent = d with { Kind = DecisionKind.Independent };
        if (outcome.Vote is not { } vote)
        {
            db.ReviewEvents.Add(ReviewDecision.AuditEvent(c, userId, independent, before, outcome.Voted, lost: true, now));
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
            throw new ConflictException(outcome.Refusal!);
        }
        db.ReviewVotes.Add(vote);
        db.ReviewEvents.Add(ReviewDecision.AuditEvent(c, userId, independent, before, outcome.Voted, lost: false, now));
        await db.SaveChangesAsync(ct);
        await db.ReviewLeases.Where(l => l.CandidateId == c.Id && l.UserId == userId).ExecuteDeleteAsync(ct);
        votes.Add(vote);
        if (votes.Count >= k) await ReviewStore.CompleteAsync(db, c, votes, userId, now, ct);
        await tx.CommitAsync(ct);

        var email = await ReviewStore.EmailAsync(db, userId, ct);
        var row = await ReviewStore.RowAsync(db, c.Id, ct);
        // Others learn that someone reviewed, never what they decided (the status stays Pending until the item is complete).
        await events.PublishAsync(new ReviewChanged(c.ProjectId, c.TaskId, c.Id, row.Status, row.Label, email), ct);
        return row;
    }

    /// <summary>Someone else's decision came first: keep this attempt in the audit trail (what was tried, on what it
    /// found), change nothing else, and say whose decision stands.</summary>
    private static async Task<CandidateRow> LoseAsync(
        IncubatorDbContext db, IDbContextTransaction tx, Candidate c, CandidateState before, Decision d, string userId, DateTimeOffset now,
        CancellationToken ct)
    {
        db.ReviewEvents.Add(ReviewDecision.AuditEvent(c, userId, d, before, ReviewDecision.Attempted(before, d), lost: true, now));
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);

        var last = await (from e in db.ReviewEvents.AsNoTracking()
                          where e.CandidateId == c.Id && !e.Lost
                          orderby e.Id descending
                          join u in db.Users on e.UserId equals u.Id into us
                          from u in us.DefaultIfEmpty()
                          select new { Event = e, Email = u == null ? null : u.Email }).FirstOrDefaultAsync(ct);
        throw new ConflictException(ReviewDecision.LostMessage(d, last?.Event, last?.Email));
    }
}
