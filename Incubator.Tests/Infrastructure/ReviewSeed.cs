using Incubator.Domain.Review;
using Incubator.Domain.Data;
using Incubator.Domain.Generation;
using Incubator.Domain.Projects;
using Incubator.Domain.Tasks;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.Infrastructure;

/// <summary>What the review and generation browser tests start from: a two-label "Mail" task created through the real
/// TaskService by the project's owner, optional members added through ProjectService, and pending candidates.</summary>
public static class ReviewSeed
{
    public static readonly TaskSpec MailTask = new()
    {
        Name = "Mail",
        Instruction = "Sort customer e-mails.",
        Labels = [new LabelSpec { Name = "billing", Description = "Invoices." }, new LabelSpec { Name = "shipping", Description = "Parcels." }],
    };

    public static Task<string> UserIdAsync(this PortalFactory portal, string email) =>
        portal.QueryAsync(db => db.Users.Where(u => u.Email == email).Select(u => u.Id).SingleAsync());

    /// <summary>Adds members (as the owner) and creates the task; returns the task id.</summary>
    public static async Task<Guid> CreateTaskAsync(this PortalFactory portal, string ownerEmail, Guid projectId, TaskSpec? spec = null,
        params (string Email, ProjectRole Role)[] members)
    {
        var ownerId = await portal.UserIdAsync(ownerEmail);
        return await portal.InScopeAsync(async sp =>
        {
            foreach (var (email, role) in members)
                await sp.GetRequiredService<ProjectService>().AddMemberAsync(ownerId, projectId, email, role);
            return (await sp.GetRequiredService<TaskService>().CreateTaskAsync(ownerId, projectId, spec ?? MailTask, null)).Id;
        });
    }

    /// <summary>Pending, selected candidates with the given texts, oldest first, all labelled <paramref name="label"/>
    /// unless <paramref name="labelOf"/> says otherwise.</summary>
    public static Task<int> SeedCandidatesAsync(this PortalFactory portal, Guid projectId, Guid taskId, IReadOnlyList<string> texts,
        string label = "billing", Guid? runId = null, Func<int, string>? labelOf = null) =>
        portal.QueryAsync(db =>
        {
            var t0 = DateTimeOffset.UtcNow.AddMinutes(-30);
            for (var i = 0; i < texts.Count; i++)
            {
                db.Candidates.Add(new Candidate
                {
                    Id = Guid.NewGuid(), ProjectId = projectId, TaskId = taskId, TaskVersionNumber = 1, RunId = runId, Label = labelOf?.Invoke(i) ?? label,
                    Text = texts[i], NormalizedText = TextNormalizer.Normalize(texts[i]), Source = CandidateSource.Generation,
                    Stage = CandidateStage.Selected, Status = CandidateStatus.Pending, CreatedAt = t0.AddSeconds(i),
                });
            }
            return db.SaveChangesAsync();
        });
}
