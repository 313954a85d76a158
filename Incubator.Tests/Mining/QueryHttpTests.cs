using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Incubator.Tests.Integration;

namespace Incubator.Tests.Mining;

/// <summary>The query API over real HTTP: live checking returns errors with their offsets, starting a run needs the
/// Author role and a valid query, outsiders get 403 everywhere.</summary>
public sealed class QueryHttpTests(TeamPortal team) : IClassFixture<TeamPortal>
{
    private string Base => $"/api/projects/{team.ProjectId}";

    [Fact]
    public async Task Check_returns_syntax_and_name_errors_with_their_offsets()
    {
        using var syntax = await team.Reviewer.Http.PostAsJsonAsync($"{Base}/queries/check", new { expression = "urgency:urgent AND (topic:x" });
        Assert.Equal(HttpStatusCode.OK, syntax.StatusCode);
        using var doc = JsonDocument.Parse(await syntax.Content.ReadAsStringAsync());
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("canonical").ValueKind);
        var e = doc.RootElement.GetProperty("errors")[0];
        Assert.Equal("QueryExpectedCloseParen", e.GetProperty("code").GetString());
        Assert.Equal(27, e.GetProperty("offset").GetInt32());

        // Syntactically fine, but this project has no published model called urgency.
        using var names = await team.Reviewer.Http.PostAsJsonAsync($"{Base}/queries/check", new { expression = "urgency:urgent" });
        using var doc2 = JsonDocument.Parse(await names.Content.ReadAsStringAsync());
        var e2 = doc2.RootElement.GetProperty("errors")[0];
        Assert.Equal("QueryUnknownModel", e2.GetProperty("code").GetString());
        Assert.Equal((0, 7), (e2.GetProperty("offset").GetInt32(), e2.GetProperty("length").GetInt32()));
    }

    [Fact]
    public async Task Starting_needs_an_author_and_a_valid_query_and_outsiders_are_refused()
    {
        var body = new { corpusId = Guid.NewGuid(), expression = "urgency:urgent" };
        using var reviewer = await team.Reviewer.Http.PostAsJsonAsync($"{Base}/queries", body);
        Assert.Equal(HttpStatusCode.Forbidden, reviewer.StatusCode);
        using var reviewerApply = await team.Reviewer.Http.PostAsJsonAsync($"{Base}/applications", new { corpusId = Guid.NewGuid(), modelVersionId = Guid.NewGuid() });
        Assert.Equal(HttpStatusCode.Forbidden, reviewerApply.StatusCode);

        using var author = await team.Author.Http.PostAsJsonAsync($"{Base}/queries", body);
        Assert.Equal(HttpStatusCode.BadRequest, author.StatusCode);
        Assert.Contains("QueryUnknownModel", await author.Content.ReadAsStringAsync());

        foreach (var path in new[] { "/query-models", "/query-runs", $"/query-runs/{Guid.NewGuid()}/export" })
        {
            using var outsider = await team.Outsider.Http.GetAsync(Base + path);
            Assert.Equal(HttpStatusCode.Forbidden, outsider.StatusCode);
        }
        using var outsiderCheck = await team.Outsider.Http.PostAsJsonAsync($"{Base}/queries/check", new { expression = "a:b" });
        Assert.Equal(HttpStatusCode.Forbidden, outsiderCheck.StatusCode);

        using var list = await team.Reviewer.Http.GetAsync($"{Base}/query-runs");
        Assert.Equal("[]", await list.Content.ReadAsStringAsync());
    }
}
