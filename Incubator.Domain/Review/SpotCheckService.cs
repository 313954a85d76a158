using Incubator.Domain.Common.Events;
using Incubator.Domain.Common;
using Incubator.Domain.Data;
using Incubator.Domain.Generation;
using Incubator.Domain.Jobs;
using Incubator.Domain.Projects;
using Microsoft.EntityFrameworkCore;

namespace Incubator.Domain.Review;

/// <summary>Spot-checks: draw n of a run's selected samples at random, review them, read the run's estimated precision
/// with a 95% Wilson interval, and — Owners only, when every drawn sample is decided and the lower bound clears their
/// threshold — accept the rest of the run in one step, recorded as "accepted by spot-check".</summary>
public sealed class SpotCheckService(IDbContextFactory<IncubatorDbContext> dbFactory, ProjectAccess access, IRunEvents events, TimeProvider time)
{
    public const int MaxSampleSize = 1000;

    public async Task<SpotCheckView> DrawAsync(string userId, Guid runId, int sampleSize, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var run = await db.GenerationRuns.AsNoTracking().SingleOrDefaultAsync(r => r.Id == runId, ct)
            ?? throw new ForbiddenException("You do not have access to this run.");
        await access.RequireWriteAsync(run.ProjectId, userId, ProjectRole.Author, ct);
        if (sampleSize is < 1 or > MaxSampleSize)
            throw new DomainValidationException("sampleSize", "SpotCheckSizeOutOfRange", $"Draw between 1 and {MaxSampleSize} samples.", 1, MaxSampleSize);
        var ids = await db.Candidates.AsNoTracking().Where(c => c.RunId == runId && c.Stage == CandidateStage.Selected)
            .OrderBy(c => c.Id).Select(c => c.Id).ToListAsync(ct);
        if (ids.Count == 0)
            throw new DomainValidationException("run", "SpotCheckEmptyRun", "This run has no selected samples to check yet.");
        var seed = Random.Shared.Next(1, int.MaxValue);
        var rng = new Random(seed);
        var drawn = ids.OrderBy(_ => rng.Next()).Take(Math.Min(sampleSize, ids.Count)).ToList();
        var spot = new SpotCheck
        {
            Id = Guid.NewGuid(), ProjectId = run.ProjectId, TaskId = run.TaskId, RunId = runId, SampleSize = drawn.Count, Seed = seed,
            CreatedAt = time.GetUtcNow(), CreatedById = userId,
        };
        db.SpotChecks.Add(spot);
        db.SpotCheckItems.AddRange(drawn.Select(id => new SpotCheckItem { SpotCheckId = spot.Id, CandidateId = id }));
        await db.SaveChangesAsync(ct);
        return await ViewAsync(db, spot, ct);
    }

    public async Task<IReadOnlyList<SpotCheckView>> ListAsync(string userId, Guid runId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var run = await db.GenerationRuns.AsNoTracking().SingleOrDefaultAsync(r => r.Id == runId, ct)
            ?? throw new ForbiddenException("You do not have access to this run.");
        await access.RequireAsync(run.ProjectId, userId, ProjectRole.Viewer, ct);
        var spots = await db.SpotChecks.AsNoTracking().Where(s => s.RunId == runId).OrderByDescending(s => s.CreatedAt).ToListAsync(ct);
        var views = new List<SpotCheckView>();
        foreach (var s in spots) views.Add(await ViewAsync(db, s, ct));
        return views;
    }

    public async Task<SpotCheckView> AcceptRestAsync(string userId, Guid spotCheckId, double threshold, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var spot = await db.SpotChecks.SingleOrDefaultAsync(s => s.Id == spotCheckId, ct)
            ?? throw new ForbiddenException("You do not have access to this spot-check.");
        await access.RequireWriteAsync(spot.ProjectId, userId, ProjectRole.Owner, ct);
        if (threshold is <= 0 or > 1 || !double.IsFinite(threshold))
            throw new DomainValidationException("threshold", "SpotCheckThresholdInvalid", "The threshold is a precision between 0 and 1, for example 0.9.");
        if (spot.AcceptedAt is not null)
            throw new DomainValidationException("spotCheck", "SpotCheckAlreadyAccepted", "The rest of this run was already accepted with this spot-check.");
        var view = await ViewAsync(db, spot, ct);
        if (view.Decided < view.SampleSize)
            throw new DomainValidationException("spotCheck", "SpotCheckIncomplete", $"Review all {view.SampleSize} drawn samples first ({view.Decided} done).", view.SampleSize, view.Decided);
        if (view.Low < threshold)
            throw new DomainValidationException("threshold", "SpotCheckBelowThreshold",
                $"The lower bound of the estimated precision is {view.Low:0.000}, below the threshold {threshold:0.000}; review more or lower the threshold.", view.Low, threshold);

        var now = time.GetUtcNow();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var sample = db.SpotCheckItems.Where(i => i.SpotCheckId == spot.Id).Select(i => i.CandidateId);
        var rest = await db.Candidates.Where(c => c.RunId == spot.RunId && c.Stage == CandidateStage.Selected && c.Status == CandidateStatus.Pending && !sample.Contains(c.Id))
            .ToListAsync(ct);
        foreach (var c in rest)
        {
            db.ReviewEvents.Add(new ReviewEvent
            {
                ProjectId = c.ProjectId, TaskId = c.TaskId, CandidateId = c.Id, UserId = userId, Kind = DecisionKind.SpotCheckAccept,
                StatusBefore = c.Status, StatusAfter = CandidateStatus.Approved, LabelBefore = c.Label, LabelAfter = c.Label,
                Comment = $"Spot-check {spot.Id:N}: precision ≥ {view.Low:0.000} (95% lower bound), threshold {threshold:0.000}", At = now,
            });
            c.Status = CandidateStatus.Approved;
            c.AcceptedBySpotCheckId = spot.Id;
            c.ReviewedAt = now;
            c.ReviewedById = userId;
            c.Version++;
        }
        spot.AcceptedAt = now;
        spot.AcceptedById = userId;
        spot.Threshold = threshold;
        spot.LowerBoundAtAccept = view.Low;
        spot.AcceptedCount = rest.Count;
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        if (rest.Count > 0)
            await events.PublishAsync(new ReviewChanged(spot.ProjectId, spot.TaskId, rest[0].Id, CandidateStatus.Approved, rest[0].Label, null), ct);
        return await ViewAsync(db, spot, ct);
    }

    private static async Task<SpotCheckView> ViewAsync(IncubatorDbContext db, SpotCheck spot, CancellationToken ct)
    {
        var statuses = await db.SpotCheckItems.AsNoTracking().Where(i => i.SpotCheckId == spot.Id)
            .Join(db.Candidates, i => i.CandidateId, c => c.Id, (i, c) => c.Status).ToListAsync(ct);
        var decided = statuses.Count(s => s != CandidateStatus.Pending);
        var approved = statuses.Count(s => s == CandidateStatus.Approved);
        var (low, high) = ReviewStatistics.WilsonInterval(approved, decided);
        var sample = db.SpotCheckItems.Where(i => i.SpotCheckId == spot.Id).Select(i => i.CandidateId);
        var remaining = await db.Candidates.CountAsync(c => c.RunId == spot.RunId && c.Stage == CandidateStage.Selected
            && c.Status == CandidateStatus.Pending && !sample.Contains(c.Id), ct);
        return new SpotCheckView(spot.Id, spot.RunId, spot.TaskId, spot.SampleSize, decided, approved, decided == 0 ? 0 : (double)approved / decided,
            low, high, remaining, spot.CreatedAt, spot.AcceptedAt, spot.AcceptedCount, spot.Threshold);
    }
}
