using System.Net;
using System.Text;
using System.Text.Json;
using Incubator.Domain.Projects;
using Incubator.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.Integration;

/// <summary>The task JSON over HTTP: import, export, versioned update; bad bodies get a clear error with the path and
/// nothing is saved.</summary>
public sealed class TasksApiTests : IClassFixture<TasksApiTests.Portal>
{
    public sealed class Portal : PortalFactory;

    private const string IssueExample = """
        {"name": "Support tickets",
         "instruction": "Classify customer support e-mails by what the customer needs.",
         "labels": [{"name": "billing", "description": "Invoices, charges, refunds."},
                    {"name": "other", "description": "None of the above.", "isOther": true}],
         "preferences": {"language": "en", "textType": "email", "minWords": 5, "maxWords": 80, "notes": "Informal tone."}}
        """;

    private readonly Portal _portal;

    public TasksApiTests(Portal portal) => _portal = portal;

    private async Task<(AuthenticatedClient Author, AuthenticatedClient Viewer, Guid ProjectId)> ArrangeAsync()
    {
        var authorEmail = PortalExtensions.UniqueEmail("author");
        var viewerEmail = PortalExtensions.UniqueEmail("viewer");
        var author = await _portal.RegisterAsync(authorEmail);
        await _portal.RegisterAsync(viewerEmail);
        var projectId = await _portal.InScopeAsync(async sp =>
        {
            var projects = sp.GetRequiredService<ProjectService>();
            var p = await projects.CreateProjectAsync(author.Id, "Tasks API " + Guid.NewGuid().ToString("N")[..6], null);
            await projects.AddMemberAsync(author.Id, p.Id, viewerEmail, ProjectRole.Viewer);
            return p.Id;
        });
        return (await AuthenticatedClient.SignInAsync(_portal, authorEmail), await AuthenticatedClient.SignInAsync(_portal, viewerEmail), projectId);
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private Task<int> CountTasksAsync(Guid projectId) => _portal.QueryAsync(db => db.Tasks.CountAsync(t => t.ProjectId == projectId));

    [Fact]
    public async Task The_issue_example_imports_exports_identically_and_updates_with_the_version_it_read()
    {
        var (author, viewer, projectId) = await ArrangeAsync();
        var created = await author.Http.PostAsync($"/api/projects/{projectId}/tasks", Json(IssueExample));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var location = created.Headers.Location!.ToString();

        var export = await viewer.Http.GetAsync(location);
        Assert.Equal(HttpStatusCode.OK, export.StatusCode);
        Assert.Equal("1", export.Headers.GetValues("X-Task-Version").Single());
        using var doc = JsonDocument.Parse(await export.Content.ReadAsStringAsync());
        Assert.Equal("Support tickets", doc.RootElement.GetProperty("name").GetString());
        Assert.Equal("email", doc.RootElement.GetProperty("preferences").GetProperty("textType").GetString());
        Assert.True(doc.RootElement.GetProperty("labels")[1].GetProperty("isOther").GetBoolean());

        var changed = IssueExample.Replace("Informal tone.", "Formal tone.");
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.Http.PutAsync($"{location}?expectedVersion=1", Json(changed))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await author.Http.PutAsync($"{location}?expectedVersion=1", Json(changed))).StatusCode);
        var stale = await author.Http.PutAsync($"{location}?expectedVersion=1", Json(changed.Replace("Formal", "Friendly")));
        Assert.Equal(HttpStatusCode.Conflict, stale.StatusCode);
        var versions = await author.Http.GetStringAsync($"{location}/versions");
        Assert.Equal(2, JsonDocument.Parse(versions).RootElement.GetArrayLength());
    }

    /// <summary>Issue 18: a problem document's title is in the request's language; its codes stay the same.</summary>
    [Theory]
    [InlineData(null, "The request has invalid fields.")]
    [InlineData("ja", "リクエストに不正な項目があります。")]
    public async Task A_problems_title_is_in_the_requests_language_and_its_codes_are_stable(string? language, string title)
    {
        var (author, _, projectId) = await ArrangeAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/projects/{projectId}/tasks")
        {
            Content = Json("""{"name": "x", "instruction": "y", "labels": [{"name": "only one"}]}"""),
        };
        if (language is not null) request.Headers.AcceptLanguage.ParseAdd(language);
        var response = await author.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var root = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal((title, "Invalid"), (root.GetProperty("title").GetString(), root.GetProperty("titleCode").GetString()));
        Assert.Contains(root.GetProperty("problems").EnumerateArray(), p => p.GetProperty("code").GetString() == "TooFewLabels");
    }

    [Theory]
    [InlineData("""{"name": "x", "instruction": "y", "labels": [{"name": "a", "descripton": "typo"}, {"name": "b"}], "colour": 1}""", "UnknownField", "labels[0].descripton")]
    [InlineData("""{"name": "x", "instruction": "y", "labels": [{"name": "a"}, """, "JsonMalformed", null)]
    [InlineData("""{"name": "x", "instruction": "y", "labels": [{"name": "only one"}]}""", "TooFewLabels", "labels")]
    [InlineData("""{"name": "x", "instruction": "y", "labels": [{"name": "Billing"}, {"name": " billing "}]}""", "LabelNameDuplicate", null)]
    [InlineData("""{"name": "x", "instruction": "y", "labels": [{"name": "a", "isOther": true}, {"name": "b", "isOther": true}]}""", "TooManyOtherLabels", null)]
    public async Task Bad_task_json_is_refused_with_the_problem_and_its_path_and_nothing_is_saved(string body, string code, string? path)
    {
        var (author, _, projectId) = await ArrangeAsync();
        var response = await author.Http.PostAsync($"/api/projects/{projectId}/tasks", Json(body));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        var problems = JsonDocument.Parse(text).RootElement.GetProperty("problems").EnumerateArray()
            .Select(p => (Field: p.GetProperty("field").GetString(), Code: p.GetProperty("code").GetString())).ToList();
        Assert.Contains(problems, p => p.Code == code && (path is null || p.Field == path));
        Assert.Equal(0, await CountTasksAsync(projectId));
    }

    [Fact]
    public async Task A_body_over_one_megabyte_is_refused_while_reading()
    {
        var (author, _, projectId) = await ArrangeAsync();
        var huge = IssueExample.Replace("Informal tone.", new string('x', 1_100_000));
        var response = await author.Http.PostAsync($"/api/projects/{projectId}/tasks", Json(huge));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("1,048,576", body);
        Assert.Contains("JsonTooLarge", body);
        Assert.Equal(0, await CountTasksAsync(projectId));
    }

    [Fact]
    public async Task A_viewer_cannot_create_tasks_and_an_update_without_expected_version_is_explained()
    {
        var (author, viewer, projectId) = await ArrangeAsync();
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.Http.PostAsync($"/api/projects/{projectId}/tasks", Json(IssueExample))).StatusCode);
        var created = await author.Http.PostAsync($"/api/projects/{projectId}/tasks", Json(IssueExample));
        var missing = await author.Http.PutAsync(created.Headers.Location, Json(IssueExample));
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        Assert.Contains("expectedVersion", await missing.Content.ReadAsStringAsync());
    }
}
