using Incubator.Domain.Common;
using Incubator.Domain.Common.Events;
using Incubator.Domain.Data;
using Incubator.Domain.Embeddings;
using Incubator.Domain.Projects;
using Microsoft.EntityFrameworkCore;

namespace Incubator.Domain.Review;

/// <summary>Tops up a label that is short after review from its reserve (Reviewer role): the next most diverse reserve
/// samples — each the one farthest from everything the label already has in the main view and the ones picked before
/// it — move into the main view as pending, ranked after the label's samples. One call moves what
/// <see cref="ShortLabel.TopUp"/> says (what is short, as far as the reserve reaches); nothing is approved by it.
/// (docs/decisions/0022-review-queue-views.md)
/// <para>Error codes: TopUpNothingShort.</para></summary>
public sealed class TopUpFromReserve(IDbContextFactory<IncubatorDbContext> dbFactory, ProjectAccess access, EmbedderSelector embedders, IRunEvents events,
    TimeProvider time)
{
    /// <summary>Returns how many samples moved into the main view.</summary>
    public async Task<int> TopUpAsync(string userId, Guid taskId, string label, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(label);
        var projectId = await access.RequireTaskWriteAsync(taskId, userId, ProjectRole.Reviewer, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var shortLabel = (await ReviewQueries.ShortLabelsAsync(db, taskId, ct)).FirstOrDefault(l => l.Label == label);
        if (shortLabel is null || shortLabel.TopUp == 0)
            throw new DomainValidationException("label", "TopUpNothingShort", $"'{label}' is not short of samples, or its reserve is empty.", label);

        var task = await db.Tasks.AsNoTracking().SingleAsync(t => t.Id == taskId, ct);
        var language = Tasks.TaskJson.Parse(await db.TaskVersions.AsNoTracking()
            .Where(v => v.TaskId == taskId && v.Number == task.CurrentVersion).Select(v => v.SpecJson).SingleAsync(ct)).Preferences?.Language;
        var kept = await db.Candidates.AsNoTracking()
            .Where(c => c.TaskId == taskId && c.Label == label && c.Stage == CandidateStage.Selected && c.Status != CandidateStatus.Rejected)
            .Select(c => c.EditedText ?? c.Text).ToListAsync(ct);
        var reserve = await db.Candidates.AsNoTracking()
            .Where(c => c.TaskId == taskId && c.Label == label && c.Source == CandidateSource.Generation && c.Stage == CandidateStage.Reserve && c.Status == CandidateStatus.Pending)
            .OrderBy(c => c.CreatedAt).ThenBy(c => c.Id).Select(c => new { c.Id, c.Text }).ToListAsync(ct);
        var embedder = embedders.ForLanguage(language);
        var picked = FarthestFirst(embedder.Embed(kept), embedder.Embed(reserve.Select(r => r.Text).ToList()), shortLabel.TopUp)
            .Select(i => reserve[i].Id).ToList();

        var now = time.GetUtcNow();
        await using (var tx = await db.Database.BeginTransactionAsync(ct))
        {
            var start = await db.Candidates.Where(c => c.TaskId == taskId && c.Label == label && c.Stage == CandidateStage.Selected)
                .MaxAsync(c => (int?)c.SpreadRank, ct) is { } max ? max + 1 : 0;
            var moved = 0;
            for (var i = 0; i < picked.Count; i++)
            {
                var (id, rank) = (picked[i], start + i);
                // Only if it is still a pending reserve sample: someone may have approved or moved it meanwhile.
                moved += await db.Candidates.Where(c => c.Id == id && c.Stage == CandidateStage.Reserve && c.Status == CandidateStatus.Pending)
                    .ExecuteUpdateAsync(s => s.SetProperty(c => c.Stage, CandidateStage.Selected).SetProperty(c => c.SpreadRank, rank)
                        .SetProperty(c => c.Version, c => c.Version + 1), ct);
            }
            if (moved != picked.Count)
                throw new ConflictException("The reserve changed while it was being read. Nothing was moved; try again.");
            db.Activity.Add(new ActivityEntry { ProjectId = projectId, UserId = userId, At = now, Kind = ActivityKinds.ReserveToppedUp, Detail = $"{task.Name} · {label} (+{moved})" });
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
        }
        var email = await ReviewStore.EmailAsync(db, userId, ct);
        foreach (var id in picked)
            await events.PublishAsync(new ReviewChanged(projectId, taskId, id, CandidateStatus.Pending, label, email), ct);
        return picked.Count;
    }

    /// <summary>Greedy farthest-first: each pick is the candidate whose highest cosine similarity to the kept set (and to
    /// earlier picks) is lowest — the sample that adds the most that is not there yet. Vectors are unit length.</summary>
    internal static IReadOnlyList<int> FarthestFirst(IReadOnlyList<float[]> kept, IReadOnlyList<float[]> candidates, int count)
    {
        var nearest = new double[candidates.Count];
        Array.Fill(nearest, double.NegativeInfinity);
        foreach (var k in kept)
            for (var i = 0; i < candidates.Count; i++) nearest[i] = Math.Max(nearest[i], VectorMath.Dot(candidates[i], k));
        var picked = new List<int>();
        var taken = new bool[candidates.Count];
        for (var n = 0; n < Math.Min(count, candidates.Count); n++)
        {
            var best = -1;
            for (var i = 0; i < candidates.Count; i++)
                if (!taken[i] && (best < 0 || nearest[i] < nearest[best])) best = i;
            taken[best] = true;
            picked.Add(best);
            for (var i = 0; i < candidates.Count; i++)
                if (!taken[i]) nearest[i] = Math.Max(nearest[i], VectorMath.Dot(candidates[i], candidates[best]));
        }
        return picked;
    }
}
