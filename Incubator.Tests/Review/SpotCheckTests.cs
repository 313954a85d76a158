using Incubator.Domain.Common;
using Incubator.Domain.Generation;
using Incubator.Domain.Projects;
using Incubator.Domain.Review;
using Incubator.Domain.Tasks;
using Incubator.Tests.Jobs;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.Review;

/// <summary>Spot-checks: a random sample of a run, its Wilson estimate, and the Owner's one-step acceptance of the rest,
/// which is recorded as such and never touches individual decisions.</summary>
public sealed class SpotCheckTests
{
    private sealed record Fixture(JobTestHost Host, Guid RunId, string Owner, string Author, string Reviewer, List<Guid> Selected, Guid ReserveId);

    private static async Task<Fixture> ArrangeAsync(int selected = 30)
    {
        var host = await JobTestHost.CreateAsync(configure: s => s.AddIncubatorReview(JobTestHost.NoSettings));
        var projectId = await host.CreateProjectAsync("spot");
        var owner = await host.CreateUserAsync(projectId, ProjectRole.Owner, "owner");
        var author = await host.CreateUserAsync(projectId, ProjectRole.Author, "author");
        var reviewer = await host.CreateUserAsync(projectId, ProjectRole.Reviewer, "reviewer");
        var taskId = Guid.NewGuid();
        var runId = Guid.NewGuid();
        var ids = new List<Guid>();
        var reserveId = Guid.NewGuid();
        await using (var db = await host.Db.CreateDbContextAsync())
        {
            var spec = new TaskSpec { Name = "t", Instruction = "i", Labels = [new LabelSpec { Name = "a" }, new LabelSpec { Name = "b" }] };
            var versionId = Guid.NewGuid();
            db.Tasks.Add(new ClassifierTask { Id = taskId, ProjectId = projectId, Name = "t", CurrentVersion = 1, CreatedAt = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow });
            db.TaskVersions.Add(new TaskVersion { Id = versionId, TaskId = taskId, Number = 1, SpecJson = TaskJson.Serialize(spec), ContentHash = "h", CreatedAt = DateTimeOffset.UtcNow });
            db.GenerationRuns.Add(new GenerationRun { Id = runId, ProjectId = projectId, TaskId = taskId, TaskVersionId = versionId, TaskVersionNumber = 1, ConnectionId = Guid.NewGuid(), PerLabelTarget = 15, CreatedAt = DateTimeOffset.UtcNow });
            for (var i = 0; i <= selected; i++)
            {
                var id = i == selected ? reserveId : Guid.NewGuid();
                if (i < selected) ids.Add(id);
                db.Candidates.Add(new Candidate
                {
                    Id = id, ProjectId = projectId, TaskId = taskId, TaskVersionNumber = 1, RunId = runId, Label = i % 2 == 0 ? "a" : "b",
                    Text = $"sample {i}", NormalizedText = $"sample {i}", Source = CandidateSource.Generation,
                    Stage = i == selected ? CandidateStage.Reserve : CandidateStage.Selected, Status = CandidateStatus.Pending, CreatedAt = DateTimeOffset.UtcNow,
                });
            }
            await db.SaveChangesAsync();
        }
        return new Fixture(host, runId, owner, author, reviewer, ids, reserveId);
    }

    private static async Task DecideSampleAsync(Fixture f, Guid spotCheckId, int rejectCount)
    {
        var review = f.Host.Services.GetRequiredService<DecideCandidate>();
        await using var db = await f.Host.Db.CreateDbContextAsync();
        var items = await db.SpotCheckItems.Where(i => i.SpotCheckId == spotCheckId).Select(i => i.CandidateId).ToListAsync();
        var n = 0;
        foreach (var id in items)
        {
            var decision = n++ < rejectCount ? new Decision(DecisionKind.Reject, RejectionReason.WrongLabel) : new Decision(DecisionKind.Approve);
            await review.DecideAsync(f.Reviewer, id, decision, 0);
        }
    }

    [Fact]
    public async Task Drawn_sample_estimate_and_accepting_the_rest_is_recorded_as_spot_check_acceptance()
    {
        var f = await ArrangeAsync();
        await using var _ = f.Host;
        var spots = f.Host.Services.GetRequiredService<SpotCheckService>();

        var spot = await spots.DrawAsync(f.Author, f.RunId, 10);
        Assert.Equal(10, spot.SampleSize);
        Assert.Equal(20, spot.RemainingPending);
        await using (var db = await f.Host.Db.CreateDbContextAsync())
        {
            var drawn = await db.SpotCheckItems.Where(i => i.SpotCheckId == spot.Id).Select(i => i.CandidateId).ToListAsync();
            Assert.Equal(10, drawn.Distinct().Count());
            Assert.All(drawn, id => Assert.Contains(id, f.Selected)); // never the reserve sample
        }

        var incomplete = await Assert.ThrowsAsync<DomainValidationException>(() => spots.AcceptRestAsync(f.Owner, spot.Id, 0.5));
        Assert.Equal("SpotCheckIncomplete", incomplete.Details.Single().Code);

        await DecideSampleAsync(f, spot.Id, rejectCount: 1);
        var view = (await spots.ListAsync(f.Reviewer, f.RunId)).Single();
        var (low, high) = ReviewStatistics.WilsonInterval(9, 10);
        Assert.Equal((10, 9, 0.9), (view.Decided, view.Approved, view.Precision));
        Assert.Equal(low, view.Low, 10);
        Assert.Equal(high, view.High, 10);

        var tooHigh = await Assert.ThrowsAsync<DomainValidationException>(() => spots.AcceptRestAsync(f.Owner, spot.Id, 0.9));
        Assert.Equal("SpotCheckBelowThreshold", tooHigh.Details.Single().Code);
        await Assert.ThrowsAsync<ForbiddenException>(() => spots.AcceptRestAsync(f.Author, spot.Id, 0.5));

        var accepted = await spots.AcceptRestAsync(f.Owner, spot.Id, 0.5);
        Assert.Equal(20, accepted.AcceptedCount);
        Assert.Equal(0, accepted.RemainingPending);

        await using (var db = await f.Host.Db.CreateDbContextAsync())
        {
            var rows = await db.Candidates.AsNoTracking().Where(c => c.RunId == f.RunId).ToListAsync();
            var bySpot = rows.Where(c => c.AcceptedBySpotCheckId == spot.Id).ToList();
            Assert.Equal(20, bySpot.Count);
            Assert.All(bySpot, c => Assert.Equal(CandidateStatus.Approved, c.Status));
            // The sample's own decisions stay individual (9 approvals, 1 rejection), and the reserve is untouched.
            Assert.Equal(9, rows.Count(c => c.AcceptedBySpotCheckId == null && c.Status == CandidateStatus.Approved));
            Assert.Single(rows, c => c.Status == CandidateStatus.Rejected);
            Assert.Equal(CandidateStatus.Pending, rows.Single(c => c.Id == f.ReserveId).Status);
            Assert.Equal(20, await db.ReviewEvents.CountAsync(e => e.Kind == DecisionKind.SpotCheckAccept));
        }
        var twice = await Assert.ThrowsAsync<DomainValidationException>(() => spots.AcceptRestAsync(f.Owner, spot.Id, 0.5));
        Assert.Equal("SpotCheckAlreadyAccepted", twice.Details.Single().Code);
    }

    [Fact]
    public async Task Drawing_needs_an_author_a_sensible_size_and_selected_samples()
    {
        var f = await ArrangeAsync(selected: 0);
        await using var _ = f.Host;
        var spots = f.Host.Services.GetRequiredService<SpotCheckService>();
        await Assert.ThrowsAsync<ForbiddenException>(() => spots.DrawAsync(f.Reviewer, f.RunId, 5));
        Assert.Equal("SpotCheckSizeOutOfRange", (await Assert.ThrowsAsync<DomainValidationException>(() => spots.DrawAsync(f.Author, f.RunId, 0))).Details.Single().Code);
        Assert.Equal("SpotCheckEmptyRun", (await Assert.ThrowsAsync<DomainValidationException>(() => spots.DrawAsync(f.Author, f.RunId, 5))).Details.Single().Code);
    }
}
