using Incubator.Domain.Common.Events;
using Incubator.Domain.Common;
using Incubator.Domain.Data;
using Incubator.Domain.Generation;
using Incubator.Domain.Jobs;
using Incubator.Domain.Projects;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Incubator.Domain.Review;

/// <summary>Who reviews what: queue policies (overlap k, spot-check threshold), expiring leases that hand each reviewer
/// disjoint items, the conflicts list of overlap mode and its settlement by the Owner, and agreement among
/// independent reviews.
/// <para>Leases: <see cref="ClaimNextAsync"/> gives a reviewer the first pending item — oldest first, or in the
/// <see cref="ClaimScope"/>'s run/label/source and order (e.g. most uncertain first) — that nobody else holds (in overlap
/// mode: that they have not reviewed yet and that fewer than k people have reviewed or hold), under SQLite's write lock,
/// so two reviewers claiming at the same moment get different items. A lease lives <see cref="ReviewOptions.LeaseDuration"/>
/// from the reviewer's last activity; an expired lease no longer counts and the item returns to the pool.</para>
/// <para>Error codes: OverlapOutOfRange (min, max), ThresholdOutOfRange, NotInConflict, plus ReviewService's
/// ReasonRequired, CommentRequired, LabelUnknown.</para></summary>
public sealed class ReviewAssignmentService(
    IDbContextFactory<IncubatorDbContext> dbFactory, ProjectAccess access, IRunEvents events, TimeProvider time, IOptions<ReviewOptions> options)
{
    private TimeSpan LeaseDuration => options.Value.LeaseDuration;

    // ---- policies -----------------------------------------------------------------------------------------------

    internal static async Task<int> OverlapOfAsync(IncubatorDbContext db, Guid taskId, CancellationToken ct) =>
        await db.ReviewPolicies.AsNoTracking().Where(p => p.TaskId == taskId).Select(p => (int?)p.OverlapK).FirstOrDefaultAsync(ct) ?? ReviewPolicy.DefaultOverlap;

    public async Task<ReviewPolicyView> GetPolicyAsync(string userId, Guid taskId, CancellationToken ct = default)
    {
        await RequireTaskAsync(userId, taskId, ProjectRole.Viewer, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var p = await db.ReviewPolicies.AsNoTracking().SingleOrDefaultAsync(x => x.TaskId == taskId, ct);
        if (p is null) return new ReviewPolicyView(taskId, ReviewPolicy.DefaultOverlap, ReviewPolicy.DefaultSpotCheckThreshold, null, null);
        var email = p.UpdatedById is null ? null : await db.Users.Where(u => u.Id == p.UpdatedById).Select(u => u.Email).FirstOrDefaultAsync(ct);
        return new ReviewPolicyView(taskId, p.OverlapK, p.SpotCheckThreshold, p.UpdatedAt, email);
    }

    /// <summary>Authors and Owners set the policies. Lowering k settles (or sends to the Owner) every pending item that
    /// already has the new number of reviews, so none is left waiting for a review it can no longer get.</summary>
    public async Task<ReviewPolicyView> SetPolicyAsync(string userId, Guid taskId, int overlapK, double spotCheckThreshold, CancellationToken ct = default)
    {
        var projectId = await RequireTaskAsync(userId, taskId, ProjectRole.Author, ct);
        var problems = new List<DomainError>();
        if (overlapK is < 1 or > ReviewPolicy.MaxOverlap)
            problems.Add(new DomainError("overlapK", "OverlapOutOfRange",
                $"Independent reviews per item must be between 1 (overlap off) and {ReviewPolicy.MaxOverlap}; {overlapK} is not.", [1, ReviewPolicy.MaxOverlap]));
        if (!double.IsFinite(spotCheckThreshold) || spotCheckThreshold is <= 0 or > 1)
            problems.Add(new DomainError("spotCheckThreshold", "ThresholdOutOfRange",
                "The spot-check threshold is a precision above 0 and at most 1, for example 0.9.", []));
        if (problems.Count > 0) throw new DomainValidationException(problems);

        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var p = await db.ReviewPolicies.SingleOrDefaultAsync(x => x.TaskId == taskId, ct);
        if (p is null)
        {
            p = new ReviewPolicy { TaskId = taskId, ProjectId = projectId };
            db.ReviewPolicies.Add(p);
        }
        p.OverlapK = overlapK;
        p.SpotCheckThreshold = spotCheckThreshold;
        p.UpdatedAt = now;
        p.UpdatedById = userId;
        await db.SaveChangesAsync(ct);
        var waiting = await db.Candidates.AsNoTracking()
            .Where(c => c.TaskId == taskId && c.Status == CandidateStatus.Pending && !c.InConflict
                && db.ReviewVotes.Count(v => v.CandidateId == c.Id) >= overlapK)
            .ToListAsync(ct);
        foreach (var c in waiting)
        {
            var votes = await db.ReviewVotes.AsNoTracking().Where(v => v.CandidateId == c.Id).OrderBy(v => v.Id).ToListAsync(ct);
            await ReviewService.CompleteAsync(db, c, votes, userId, now, ct);
        }
        await tx.CommitAsync(ct);
        if (waiting.Count > 0)
            await events.PublishAsync(new ReviewChanged(projectId, taskId, waiting[0].Id, CandidateStatus.Pending, waiting[0].Label, null), ct);
        await events.PublishAsync(new ProjectChanged(projectId, "review-policy"), ct);
        return await GetPolicyAsync(userId, taskId, ct);
    }

    // ---- leases -------------------------------------------------------------------------------------------------

    /// <summary>Hands the reviewer their next item and leases it to them. Returns the item they already hold (renewed)
    /// when they hold a live lease on a still-open item in <paramref name="scope"/> and not in <paramref name="skip"/>;
    /// otherwise the first open item of the scope, in its order (default: all items, oldest first), that nobody else may
    /// take; null when there is nothing left for them there. Leases on skipped items are released.</summary>
    public async Task<CandidateRow?> ClaimNextAsync(string userId, Guid taskId, IReadOnlyCollection<Guid>? skip = null, ClaimScope? scope = null,
        CancellationToken ct = default)
    {
        await RequireTaskAsync(userId, taskId, ProjectRole.Reviewer, ct);
        skip ??= [];
        scope ??= ClaimScope.All;
        var now = time.GetUtcNow();
        Guid? picked;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            var k = await OverlapOfAsync(db, taskId, ct);
            await db.ReviewLeases.Where(l => l.TaskId == taskId && l.ExpiresAt <= now).ExecuteDeleteAsync(ct);
            if (skip.Count > 0)
                await db.ReviewLeases.Where(l => l.TaskId == taskId && l.UserId == userId && skip.Contains(l.CandidateId)).ExecuteDeleteAsync(ct);

            var open = ReviewService.Filter(Open(db, taskId, userId, k), scope.Filter);
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
                    var c = await db.Candidates.AsNoTracking().SingleAsync(x => x.Id == id, ct);
                    db.ReviewLeases.Add(new ReviewLease
                    {
                        ProjectId = c.ProjectId, TaskId = taskId, CandidateId = id, UserId = userId, AcquiredAt = now, ExpiresAt = now + LeaseDuration,
                    });
                    await db.SaveChangesAsync(ct);
                }
            }
            await tx.CommitAsync(ct);
        }
        if (picked is null) return null;
        await using var read = await dbFactory.CreateDbContextAsync(ct);
        var row = await read.Candidates.AsNoTracking().Where(c => c.Id == picked).Select(c => new { c.ProjectId }).SingleAsync(ct);
        await events.PublishAsync(new AssignmentChanged(row.ProjectId, taskId), ct);
        return await RowAsync(read, picked.Value, ct);
    }

    /// <summary>The reviewer is working on the item: extends their lease, or takes it again if theirs expired and the
    /// item is still open to them. False when the item is no longer theirs to review.</summary>
    public async Task<bool> RenewAsync(string userId, Guid candidateId, CancellationToken ct = default)
    {
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var c = await db.Candidates.AsNoTracking().SingleOrDefaultAsync(x => x.Id == candidateId, ct)
            ?? throw new NotFoundException("This sample does not exist (any more).");
        await access.RequireAsync(c.ProjectId, userId, ProjectRole.Reviewer, ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var renewed = await db.ReviewLeases.Where(l => l.CandidateId == candidateId && l.UserId == userId && l.ExpiresAt > now)
            .ExecuteUpdateAsync(s => s.SetProperty(l => l.ExpiresAt, now + LeaseDuration), ct);
        if (renewed == 0)
        {
            var k = await OverlapOfAsync(db, c.TaskId, ct);
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
        var projectId = await RequireTaskAsync(userId, taskId, ProjectRole.Viewer, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var n = await db.ReviewLeases.Where(l => l.TaskId == taskId && l.UserId == userId).ExecuteDeleteAsync(ct);
        if (n > 0) await events.PublishAsync(new AssignmentChanged(projectId, taskId), ct);
        return n;
    }

    /// <summary>Per person: live leases on the task and decisions made on it (each audit event that stood, including
    /// independent reviews), for the live progress line.</summary>
    public async Task<IReadOnlyList<ReviewerProgress>> ProgressAsync(string userId, Guid taskId, CancellationToken ct = default)
    {
        await RequireTaskAsync(userId, taskId, ProjectRole.Viewer, ct);
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var leased = await db.ReviewLeases.AsNoTracking().Where(l => l.TaskId == taskId && l.ExpiresAt > now)
            .GroupBy(l => l.UserId).Select(g => new { g.Key, N = g.Count() }).ToListAsync(ct);
        var decided = await db.ReviewEvents.AsNoTracking()
            .Where(e => e.TaskId == taskId && !e.Lost && e.UserId != null && e.Kind != DecisionKind.Conflict && e.Kind != DecisionKind.Consensus)
            .GroupBy(e => e.UserId).Select(g => new { Key = g.Key!, N = g.Count() }).ToListAsync(ct);
        var ids = leased.Select(l => l.Key).Concat(decided.Select(d => d.Key)).Distinct().ToList();
        var emails = await db.Users.AsNoTracking().Where(u => ids.Contains(u.Id)).ToDictionaryAsync(u => u.Id, u => u.Email ?? u.Id, ct);
        return ids.Select(id => new ReviewerProgress(emails.GetValueOrDefault(id, id),
                leased.FirstOrDefault(l => l.Key == id)?.N ?? 0, decided.FirstOrDefault(d => d.Key == id)?.N ?? 0))
            .OrderBy(p => p.Email, StringComparer.OrdinalIgnoreCase).ToList();
    }

    /// <summary>Who holds a live lease on each of these items (the queue shows "being reviewed by …"); items nobody holds
    /// are left out. In overlap mode an item may have several holders.</summary>
    public async Task<IReadOnlyDictionary<Guid, IReadOnlyList<string>>> HoldersAsync(string userId, Guid taskId, IReadOnlyCollection<Guid> candidateIds,
        CancellationToken ct = default)
    {
        await RequireTaskAsync(userId, taskId, ProjectRole.Viewer, ct);
        if (candidateIds.Count == 0) return new Dictionary<Guid, IReadOnlyList<string>>();
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await (from l in db.ReviewLeases.AsNoTracking()
                          where l.TaskId == taskId && l.ExpiresAt > now && candidateIds.Contains(l.CandidateId)
                          join u in db.Users on l.UserId equals u.Id into us
                          from u in us.DefaultIfEmpty()
                          select new { l.CandidateId, Email = u == null ? l.UserId : u.Email }).ToListAsync(ct);
        return rows.GroupBy(r => r.CandidateId)
            .ToDictionary(g => g.Key, g => (IReadOnlyList<string>)g.Select(r => r.Email ?? "").Order(StringComparer.OrdinalIgnoreCase).ToList());
    }

    /// <summary>The order "Review next" hands items out in; ties go to the oldest item so nothing waits forever.</summary>
    private static IQueryable<Candidate> Ordered(IQueryable<Candidate> q, CandidateSort order) => order switch
    {
        CandidateSort.Newest => q.OrderByDescending(c => c.CreatedAt).ThenBy(c => c.Id),
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

    // ---- conflicts ----------------------------------------------------------------------------------------------

    /// <summary>Items whose independent reviews disagree, oldest first, with every review (no longer blind).</summary>
    public async Task<IReadOnlyList<ConflictView>> ConflictsAsync(string userId, Guid taskId, int max = 100, CancellationToken ct = default)
    {
        await RequireTaskAsync(userId, taskId, ProjectRole.Viewer, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var ids = await db.Candidates.AsNoTracking().Where(c => c.TaskId == taskId && c.InConflict)
            .OrderBy(c => c.CreatedAt).ThenBy(c => c.Id).Select(c => c.Id).Take(Math.Clamp(max, 1, 500)).ToListAsync(ct);
        var result = new List<ConflictView>();
        foreach (var id in ids)
        {
            var votes = await (from v in db.ReviewVotes.AsNoTracking()
                               where v.CandidateId == id
                               orderby v.Id
                               join u in db.Users on v.UserId equals u.Id into us
                               from u in us.DefaultIfEmpty()
                               select new VoteView(u == null ? null : u.Email, v.Status, v.Label, v.Reason, v.Comment, v.At)).ToListAsync(ct);
            result.Add(new ConflictView((await RowAsync(db, id, ct))!, votes));
        }
        return result;
    }

    public async Task<int> ConflictCountAsync(string userId, Guid taskId, CancellationToken ct = default)
    {
        await RequireTaskAsync(userId, taskId, ProjectRole.Viewer, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Candidates.CountAsync(c => c.TaskId == taskId && c.InConflict, ct);
    }

    /// <summary>The Owner picks the final decision for an item in conflict: approve (optionally with another label) or
    /// reject with a reason. Recorded as <see cref="DecisionKind.Settle"/>.</summary>
    public async Task<CandidateRow> SettleAsync(string userId, Guid candidateId, Decision decision, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(decision);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var found = await db.Candidates.AsNoTracking().SingleOrDefaultAsync(x => x.Id == candidateId, ct)
            ?? throw new NotFoundException("This sample does not exist (any more).");
        await access.RequireAsync(found.ProjectId, userId, ProjectRole.Owner, ct);
        if (decision.Kind is not (DecisionKind.Approve or DecisionKind.Reject or DecisionKind.Relabel))
            throw new DomainValidationException("kind", "SettleKindUnsupported", "Settle a conflict by approving (with a label) or rejecting.");
        if (decision.Kind == DecisionKind.Reject && decision.Reason is null)
            throw new DomainValidationException("reason", "ReasonRequired", "Say why this sample is rejected.");
        if (decision.Kind == DecisionKind.Reject && decision.Reason == RejectionReason.Other && string.IsNullOrWhiteSpace(decision.Comment))
            throw new DomainValidationException("comment", "CommentRequired", "Describe the problem when the reason is 'Other'.");

        var now = time.GetUtcNow();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var c = await db.Candidates.AsNoTracking().SingleAsync(x => x.Id == candidateId, ct);
        if (!c.InConflict)
            throw new DomainValidationException("candidate", "NotInConflict", "This sample is not waiting for the Owner: its reviews do not conflict (or it was settled already).");
        var status = decision.Kind == DecisionKind.Reject ? CandidateStatus.Rejected : CandidateStatus.Approved;
        var label = decision.Kind == DecisionKind.Reject ? c.Label : (decision.NewLabel?.Trim() is { Length: > 0 } l ? l : c.Label);
        if (status == CandidateStatus.Approved) await ReviewService.RequireLabelAsync(db, c, label, ct);
        var final = new Decision(DecisionKind.Settle, decision.Reason, decision.Comment?.Trim(), NewLabel: status == CandidateStatus.Approved ? label : null);
        var before = ReviewService.State.Of(c);
        var after = ReviewService.ApplyFinal(before, c, final, status, userId, now);
        await ReviewService.WriteFinalAsync(db, c.Id, after, ct);
        db.ReviewEvents.Add(ReviewService.Event(c, userId, final, before, after, lost: false, now, undone: null));
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        var email = await db.Users.Where(u => u.Id == userId).Select(u => u.Email).FirstOrDefaultAsync(ct);
        await events.PublishAsync(new ReviewChanged(c.ProjectId, c.TaskId, c.Id, after.Status, after.Label, email), ct);
        return (await RowAsync(db, c.Id, ct))!;
    }

    // ---- agreement ----------------------------------------------------------------------------------------------

    /// <summary>Agreement among the independent reviews of complete items (settled by consensus or by the Owner, or in
    /// conflict). Null when no item has two or more complete reviews yet.</summary>
    public async Task<AgreementView?> AgreementAsync(string userId, Guid taskId, CancellationToken ct = default)
    {
        await RequireTaskAsync(userId, taskId, ProjectRole.Viewer, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var votes = await db.ReviewVotes.AsNoTracking()
            .Where(v => v.TaskId == taskId && db.Candidates.Any(c => c.Id == v.CandidateId && (c.Status != CandidateStatus.Pending || c.InConflict)))
            .ToListAsync(ct);
        var conflicts = await db.Candidates.CountAsync(c => c.TaskId == taskId && c.InConflict, ct);
        return Agreement(votes, conflicts);
    }

    /// <summary>Pure part of <see cref="AgreementAsync"/>: items are grouped by how many reviews they have; the most
    /// common count of at least two is used (Fleiss needs the same count per item). With exactly two people behind all
    /// of those items, Cohen's kappa; otherwise Fleiss' kappa.</summary>
    public static AgreementView? Agreement(IReadOnlyList<ReviewVote> votes, int conflicts = 0)
    {
        var items = votes.GroupBy(v => v.CandidateId).Select(g => g.OrderBy(v => v.UserId, StringComparer.Ordinal).ToList()).Where(g => g.Count >= 2).ToList();
        if (items.Count == 0) return null;
        var n = items.GroupBy(i => i.Count).OrderByDescending(g => g.Count()).ThenByDescending(g => g.Key).First().Key;
        items = items.Where(i => i.Count == n).ToList();
        var raters = items.SelectMany(i => i.Select(v => v.UserId)).Distinct().ToList();
        var categories = items.SelectMany(i => i.Select(v => v.Category)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        string Name(string category) => category == ReviewVote.RejectedCategory ? "(rejected)" : category;
        if (n == 2 && raters.Count == 2)
        {
            var a = items.Select(i => i.Single(v => v.UserId == raters.Min(StringComparer.Ordinal)).Category).ToList();
            var b = items.Select(i => i.Single(v => v.UserId == raters.Max(StringComparer.Ordinal)).Category).ToList();
            var per = ReviewStatistics.CohensKappaPerLabel(a, b).ToDictionary(kv => Name(kv.Key), kv => kv.Value);
            return new AgreementView("Cohen", items.Count, n, 2, ReviewStatistics.CohensKappa(a, b), per, conflicts);
        }
        var ratings = items.Select(i => (IReadOnlyList<string>)i.Select(v => v.Category).ToList()).ToList();
        var perLabel = categories.ToDictionary(Name, cat => ReviewStatistics.FleissKappa(
            ratings.Select(r => (IReadOnlyList<string>)r.Select(x => x == cat ? "yes" : "no").ToList()).ToList()));
        return new AgreementView("Fleiss", items.Count, n, raters.Count, ReviewStatistics.FleissKappa(ratings), perLabel, conflicts);
    }

    // ---- internals ----------------------------------------------------------------------------------------------

    private Task<Guid> RequireTaskAsync(string userId, Guid taskId, ProjectRole minimum, CancellationToken ct) =>
        access.RequireTaskAsync(taskId, userId, minimum, ct);

    private static async Task<CandidateRow?> RowAsync(IncubatorDbContext db, Guid id, CancellationToken ct) =>
        await (from c in db.Candidates.AsNoTracking()
               where c.Id == id
               join u in db.Users on c.ReviewedById equals u.Id into us
               from u in us.DefaultIfEmpty()
               select new CandidateRow(c.Id, c.TaskId, c.Label, c.OriginalLabel, c.Text, c.EditedText, c.Status, c.Stage, c.Source, c.IsAmbiguous,
                   c.RejectionReason, c.ReviewReason, c.RunId, c.Round, c.Version, c.CreatedAt, c.ReviewedAt, u == null ? null : u.Email, c.MiningRunId, c.Uncertainty, c.InConflict))
            .FirstOrDefaultAsync(ct);
}
