using System.Net;
using System.Text.Json;
using Incubator.Domain.Jobs;
using Incubator.Domain.Projects;
using Incubator.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.Integration;

/// <summary>One project owned by A, with B as Reviewer and D as Author; C is signed in but not a member. Each
/// person has their own cookie client obtained through the real sign-in endpoint.</summary>
public sealed class TeamPortal : PortalFactory, IAsyncLifetime
{
    public const string ProjectName = "Greenhouse Seventeen";

    public Guid ProjectId { get; private set; }

    public AuthenticatedClient Owner { get; private set; } = null!;

    public AuthenticatedClient Reviewer { get; private set; } = null!;

    public AuthenticatedClient Author { get; private set; } = null!;

    public AuthenticatedClient Outsider { get; private set; } = null!;

    public string OwnerEmail { get; } = PortalExtensions.UniqueEmail("a-owner");

    public string ReviewerEmail { get; } = PortalExtensions.UniqueEmail("b-reviewer");

    public string AuthorEmail { get; } = PortalExtensions.UniqueEmail("d-author");

    public string OutsiderEmail { get; } = PortalExtensions.UniqueEmail("c-outsider");

    public async Task InitializeAsync()
    {
        var owner = await this.RegisterAsync(OwnerEmail);
        await this.RegisterAsync(ReviewerEmail);
        await this.RegisterAsync(AuthorEmail);
        await this.RegisterAsync(OutsiderEmail);
        var projects = Services.GetRequiredService<ProjectService>();
        ProjectId = (await projects.CreateProjectAsync(owner.Id, ProjectName, "Shared by the team")).Id;
        await projects.AddMemberAsync(owner.Id, ProjectId, ReviewerEmail, ProjectRole.Reviewer);
        await projects.AddMemberAsync(owner.Id, ProjectId, AuthorEmail, ProjectRole.Author);
        Owner = await AuthenticatedClient.SignInAsync(this, OwnerEmail);
        Reviewer = await AuthenticatedClient.SignInAsync(this, ReviewerEmail);
        Author = await AuthenticatedClient.SignInAsync(this, AuthorEmail);
        Outsider = await AuthenticatedClient.SignInAsync(this, OutsiderEmail);
    }

    Task IAsyncLifetime.DisposeAsync()
    {
        foreach (var c in new[] { Owner, Reviewer, Author, Outsider }) c?.Dispose();
        return Task.CompletedTask;
    }
}

public sealed class ProjectAuthorizationHttpTests(TeamPortal team) : IClassFixture<TeamPortal>
{
    private static readonly object SmallJob = new { steps = 3, delayMs = 50 };

    private string Project => $"/api/projects/{team.ProjectId}";

    private Task<int> JobRowsAsync() => team.QueryAsync(db => db.Jobs.CountAsync(j => j.ProjectId == team.ProjectId));

    private Task<int> MemberRowsAsync() => team.QueryAsync(db => db.ProjectMembers.CountAsync(m => m.ProjectId == team.ProjectId));

    private static Task<HttpResponseMessage> SendAsync(AuthenticatedClient client, string method, string path) => method switch
    {
        "GET" => client.Http.GetAsync(path),
        "POST-job" => client.Http.PostJsonAsync(path, SmallJob),
        "POST-member" => client.Http.PostJsonAsync(path, new { email = PortalExtensions.UniqueEmail("nobody"), role = "Viewer" }),
        _ => throw new ArgumentOutOfRangeException(nameof(method)),
    };

    private static Uri Resolve(AuthenticatedClient client, HttpResponseMessage response) =>
        new(client.BaseAddress, response.Headers.Location ?? throw new InvalidOperationException("No Location header."));

    [Theory]
    [InlineData("GET", "")]
    [InlineData("GET", "/members")]
    [InlineData("GET", "/jobs")]
    [InlineData("POST-job", "/jobs/diagnostics")]
    [InlineData("POST-member", "/members")]
    public async Task An_outsider_gets_403_from_every_project_endpoint_and_learns_nothing(string method, string suffix)
    {
        var jobs = await JobRowsAsync();
        var members = await MemberRowsAsync();

        using var response = await SendAsync(team.Outsider, method, Project + suffix);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        // A machine answer, not the HTML status page.
        Assert.NotEqual("text/html", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain(TeamPortal.ProjectName, body);
        Assert.DoesNotContain(team.OwnerEmail, body);
        Assert.Equal(jobs, await JobRowsAsync());
        Assert.Equal(members, await MemberRowsAsync());
    }

    [Fact]
    public async Task An_outsiders_project_list_does_not_include_the_project()
    {
        using var outsider = await team.Outsider.Http.GetAsync("/api/projects?includeArchived=true");
        using var reviewer = await team.Reviewer.Http.GetAsync("/api/projects");

        Assert.Equal(HttpStatusCode.OK, outsider.StatusCode);
        Assert.DoesNotContain(await outsider.ReadJsonAsync<List<ProjectSummary>>(), p => p.Id == team.ProjectId);
        // The same request by a member does list it, so the absence above is authorization, not a broken list.
        var listed = Assert.Single(await reviewer.ReadJsonAsync<List<ProjectSummary>>(), p => p.Id == team.ProjectId);
        Assert.Equal(ProjectRole.Reviewer, listed.MyRole);
    }

    [Theory]
    [InlineData("")]
    [InlineData("/members")]
    [InlineData("/jobs")]
    public async Task Anonymous_api_calls_get_401_not_a_redirect_to_the_login_page(string suffix)
    {
        using var anonymous = AuthenticatedClient.Anonymous(team);

        using var response = await anonymous.Http.GetAsync(Project + suffix);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Null(response.Headers.Location);
        Assert.DoesNotContain(TeamPortal.ProjectName, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Anonymous_cannot_list_or_create_projects()
    {
        using var anonymous = AuthenticatedClient.Anonymous(team);
        var before = await team.QueryAsync(db => db.Projects.CountAsync());

        using var list = await anonymous.Http.GetAsync("/api/projects");
        using var create = await anonymous.Http.PostJsonAsync("/api/projects", new { name = "Anonymous project" });

        Assert.Equal(HttpStatusCode.Unauthorized, list.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, create.StatusCode);
        Assert.Equal(before, await team.QueryAsync(db => db.Projects.CountAsync()));
    }

    [Fact]
    public async Task A_reviewer_can_read_the_project_members_and_jobs()
    {
        using var project = await team.Reviewer.Http.GetAsync(Project);
        using var members = await team.Reviewer.Http.GetAsync(Project + "/members");
        using var jobs = await team.Reviewer.Http.GetAsync(Project + "/jobs");

        Assert.Equal(HttpStatusCode.OK, project.StatusCode);
        var overview = await project.ReadJsonAsync<ProjectOverview>();
        Assert.Equal((team.ProjectId, TeamPortal.ProjectName, ProjectRole.Reviewer), (overview.Project.Id, overview.Project.Name, overview.Project.MyRole));
        Assert.Equal(HttpStatusCode.OK, members.StatusCode);
        Assert.Contains(await members.ReadJsonAsync<List<MemberView>>(), m => m.Email == team.OwnerEmail && m.Role == ProjectRole.Owner);
        Assert.Equal(HttpStatusCode.OK, jobs.StatusCode);
    }

    [Fact]
    public async Task A_reviewer_can_neither_start_a_job_nor_add_a_member()
    {
        var jobs = await JobRowsAsync();
        var members = await MemberRowsAsync();
        var target = PortalExtensions.UniqueEmail("wanted");
        await team.RegisterAsync(target);

        using var job = await team.Reviewer.Http.PostJsonAsync(Project + "/jobs/diagnostics", SmallJob);
        using var member = await team.Reviewer.Http.PostJsonAsync(Project + "/members", new { email = target, role = "Viewer" });

        Assert.Equal(HttpStatusCode.Forbidden, job.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, member.StatusCode);
        Assert.Equal(jobs, await JobRowsAsync());
        Assert.Equal(members, await MemberRowsAsync());
    }

    [Fact]
    public async Task An_author_can_start_a_job_but_cannot_add_a_member()
    {
        var target = PortalExtensions.UniqueEmail("wanted");
        await team.RegisterAsync(target);
        var members = await MemberRowsAsync();

        using var job = await team.Author.Http.PostJsonAsync(Project + "/jobs/diagnostics", SmallJob);
        using var member = await team.Author.Http.PostJsonAsync(Project + "/members", new { email = target, role = "Viewer" });

        Assert.Equal(HttpStatusCode.Accepted, job.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, member.StatusCode);
        Assert.Equal(members, await MemberRowsAsync());
    }

    [Fact]
    public async Task The_owner_can_start_a_job_and_add_a_member()
    {
        var target = PortalExtensions.UniqueEmail("joiner");
        var joiner = await team.RegisterAsync(target);
        var jobs = await JobRowsAsync();

        using var job = await team.Owner.Http.PostJsonAsync(Project + "/jobs/diagnostics", SmallJob);
        using var member = await team.Owner.Http.PostJsonAsync(Project + "/members", new { email = target, role = "Viewer" });

        Assert.Equal(HttpStatusCode.Accepted, job.StatusCode);
        var view = await job.ReadJsonAsync<JobView>();
        Assert.Equal((team.ProjectId, DiagnosticsJob.KindName), (view.ProjectId, view.Kind));
        Assert.Equal($"/api/jobs/{view.Id}", job.Headers.Location?.OriginalString);
        Assert.Equal(jobs + 1, await JobRowsAsync());

        Assert.Equal(HttpStatusCode.OK, member.StatusCode);
        var added = await member.ReadJsonAsync<MemberView>();
        Assert.Equal((joiner.Id, ProjectRole.Viewer), (added.UserId, added.Role));
        Assert.True(await team.QueryAsync(db => db.ProjectMembers.AnyAsync(m => m.ProjectId == team.ProjectId && m.UserId == joiner.Id && m.Role == ProjectRole.Viewer)));
    }

    [Fact]
    public async Task An_outsider_cannot_read_a_job_of_the_project_by_its_id()
    {
        using var started = await team.Owner.Http.PostJsonAsync(Project + "/jobs/diagnostics", SmallJob);
        var jobId = (await started.ReadJsonAsync<JobView>()).Id;

        using var get = await team.Outsider.Http.GetAsync($"/api/jobs/{jobId}");
        using var log = await team.Outsider.Http.GetAsync($"/api/jobs/{jobId}/log");
        using var cancel = await team.Outsider.Http.PostAsync($"/api/jobs/{jobId}/cancel", null);
        using var reviewerGet = await team.Reviewer.Http.GetAsync($"/api/jobs/{jobId}");

        Assert.Equal(HttpStatusCode.Forbidden, get.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, log.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, cancel.StatusCode);
        Assert.False(await team.QueryAsync(db => db.Jobs.Where(j => j.Id == jobId).Select(j => j.CancelRequested).SingleAsync()));
        Assert.Equal(HttpStatusCode.OK, reviewerGet.StatusCode);
    }

    [Fact]
    public async Task The_project_page_redirects_an_outsider_to_access_denied_which_answers_403()
    {
        using var page = await team.Outsider.Http.GetAsync($"/projects/{team.ProjectId}");

        Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
        var target = Resolve(team.Outsider, page);
        Assert.Equal("/account/access-denied", target.AbsolutePath);
        Assert.DoesNotContain(TeamPortal.ProjectName, await page.Content.ReadAsStringAsync());

        using var denied = await team.Outsider.Http.GetAsync(target);
        Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
        Assert.DoesNotContain(TeamPortal.ProjectName, await denied.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("")]
    [InlineData("/members")]
    [InlineData("/jobs")]
    [InlineData("/settings")]
    public async Task Project_pages_redirect_anonymous_visitors_to_the_login_page(string suffix)
    {
        using var anonymous = AuthenticatedClient.Anonymous(team);

        using var page = await anonymous.Http.GetAsync($"/projects/{team.ProjectId}{suffix}");

        Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
        var target = Resolve(anonymous, page);
        Assert.Equal("/account/login", target.AbsolutePath);
        Assert.Contains(Uri.EscapeDataString($"/projects/{team.ProjectId}{suffix}"), target.Query, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("")]
    [InlineData("/members")]
    [InlineData("/jobs")]
    public async Task A_reviewer_sees_the_project_pages_with_the_project_name(string suffix)
    {
        using var page = await team.Reviewer.Http.GetAsync($"/projects/{team.ProjectId}{suffix}");

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains(TeamPortal.ProjectName, html);
        Assert.DoesNotContain("data-testid=\"no-access\"", html);
    }

    [Fact]
    public async Task An_unknown_page_shows_the_friendly_not_found_page_with_404_but_an_unknown_api_path_a_bare_404()
    {
        using var anonymous = AuthenticatedClient.Anonymous(team);

        using var page = await anonymous.Http.GetAsync("/no-such-page");
        using var api = await team.Owner.Http.GetAsync("/api/no-such-thing");

        Assert.Equal(HttpStatusCode.NotFound, page.StatusCode);
        Assert.Contains("Page not found", await page.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, api.StatusCode);
        Assert.DoesNotContain("Page not found", await api.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_settings_page_is_for_Owners_only()
    {
        using var reviewer = await team.Reviewer.Http.GetAsync($"/projects/{team.ProjectId}/settings");
        using var author = await team.Author.Http.GetAsync($"/projects/{team.ProjectId}/settings");
        using var owner = await team.Owner.Http.GetAsync($"/projects/{team.ProjectId}/settings");

        Assert.Equal(HttpStatusCode.Redirect, reviewer.StatusCode);
        Assert.Equal("/account/access-denied", Resolve(team.Reviewer, reviewer).AbsolutePath);
        Assert.Equal(HttpStatusCode.Redirect, author.StatusCode);
        Assert.Equal("/account/access-denied", Resolve(team.Author, author).AbsolutePath);
        Assert.Equal(HttpStatusCode.OK, owner.StatusCode);
        Assert.Contains("data-testid=\"settings-name\"", await owner.Content.ReadAsStringAsync());
    }
}

/// <summary>POST /api/projects validation and ownership, through HTTP.</summary>
public sealed class ProjectsApiTests(ProjectsApiTests.Portal portal) : IClassFixture<ProjectsApiTests.Portal>
{
    public sealed class Portal : PortalFactory;

    private async Task<AuthenticatedClient> SignedInAsync()
    {
        var email = PortalExtensions.UniqueEmail("api");
        await portal.RegisterAsync(email);
        return await AuthenticatedClient.SignInAsync(portal, email);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData(null)]
    public async Task Creating_a_project_without_a_name_answers_400_naming_the_name_field(string? name)
    {
        using var client = await SignedInAsync();
        var before = await portal.QueryAsync(db => db.Projects.CountAsync());

        using var response = await client.Http.PostJsonAsync("/api/projects", new { name, description = "x" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith("application/problem+json", response.Content.Headers.ContentType?.ToString());
        var problem = await response.ReadJsonAsync<JsonElement>();
        var errors = problem.GetProperty("errors");
        Assert.Equal(new[] { "name" }, errors.EnumerateObject().Select(p => p.Name).ToArray());
        Assert.Equal("Project name is required.", errors.GetProperty("name")[0].GetString());
        Assert.Equal(before, await portal.QueryAsync(db => db.Projects.CountAsync()));
    }

    [Fact]
    public async Task Creating_a_project_with_a_101_character_name_answers_400_and_saves_nothing()
    {
        using var client = await SignedInAsync();
        var before = await portal.QueryAsync(db => db.Projects.CountAsync());

        using var response = await client.Http.PostJsonAsync("/api/projects", new { name = new string('n', 101) });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await response.ReadJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty("name", out _));
        Assert.Equal(before, await portal.QueryAsync(db => db.Projects.CountAsync()));
    }

    [Fact]
    public async Task Creating_a_project_answers_201_with_its_location_and_the_creator_as_Owner()
    {
        using var client = await SignedInAsync();

        using var response = await client.Http.PostJsonAsync("/api/projects", new { name = "  Sprouts  ", description = "api" });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = await response.ReadJsonAsync<ProjectSummary>();
        Assert.Equal(("Sprouts", ProjectRole.Owner), (created.Name, created.MyRole));
        Assert.Equal($"/api/projects/{created.Id}", response.Headers.Location?.OriginalString);

        using var get = await client.Http.GetAsync(response.Headers.Location);
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        var overview = await get.ReadJsonAsync<ProjectOverview>();
        Assert.Equal(ProjectRole.Owner, Assert.Single(overview.Members).Role);
        Assert.Contains(overview.RecentActivity, a => a.Kind == ActivityKinds.ProjectCreated);
    }

    [Fact]
    public async Task The_project_list_hides_archived_projects_unless_includeArchived_is_set()
    {
        using var client = await SignedInAsync();
        using var created = await client.Http.PostJsonAsync("/api/projects", new { name = "To be archived" });
        var project = await created.ReadJsonAsync<ProjectSummary>();
        var ownerId = await portal.QueryAsync(db => db.ProjectMembers.Where(m => m.ProjectId == project.Id).Select(m => m.UserId).SingleAsync());
        await portal.Services.GetRequiredService<ProjectService>().SetArchivedAsync(ownerId, project.Id, true);

        var visible = await (await client.Http.GetAsync("/api/projects")).ReadJsonAsync<List<ProjectSummary>>();
        var all = await (await client.Http.GetAsync("/api/projects?includeArchived=true")).ReadJsonAsync<List<ProjectSummary>>();

        Assert.DoesNotContain(visible, p => p.Id == project.Id);
        Assert.True(Assert.Single(all, p => p.Id == project.Id).IsArchived);
    }
}
