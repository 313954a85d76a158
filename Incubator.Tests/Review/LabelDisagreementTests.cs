using Incubator.Domain.Common;
using Incubator.Domain.Generation;
using Incubator.Domain.Projects;
using Incubator.Domain.Review;
using Incubator.Tests.Jobs;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.Review;

public sealed class LabelDisagreementTests
{
    [Fact]
    public async Task Relabels_and_wrong_label_rejections_count_against_the_generator_label_and_flag_it_past_the_threshold()
    {
        await using var host = await JobTestHost.CreateAsync(configure: s => s.AddIncubatorReview(JobTestHost.NoSettings));
        var projectId = await host.CreateProjectAsync("disagreement");
        var viewer = await host.CreateUserAsync(projectId, ProjectRole.Viewer, "viewer");
        var otherProject = await host.CreateProjectAsync("other");
        var outsider = await host.CreateUserAsync(otherProject, ProjectRole.Owner, "outsider");
        var taskId = Guid.NewGuid();
        await using (var db = await host.Db.CreateDbContextAsync())
        {
            db.Tasks.Add(new Incubator.Domain.Tasks.ClassifierTask { Id = taskId, ProjectId = projectId, Name = "t", CurrentVersion = 1, CreatedAt = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow });
            void Add(string label, string? original, CandidateStatus status, RejectionReason? reason = null, Guid? spot = null) => db.Candidates.Add(new Candidate
            {
                Id = Guid.NewGuid(), ProjectId = projectId, TaskId = taskId, TaskVersionNumber = 1, Label = label, OriginalLabel = original,
                Text = Guid.NewGuid().ToString(), NormalizedText = "x", Status = status, RejectionReason = reason, AcceptedBySpotCheckId = spot,
                Stage = CandidateStage.Selected, CreatedAt = DateTimeOffset.UtcNow,
            });
            // Generator said "a" six times: 2 relabelled to b, 1 rejected as the wrong label, 1 rejected as low quality, 2 approved.
            Add("b", "a", CandidateStatus.Approved);
            Add("b", "a", CandidateStatus.Approved);
            Add("a", null, CandidateStatus.Rejected, RejectionReason.WrongLabel);
            Add("a", null, CandidateStatus.Rejected, RejectionReason.LowQuality);
            Add("a", null, CandidateStatus.Approved);
            Add("a", null, CandidateStatus.Approved);
            // Generator said "b" five times, all approved; pending and spot-check acceptances do not count.
            for (var i = 0; i < 5; i++) Add("b", null, CandidateStatus.Approved);
            Add("b", null, CandidateStatus.Pending);
            Add("a", null, CandidateStatus.Approved, spot: Guid.NewGuid());
            await db.SaveChangesAsync();
        }
        var service = host.Services.GetRequiredService<LabelDisagreementService>();

        var result = await service.ForTaskAsync(viewer, taskId);

        var a = result.Single(r => r.Label == "a");
        var b = result.Single(r => r.Label == "b");
        Assert.Equal((6, 3, 0.5, true), (a.Decided, a.Disagreed, a.Rate, a.LooksAmbiguous));
        Assert.Equal((5, 0, 0.0, false), (b.Decided, b.Disagreed, b.Rate, b.LooksAmbiguous));
        Assert.Equal("a", result[0].Label);
        await Assert.ThrowsAsync<ForbiddenException>(() => service.ForTaskAsync(outsider, taskId));
    }
}
