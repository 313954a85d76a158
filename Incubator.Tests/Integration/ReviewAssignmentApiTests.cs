using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Incubator.Domain.Generation;
using Incubator.Domain.Jobs;
using Incubator.Domain.Projects;
using Incubator.Domain.Review;
using Incubator.Domain.Tasks;
using Incubator.Tests.Infrastructure;
using Incubator.Tests.Jobs;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.Integration;

/// <summary>Assignment, queue policies, overlap conflicts and large exports over HTTP, with the server checking roles.
/// The portal here runs exports of more than 4 rows as jobs.</summary>
public sealed class ReviewAssignmentApiTests : IClassFixture<ReviewAssignmentApiTests.Portal>
{
    public sealed class Portal : PortalFactory
    {
        public Portal() => With("Review:ExportJobThreshold", "4");
    }

    private readonly Portal _portal;

    public ReviewAssignmentApiTests(Portal portal) => _portal = portal;

    private sealed record Arranged(
        AuthenticatedClient Owner, AuthenticatedClient Author, AuthenticatedClient R1, AuthenticatedClient R2, AuthenticatedClient Viewer,
        AuthenticatedClient Outsider, Guid ProjectId, Guid TaskId, List<Guid> Ids);

    private async Task<Arranged> ArrangeAsync(int candidates)
    {
        string E(string p) => PortalExtensions.UniqueEmail(p);
        var (ownerEmail, authorEmail, r1Email, r2Email, viewerEmail, outsiderEmail) = (E("as-owner"), E("as-author"), E("as-r1"), E("as-r2"), E("as-viewer"), E("as-outsider"));
        var owner = await _portal.RegisterAsync(ownerEmail);
        foreach (var e in new[] { authorEmail, r1Email, r2Email, viewerEmail, outsiderEmail }) await _portal.RegisterAsync(e);
        var (projectId, taskId) = await _portal.InScopeAsync(async sp =>
        {
            var projects = sp.GetRequiredService<ProjectService>();
            var p = await projects.CreateProjectAsync(owner.Id, "Assign API " + Guid.NewGuid().ToString("N")[..6], null);
            await projects.AddMemberAsync(owner.Id, p.Id, authorEmail, ProjectRole.Author);
            await projects.AddMemberAsync(owner.Id, p.Id, r1Email, ProjectRole.Reviewer);
            await projects.AddMemberAsync(owner.Id, p.Id, r2Email, ProjectRole.Reviewer);
            await projects.AddMemberAsync(owner.Id, p.Id, viewerEmail, ProjectRole.Viewer);
            var t = await sp.GetRequiredService<TaskService>().CreateTaskAsync(owner.Id, p.Id, ReviewSeed.MailTask, null);
            return (p.Id, t.Id);
        });
        var ids = new List<Guid>();
        await _portal.QueryAsync(async db =>
        {
            for (var i = 0; i < candidates; i++)
            {
                var text = $"Mail {i} about invoice {100 + i}.";
                var c = new Candidate
                {
                    Id = Guid.NewGuid(), ProjectId = projectId, TaskId = taskId, TaskVersionNumber = 1, Label = "billing", Text = text,
                    NormalizedText = TextNormalizer.Normalize(text), Source = CandidateSource.Generation, Stage = CandidateStage.Selected,
                    Status = CandidateStatus.Pending, CreatedAt = DateTimeOffset.UtcNow.AddMinutes(i - 60),
                };
                ids.Add(c.Id);
                db.Candidates.Add(c);
            }
            return await db.SaveChangesAsync();
        });
        async Task<AuthenticatedClient> In(string email) => await AuthenticatedClient.SignInAsync(_portal, email);
        return new Arranged(await In(ownerEmail), await In(authorEmail), await In(r1Email), await In(r2Email), await In(viewerEmail), await In(outsiderEmail),
            projectId, taskId, ids);
    }

    private static async Task<string> CodesAsync(HttpResponseMessage r) =>
        string.Join(",", JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.GetProperty("problems").EnumerateArray().Select(p => p.GetProperty("code").GetString()));

    [Fact]
    public async Task Claims_policies_and_conflict_settlement_over_http_with_roles_checked_by_the_server()
    {
        var a = await ArrangeAsync(4);
        var policyUrl = $"/api/tasks/{a.TaskId}/review-policy";

        // Policies: Reviewers and Viewers read but may not change; out-of-range values are refused and change nothing.
        Assert.Equal(HttpStatusCode.Forbidden, (await a.R1.Http.PutAsJsonAsync(policyUrl, new { overlapK = 2, spotCheckThreshold = 0.9 })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await a.Viewer.Http.PutAsJsonAsync(policyUrl, new { overlapK = 2, spotCheckThreshold = 0.9 })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await a.Outsider.Http.GetAsync(policyUrl)).StatusCode);
        var badK = await a.Author.Http.PutAsJsonAsync(policyUrl, new { overlapK = 0, spotCheckThreshold = 0.9 });
        Assert.Equal((HttpStatusCode.BadRequest, "OverlapOutOfRange"), (badK.StatusCode, await CodesAsync(badK)));
        var badT = await a.Author.Http.PutAsJsonAsync(policyUrl, new { overlapK = 2, spotCheckThreshold = 1.5 });
        Assert.Equal((HttpStatusCode.BadRequest, "ThresholdOutOfRange"), (badT.StatusCode, await CodesAsync(badT)));
        var policy = JsonDocument.Parse(await a.Viewer.Http.GetStringAsync(policyUrl)).RootElement;
        Assert.Equal((1, 0.9), (policy.GetProperty("overlapK").GetInt32(), policy.GetProperty("spotCheckThreshold").GetDouble()));

        // Two reviewers asking for work at the same moment are handed different items; the holder's item is refused to others.
        var next = $"/api/tasks/{a.TaskId}/assignments/next";
        var claims = await Task.WhenAll(a.R1.Http.PostAsJsonAsync(next, new { }), a.R2.Http.PostAsJsonAsync(next, new { }));
        var got = await Task.WhenAll(claims.Select(async c => JsonDocument.Parse(await c.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetGuid()));
        Assert.NotEqual(got[0], got[1]);
        var stolen = await a.R2.Http.PostAsJsonAsync($"/api/candidates/{got[0]}/decisions", new { kind = "Approve", expectedVersion = 0 });
        Assert.Equal(HttpStatusCode.Conflict, stolen.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await a.R1.Http.PostAsJsonAsync($"/api/candidates/{got[0]}/lease", new { })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await a.Viewer.Http.PostAsJsonAsync(next, new { })).StatusCode);
        // A scope naming a run with no pending items in it hands out nothing (items outside the run are not given).
        Assert.Equal(HttpStatusCode.NoContent,
            (await a.R1.Http.PostAsJsonAsync(next, new { skip = new[] { got[0] }, runId = Guid.NewGuid(), sort = "MostUncertain" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await a.R1.Http.DeleteAsync($"/api/tasks/{a.TaskId}/assignments")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await a.R2.Http.DeleteAsync($"/api/tasks/{a.TaskId}/assignments")).StatusCode);

        // Overlap k = 2, set by the Author; conflicting reviews go to the Owner.
        Assert.Equal(HttpStatusCode.OK, (await a.Author.Http.PutAsJsonAsync(policyUrl, new { overlapK = 2, spotCheckThreshold = 0.8 })).StatusCode);
        var item = a.Ids[3];
        Assert.Equal(HttpStatusCode.OK, (await a.R1.Http.PostAsJsonAsync($"/api/candidates/{item}/decisions", new { kind = "Approve", expectedVersion = 0 })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await a.R2.Http.PostAsJsonAsync($"/api/candidates/{item}/decisions",
            new { kind = "Relabel", newLabel = "shipping", expectedVersion = 0 })).StatusCode);
        var conflicts = JsonDocument.Parse(await a.Viewer.Http.GetStringAsync($"/api/tasks/{a.TaskId}/conflicts")).RootElement;
        Assert.Equal(item, conflicts[0].GetProperty("candidate").GetProperty("id").GetGuid());
        Assert.Equal(2, conflicts[0].GetProperty("votes").GetArrayLength());

        var settleUrl = $"/api/candidates/{item}/settle";
        Assert.Equal(HttpStatusCode.Forbidden, (await a.Author.Http.PostAsJsonAsync(settleUrl, new { kind = "Approve" })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await a.R1.Http.PostAsJsonAsync(settleUrl, new { kind = "Approve" })).StatusCode);
        var notConflict = await a.Owner.Http.PostAsJsonAsync($"/api/candidates/{a.Ids[2]}/settle", new { kind = "Approve" });
        Assert.Equal((HttpStatusCode.BadRequest, "NotInConflict"), (notConflict.StatusCode, await CodesAsync(notConflict)));
        var settled = await a.Owner.Http.PostAsJsonAsync(settleUrl, new { kind = "Approve", newLabel = "shipping" });
        Assert.Equal(HttpStatusCode.OK, settled.StatusCode);
        var c = await _portal.QueryAsync(db => db.Candidates.AsNoTracking().SingleAsync(x => x.Id == item));
        Assert.Equal((CandidateStatus.Approved, "shipping", false), (c.Status, c.Label, c.InConflict));
        Assert.Equal(CandidateStatus.Pending, (await _portal.QueryAsync(db => db.Candidates.AsNoTracking().SingleAsync(x => x.Id == a.Ids[2]))).Status);

        var agreement = JsonDocument.Parse(await a.Viewer.Http.GetStringAsync($"/api/tasks/{a.TaskId}/agreement")).RootElement;
        Assert.Equal("Cohen", agreement.GetProperty("method").GetString());
    }

    [Fact]
    public async Task An_export_over_the_threshold_runs_as_a_job_whose_file_only_members_download()
    {
        var a = await ArrangeAsync(6);

        // Small (1 row after a filter): streamed at once.
        var small = await a.Viewer.Http.GetAsync($"/api/tasks/{a.TaskId}/candidates/export?format=tsv&search=invoice%20101");
        Assert.Equal(HttpStatusCode.OK, small.StatusCode);
        Assert.Equal("billing\tMail 1 about invoice 101.", (await small.Content.ReadAsStringAsync()).Trim());

        // Large (6 rows > 4): a job.
        var started = await a.Viewer.Http.GetAsync($"/api/tasks/{a.TaskId}/candidates/export?format=tsv");
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var body = JsonDocument.Parse(await started.Content.ReadAsStringAsync()).RootElement;
        var jobId = body.GetProperty("job").GetProperty("id").GetGuid();
        var download = body.GetProperty("download").GetString()!;
        await Poll.UntilAsync(async () => (await _portal.QueryAsync(db => db.Jobs.AsNoTracking().SingleAsync(j => j.Id == jobId))).State is JobState.Succeeded or JobState.Failed,
            TimeSpan.FromSeconds(30), () => Task.FromResult("export job did not finish"));
        Assert.Equal(JobState.Succeeded, (await _portal.QueryAsync(db => db.Jobs.AsNoTracking().SingleAsync(j => j.Id == jobId))).State);

        var tsv = await a.R1.Http.GetStringAsync(download);
        var lines = tsv.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(Enumerable.Range(0, 6).Select(i => $"billing\tMail {i} about invoice {100 + i}."), lines);
        Assert.True(File.Exists(Path.Combine(_portal.DataDirectory, "exports", $"{jobId:N}.tsv")));
        Assert.Equal(HttpStatusCode.Forbidden, (await a.Outsider.Http.GetAsync(download)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden,
            (await a.Outsider.Http.GetAsync($"/api/exports/{Guid.NewGuid()}/download")).StatusCode);
    }
}
