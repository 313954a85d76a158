using Incubator.Domain.Common;
using Incubator.Domain.Data;
using Incubator.Domain.Projects;
using Incubator.Domain.Tasks;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace Incubator.Domain.Review;

/// <summary>The review slice's shared reads and writes against the database. The use cases call these; these call no
/// use case, so the slice has no circle: pages and the API → use cases → <see cref="ReviewDecision"/> (the rules) and
/// this (storage).</summary>
internal static class ReviewStore
{
    public static async Task<Candidate> FindAsync(IncubatorDbContext db, Guid candidateId, CancellationToken ct) =>
        await db.Candidates.AsNoTracking().FirstOrDefaultAsync(c => c.Id == candidateId, ct)
        ?? throw new NotFoundException("This sample does not exist (any more).");

    /// <summary>Lock scope of one candidate's decisions (<see cref="DbLocks"/>).</summary>
    public const string CandidateLock = "candidate";

    /// <summary>Lock scope of one task's "Review next" hand-outs.</summary>
    public const string ClaimLock = "claim";

    /// <summary>A decision on one sample starts the same way at every front door: the sample exists, the caller has
    /// <paramref name="role"/> in its project, the input passes <see cref="ReviewDecision.Check"/>; then the write lock
    /// (SQLite: the database's, Microsoft.Data.Sqlite begins IMMEDIATE; PostgreSQL: the candidate's advisory lock), so
    /// concurrent deciders queue up and each reads the one before, and the row as it is under that lock.</summary>
    public static async Task<(IDbContextTransaction Tx, Candidate Current)> BeginDecisionAsync(
        IncubatorDbContext db, ProjectAccess access, string userId, Guid candidateId, ProjectRole role, Decision decision, DecisionSource source,
        CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(decision);
        var found = await FindAsync(db, candidateId, ct);
        await access.RequireWriteAsync(found.ProjectId, userId, role, ct);
        ReviewDecision.Check(decision, source);
        var tx = await db.Database.BeginTransactionAsync(ct);
        await db.LockAsync(CandidateLock, candidateId, ct);
        return (tx, await db.Candidates.AsNoTracking().SingleAsync(x => x.Id == candidateId, ct));
    }

    /// <summary>How many independent reviews the task's items need (1: overlap mode is off).</summary>
    public static async Task<int> OverlapOfAsync(IncubatorDbContext db, Guid taskId, CancellationToken ct) =>
        await db.ReviewPolicies.AsNoTracking().Where(p => p.TaskId == taskId).Select(p => (int?)p.OverlapK).FirstOrDefaultAsync(ct)
        ?? ReviewPolicy.DefaultOverlap;

    /// <summary>The labels of the candidate's task version (the labels it may be given).</summary>
    public static async Task<IReadOnlyCollection<string>> LabelsAsync(IncubatorDbContext db, Candidate c, CancellationToken ct)
    {
        var specJson = await db.TaskVersions.AsNoTracking().Where(v => v.TaskId == c.TaskId && v.Number == c.TaskVersionNumber)
            .Select(v => v.SpecJson).FirstOrDefaultAsync(ct);
        return specJson is null ? [] : TaskJson.Parse(specJson).Labels.Select(l => l.Name).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>Writes a candidate's review state and bumps its version. With <paramref name="expectedVersion"/>, only if
    /// the row still has that version (0 rows changed: someone else came first). Clears the conflict flag: every state
    /// written here is either a decision on an item not in conflict or the final decision that ends one.</summary>
    public static Task<int> WriteStateAsync(IncubatorDbContext db, Guid candidateId, CandidateState after, long? expectedVersion, CancellationToken ct) =>
        db.Candidates.Where(x => x.Id == candidateId && (expectedVersion == null || x.Version == expectedVersion))
            .ExecuteUpdateAsync(s => s
                .SetProperty(x => x.Status, after.Status)
                .SetProperty(x => x.Label, after.Label)
                .SetProperty(x => x.OriginalLabel, after.OriginalLabel)
                .SetProperty(x => x.EditedText, after.EditedText)
                .SetProperty(x => x.RejectionReason, after.RejectionReason)
                .SetProperty(x => x.ReviewReason, after.ReviewReason)
                .SetProperty(x => x.ReviewedById, after.ReviewedById)
                .SetProperty(x => x.ReviewedAt, after.ReviewedAt)
                .SetProperty(x => x.InConflict, false)
                .SetProperty(x => x.Version, x => x.Version + 1), ct);

    /// <summary>The item has all its independent reviews: applies <see cref="ReviewDecision.Complete"/> — the consensus
    /// decision, or the conflict flag — with its audit event. Runs inside the caller's write transaction.</summary>
    public static async Task<Completion> CompleteAsync(IncubatorDbContext db, Candidate c, IReadOnlyList<ReviewVote> votes, string? userId, DateTimeOffset now,
        CancellationToken ct)
    {
        var before = CandidateState.Of(c);
        var done = ReviewDecision.Complete(before, votes, userId, now);
        if (done.Agreed)
            await WriteStateAsync(db, c.Id, done.After, expectedVersion: null, ct);
        else
            await db.Candidates.Where(x => x.Id == c.Id)
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.InConflict, true).SetProperty(x => x.Version, x => x.Version + 1), ct);
        db.ReviewEvents.Add(ReviewDecision.AuditEvent(c, userId, done.Decision, before, done.After, lost: false, now));
        await db.SaveChangesAsync(ct);
        return done;
    }

    public static async Task<string?> EmailAsync(IncubatorDbContext db, string userId, CancellationToken ct) =>
        await db.Users.AsNoTracking().Where(u => u.Id == userId).Select(u => u.Email).FirstOrDefaultAsync(ct);

    /// <summary>Candidates matching every set field of <paramref name="f"/> (the spot-check filter needs <paramref name="db"/>).
    /// Search is a case-insensitive substring match: SQLite's LIKE (case-insensitive for ASCII), PostgreSQL's ILIKE, which
    /// its trigram indexes on the texts serve (<see cref="PostgresIncubatorDbContext"/>). Every read and bulk write of the queue filters here, so the filter's own input is checked here: text filters within
    /// <see cref="InputLimits.Filter"/> and free of control characters, enum filters among their names.</summary>
    public static IQueryable<Candidate> Filter(IQueryable<Candidate> q, CandidateFilter f, IncubatorDbContext db)
    {
        f = f with
        {
            Label = InputLimits.CheckFilter("label", f.Label, InputLimits.LabelName),
            Search = InputLimits.CheckFilter("search", f.Search),
        };
        if (f.Status is { } st) InputLimits.RequireDefined("status", st);
        if (f.Stage is { } sg) InputLimits.RequireDefined("stage", sg);
        if (f.Source is { } so) InputLimits.RequireDefined("source", so);
        if (f.SpotCheckId is { } spot )
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
            q = db.Provider == DatabaseProvider.Postgres
                ? q.Where(c => EF.Functions.ILike(c.Text, pattern, @"\") || (c.EditedText != null && EF.Functions.ILike(c.EditedText, pattern, @"\")))
                : q.Where(c => EF.Functions.Like(c.Text, pattern, @"\") || (c.EditedText != null && EF.Functions.Like(c.EditedText, pattern, @"\")));
        }
        return q;
    }

    public static IQueryable<CandidateRow> Rows(IncubatorDbContext db, IQueryable<Candidate> q) =>
        from c in q
        join u in db.Users on c.ReviewedById equals u.Id into us
        from u in us.DefaultIfEmpty()
        select new CandidateRow(c.Id, c.TaskId, c.Label, c.OriginalLabel, c.Text, c.EditedText, c.Status, c.Stage, c.Source, c.IsAmbiguous,
            c.RejectionReason, c.ReviewReason, c.RunId, c.Round, c.Version, c.CreatedAt, c.ReviewedAt, u == null ? null : u.Email, c.MiningRunId,
            c.Uncertainty, c.InConflict, c.SpreadRank, c.MinerLabel);

    public static Task<CandidateRow> RowAsync(IncubatorDbContext db, Guid candidateId, CancellationToken ct) =>
        Rows(db, db.Candidates.AsNoTracking().Where(c => c.Id == candidateId)).SingleAsync(ct);
}
