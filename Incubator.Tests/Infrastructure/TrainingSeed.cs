using Incubator.Domain.Review;
using Incubator.Domain.Generation;
using Incubator.Domain.Projects;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.Infrastructure;

/// <summary>Approved candidates written straight into the database (as <see cref="ReviewSeed"/> does for pending ones),
/// so training tests start from reviewed data without clicking through the queue.</summary>
public static class TrainingSeed
{
    /// <summary>A small two-label fixture written for these tests: invoices vs parcels, clearly worded.</summary>
    public static IReadOnlyList<(string Label, string Text)> MailSamples(int perLabel = 12)
    {
        string[] billing = ["invoice", "refund", "charged twice", "payment failed", "billing address", "receipt", "credit card", "overcharged",
            "subscription fee", "wrong amount", "VAT number", "bank transfer", "price on my bill", "annual plan cost", "discount code on invoice"];
        string[] shipping = ["parcel", "delivery", "tracking number", "courier", "package arrived damaged", "shipping address", "late delivery",
            "lost package", "dispatch date", "postal service", "box was empty", "delivered to neighbour", "customs hold", "express shipping", "return label"];
        var rows = new List<(string, string)>();
        for (var i = 0; i < perLabel; i++)
        {
            rows.Add(("billing", $"Question {i} about my {billing[i % billing.Length]}: please check the {billing[(i + 3) % billing.Length]}."));
            rows.Add(("shipping", $"Question {i} about my {shipping[i % shipping.Length]}: where is the {shipping[(i + 3) % shipping.Length]}?"));
        }
        return rows;
    }

    public static Task<List<Guid>> SeedApprovedAsync(this PortalFactory portal, Guid projectId, Guid taskId, IEnumerable<(string Label, string Text)> rows,
        string? reviewerId = null, CandidateSource source = CandidateSource.Generation, Guid? runId = null, Func<int, string?>? editedText = null) =>
        portal.QueryAsync(async db =>
        {
            var ids = new List<Guid>();
            var t0 = DateTimeOffset.UtcNow.AddMinutes(-30);
            var i = 0;
            foreach (var (label, text) in rows)
            {
                var c = new Candidate
                {
                    Id = Guid.NewGuid(), ProjectId = projectId, TaskId = taskId, TaskVersionNumber = 1, RunId = runId, Label = label, Text = text,
                    NormalizedText = TextNormalizer.Normalize(text), Source = source, Stage = CandidateStage.Selected, Status = CandidateStatus.Approved,
                    ReviewedById = reviewerId, ReviewedAt = t0.AddSeconds(i), CreatedAt = t0.AddSeconds(i), EditedText = editedText?.Invoke(i),
                };
                db.Candidates.Add(c);
                ids.Add(c.Id);
                i++;
            }
            await db.SaveChangesAsync();
            return ids;
        });

    /// <summary>A project with an owner and a task (the Mail task by default), members added; returns ids.</summary>
    public static async Task<(Guid ProjectId, Guid TaskId, string OwnerId)> CreateProjectWithTaskAsync(this PortalFactory portal, string ownerEmail,
        params (string Email, ProjectRole Role)[] members)
    {
        var owner = await portal.RegisterAsync(ownerEmail);
        foreach (var (email, _) in members) await portal.RegisterAsync(email);
        var projectId = await portal.InScopeAsync(async sp =>
            (await sp.GetRequiredService<ProjectService>().CreateProjectAsync(owner.Id, "Training " + Guid.NewGuid().ToString("N")[..6], null)).Id);
        var taskId = await portal.CreateTaskAsync(ownerEmail, projectId, null, members);
        return (projectId, taskId, owner.Id);
    }
}
