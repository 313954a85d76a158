using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Incubator.Domain.Generation;
using Incubator.Domain.Projects;
using Incubator.Domain.Review;
using Incubator.Domain.Tasks;
using Incubator.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.Integration;

/// <summary>Review over HTTP: decisions with optimistic concurrency, exports in the three formats with awkward texts,
/// and the audit trail export showing a lost attempt; a non-member gets nothing.</summary>
public sealed class ReviewApiTests : IClassFixture<ReviewApiTests.Portal>
{
    public sealed class Portal : PortalFactory;

    private readonly Portal _portal;

    public ReviewApiTests(Portal portal) => _portal = portal;

    private static readonly string[] Texts =
    [
        "Plain text about an invoice.",
        "Commas, \"quotes\" and\na new line\tand a tab.",
        "=HYPERLINK(\"http://evil.example\") looks like a formula.",
    ];

    private async Task<(AuthenticatedClient Reviewer, AuthenticatedClient Other, AuthenticatedClient Outsider, Guid ProjectId, Guid TaskId, List<Guid> Ids)> ArrangeAsync()
    {
        var ownerEmail = PortalExtensions.UniqueEmail("rv-owner");
        var reviewerEmail = PortalExtensions.UniqueEmail("rv-reviewer");
        var otherEmail = PortalExtensions.UniqueEmail("rv-other");
        var outsiderEmail = PortalExtensions.UniqueEmail("rv-outsider");
        var owner = await _portal.RegisterAsync(ownerEmail);
        await _portal.RegisterAsync(reviewerEmail);
        await _portal.RegisterAsync(otherEmail);
        await _portal.RegisterAsync(outsiderEmail);
        var (projectId, taskId) = await _portal.InScopeAsync(async sp =>
        {
            var projects = sp.GetRequiredService<ProjectService>();
            var p = await projects.CreateProjectAsync(owner.Id, "Review API " + Guid.NewGuid().ToString("N")[..6], null);
            await projects.AddMemberAsync(owner.Id, p.Id, reviewerEmail, ProjectRole.Reviewer);
            await projects.AddMemberAsync(owner.Id, p.Id, otherEmail, ProjectRole.Reviewer);
            var t = await sp.GetRequiredService<TaskService>().CreateTaskAsync(owner.Id, p.Id, new TaskSpec
            {
                Name = "Mail", Instruction = "Sort e-mails.",
                Labels = [new LabelSpec { Name = "billing" }, new LabelSpec { Name = "shipping" }],
            }, null);
            return (p.Id, t.Id);
        });
        var ids = new List<Guid>();
        await _portal.QueryAsync(async db =>
        {
            for (var i = 0; i < Texts.Length; i++)
            {
                var c = new Candidate
                {
                    Id = Guid.NewGuid(), ProjectId = projectId, TaskId = taskId, TaskVersionNumber = 1, Label = "billing", Text = Texts[i],
                    NormalizedText = TextNormalizer.Normalize(Texts[i]), Source = CandidateSource.Generation, Stage = CandidateStage.Selected,
                    Status = CandidateStatus.Pending, CreatedAt = DateTimeOffset.UtcNow.AddMinutes(i - 10),
                };
                ids.Add(c.Id);
                db.Candidates.Add(c);
            }
            return await db.SaveChangesAsync();
        });
        return (await AuthenticatedClient.SignInAsync(_portal, reviewerEmail), await AuthenticatedClient.SignInAsync(_portal, otherEmail),
            await AuthenticatedClient.SignInAsync(_portal, outsiderEmail), projectId, taskId, ids);
    }

    [Fact]
    public async Task Decisions_export_and_audit_over_http()
    {
        var (reviewer, other, outsider, projectId, taskId, ids) = await ArrangeAsync();

        var ok = await reviewer.Http.PostAsJsonAsync($"/api/candidates/{ids[0]}/decisions",
            new { kind = "Approve", expectedVersion = 0 }, PortalExtensions.Json);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        // The other reviewer decided from the same page state: refused, and the attempt is kept.
        var late = await other.Http.PostAsJsonAsync($"/api/candidates/{ids[0]}/decisions",
            new { kind = "Reject", reason = "OffTask", expectedVersion = 0 }, PortalExtensions.Json);
        Assert.Equal(HttpStatusCode.Conflict, late.StatusCode);
        var noReason = await other.Http.PostAsJsonAsync($"/api/candidates/{ids[1]}/decisions",
            new { kind = "Reject", expectedVersion = 0 }, PortalExtensions.Json);
        Assert.Equal(HttpStatusCode.BadRequest, noReason.StatusCode);
        Assert.Contains("ReasonRequired", await noReason.Content.ReadAsStringAsync());

        var tsv = await reviewer.Http.GetStringAsync($"/api/tasks/{taskId}/candidates/export?format=tsv");
        var lines = tsv.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.All(lines, l => Assert.Equal(2, l.Split('\t').Length));
        Assert.Equal("billing\tCommas, \"quotes\" and a new line and a tab.", lines[1]);

        var approvedOnly = await reviewer.Http.GetStringAsync($"/api/tasks/{taskId}/candidates/export?format=tsv&status=Approved");
        Assert.Equal("billing\tPlain text about an invoice.", approvedOnly.Trim());

        var csv = await reviewer.Http.GetStringAsync($"/api/tasks/{taskId}/candidates/export?format=csv");
        Assert.StartsWith("id,label,text,status", csv);
        Assert.Contains("\"Commas, \"\"quotes\"\" and\na new line\tand a tab.\"", csv);
        Assert.Contains("\"'=HYPERLINK(\"\"http://evil.example\"\") looks like a formula.\"", csv);

        var jsonl = await reviewer.Http.GetStringAsync($"/api/tasks/{taskId}/candidates/export?format=jsonl");
        var objects = jsonl.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(Texts, objects.Select(o => o.GetProperty("text").GetString()));
        Assert.Equal("Approved", objects[0].GetProperty("status").GetString());

        var bad = await reviewer.Http.GetAsync($"/api/tasks/{taskId}/candidates/export?format=xlsx");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await outsider.Http.GetAsync($"/api/tasks/{taskId}/candidates/export?format=tsv")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await outsider.Http.GetAsync($"/api/projects/{projectId}/audit/export")).StatusCode);

        var audit = await reviewer.Http.GetStringAsync($"/api/projects/{projectId}/audit/export");
        var auditLines = audit.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, auditLines.Length); // header + the approve + the lost reject
        Assert.Contains(auditLines, l => l.Contains(",Approve,") && l.EndsWith(",false"));
        Assert.Contains(auditLines, l => l.Contains(",Reject,") && l.EndsWith(",true"));

        var perSample = await reviewer.Http.GetStringAsync($"/api/candidates/{ids[0]}/audit");
        Assert.Equal(2, JsonDocument.Parse(perSample).RootElement.GetArrayLength());
    }

    [Theory]
    [InlineData("Consensus")]
    [InlineData("SpotCheckAccept")]
    [InlineData("Settle")]
    public async Task A_kind_the_system_records_cannot_be_sent_as_a_decision(string kind)
    {
        var (reviewer, _, _, _, taskId, ids) = await ArrangeAsync();

        var refused = await reviewer.Http.PostAsJsonAsync($"/api/candidates/{ids[0]}/decisions",
            new { kind, expectedVersion = 0, newLabel = "shipping" }, PortalExtensions.Json);

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("DecisionKindNotAllowed", await refused.Content.ReadAsStringAsync());
        var pending = await reviewer.Http.GetStringAsync($"/api/tasks/{taskId}/candidates?status=Pending");
        Assert.Equal(3, JsonDocument.Parse(pending).RootElement.GetProperty("total").GetInt32());
        Assert.Equal(0, JsonDocument.Parse(await reviewer.Http.GetStringAsync($"/api/candidates/{ids[0]}/audit")).RootElement.GetArrayLength());
    }
}
