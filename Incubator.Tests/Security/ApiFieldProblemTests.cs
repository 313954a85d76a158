using System.Net;
using System.Text;
using System.Text.Json;
using Incubator.Domain.Projects;
using Incubator.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.Security;

/// <summary>A request body or query value the binder cannot read gets a 400 problem whose "errors" and "problems" name
/// the field (the JSON path, or the query parameter) with a stable code and a message in the request's language; a
/// misspelt member is refused instead of being ignored while the request runs with the default; nothing is started.</summary>
public sealed class ApiFieldProblemTests : IClassFixture<ApiFieldProblemTests.Portal>
{
    public sealed class Portal : PortalFactory;

    private readonly Portal _portal;

    public ApiFieldProblemTests(Portal portal) => _portal = portal;

    private async Task<(AuthenticatedClient Owner, Guid ProjectId, Guid TaskId)> ArrangeAsync()
    {
        var email = PortalExtensions.UniqueEmail("field-owner");
        var owner = await _portal.RegisterAsync(email);
        var projectId = (await _portal.Services.GetRequiredService<ProjectService>().CreateProjectAsync(owner.Id, "Fields", "")).Id;
        var taskId = await _portal.CreateTaskAsync(email, projectId);
        return (await AuthenticatedClient.SignInAsync(_portal, email), projectId, taskId);
    }

    private static async Task<(string Field, string Code, string Message)> FieldProblemAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var root = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        var problem = Assert.Single(root.GetProperty("problems").EnumerateArray().ToList());
        var field = problem.GetProperty("field").GetString()!;
        Assert.Equal(problem.GetProperty("message").GetString(), Assert.Single(root.GetProperty("errors").GetProperty(field).EnumerateArray().ToList()).GetString());
        return (field, problem.GetProperty("code").GetString()!, problem.GetProperty("message").GetString()!);
    }

    private static async Task<HttpResponseMessage> SendAsync(AuthenticatedClient client, HttpMethod method, string path, string? json, string? language = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        if (language is not null) request.Headers.AcceptLanguage.ParseAdd(language);
        return await client.Http.SendAsync(request);
    }

    [Fact]
    public async Task A_number_too_large_or_of_the_wrong_type_names_its_field()
    {
        var (owner, projectId, taskId) = await ArrangeAsync();

        using var huge = await SendAsync(owner, HttpMethod.Post, $"/api/projects/{projectId}/runs",
            $$"""{"taskId":"{{taskId}}","connectionId":"{{Guid.NewGuid()}}","perLabel":1e20}""");
        var problem = await FieldProblemAsync(huge);
        Assert.Equal(("perLabel", "RequestFieldInvalid"), (problem.Field, problem.Code));
        Assert.StartsWith("'perLabel' has a value that cannot be read here", problem.Message);

        using var text = await SendAsync(owner, HttpMethod.Post, $"/api/projects/{projectId}/queries/check", """{"expression":5}""");
        Assert.Equal(("expression", "RequestFieldInvalid"), (await FieldProblemAsync(text)) is var p ? (p.Field, p.Code) : default);

        using var query = await SendAsync(owner, HttpMethod.Get, $"/api/projects/{projectId}/jobs?page=abc", null, language: "ja");
        problem = await FieldProblemAsync(query);
        Assert.Equal(("page", "RequestFieldInvalid"), (problem.Field, problem.Code));
        Assert.StartsWith("「page」の値を読み取れません", problem.Message);
    }

    [Fact]
    public async Task A_misspelt_member_is_refused_by_name_and_nothing_starts()
    {
        var (owner, projectId, taskId) = await ArrangeAsync();

        // "descripton" for "description": before, the project was created and the description silently lost.
        using var created = await SendAsync(owner, HttpMethod.Post, "/api/projects", """{"name":"Typo project","descripton":"Tickets from the shop"}""");
        var problem = await FieldProblemAsync(created);
        Assert.Equal(("descripton", "RequestFieldUnknown"), (problem.Field, problem.Code));
        Assert.Equal("'descripton' is not a field of this request; check its spelling.", problem.Message);
        Assert.Equal(0, await _portal.QueryAsync(db => db.Projects.CountAsync(p => p.Name == "Typo project")));

        // "margn" for "margin": the run would have started with the default margin.
        using var mining = await SendAsync(owner, HttpMethod.Post, $"/api/tasks/{taskId}/mining/runs",
            $$"""{"corpusId":"{{Guid.NewGuid()}}","perLabel":10,"margn":0.3}""");
        Assert.Equal(("margn", "RequestFieldUnknown"), (await FieldProblemAsync(mining)) is var m ? (m.Field, m.Code) : default);
        Assert.Equal(0, await _portal.QueryAsync(db => db.Jobs.CountAsync(j => j.ProjectId == projectId)));

        // Well-formed requests still work.
        using var fine = await SendAsync(owner, HttpMethod.Post, $"/api/projects/{projectId}/queries/check", """{"expression":"a:b"}""");
        Assert.Equal(HttpStatusCode.OK, fine.StatusCode);
    }

    [Fact]
    public async Task A_negative_page_or_a_page_size_below_one_is_refused_by_name_instead_of_read_as_page_0_size_1()
    {
        var (owner, projectId, taskId) = await ArrangeAsync();

        foreach (var path in new[] { $"/api/projects/{projectId}/jobs", $"/api/tasks/{taskId}/candidates", $"/api/projects/{projectId}/audit" })
        {
            using var negative = await SendAsync(owner, HttpMethod.Get, path + "?page=-1", null);
            Assert.Equal(("page", "PageOutOfRange", "page counts from 0; -1 is not a page."), await FieldProblemAsync(negative));
            using var empty = await SendAsync(owner, HttpMethod.Get, path + "?pageSize=0", null);
            Assert.Equal(("pageSize", "PageSizeOutOfRange"), (await FieldProblemAsync(empty)) is var e ? (e.Field, e.Code) : default);
            using var fine = await SendAsync(owner, HttpMethod.Get, path + "?page=0&pageSize=5", null);
            Assert.Equal(HttpStatusCode.OK, fine.StatusCode);
        }
    }

    [Theory]
    [InlineData("not-an-email")]
    [InlineData("someone@localhost")]
    public async Task An_invitation_to_an_address_that_is_not_one_is_refused_and_none_is_stored(string email)
    {
        var (owner, projectId, _) = await ArrangeAsync();

        using var response = await SendAsync(owner, HttpMethod.Post, $"/api/projects/{projectId}/invitations", $$"""{"email":"{{email}}","role":"Viewer"}""");
        Assert.Equal(("email", "EmailInvalid"), (await FieldProblemAsync(response)) is var p ? (p.Field, p.Code) : default);
        Assert.Equal(0, await _portal.QueryAsync(db => db.Invitations.CountAsync(i => i.ProjectId == projectId)));

        // An invitation without an address is a link anyone may use, as before.
        using var link = await SendAsync(owner, HttpMethod.Post, $"/api/projects/{projectId}/invitations", """{"role":"Viewer"}""");
        Assert.Equal(HttpStatusCode.Created, link.StatusCode);
    }
}
