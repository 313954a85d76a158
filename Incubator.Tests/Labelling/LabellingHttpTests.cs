using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Incubator.Domain.Llm;
using Incubator.Domain.Projects;
using Incubator.Domain.Tasks;
using Incubator.Tests.Infrastructure;
using Incubator.Tests.Integration;
using Incubator.Tests.Mining;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.Labelling;

/// <summary>The labelling endpoints and page in the real portal: the role is checked on the server for each of them
/// (Author to estimate and start, as for a generation run; members to read), and refused calls start nothing.</summary>
public sealed class LabellingHttpTests(TeamPortal team) : IClassFixture<TeamPortal>
{
    private async Task<(Guid TaskId, Guid CorpusId, Guid ConnectionId)> ArrangeAsync()
    {
        var ownerId = await team.QueryAsync(db => db.Users.Where(u => u.Email == team.OwnerEmail).Select(u => u.Id).SingleAsync());
        var task = await team.Services.GetRequiredService<TaskService>().CreateTaskAsync(ownerId, team.ProjectId, MiningFixtures.EnglishTask with { Name = $"Triage {Guid.NewGuid():N}" }, null);
        var connection = await team.Services.GetRequiredService<LlmConnectionService>().CreateAsync(ownerId, team.ProjectId,
            new LlmConnectionInput("priced", LlmProvider.OpenAICompatible, "http://127.0.0.1:9/v1", "m", null, 0, 1024, 1, null, 1m, 2m));
        var content = new ByteArrayContent(System.Text.Encoding.UTF8.GetBytes(string.Join("\n", LabellingFixture.Texts)));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var upload = await team.Author.Http.PostAsync($"/api/projects/{team.ProjectId}/corpora?fileName=support.txt", content);
        Assert.Equal(HttpStatusCode.Created, upload.StatusCode);
        var corpusId = JsonDocument.Parse(await upload.Content.ReadAsStringAsync()).RootElement.GetProperty("corpus").GetProperty("id").GetGuid();
        return (task.Id, corpusId, connection.Id);
    }

    [Fact]
    public async Task Below_author_starting_and_estimating_are_refused_outsiders_see_nothing_and_an_author_gets_the_estimate()
    {
        var (taskId, corpusId, connectionId) = await ArrangeAsync();
        var body = new { corpusId, connectionId, limit = 10, batchSize = 5 };
        var runs = await team.QueryAsync(db => db.LabellingRuns.CountAsync());

        using var reviewerStart = await team.Reviewer.Http.PostJsonAsync($"/api/tasks/{taskId}/labelling/runs", body);
        using var reviewerEstimate = await team.Reviewer.Http.PostJsonAsync($"/api/tasks/{taskId}/labelling/estimate", body);
        using var outsiderList = await team.Outsider.Http.GetAsync($"/api/tasks/{taskId}/labelling/runs");
        using var outsiderStart = await team.Outsider.Http.PostJsonAsync($"/api/tasks/{taskId}/labelling/runs", body);
        Assert.Equal([HttpStatusCode.Forbidden, HttpStatusCode.Forbidden, HttpStatusCode.Forbidden, HttpStatusCode.Forbidden],
            new[] { reviewerStart.StatusCode, reviewerEstimate.StatusCode, outsiderList.StatusCode, outsiderStart.StatusCode });
        using var reviewerList = await team.Reviewer.Http.GetAsync($"/api/tasks/{taskId}/labelling/runs");
        Assert.Equal(HttpStatusCode.OK, reviewerList.StatusCode);

        using var estimate = await team.Author.Http.PostJsonAsync($"/api/tasks/{taskId}/labelling/estimate", body);
        Assert.Equal(HttpStatusCode.OK, estimate.StatusCode);
        var e = JsonDocument.Parse(await estimate.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal((10, 2), (e.GetProperty("texts").GetInt32(), e.GetProperty("calls").GetInt32()));
        Assert.True(e.GetProperty("cost").GetDecimal() > 0);

        using var bad = await team.Author.Http.PostJsonAsync($"/api/tasks/{taskId}/labelling/runs", new { corpusId, connectionId, limit = 0, batchSize = 5 });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("LabelLimitRange", await bad.Content.ReadAsStringAsync());
        Assert.Equal(runs, await team.QueryAsync(db => db.LabellingRuns.CountAsync()));
    }

    [Fact]
    public async Task The_labelling_page_is_refused_below_author()
    {
        var (taskId, _, _) = await ArrangeAsync();
        using var reviewer = await team.Reviewer.Http.GetAsync($"/projects/{team.ProjectId}/tasks/{taskId}/label");
        using var author = await team.Author.Http.GetAsync($"/projects/{team.ProjectId}/tasks/{taskId}/label");

        Assert.Equal(HttpStatusCode.OK, author.StatusCode);
        Assert.DoesNotContain("data-testid=\"no-access\"", await author.Content.ReadAsStringAsync());
        // The page's policy refuses on the server, before anything of the page is rendered.
        Assert.Equal(HttpStatusCode.Redirect, reviewer.StatusCode);
        Assert.Equal("/account/access-denied", new Uri(team.Reviewer.BaseAddress, reviewer.Headers.Location!).AbsolutePath);
        Assert.DoesNotContain("label-start", await reviewer.Content.ReadAsStringAsync());
    }

    /// <summary>A second project where the team's author is an author too, with its own corpus and connection.</summary>
    private async Task<(Guid CorpusId, Guid ConnectionId)> OtherProjectAsync()
    {
        var ownerId = await team.QueryAsync(db => db.Users.Where(u => u.Email == team.OwnerEmail).Select(u => u.Id).SingleAsync());
        var projects = team.Services.GetRequiredService<ProjectService>();
        var other = (await projects.CreateProjectAsync(ownerId, $"Other {Guid.NewGuid():N}", "")).Id;
        await projects.AddMemberAsync(ownerId, other, team.AuthorEmail, ProjectRole.Author);
        var connection = await team.Services.GetRequiredService<LlmConnectionService>().CreateAsync(ownerId, other,
            new LlmConnectionInput("theirs", LlmProvider.OpenAICompatible, "http://127.0.0.1:9/v1", "m", "sk-theirs-0000", 0, 1024, 1, null, 1m, 2m));
        var content = new ByteArrayContent(System.Text.Encoding.UTF8.GetBytes(string.Join("\n", LabellingFixture.Texts)));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var upload = await team.Author.Http.PostAsync($"/api/projects/{other}/corpora?fileName=theirs.txt", content);
        Assert.Equal(HttpStatusCode.Created, upload.StatusCode);
        return (JsonDocument.Parse(await upload.Content.ReadAsStringAsync()).RootElement.GetProperty("corpus").GetProperty("id").GetGuid(), connection.Id);
    }

    /// <summary>The corpus in the body of this project's task must be this project's, even for an author of both
    /// projects; nothing starts.</summary>
    [Fact]
    public async Task A_corpus_of_another_project_is_refused_for_this_projects_task()
    {
        var (taskId, _, connectionId) = await ArrangeAsync();
        var (otherCorpus, _) = await OtherProjectAsync();
        var runs = await team.QueryAsync(db => db.LabellingRuns.CountAsync());

        foreach (var path in new[] { "estimate", "runs" })
        {
            using var response = await team.Author.Http.PostJsonAsync($"/api/tasks/{taskId}/labelling/{path}",
                new { corpusId = otherCorpus, connectionId, limit = 10, batchSize = 5 });
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains("MiningCorpusMissing", await response.Content.ReadAsStringAsync());
        }
        Assert.Equal(runs, await team.QueryAsync(db => db.LabellingRuns.CountAsync()));
    }

    /// <summary>The connection must be this project's (or site-wide): another project's connection, and its key, is not
    /// usable here even for an author of both projects; nothing starts.</summary>
    [Fact]
    public async Task A_connection_of_another_project_is_refused_for_this_projects_task()
    {
        var (taskId, corpusId, _) = await ArrangeAsync();
        var (_, otherConnection) = await OtherProjectAsync();
        var runs = await team.QueryAsync(db => db.LabellingRuns.CountAsync());

        foreach (var path in new[] { "estimate", "runs" })
        {
            using var response = await team.Author.Http.PostJsonAsync($"/api/tasks/{taskId}/labelling/{path}",
                new { corpusId, connectionId = otherConnection, limit = 10, batchSize = 5 });
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.DoesNotContain("sk-theirs", await response.Content.ReadAsStringAsync());
        }
        Assert.Equal(runs, await team.QueryAsync(db => db.LabellingRuns.CountAsync()));
    }
}
