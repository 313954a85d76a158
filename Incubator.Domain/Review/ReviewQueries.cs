using Incubator.Domain.Data;
using Incubator.Domain.Jobs;
using Incubator.Domain.Projects;
using Microsoft.EntityFrameworkCore;

namespace Incubator.Domain.Review;

/// <summary>Everything the review pages and the API read (Viewer role and up): the queue with its filters, sorts and
/// counters, the audit trail, who holds and decided what, conflicts and agreement. Each call checks membership once;
/// <see cref="QueueAsync"/> and <see cref="FocusStatusAsync"/> read all a page shows in one call, so a live refresh
/// costs one membership check, not one per panel.</summary>
public sealed class ReviewQueries(IDbContextFactory<IncubatorDbContext> dbFactory, ProjectAccess access, TimeProvider time)
{
    public const int MaxPageSize = 500;

    // ---- the queue ----------------------------------------------------------------------------------------------

    public async Task<Page<CandidateRow>> QueryAsync(
        string userId, Guid taskId, CandidateFilter filter, int pageIndex, int pageSize, CandidateSort sort = CandidateSort.Newest,
        CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        await RequireViewerAsync(userId, taskId, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await PageAsync(db, taskId, filter, pageIndex, pageSize, sort, ct);
    }

    public async Task<IReadOnlyDictionary<CandidateStatus, int>> CountsAsync(string userId, Guid taskId, CancellationToken ct = default)
    {
        await RequireViewerAsync(userId, taskId, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await CountsAsync(db, taskId, ct);
    }

    /// <summary>What the queue page shows, read at once: status counters, one page of rows with who holds each, everyone's
    /// progress, and — with <paramref name="withPanels"/> — agreement, conflicts and per-label disagreement.</summary>
    public async Task<QueueView> QueueAsync(
        string userId, Guid taskId, CandidateFilter filter, int pageIndex, int pageSize, CandidateSort sort, bool withPanels, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        await RequireViewerAsync(userId, taskId, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var page = await PageAsync(db, taskId, filter, pageIndex, pageSize, sort, ct);
        var panels = withPanels
            ? new ReviewPanels(await AgreementAsync(db, taskId, ct), await ConflictsAsync(db, taskId, 100, ct),
                await LabelDisagreementService.ComputeAsync(db, taskId, ct))
            : null;
        return new QueueView(await CountsAsync(db, taskId, ct), page, await HoldersAsync(db, taskId, page.Items.Select(i => i.Id).ToList(), ct),
            await ProgressAsync(db, taskId, ct), panels)
        {
            Counters = await CountersAsync(db, taskId, ct),
            ShortLabels = await ShortLabelsAsync(db, taskId, ct),
        };
    }

    /// <summary>Labels whose generated samples fell short of what the runs asked for (after rejections), with a reserve
    /// to top them up from.</summary>
    public async Task<IReadOnlyList<ShortLabel>> ShortLabelsAsync(string userId, Guid taskId, CancellationToken ct = default)
    {
        await RequireViewerAsync(userId, taskId, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await ShortLabelsAsync(db, taskId, ct);
    }

    /// <summary>What focus mode shows beside the item, read at once: status counters, everyone's progress and, for a
    /// scoped "Review next", the pending items left in the scope.</summary>
    public async Task<FocusStatus> FocusStatusAsync(string userId, Guid taskId, ClaimScope? scope, CancellationToken ct = default)
    {
        await RequireViewerAsync(userId, taskId, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        int? pending = null;
        if (scope is not null && scope != ClaimScope.All)
        {
            var f = scope.Filter with { Status = CandidateStatus.Pending, InConflict = false };
            pending = await ReviewStore.Filter(db.Candidates.AsNoTracking().Where(c => c.TaskId == taskId), f, db).CountAsync(ct);
        }
        return new FocusStatus(await CountsAsync(db, taskId, ct), await ProgressAsync(db, taskId, ct), pending);
    }

    /// <summary>Which of <paramref name="runIds"/> (generation or mining runs) belong to the task: a page that shows one task
    /// learns once per run whether that run's live samples concern it.</summary>
    public async Task<IReadOnlySet<Guid>> RunsOfTaskAsync(string userId, Guid taskId, IReadOnlyCollection<Guid> runIds, CancellationToken ct = default)
    {
        await RequireViewerAsync(userId, taskId, ct);
        if (runIds.Count == 0) return new HashSet<Guid>();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var generation = await db.GenerationRuns.AsNoTracking().Where(r => r.TaskId == taskId && runIds.Contains(r.Id)).Select(r => r.Id).ToListAsync(ct);
        var mining = await db.MiningRuns.AsNoTracking().Where(r => r.TaskId == taskId && runIds.Contains(r.Id)).Select(r => r.Id).ToListAsync(ct);
        return generation.Concat(mining).ToHashSet();
    }

    // ---- the audit trail ----------------------------------------------------------------------------------------

    public async Task<IReadOnlyList<ReviewEventView>> AuditAsync(string userId, Guid candidateId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var candidate = await ReviewStore.FindAsync(db, candidateId, ct);
        await access.RequireAsync(candidate.ProjectId, userId, ProjectRole.Viewer, ct);
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

    // ---- the team -----------------------------------------------------------------------------------------------

    /// <summary>Per person: live leases on the task and decisions made on it (each audit event that stood, including
    /// independent reviews), for the live progress line.</summary>
    public async Task<IReadOnlyList<ReviewerProgress>> ProgressAsync(string userId, Guid taskId, CancellationToken ct = default)
    {
        await RequireViewerAsync(userId, taskId, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await ProgressAsync(db, taskId, ct);
    }

    /// <summary>Who holds a live lease on each of these items (the queue shows "being reviewed by …"); items nobody holds
    /// are left out. In overlap mode an item may have several holders.</summary>
    public async Task<IReadOnlyDictionary<Guid, IReadOnlyList<string>>> HoldersAsync(string userId, Guid taskId, IReadOnlyCollection<Guid> candidateIds,
        CancellationToken ct = default)
    {
        await RequireViewerAsync(userId, taskId, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await HoldersAsync(db, taskId, candidateIds, ct);
    }

    /// <summary>Items whose independent reviews disagree, oldest first, with every review (no longer blind).</summary>
    public async Task<IReadOnlyList<ConflictView>> ConflictsAsync(string userId, Guid taskId, int max = 100, CancellationToken ct = default)
    {
        await RequireViewerAsync(userId, taskId, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await ConflictsAsync(db, taskId, max, ct);
    }

    public async Task<int> ConflictCountAsync(string userId, Guid taskId, CancellationToken ct = default)
    {
        await RequireViewerAsync(userId, taskId, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Candidates.CountAsync(c => c.TaskId == taskId && c.InConflict, ct);
    }

    /// <summary>Agreement among the independent reviews of complete items (settled by consensus or by the Owner, or in
    /// conflict). Null when no item has two or more complete reviews yet.</summary>
    public async Task<AgreementView?> AgreementAsync(string userId, Guid taskId, CancellationToken ct = default)
    {
        await RequireViewerAsync(userId, taskId, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await AgreementAsync(db, taskId, ct);
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

    private Task<Guid> RequireViewerAsync(string userId, Guid taskId, CancellationToken ct) =>
        access.RequireTaskAsync(taskId, userId, ProjectRole.Viewer, ct);

    private static async Task<Page<CandidateRow>> PageAsync(
        IncubatorDbContext db, Guid taskId, CandidateFilter filter, int pageIndex, int pageSize, CandidateSort sort, CancellationToken ct)
    {
        pageIndex = Math.Max(0, pageIndex);
        pageSize = Math.Clamp(pageSize, 1, MaxPageSize);
        var q = ReviewStore.Filter(db.Candidates.AsNoTracking().Where(c => c.TaskId == taskId), filter, db);
        var total = await q.CountAsync(ct);
        q = sort switch
        {
            CandidateSort.Spread => q.OrderBy(c => c.SpreadRank).ThenBy(c => c.Label).ThenBy(c => c.CreatedAt).ThenBy(c => c.Id),
            CandidateSort.Oldest => q.OrderBy(c => c.CreatedAt).ThenBy(c => c.Id),
            CandidateSort.Label => q.OrderBy(c => c.Label).ThenByDescending(c => c.CreatedAt).ThenBy(c => c.Id),
            CandidateSort.MostUncertain => q.OrderBy(c => c.Uncertainty == null).ThenByDescending(c => c.Uncertainty).ThenByDescending(c => c.CreatedAt).ThenBy(c => c.Id),
            _ => q.OrderByDescending(c => c.CreatedAt).ThenBy(c => c.Id),
        };
        var rows = await ReviewStore.Rows(db, q.Skip(pageIndex * pageSize).Take(pageSize)).ToListAsync(ct);
        // The join keeps the page's rows but not necessarily their order: restore it here.
        rows = sort switch
        {
            CandidateSort.Spread => rows.OrderBy(r => r.SpreadRank).ThenBy(r => r.Label, StringComparer.Ordinal).ThenBy(r => r.CreatedAt).ThenBy(r => r.Id).ToList(),
            CandidateSort.Oldest => rows.OrderBy(r => r.CreatedAt).ThenBy(r => r.Id).ToList(),
            CandidateSort.Label => rows.OrderBy(r => r.Label, StringComparer.Ordinal).ThenByDescending(r => r.CreatedAt).ThenBy(r => r.Id).ToList(),
            CandidateSort.MostUncertain => rows.OrderBy(r => r.Uncertainty is null).ThenByDescending(r => r.Uncertainty).ThenByDescending(r => r.CreatedAt).ThenBy(r => r.Id).ToList(),
            _ => rows.OrderByDescending(r => r.CreatedAt).ThenBy(r => r.Id).ToList(),
        };
        return new Page<CandidateRow>(rows, total, pageIndex, pageSize);
    }

    private static async Task<QueueCounters> CountersAsync(IncubatorDbContext db, Guid taskId, CancellationToken ct)
    {
        var counts = await db.Candidates.AsNoTracking().Where(c => c.TaskId == taskId && c.Stage != CandidateStage.Pool)
            .GroupBy(c => new { c.Stage, c.Status }).Select(g => new { g.Key.Stage, g.Key.Status, Count = g.Count() }).ToListAsync(ct);
        int Count(CandidateStage? stage, CandidateStatus? status) =>
            counts.Where(c => (stage is null || c.Stage == stage) && (status is null || c.Status == status)).Sum(c => c.Count);
        return new QueueCounters(Count(CandidateStage.Selected, CandidateStatus.Pending), Count(null, CandidateStatus.Approved),
            Count(null, CandidateStatus.Rejected), Count(CandidateStage.Reserve, null), Count(CandidateStage.Reserve, CandidateStatus.Pending));
    }

    internal static async Task<IReadOnlyList<ShortLabel>> ShortLabelsAsync(IncubatorDbContext db, Guid taskId, CancellationToken ct)
    {
        var wanted = await db.GenerationRuns.AsNoTracking()
            .Where(r => r.TaskId == taskId && (r.Outcome == Generation.RunOutcome.Completed || r.Outcome == Generation.RunOutcome.StoppedShort))
            .SumAsync(r => (int?)r.PerLabelTarget, ct) ?? 0;
        if (wanted == 0) return [];
        var rows = await db.Candidates.AsNoTracking()
            .Where(c => c.TaskId == taskId && c.Source == CandidateSource.Generation && c.RunId != null
                && ((c.Stage == CandidateStage.Selected && c.Status != CandidateStatus.Rejected) || (c.Stage == CandidateStage.Reserve && c.Status == CandidateStatus.Pending)))
            .GroupBy(c => new { c.Label, c.Stage }).Select(g => new { g.Key.Label, g.Key.Stage, Count = g.Count() }).ToListAsync(ct);
        return rows.GroupBy(r => r.Label, StringComparer.Ordinal)
            .Select(g => new ShortLabel(g.Key, wanted, g.Where(r => r.Stage == CandidateStage.Selected).Sum(r => r.Count),
                g.Where(r => r.Stage == CandidateStage.Reserve).Sum(r => r.Count)))
            .Where(l => l.TopUp > 0)
            .OrderBy(l => l.Label, StringComparer.Ordinal).ToList();
    }

    private static async Task<IReadOnlyDictionary<CandidateStatus, int>> CountsAsync(IncubatorDbContext db, Guid taskId, CancellationToken ct)
    {
        var counts = await db.Candidates.AsNoTracking().Where(c => c.TaskId == taskId)
            .GroupBy(c => c.Status).Select(g => new { g.Key, Count = g.Count() }).ToListAsync(ct);
        return Enum.GetValues<CandidateStatus>().ToDictionary(s => s, s => counts.FirstOrDefault(c => c.Key == s)?.Count ?? 0);
    }

    private async Task<IReadOnlyList<ReviewerProgress>> ProgressAsync(IncubatorDbContext db, Guid taskId, CancellationToken ct)
    {
        var now = time.GetUtcNow();
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

    private async Task<IReadOnlyDictionary<Guid, IReadOnlyList<string>>> HoldersAsync(IncubatorDbContext db, Guid taskId, IReadOnlyCollection<Guid> candidateIds,
        CancellationToken ct)
    {
        if (candidateIds.Count == 0) return new Dictionary<Guid, IReadOnlyList<string>>();
        var now = time.GetUtcNow();
        var rows = await (from l in db.ReviewLeases.AsNoTracking()
                          where l.TaskId == taskId && l.ExpiresAt > now && candidateIds.Contains(l.CandidateId)
                          join u in db.Users on l.UserId equals u.Id into us
                          from u in us.DefaultIfEmpty()
                          select new { l.CandidateId, Email = u == null ? l.UserId : u.Email }).ToListAsync(ct);
        return rows.GroupBy(r => r.CandidateId)
            .ToDictionary(g => g.Key, g => (IReadOnlyList<string>)g.Select(r => r.Email ?? "").Order(StringComparer.OrdinalIgnoreCase).ToList());
    }

    private static async Task<IReadOnlyList<ConflictView>> ConflictsAsync(IncubatorDbContext db, Guid taskId, int max, CancellationToken ct)
    {
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
            result.Add(new ConflictView(await ReviewStore.RowAsync(db, id, ct), votes));
        }
        return result;
    }

    private static async Task<AgreementView?> AgreementAsync(IncubatorDbContext db, Guid taskId, CancellationToken ct)
    {
        var votes = await db.ReviewVotes.AsNoTracking()
            .Where(v => v.TaskId == taskId && db.Candidates.Any(c => c.Id == v.CandidateId && (c.Status != CandidateStatus.Pending || c.InConflict)))
            .ToListAsync(ct);
        var conflicts = await db.Candidates.CountAsync(c => c.TaskId == taskId && c.InConflict, ct);
        return Agreement(votes, conflicts);
    }

    /// <summary>Overlap mode is blind: another reviewer's independent review of an item stays hidden until the item has
    /// all its reviews (it is settled or waits for the Owner). Your own reviews are always yours to see.</summary>
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
