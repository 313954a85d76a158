using Incubator.Domain.Common;
using Incubator.Domain.Common.Events;
using Incubator.Domain.Data;
using Incubator.Domain.Projects;
using Microsoft.EntityFrameworkCore;

namespace Incubator.Domain.Review;

/// <summary>A task's queue policies: overlap k (independent reviews per item) and the spot-check threshold. Everyone in
/// the project reads them; Authors and Owners set them.
/// <para>Error codes: OverlapOutOfRange (min, max), ThresholdOutOfRange.</para></summary>
public sealed class SetReviewPolicy(IDbContextFactory<IncubatorDbContext> dbFactory, ProjectAccess access, IRunEvents events, TimeProvider time)
{
    public async Task<ReviewPolicyView> GetAsync(string userId, Guid taskId, CancellationToken ct = default)
    {
        await access.RequireTaskAsync(taskId, userId, ProjectRole.Viewer, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await ViewAsync(db, taskId, ct);
    }

    /// <summary>Lowering k settles (or sends to the Owner) every pending item that already has the new number of reviews,
    /// so none is left waiting for a review it can no longer get.</summary>
    public async Task<ReviewPolicyView> SetAsync(string userId, Guid taskId, int overlapK, double spotCheckThreshold, CancellationToken ct = default)
    {
        var projectId = await access.RequireTaskWriteAsync(taskId, userId, ProjectRole.Author, ct);
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
            await ReviewStore.CompleteAsync(db, c, votes, userId, now, ct);
        }
        await tx.CommitAsync(ct);
        if (waiting.Count > 0)
            await events.PublishAsync(new ReviewChanged(projectId, taskId, waiting[0].Id, CandidateStatus.Pending, waiting[0].Label, null), ct);
        await events.PublishAsync(new ProjectChanged(projectId, "review-policy"), ct);
        return await ViewAsync(db, taskId, ct);
    }

    private static async Task<ReviewPolicyView> ViewAsync(IncubatorDbContext db, Guid taskId, CancellationToken ct)
    {
        var p = await db.ReviewPolicies.AsNoTracking().SingleOrDefaultAsync(x => x.TaskId == taskId, ct);
        if (p is null) return new ReviewPolicyView(taskId, ReviewPolicy.DefaultOverlap, ReviewPolicy.DefaultSpotCheckThreshold, null, null);
        var email = p.UpdatedById is null ? null : await ReviewStore.EmailAsync(db, p.UpdatedById, ct);
        return new ReviewPolicyView(taskId, p.OverlapK, p.SpotCheckThreshold, p.UpdatedAt, email);
    }
}
