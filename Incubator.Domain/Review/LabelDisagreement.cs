using Incubator.Domain.Data;
using Incubator.Domain.Generation;
using Incubator.Domain.Projects;
using Microsoft.EntityFrameworkCore;

namespace Incubator.Domain.Review;

public sealed record LabelDisagreement(string Label, int Decided, int Disagreed, double Rate, bool LooksAmbiguous);

/// <summary>Per generator label, how often reviewers disagreed with it — relabelled the sample or rejected it as the
/// wrong label. A high rate usually means the label's definition is unclear, so the queue points back to the editor.</summary>
public sealed class LabelDisagreementService(IDbContextFactory<IncubatorDbContext> dbFactory, ProjectAccess access)
{
    /// <summary>Below this many decided samples a rate says little; above it, this share of disagreement is flagged.</summary>
    public const int MinDecided = 5;
    public const double AmbiguousRate = 0.2;

    public async Task<IReadOnlyList<LabelDisagreement>> ForTaskAsync(string userId, Guid taskId, CancellationToken ct = default)
    {
        await access.RequireTaskAsync(taskId, userId, ProjectRole.Viewer, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await ComputeAsync(db, taskId, ct);
    }

    /// <summary>The rates without the access check, for callers that checked it already (<see cref="ReviewQueries.QueueAsync"/>).</summary>
    internal static async Task<IReadOnlyList<LabelDisagreement>> ComputeAsync(IncubatorDbContext db, Guid taskId, CancellationToken ct)
    {
        var rows = await db.Candidates.AsNoTracking()
            .Where(c => c.TaskId == taskId && c.Status != CandidateStatus.Pending && c.AcceptedBySpotCheckId == null)
            .Select(c => new { Generator = c.OriginalLabel ?? c.Label, c.Label, c.Status, c.RejectionReason })
            .ToListAsync(ct);
        return rows.GroupBy(r => r.Generator)
            .Select(g =>
            {
                var decided = g.Count();
                var disagreed = g.Count(r => r.Label != g.Key || (r.Status == CandidateStatus.Rejected && r.RejectionReason == RejectionReason.WrongLabel));
                var rate = decided == 0 ? 0 : (double)disagreed / decided;
                return new LabelDisagreement(g.Key, decided, disagreed, rate, decided >= MinDecided && rate >= AmbiguousRate);
            })
            .OrderByDescending(d => d.Rate).ThenBy(d => d.Label, StringComparer.Ordinal)
            .ToList();
    }
}
