using Incubator.Domain.Common.Events;
using Incubator.Domain.Common;
using Incubator.Domain.Data;
using Incubator.Domain.Generation;
using Incubator.Domain.Jobs;
using Incubator.Domain.Projects;
using Incubator.Domain.Tasks;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Incubator.Domain.Review;

/// <summary>Reviewing candidates: listing, deciding (approve, reject, edit, relabel, undo), bulk decisions and the
/// audit trail. Viewers read; reviewers and up decide.
/// <para>Every decision applies only to the version the reviewer saw (<c>WHERE Id = @id AND Version = @expected</c>,
/// bumping <see cref="Candidate.Version"/>), inside one write transaction together with its <see cref="ReviewEvent"/>.
/// An attempt that finds a newer version changes nothing, is kept in the audit trail as lost, and fails with
/// <see cref="ConflictException"/> saying whose decision stands.</para>
/// <para>Error codes (resource "Error.{Code}"): ReasonRequired, CommentRequired, CommentTooLong (max, actual),
/// EditEmpty, LabelUnknown (label), NothingToUndo, BulkKindUnsupported, BulkEmpty, AwaitingOwner, OverlapEditLater, UndoSettled,
/// BulkOverlap.</para>
/// <para>Assignment and overlap (see <see cref="ReviewAssignmentService"/>): in single-review mode a pending item leased by
/// someone else cannot be decided by anyone else; in overlap mode (k ≥ 2) a decision on a pending item is recorded as
/// one independent review, and the item is settled (or goes to the Owner as a conflict) when it has k.</para></summary>
public sealed class ReviewService(
    IDbContextFactory<IncubatorDbContext> dbFactory, ProjectAccess access, IRunEvents events, TimeProvider time, IOptions<ReviewOptions> options)
{
    public const int MaxCommentLength = 900;
    public const int MaxPageSize = 500;

    // ---- reading ------------------------------------------------------------------------------------------------

    public async Task<Page<CandidateRow>> QueryAsync(
        string userId, Guid taskId, CandidateFilter filter, int pageIndex, int pageSize, CandidateSort sort = CandidateSort.Newest,
        CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        await RequireTaskAsync(userId, taskId, ProjectRole.Viewer, ct);
        pageIndex = Math.Max(0, pageIndex);
        pageSize = Math.Clamp(pageSize, 1, MaxPageSize);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var q = Filter(db.Candidates.AsNoTracking().Where(c => c.TaskId == taskId), filter, db);
        var total = await q.CountAsync(ct);
        q = sort switch
        {
            CandidateSort.Oldest => q.OrderBy(c => c.CreatedAt).ThenBy(c => c.Id),
            CandidateSort.Label => q.OrderBy(c => c.Label).ThenByDescending(c => c.CreatedAt).ThenBy(c => c.Id),
            CandidateSort.MostUncertain => q.OrderBy(c => c.Uncertainty == null).ThenByDescending(c => c.Uncertainty).ThenByDescending(c => c.CreatedAt).ThenBy(c => c.Id),
            _ => q.OrderByDescending(c => c.CreatedAt).ThenBy(c => c.Id),
        };
        var rows = await Rows(db, q.Skip(pageIndex * pageSize).Take(pageSize)).ToListAsync(ct);
        // The join keeps the page's rows but not necessarily their order: restore it here.
        rows = sort switch
        {
            CandidateSort.Oldest => rows.OrderBy(r => r.CreatedAt).ThenBy(r => r.Id).ToList(),
            CandidateSort.Label => rows.OrderBy(r => r.Label, StringComparer.Ordinal).ThenByDescending(r => r.CreatedAt).ThenBy(r => r.Id).ToList(),
            CandidateSort.MostUncertain => rows.OrderBy(r => r.Uncertainty is null).ThenByDescending(r => r.Uncertainty).ThenByDescending(r => r.CreatedAt).ThenBy(r => r.Id).ToList(),
            _ => rows.OrderByDescending(r => r.CreatedAt).ThenBy(r => r.Id).ToList(),
        };
        return new Page<CandidateRow>(rows, total, pageIndex, pageSize);
    }

    public async Task<IReadOnlyDictionary<CandidateStatus, int>> CountsAsync(string userId, Guid taskId, CancellationToken ct = default)
    {
        await RequireTaskAsync(userId, taskId, ProjectRole.Viewer, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var counts = await db.Candidates.AsNoTracking().Where(c => c.TaskId == taskId)
            .GroupBy(c => c.Status).Select(g => new { g.Key, Count = g.Count() }).ToListAsync(ct);
        return Enum.GetValues<CandidateStatus>().ToDictionary(s => s, s => counts.FirstOrDefault(c => c.Key == s)?.Count ?? 0);
    }

    public async Task<IReadOnlyList<ReviewEventView>> AuditAsync(string userId, Guid candidateId, CancellationToken ct = default)
    {
        var candidate = await FindCandidateAsync(candidateId, ct);
        await access.RequireAsync(candidate.ProjectId, userId, ProjectRole.Viewer, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await Views(db, Blind(db, db.ReviewEvents.AsNoTracking().Where(e => e.CandidateId == candidateId), userId)).ToListAsync(ct);
        return rows.OrderBy(r => r.Id).ToList();
    }

    public async Task<Page<ReviewEventView>> ProjectAuditAsync(string userId, Guid projectId, int pageIndex, int pageSize, CancellationToken ct = default)
    {
        await access.RequireAsync(projectId, userId, ProjectRole.Viewer, ct);
        pageIndex = Math.Max(0, pageIndex);
        pageSize = Math.Clamp(pageSize, 1, MaxPageSize);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var q = Blind(db, db.ReviewEvents.AsNoTracking().Where(e => e.ProjectId == projectId), userId);
        var total = await q.CountAsync(ct);
        var rows = await Views(db, q.OrderByDescending(e => e.Id).Skip(pageIndex * pageSize).Take(pageSize)).ToListAsync(ct);
        return new Page<ReviewEventView>(rows.OrderByDescending(r => r.Id).ToList(), total, pageIndex, pageSize);
    }

    // ---- deciding -----------------------------------------------------------------------------------------------

    public async Task<CandidateRow> DecideAsync(string userId, Guid candidateId, Decision decision, long expectedVersion, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(decision);
        var found = await FindCandidateAsync(candidateId, ct);
        await access.RequireAsync(found.ProjectId, userId, ProjectRole.Reviewer, ct);
        ValidateShape(decision);

        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        // Microsoft.Data.Sqlite begins IMMEDIATE: the write lock is ours from here, so two reviewers queue up and the
        // second one reads the first one's version.
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var c = await db.Candidates.AsNoTracking().SingleAsync(x => x.Id == candidateId, ct);
        var before = State.Of(c);

        if (c.InConflict)
            throw new DomainValidationException("candidate", "AwaitingOwner", "The independent reviews of this sample disagree; the Owner settles it.");
        var k = await ReviewAssignmentService.OverlapOfAsync(db, c.TaskId, ct);
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
                db.ReviewEvents.Add(Event(c, userId, decision, before, before, lost: true, now, undone: null));
                await db.SaveChangesAsync(ct);
                await tx.CommitAsync(ct);
                throw new ConflictException($"{holder.Email ?? "Another reviewer"} is reviewing this sample right now (it is assigned to them). "
                    + $"Your {decision.Kind.ToString().ToLowerInvariant()} was not applied; it is kept in the audit trail.");
            }
        }

        if (c.Version != expectedVersion)
            return await LoseAsync(db, tx, c, before, decision, userId, now, ct);

        var (after, undone) = await ApplyAsync(db, c, before, decision, userId, now, ct);
        var changed = await db.Candidates.Where(x => x.Id == candidateId && x.Version == expectedVersion)
            .ExecuteUpdateAsync(s => s
                .SetProperty(x => x.Status, after.Status)
                .SetProperty(x => x.Label, after.Label)
                .SetProperty(x => x.OriginalLabel, after.OriginalLabel)
                .SetProperty(x => x.EditedText, after.EditedText)
                .SetProperty(x => x.RejectionReason, after.RejectionReason)
                .SetProperty(x => x.ReviewReason, after.ReviewReason)
                .SetProperty(x => x.ReviewedById, after.ReviewedById)
                .SetProperty(x => x.ReviewedAt, after.ReviewedAt)
                .SetProperty(x => x.Version, x => x.Version + 1), ct);
        if (changed == 0)
            return await LoseAsync(db, tx, c, before, decision, userId, now, ct);

        db.ReviewEvents.Add(Event(c, userId, decision, before, after, lost: false, now, undone));
        await db.SaveChangesAsync(ct);
        // The reviewer's lease: done with a decided item, renewed while the item is still pending (edit, relabel, undo).
        if (after.Status == CandidateStatus.Pending)
            await db.ReviewLeases.Where(l => l.CandidateId == c.Id && l.UserId == userId)
                .ExecuteUpdateAsync(s => s.SetProperty(l => l.ExpiresAt, now + options.Value.LeaseDuration), ct);
        else
            await db.ReviewLeases.Where(l => l.CandidateId == c.Id && l.UserId == userId).ExecuteDeleteAsync(ct);
        await tx.CommitAsync(ct);

        var email = await EmailAsync(db, userId, ct);
        await events.PublishAsync(new ReviewChanged(c.ProjectId, c.TaskId, c.Id, after.Status, after.Label, email), ct);
        return await Rows(db, db.Candidates.AsNoTracking().Where(x => x.Id == candidateId)).SingleAsync(ct);
    }

    public async Task<BulkPreview> PreviewBulkAsync(string userId, Guid taskId, CandidateFilter filter, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        await RequireTaskAsync(userId, taskId, ProjectRole.Viewer, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await CountBulkAsync(db, taskId, filter, ct);
    }

    /// <summary>Approves or rejects everything <paramref name="filter"/> matches, provided it still matches what the
    /// reviewer confirmed (<see cref="PreviewBulkAsync"/>); otherwise <see cref="ConflictException"/> and nothing
    /// changes. Each candidate gets its own audit event (so each can be undone on its own).</summary>
    public async Task<int> BulkDecideAsync(
        string userId, Guid taskId, CandidateFilter filter, Decision decision, int confirmedTotal, int confirmedAlreadyDecided,
        CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentNullException.ThrowIfNull(decision);
        var projectId = await RequireTaskAsync(userId, taskId, ProjectRole.Reviewer, ct);
        if (decision.Kind is not (DecisionKind.Approve or DecisionKind.Reject))
            throw new DomainValidationException("kind", "BulkKindUnsupported", "Only approve and reject can be applied to many samples at once.");
        ValidateShape(decision);

        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        if (await ReviewAssignmentService.OverlapOfAsync(db, taskId, ct) is > 1 and var k)
            throw new DomainValidationException("kind", "BulkOverlap",
                $"This queue needs {k} independent reviews per sample, so samples cannot be decided in bulk.", k);
        var counts = await CountBulkAsync(db, taskId, filter, ct);
        if (counts.Total == 0)
            throw new DomainValidationException("filter", "BulkEmpty", "No samples match this selection.");
        if (counts.Total != confirmedTotal || counts.AlreadyDecided != confirmedAlreadyDecided)
            throw new ConflictException(
                $"The selection changed since you confirmed it: it now matches {counts.Total} samples ({counts.AlreadyDecided} already decided), "
                + $"not {confirmedTotal} ({confirmedAlreadyDecided}). Nothing was changed; check the selection again.");

        var q = Filter(db.Candidates.Where(c => c.TaskId == taskId), filter, db);
        var items = await q.AsNoTracking().ToListAsync(ct);
        var status = decision.Kind == DecisionKind.Approve ? CandidateStatus.Approved : CandidateStatus.Rejected;
        var reason = decision.Kind == DecisionKind.Reject ? decision.Reason : null;
        var reviewReason = decision.Kind == DecisionKind.Reject ? ReviewText(decision) : null;
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
            var before = State.Of(c);
            var after = before with { Status = status, RejectionReason = reason, ReviewReason = reviewReason, ReviewedById = userId, ReviewedAt = now };
            db.ReviewEvents.Add(Event(c, userId, decision, before, after, lost: false, now, undone: null));
        }
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);

        var email = await EmailAsync(db, userId, ct);
        foreach (var c in items)
            await events.PublishAsync(new ReviewChanged(projectId, taskId, c.Id, status, c.Label, email), ct);
        return items.Count;
    }

    // ---- internals ----------------------------------------------------------------------------------------------

    /// <summary>Refuses a label that is not in the candidate's task version.</summary>
    internal static async Task RequireLabelAsync(IncubatorDbContext db, Candidate c, string label, CancellationToken ct)
    {
        var specJson = await db.TaskVersions.AsNoTracking().Where(v => v.TaskId == c.TaskId && v.Number == c.TaskVersionNumber)
            .Select(v => v.SpecJson).FirstOrDefaultAsync(ct);
        var labels = specJson is null ? [] : TaskJson.Parse(specJson).Labels.Select(l => l.Name).ToList();
        if (!labels.Contains(label, StringComparer.Ordinal))
            throw new DomainValidationException("label", "LabelUnknown", $"'{label}' is not a label of this task.", label);
    }

    /// <summary>Overlap mode: records the decision as this reviewer's independent review (approve keeps the label,
    /// relabel approves with the new one, reject gives a reason); with the k-th review the item is settled or goes to the
    /// Owner as a conflict.</summary>
    private async Task<CandidateRow> VoteAsync(
        IncubatorDbContext db, Microsoft.EntityFrameworkCore.Storage.IDbContextTransaction tx, Candidate c, Decision d, int k, string userId,
        DateTimeOffset now, CancellationToken ct)
    {
        if (d.Kind == DecisionKind.Edit)
            throw new DomainValidationException("text", "OverlapEditLater", "In overlap mode, edit a sample's text after its independent reviews have settled it.");
        var label = d.Kind == DecisionKind.Relabel ? d.NewLabel!.Trim() : c.Label;
        if (d.Kind == DecisionKind.Relabel) await RequireLabelAsync(db, c, label, ct);
        var status = d.Kind == DecisionKind.Reject ? CandidateStatus.Rejected : CandidateStatus.Approved;
        var before = State.Of(c);
        var votes = await db.ReviewVotes.Where(v => v.CandidateId == c.Id).OrderBy(v => v.Id).ToListAsync(ct);
        if (votes.Any(v => v.UserId == userId) || votes.Count >= k)
        {
            var tried = before with { Status = status, Label = label };
            db.ReviewEvents.Add(Event(c, userId, d with { Kind = DecisionKind.Independent }, before, tried, lost: true, now, undone: null));
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
            throw new ConflictException(votes.Any(v => v.UserId == userId)
                ? "You already reviewed this sample; in overlap mode each reviewer gives one independent review. Your new decision was not applied."
                : $"This sample already has its {k} independent reviews. Your decision was not applied; it is kept in the audit trail.");
        }
        var vote = new ReviewVote
        {
            ProjectId = c.ProjectId, TaskId = c.TaskId, CandidateId = c.Id, UserId = userId, Status = status, Label = label,
            Reason = status == CandidateStatus.Rejected ? d.Reason : null, Comment = string.IsNullOrWhiteSpace(d.Comment) ? null : d.Comment.Trim(), At = now,
        };
        db.ReviewVotes.Add(vote);
        var voted = before with { Status = status, Label = label, RejectionReason = vote.Reason };
        db.ReviewEvents.Add(Event(c, userId, d with { Kind = DecisionKind.Independent }, before, voted, lost: false, now, undone: null));
        await db.SaveChangesAsync(ct);
        await db.ReviewLeases.Where(l => l.CandidateId == c.Id && l.UserId == userId).ExecuteDeleteAsync(ct);
        votes.Add(vote);
        if (votes.Count >= k) await CompleteAsync(db, c, votes, userId, now, ct);
        await tx.CommitAsync(ct);

        var email = await EmailAsync(db, userId, ct);
        var row = await Rows(db, db.Candidates.AsNoTracking().Where(x => x.Id == c.Id)).SingleAsync(ct);
        // Others learn that someone reviewed, never what they decided (the status stays Pending until the item is complete).
        await events.PublishAsync(new ReviewChanged(c.ProjectId, c.TaskId, c.Id, row.Status, row.Label, email), ct);
        return row;
    }

    /// <summary>The item has all its independent reviews: when they agree (all reject, or all approve with one label)
    /// their decision is applied (<see cref="DecisionKind.Consensus"/>); otherwise it waits for the Owner
    /// (<see cref="DecisionKind.Conflict"/>). Runs inside the caller's write transaction.</summary>
    internal static async Task CompleteAsync(IncubatorDbContext db, Candidate c, IReadOnlyList<ReviewVote> votes, string? userId, DateTimeOffset now, CancellationToken ct)
    {
        var before = State.Of(c);
        var summary = string.Join(", ", votes.GroupBy(v => v.Category).Select(g => g.Key == ReviewVote.RejectedCategory ? $"{g.Count()} reject" : $"{g.Count()} approve as '{g.Key}'"));
        if (votes.Select(v => v.Category).Distinct(StringComparer.Ordinal).Count() == 1)
        {
            var v = votes[0];
            var reason = v.Status == CandidateStatus.Rejected
                ? votes.GroupBy(x => x.Reason).OrderByDescending(g => g.Count()).ThenBy(g => g.Key).First().Key ?? RejectionReason.Other
                : (RejectionReason?)null;
            var decision = v.Status == CandidateStatus.Rejected
                ? new Decision(DecisionKind.Consensus, reason, votes.FirstOrDefault(x => x.Reason == reason && x.Comment is not null)?.Comment)
                : new Decision(DecisionKind.Consensus, NewLabel: v.Label);
            var after = ApplyFinal(before, c, decision, v.Status, userId, now);
            await WriteFinalAsync(db, c.Id, after, ct);
            db.ReviewEvents.Add(Event(c, userId, decision with { Comment = $"{votes.Count} independent reviews agree: {summary}" }, before, after, lost: false, now, undone: null));
        }
        else
        {
            await db.Candidates.Where(x => x.Id == c.Id).ExecuteUpdateAsync(s => s.SetProperty(x => x.InConflict, true).SetProperty(x => x.Version, x => x.Version + 1), ct);
            db.ReviewEvents.Add(Event(c, userId, new Decision(DecisionKind.Conflict, Comment: $"{votes.Count} independent reviews disagree: {summary}"), before, before, lost: false, now, undone: null));
        }
        await db.SaveChangesAsync(ct);
    }

    /// <summary>The candidate's state once a final decision (consensus or the Owner's) applies: approve with a label
    /// (keeping the generator's label as the original) or reject with a reason.</summary>
    internal static State ApplyFinal(State before, Candidate c, Decision d, CandidateStatus status, string? userId, DateTimeOffset now)
    {
        if (status == CandidateStatus.Rejected)
            return before with { Status = status, RejectionReason = d.Reason, ReviewReason = ReviewText(d), ReviewedById = userId, ReviewedAt = now };
        var label = d.NewLabel ?? before.Label;
        var original = before.OriginalLabel ?? (label == before.Label ? null : before.Label);
        if (original == label) original = null;
        return before with { Status = status, Label = label, OriginalLabel = original, RejectionReason = null, ReviewReason = null, ReviewedById = userId, ReviewedAt = now };
    }

    internal static Task<int> WriteFinalAsync(IncubatorDbContext db, Guid candidateId, State after, CancellationToken ct) =>
        db.Candidates.Where(x => x.Id == candidateId)
            .ExecuteUpdateAsync(s => s
                .SetProperty(x => x.Status, after.Status)
                .SetProperty(x => x.Label, after.Label)
                .SetProperty(x => x.OriginalLabel, after.OriginalLabel)
                .SetProperty(x => x.RejectionReason, after.RejectionReason)
                .SetProperty(x => x.ReviewReason, after.ReviewReason)
                .SetProperty(x => x.ReviewedById, after.ReviewedById)
                .SetProperty(x => x.ReviewedAt, after.ReviewedAt)
                .SetProperty(x => x.InConflict, false)
                .SetProperty(x => x.Version, x => x.Version + 1), ct);

    /// <summary>The review-relevant state of a candidate.</summary>
    internal sealed record State(
        CandidateStatus Status, string Label, string? OriginalLabel, string? EditedText, RejectionReason? RejectionReason, string? ReviewReason,
        string? ReviewedById, DateTimeOffset? ReviewedAt)
    {
        public static State Of(Candidate c) =>
            new(c.Status, c.Label, c.OriginalLabel, c.EditedText, c.RejectionReason, c.ReviewReason, c.ReviewedById, c.ReviewedAt);
    }

    private static void ValidateShape(Decision d)
    {
        switch (d.Kind)
        {
            case DecisionKind.Reject:
                if (d.Reason is null)
                    throw new DomainValidationException("reason", "ReasonRequired", "Say why this sample is rejected.");
                if (d.Reason == RejectionReason.Other && string.IsNullOrWhiteSpace(d.Comment))
                    throw new DomainValidationException("comment", "CommentRequired", "Describe the problem when the reason is 'Other'.");
                break;
            case DecisionKind.Edit:
                if (string.IsNullOrWhiteSpace(d.NewText))
                    throw new DomainValidationException("text", "EditEmpty", "The edited text cannot be empty.");
                break;
            case DecisionKind.Relabel:
                if (string.IsNullOrWhiteSpace(d.NewLabel))
                    throw new DomainValidationException("label", "LabelUnknown", $"'{d.NewLabel}' is not a label of this task.", d.NewLabel ?? "");
                break;
        }
        var comment = d.Comment?.Trim();
        if (comment is { Length: > MaxCommentLength })
            throw new DomainValidationException("comment", "CommentTooLong",
                $"The comment must be at most {MaxCommentLength} characters (it has {comment.Length}).", MaxCommentLength, comment.Length);
    }

    internal static string? ReviewText(Decision d)
    {
        var comment = d.Comment?.Trim();
        return string.IsNullOrEmpty(comment) ? $"{d.Reason}" : $"{d.Reason}: {comment}";
    }

    /// <summary>The state after <paramref name="d"/>, checked against the candidate's task version (labels) and its
    /// history (undo). For undo, also the event being undone.</summary>
    private async Task<(State After, ReviewEvent? Undone)> ApplyAsync(
        IncubatorDbContext db, Candidate c, State before, Decision d, string userId, DateTimeOffset now, CancellationToken ct)
    {
        var touched = before with { ReviewedById = userId, ReviewedAt = now };
        switch (d.Kind)
        {
            case DecisionKind.Approve:
                return (touched with { Status = CandidateStatus.Approved, RejectionReason = null, ReviewReason = null }, null);
            case DecisionKind.Reject:
                return (touched with { Status = CandidateStatus.Rejected, RejectionReason = d.Reason, ReviewReason = ReviewText(d) }, null);
            case DecisionKind.Edit:
            {
                var text = d.NewText!.Trim();
                return (touched with { EditedText = text == c.Text ? null : text }, null);
            }
            case DecisionKind.Relabel:
            {
                var label = d.NewLabel!.Trim();
                await RequireLabelAsync(db, c, label, ct);
                var original = before.OriginalLabel ?? (label == before.Label ? null : before.Label);
                if (original == label) original = null; // back to the generator's label
                return (touched with { Label = label, OriginalLabel = original }, null);
            }
            case DecisionKind.Undo:
            {
                // Independent reviews and conflict markers never changed the candidate: nothing of theirs to undo.
                var history = await db.ReviewEvents.AsNoTracking()
                    .Where(e => e.CandidateId == c.Id && !e.Lost && e.Kind != DecisionKind.Independent && e.Kind != DecisionKind.Conflict)
                    .OrderBy(e => e.Id).ToListAsync(ct);
                var stack = new Stack<ReviewEvent>();
                foreach (var e in history)
                {
                    if (e.Kind != DecisionKind.Undo) stack.Push(e);
                    else if (stack.Count > 0) stack.Pop();
                }
                if (!stack.TryPop(out var target))
                    throw new DomainValidationException("kind", "NothingToUndo", "There is no decision on this sample to undo.");
                if (target.Kind is DecisionKind.Consensus or DecisionKind.Settle)
                    throw new DomainValidationException("kind", "UndoSettled",
                        "This sample was settled by independent reviews (or by the Owner); that outcome cannot be undone here.");
                var original = before.OriginalLabel;
                if (original is not null && original == target.LabelBefore) original = null;
                var stillReviewed = stack.Count > 0;
                return (new State(target.StatusBefore, target.LabelBefore, original, target.TextBefore, target.ReasonBefore, target.ReviewReasonBefore,
                    stillReviewed ? userId : null, stillReviewed ? now : null), target);
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(d), d.Kind, "Unknown decision kind.");
        }
    }

    internal static ReviewEvent Event(Candidate c, string? userId, Decision d, State before, State after, bool lost, DateTimeOffset now, ReviewEvent? undone) => new()
    {
        ProjectId = c.ProjectId,
        TaskId = c.TaskId,
        CandidateId = c.Id,
        UserId = userId,
        Kind = d.Kind,
        StatusBefore = before.Status,
        StatusAfter = after.Status,
        LabelBefore = before.Label,
        LabelAfter = after.Label,
        TextBefore = before.EditedText,
        TextAfter = after.EditedText,
        Reason = d.Kind == DecisionKind.Undo ? after.RejectionReason : d.Reason,
        Comment = string.IsNullOrWhiteSpace(d.Comment) ? (undone is null ? null : $"Undid #{undone.Id} ({undone.Kind})") : d.Comment.Trim(),
        ReasonBefore = before.RejectionReason,
        ReviewReasonBefore = before.ReviewReason,
        Lost = lost,
        At = now,
    };

    /// <summary>Someone else's decision came first: keep this attempt in the audit trail (what was tried, on what it
    /// found), change nothing else, and say whose decision stands.</summary>
    private async Task<CandidateRow> LoseAsync(
        IncubatorDbContext db, Microsoft.EntityFrameworkCore.Storage.IDbContextTransaction tx, Candidate c, State before, Decision d, string userId,
        DateTimeOffset now, CancellationToken ct)
    {
        var attempted = d.Kind switch
        {
            DecisionKind.Approve => before with { Status = CandidateStatus.Approved },
            DecisionKind.Reject => before with { Status = CandidateStatus.Rejected },
            DecisionKind.Edit => before with { EditedText = d.NewText?.Trim() },
            DecisionKind.Relabel => before with { Label = d.NewLabel?.Trim() ?? before.Label },
            _ => before,
        };
        db.ReviewEvents.Add(Event(c, userId, d, before, attempted, lost: true, now, undone: null));
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);

        var last = await (from e in db.ReviewEvents.AsNoTracking()
                          where e.CandidateId == c.Id && !e.Lost
                          orderby e.Id descending
                          join u in db.Users on e.UserId equals u.Id into us
                          from u in us.DefaultIfEmpty()
                          select new { e.Kind, e.Reason, e.LabelAfter, Email = u == null ? null : u.Email }).FirstOrDefaultAsync(ct);
        var theirs = last is null
            ? "it changed since you loaded it"
            : (last.Email ?? "another reviewer") + " " + last.Kind switch
            {
                DecisionKind.Approve => "approved it",
                DecisionKind.Reject => $"rejected it ({last.Reason})",
                DecisionKind.Edit => "edited its text",
                DecisionKind.Relabel => $"relabelled it to '{last.LabelAfter}'",
                _ => "undid a decision on it",
            };
        throw new ConflictException($"Someone else decided this sample first: {theirs}. Your {d.Kind.ToString().ToLowerInvariant()} was not applied; reload to see the current state.");
    }

    private async Task<Candidate> FindCandidateAsync(Guid candidateId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Candidates.AsNoTracking().FirstOrDefaultAsync(c => c.Id == candidateId, ct)
            ?? throw new NotFoundException("This sample does not exist (any more).");
    }

    private Task<Guid> RequireTaskAsync(string userId, Guid taskId, ProjectRole minimum, CancellationToken ct) =>
        access.RequireTaskAsync(taskId, userId, minimum, ct);

    private static async Task<BulkPreview> CountBulkAsync(IncubatorDbContext db, Guid taskId, CandidateFilter filter, CancellationToken ct)
    {
        var q = Filter(db.Candidates.AsNoTracking().Where(c => c.TaskId == taskId), filter, db);
        var total = await q.CountAsync(ct);
        var decided = total == 0 ? 0 : await q.CountAsync(c => c.Status != CandidateStatus.Pending, ct);
        return new BulkPreview(total, decided);
    }

    private static async Task<string?> EmailAsync(IncubatorDbContext db, string userId, CancellationToken ct) =>
        await db.Users.AsNoTracking().Where(u => u.Id == userId).Select(u => u.Email).FirstOrDefaultAsync(ct);

    internal static IQueryable<Candidate> Filter(IQueryable<Candidate> q, CandidateFilter f, IncubatorDbContext? db = null)
    {
        if (f.SpotCheckId is { } spot && db is not null)
            q = q.Where(c => db.SpotCheckItems.Any(i => i.SpotCheckId == spot && i.CandidateId == c.Id));
        if (!string.IsNullOrEmpty(f.Label)) q = q.Where(c => c.Label == f.Label);
        if (f.Status is { } status) q = q.Where(c => c.Status == status);
        if (f.Stage is { } stage) q = q.Where(c => c.Stage == stage);
        if (f.Source is { } source) q = q.Where(c => c.Source == source);
        if (f.RunId is { } run) q = q.Where(c => c.RunId == run || c.MiningRunId == run);
        if (f.Ambiguous is { } ambiguous) q = q.Where(c => c.IsAmbiguous == ambiguous);
        if (f.InConflict is { } conflict) q = q.Where(c => c.InConflict == conflict);
        if (!string.IsNullOrWhiteSpace(f.Search))
        {
            var pattern = "%" + f.Search.Trim().Replace(@"\", @"\\").Replace("%", @"\%").Replace("_", @"\_") + "%";
            q = q.Where(c => EF.Functions.Like(c.Text, pattern, @"\") || (c.EditedText != null && EF.Functions.Like(c.EditedText, pattern, @"\")));
        }
        return q;
    }

    private static IQueryable<CandidateRow> Rows(IncubatorDbContext db, IQueryable<Candidate> q) =>
        from c in q
        join u in db.Users on c.ReviewedById equals u.Id into us
        from u in us.DefaultIfEmpty()
        select new CandidateRow(c.Id, c.TaskId, c.Label, c.OriginalLabel, c.Text, c.EditedText, c.Status, c.Stage, c.Source, c.IsAmbiguous,
            c.RejectionReason, c.ReviewReason, c.RunId, c.Round, c.Version, c.CreatedAt, c.ReviewedAt, u == null ? null : u.Email, c.MiningRunId, c.Uncertainty, c.InConflict);

    /// <summary>Overlap mode is blind: another reviewer's independent review of an item stays hidden until the item
    /// has all its reviews (it is settled or waits for the Owner). Your own reviews are always yours to see.</summary>
    private static IQueryable<ReviewEvent> Blind(IncubatorDbContext db, IQueryable<ReviewEvent> q, string userId) =>
        q.Where(e => e.Kind != DecisionKind.Independent || e.UserId == userId
            || db.Candidates.Any(c => c.Id == e.CandidateId && (c.Status != CandidateStatus.Pending || c.InConflict)));

    private static IQueryable<ReviewEventView> Views(IncubatorDbContext db, IQueryable<ReviewEvent> q) =>
        from e in q
        join u in db.Users on e.UserId equals u.Id into us
        from u in us.DefaultIfEmpty()
        select new ReviewEventView(e.Id, e.CandidateId, u == null ? null : u.Email, e.Kind, e.StatusBefore, e.StatusAfter, e.LabelBefore, e.LabelAfter,
            e.TextBefore, e.TextAfter, e.Reason, e.Comment, e.Lost, e.At);
}
