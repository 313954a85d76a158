using System.Net;
using System.Net.Http.Json;
using System.Reflection;
using System.Text;
using Incubator.Domain.Projects;
using Incubator.Domain.Tasks;
using Incubator.Tests.Infrastructure;
using Incubator.Web.Hubs;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Endpoints;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Incubator.Tests.Security;

/// <summary>Who may call a route or open a page: nobody needs to be signed in (Public), any signed-in account
/// (SignedIn), a site administrator (Admin), or a member of the route's project with at least this role.</summary>
public enum Access
{
    Public,
    SignedIn,
    Admin,
    Viewer,
    Reviewer,
    Author,
    Owner,
}

/// <summary>Every route the running portal maps and every routable page, enumerated from the app itself (the endpoint
/// data source; <see cref="RouteAttribute"/> by reflection), each looked up in a table saying who may use it. A route or
/// page the table does not know fails the sweep with its name, so a new endpoint cannot go unchecked. Each project
/// route is then called with real ids of a project (<see cref="SweepPortal"/>): anonymously (401, not a redirect), by a
/// signed-in outsider (403 or 404, nothing of the project in the answer, no row of the database changed) and by the
/// member whose role is just too low (403, nothing changed); reads also by the member with the lowest role allowed (not
/// refused), which keeps the table honest. Ids of one project under another project's address are refused too.</summary>
public sealed class AuthorizationSweepTests(SweepPortal portal, ITestOutputHelper output) : IClassFixture<SweepPortal>
{
    private static HttpContent Json(object body) => JsonContent.Create(body, options: PortalExtensions.Json);

    private static HttpContent Raw(string text, string type = "application/json") =>
        new StringContent(text, Encoding.UTF8, type);

    private static HttpContent TaskBody(string name) => Raw(TaskJson.Serialize(ReviewSeed.MailTask with { Name = name }));

    private static HttpContent GoldFile()
    {
        var form = new MultipartFormDataContent();
        form.Add(new StringContent("billing\tMy invoice is wrong\nshipping\tWhere is my parcel\n"), "file", "gold.tsv");
        return form;
    }

    /// <summary>What a route needs, and how to call it: the query string and body a member with enough rights would
    /// send, so a refusal is about who calls, not about a malformed request. NoPositiveCheck: a read whose "allowed"
    /// answer is not a success with the sweep's rows, and why.</summary>
    internal sealed record Route(Access Min, Func<SweepIds, HttpContent>? Body = null, string Query = "", string? NoPositiveCheck = null);

    /// <summary>THE TABLE: every route of the app ("METHOD pattern"), who may use it. A route missing here fails
    /// <see cref="Every_route_and_page_of_the_app_is_in_the_table"/>.</summary>
    internal static readonly Dictionary<string, Route> Routes = new(StringComparer.Ordinal)
    {
        // Accounts (forms of the portal's own pages; the ticket is the credential).
        ["POST /account/signin-ticket"] = new(Access.Public),
        ["POST /account/logout"] = new(Access.Public),
        ["POST /account/culture"] = new(Access.Public),
        // MapStaticAssets' fallback for files outside the build manifest (development-time wwwroot files).
        ["GET /{**path:file}"] = new(Access.Public),
        ["HEAD /{**path:file}"] = new(Access.Public),
        // Operations.
        ["* /healthz"] = new(Access.Public),
        ["* /healthz/ready"] = new(Access.Public),
        ["* /healthz/live"] = new(Access.Public),
        ["GET /openapi/{documentName}.json"] = new(Access.Public),
        // The hub (its methods are swept by HubAuthorizationSweepTests).
        ["* /hubs/projects"] = new(Access.SignedIn),
        ["* /hubs/projects/negotiate"] = new(Access.SignedIn),

        // Projects, members, invitations, jobs.
        ["GET /api/projects"] = new(Access.SignedIn),
        ["POST /api/projects"] = new(Access.SignedIn),
        ["GET /api/projects/{ProjectId:guid}"] = new(Access.Viewer),
        ["GET /api/projects/{ProjectId:guid}/members"] = new(Access.Viewer),
        ["POST /api/projects/{ProjectId:guid}/members"] = new(Access.Owner, _ => Json(new { email = PortalExtensions.UniqueEmail("added"), role = "Viewer" })),
        ["GET /api/projects/{ProjectId:guid}/invitations"] = new(Access.Owner),
        ["POST /api/projects/{ProjectId:guid}/invitations"] = new(Access.Owner, _ => Json(new { email = PortalExtensions.UniqueEmail("inv"), role = "Viewer" })),
        ["DELETE /api/invitations/{invitationId:guid}"] = new(Access.Owner),
        ["GET /api/projects/{ProjectId:guid}/jobs"] = new(Access.Viewer),
        ["POST /api/projects/{ProjectId:guid}/jobs/diagnostics"] = new(Access.Author, _ => Json(new { steps = 1, delayMs = 0 })),
        ["GET /api/jobs/{jobId:guid}"] = new(Access.Viewer),
        ["GET /api/jobs/{jobId:guid}/log"] = new(Access.Viewer),
        ["POST /api/jobs/{jobId:guid}/cancel"] = new(Access.Author),

        // Tasks.
        ["GET /api/projects/{ProjectId:guid}/tasks"] = new(Access.Viewer),
        ["POST /api/projects/{ProjectId:guid}/tasks"] = new(Access.Author, _ => TaskBody("New task")),
        ["GET /api/tasks/{taskId:guid}"] = new(Access.Viewer),
        ["PUT /api/tasks/{taskId:guid}"] = new(Access.Author, _ => TaskBody("Renamed task"), "?expectedVersion=1"),
        ["GET /api/tasks/{taskId:guid}/versions"] = new(Access.Viewer),

        // Review.
        ["GET /api/tasks/{taskId:guid}/candidates"] = new(Access.Viewer),
        ["GET /api/tasks/{taskId:guid}/candidates/export"] = new(Access.Viewer),
        ["POST /api/tasks/{taskId:guid}/candidates/export-jobs"] = new(Access.Viewer),
        ["GET /api/exports/{jobId:guid}/download"] = new(Access.Viewer, NoPositiveCheck: "the sweep's job is not an export: 404 for a member"),
        ["GET /api/tasks/{taskId:guid}/review-policy"] = new(Access.Viewer),
        ["PUT /api/tasks/{taskId:guid}/review-policy"] = new(Access.Author, _ => Json(new { overlapK = 2, spotCheckThreshold = 0.5 })),
        ["POST /api/tasks/{taskId:guid}/assignments/next"] = new(Access.Reviewer, _ => Json(new { })),
        ["DELETE /api/tasks/{taskId:guid}/assignments"] = new(Access.Viewer),
        ["GET /api/tasks/{taskId:guid}/assignments"] = new(Access.Viewer),
        ["GET /api/tasks/{taskId:guid}/short-labels"] = new(Access.Viewer),
        ["POST /api/tasks/{taskId:guid}/short-labels/{label}/top-up"] = new(Access.Reviewer),
        ["GET /api/tasks/{taskId:guid}/conflicts"] = new(Access.Viewer),
        ["GET /api/tasks/{taskId:guid}/agreement"] = new(Access.Viewer),
        ["POST /api/candidates/{candidateId:guid}/decisions"] = new(Access.Reviewer, _ => Json(new { kind = "Approve", expectedVersion = 0 })),
        ["POST /api/candidates/{candidateId:guid}/lease"] = new(Access.Reviewer),
        ["POST /api/candidates/{candidateId:guid}/settle"] = new(Access.Owner, _ => Json(new { kind = "Approve" })),
        ["GET /api/candidates/{candidateId:guid}/audit"] = new(Access.Viewer),
        ["GET /api/projects/{ProjectId:guid}/audit"] = new(Access.Viewer),
        ["GET /api/projects/{ProjectId:guid}/audit/export"] = new(Access.Viewer),

        // Generation.
        ["GET /api/projects/{ProjectId:guid}/runs"] = new(Access.Viewer),
        ["POST /api/projects/{ProjectId:guid}/runs"] = new(Access.Author, v => Json(new { taskId = v.TaskId, connectionId = v.ConnectionId, perLabel = 2 })),
        ["GET /api/runs/{runId:guid}"] = new(Access.Viewer),

        // Corpora, mining, labelling.
        ["GET /api/projects/{ProjectId:guid}/corpora"] = new(Access.Viewer),
        ["POST /api/projects/{ProjectId:guid}/corpora"] = new(Access.Author, _ => Raw("one line\nanother line\n", "application/octet-stream"), "?name=new&fileName=new.txt"),
        ["POST /api/projects/{ProjectId:guid}/corpora/uploads"] = new(Access.Author, _ => Raw("one line\n", "application/octet-stream")),
        ["GET /api/corpora/{corpusId:guid}"] = new(Access.Viewer),
        ["GET /api/corpora/{corpusId:guid}/report"] = new(Access.Viewer),
        ["GET /api/corpora/{corpusId:guid}/texts"] = new(Access.Viewer),
        ["DELETE /api/corpora/{corpusId:guid}"] = new(Access.Author),
        ["POST /api/corpora/{corpusId:guid}/embeddings"] = new(Access.Author),
        ["GET /api/tasks/{taskId:guid}/mining/runs"] = new(Access.Viewer),
        ["POST /api/tasks/{taskId:guid}/mining/runs"] = new(Access.Author, v => Json(new { corpusId = v.CorpusId, perLabel = 2 })),
        ["GET /api/tasks/{taskId:guid}/mining/active-learning"] = new(Access.Viewer),
        ["POST /api/tasks/{taskId:guid}/mining/active-learning"] = new(Access.Author),
        ["GET /api/tasks/{taskId:guid}/labelling/runs"] = new(Access.Viewer),
        ["POST /api/tasks/{taskId:guid}/labelling/estimate"] = new(Access.Author, v => Json(new { corpusId = v.CorpusId, connectionId = v.ConnectionId, limit = 5 })),
        ["POST /api/tasks/{taskId:guid}/labelling/runs"] = new(Access.Author, v => Json(new { corpusId = v.CorpusId, connectionId = v.ConnectionId, limit = 5 })),
        ["GET /api/labelling-runs/{runId:guid}"] = new(Access.Viewer),

        // Queries and model applications.
        ["GET /api/projects/{ProjectId:guid}/query-models"] = new(Access.Viewer),
        ["POST /api/projects/{ProjectId:guid}/queries/check"] = new(Access.Viewer, _ => Json(new { expression = "billing" })),
        ["POST /api/projects/{ProjectId:guid}/queries"] = new(Access.Author, v => Json(new { corpusId = v.CorpusId, expression = "billing" })),
        ["POST /api/projects/{ProjectId:guid}/applications"] = new(Access.Author, v => Json(new { corpusId = v.CorpusId, modelVersionId = v.ModelId })),
        ["GET /api/projects/{ProjectId:guid}/query-runs"] = new(Access.Viewer),
        ["GET /api/projects/{ProjectId:guid}/query-runs/{runId:guid}"] = new(Access.Viewer),
        ["GET /api/projects/{ProjectId:guid}/query-runs/{runId:guid}/hits"] = new(Access.Viewer),
        ["GET /api/projects/{ProjectId:guid}/query-runs/{runId:guid}/export"] = new(Access.Viewer),

        // Datasets, gold sets, training, models.
        ["GET /api/tasks/{taskId:guid}/datasets"] = new(Access.Viewer),
        ["POST /api/tasks/{taskId:guid}/datasets"] = new(Access.Author, _ => Json(new { seed = 2 })),
        ["GET /api/tasks/{taskId:guid}/gold"] = new(Access.Viewer),
        ["POST /api/tasks/{taskId:guid}/gold"] = new(Access.Author, _ => GoldFile()),
        ["POST /api/tasks/{taskId:guid}/training"] = new(Access.Author, v => Json(new { family = "auto", datasetVersionId = v.DatasetId })),
        ["GET /api/datasets/{datasetId:guid}/fine-tuning-pairs"] = new(Access.Reviewer),
        ["GET /api/projects/{projectId:guid}/fine-tuning-pairs"] = new(Access.Reviewer),
        ["GET /api/projects/{ProjectId:guid}/models"] = new(Access.Viewer),
        ["GET /api/models/{modelId:guid}"] = new(Access.Viewer),
        ["GET /api/models/{modelId:guid}/bundle"] = new(Access.Viewer, NoPositiveCheck: "the sweep's model is a row without files: 404/409 for a member"),
        ["POST /api/models/{modelId:guid}/predict"] = new(Access.Viewer, _ => Json(new { texts = new[] { "my invoice" } })),
        ["POST /api/models/{modelId:guid}/publish"] = new(Access.Author),
        ["POST /api/models/{modelId:guid}/retire"] = new(Access.Author),
    };

    /// <summary>THE PAGE TABLE: every routable component's template, who may open it.</summary>
    private static readonly Dictionary<string, Access> Pages = new(StringComparer.Ordinal)
    {
        ["/"] = Access.Public,
        ["/error"] = Access.Public,
        ["/not-found"] = Access.Public,
        ["/invite/{Token}"] = Access.Public,
        ["/account/access-denied"] = Access.Public,
        ["/account/login"] = Access.Public,
        ["/account/register"] = Access.Public,
        ["/account/forgot-password"] = Access.Public,
        ["/account/reset-password"] = Access.Public,
        ["/account/tokens"] = Access.SignedIn,
        ["/account/password"] = Access.SignedIn,
        ["/projects/new"] = Access.SignedIn,
        ["/admin/site"] = Access.Admin,
        ["/admin/users"] = Access.Admin,
        ["/projects/{ProjectId:guid}"] = Access.Viewer,
        ["/projects/{ProjectId:guid}/jobs"] = Access.Viewer,
        ["/projects/{ProjectId:guid}/members"] = Access.Viewer,
        ["/projects/{ProjectId:guid}/connections"] = Access.Viewer,
        ["/projects/{ProjectId:guid}/settings"] = Access.Owner,
        ["/projects/{ProjectId:guid}/audit"] = Access.Viewer,
        ["/projects/{ProjectId:guid}/tasks"] = Access.Viewer,
        ["/projects/{ProjectId:guid}/tasks/new"] = Access.Author,
        ["/projects/{ProjectId:guid}/tasks/{TaskId:guid}"] = Access.Viewer,
        ["/projects/{ProjectId:guid}/tasks/{TaskId:guid}/history"] = Access.Viewer,
        ["/projects/{ProjectId:guid}/tasks/{TaskId:guid}/generate"] = Access.Author,
        ["/projects/{ProjectId:guid}/tasks/{TaskId:guid}/label"] = Access.Author,
        ["/projects/{ProjectId:guid}/tasks/{TaskId:guid}/mine"] = Access.Viewer,
        ["/projects/{ProjectId:guid}/tasks/{TaskId:guid}/review"] = Access.Viewer,
        ["/projects/{ProjectId:guid}/tasks/{TaskId:guid}/review/focus"] = Access.Reviewer,
        ["/projects/{ProjectId:guid}/runs/{RunId:guid}"] = Access.Viewer,
        ["/projects/{ProjectId:guid}/corpora"] = Access.Viewer,
        ["/projects/{ProjectId:guid}/query"] = Access.Viewer,
        ["/projects/{ProjectId:guid}/query-runs/{RunId:guid}"] = Access.Viewer,
        ["/projects/{ProjectId:guid}/models"] = Access.Viewer,
        ["/projects/{ProjectId:guid}/models/compare"] = Access.Viewer,
        ["/projects/{ProjectId:guid}/models/{ModelId:guid}"] = Access.Viewer,
        ["/projects/{ProjectId:guid}/playground"] = Access.Viewer,
    };

    /// <summary>Ids some pages take from the query string (filled like route values).</summary>
    private static readonly Dictionary<string, string> PageQueries = new(StringComparer.Ordinal)
    {
        ["/projects/{ProjectId:guid}/models/compare"] = "?a={modelId}&b={modelId}",
        ["/projects/{ProjectId:guid}/models"] = "?task={taskId}",
        ["/projects/{ProjectId:guid}/playground"] = "?model={modelId}",
        ["/projects/{ProjectId:guid}/tasks/{TaskId:guid}/review"] = "?run={runId}",
        ["/projects/{ProjectId:guid}/tasks/{TaskId:guid}/review/focus"] = "?run={runId}",
    };

    private static readonly string[] ProjectRoles = ["Viewer", "Reviewer", "Author", "Owner"];

    private sealed record Enumerated(string Key, string Method, string Pattern, Endpoint Endpoint);

    /// <summary>The app's own endpoints: API, account, hub, health and OpenAPI routes (pages are swept from their
    /// components; Blazor's framework endpoints and static files are not the app's routes).</summary>
    private List<Enumerated> EnumerateRoutes()
    {
        var sources = portal.Services.GetRequiredService<IEnumerable<EndpointDataSource>>();
        var found = new List<Enumerated>();
        foreach (var endpoint in sources.SelectMany(s => s.Endpoints).OfType<RouteEndpoint>())
        {
            var raw = endpoint.RoutePattern.RawText ?? "";
            var pattern = raw.Length > 1 ? raw.TrimEnd('/') : raw;
            if (!pattern.StartsWith('/')) pattern = "/" + pattern;
            if (endpoint.Metadata.GetMetadata<ComponentTypeMetadata>() is not null) continue; // a page: see the page table
            if (pattern.StartsWith("/_blazor", StringComparison.Ordinal) || pattern.StartsWith("/_framework", StringComparison.Ordinal)) continue;
            if (endpoint.Metadata.Any(m => m.GetType().FullName == "Microsoft.AspNetCore.StaticAssets.StaticAssetDescriptor")) continue;
            var methods = endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods;
            foreach (var method in methods is { Count: > 0 } ? methods : ["*"])
                found.Add(new Enumerated($"{method} {pattern}", method, pattern, endpoint));
        }
        return found;
    }

    private static IEnumerable<(string Template, Type Component)> EnumeratePages() =>
        typeof(ProjectsHub).Assembly.GetTypes()
            .SelectMany(t => t.GetCustomAttributes<RouteAttribute>().Select(r => (r.Template, t)));

    [Fact]
    public void Every_route_and_page_of_the_app_is_in_the_table()
    {
        var routes = EnumerateRoutes();
        var pages = EnumeratePages().ToList();
        output.WriteLine($"{routes.Count} routes enumerated; by minimum: "
            + string.Join(", ", routes.GroupBy(r => Routes.TryGetValue(r.Key, out var x) ? x.Min.ToString() : "UNCLASSIFIED").OrderBy(g => g.Key).Select(g => $"{g.Key} {g.Count()}")));
        output.WriteLine($"{pages.Count} pages enumerated; by minimum: "
            + string.Join(", ", pages.GroupBy(p => Pages.TryGetValue(p.Template, out var a) ? a.ToString() : "UNCLASSIFIED").OrderBy(g => g.Key).Select(g => $"{g.Key} {g.Count()}")));

        var unknownRoutes = routes.Where(r => !Routes.ContainsKey(r.Key)).Select(r => $"{r.Key} ({r.Endpoint.DisplayName})").ToList();
        var goneRoutes = Routes.Keys.Except(routes.Select(r => r.Key)).ToList();
        var unknownPages = pages.Select(p => p.Template).Where(t => !Pages.ContainsKey(t)).ToList();
        var gonePages = Pages.Keys.Except(pages.Select(p => p.Template)).ToList();
        Assert.True(unknownRoutes.Count == 0, "Routes the authorization sweep does not know (add each to AuthorizationSweepTests.Routes with who may use it): "
            + string.Join("; ", unknownRoutes));
        Assert.True(unknownPages.Count == 0, "Pages the authorization sweep does not know (add each to AuthorizationSweepTests.Pages): " + string.Join("; ", unknownPages));
        Assert.True(goneRoutes.Count == 0, "Routes in the table that the app no longer maps: " + string.Join("; ", goneRoutes));
        Assert.True(gonePages.Count == 0, "Pages in the table that the app no longer has: " + string.Join("; ", gonePages));
    }

    /// <summary>A page's own [Authorize] says what the table says: a project page without a project policy, or with a
    /// weaker one than the table's, fails here.</summary>
    [Fact]
    public void Every_page_declares_the_policy_the_table_gives_it()
    {
        var problems = new List<string>();
        foreach (var (template, component) in EnumeratePages())
        {
            if (!Pages.TryGetValue(template, out var access)) continue;
            var anonymous = component.GetCustomAttribute<AllowAnonymousAttribute>() is not null;
            var authorize = component.GetCustomAttributes<AuthorizeAttribute>().ToList();
            var policy = authorize.Select(a => a.Policy).FirstOrDefault(p => p is not null);
            var declared = anonymous || authorize.Count == 0 ? Access.Public
                : policy is null ? Access.SignedIn
                : policy == Incubator.Web.Accounts.ProjectPolicies.SiteAdmin ? Access.Admin
                : Enum.Parse<Access>(policy["Project.".Length..]);
            // "/" has no attribute: it is public and shows nothing of any project (checked below).
            if (declared != access) problems.Add($"{template} ({component.Name}): table says {access}, the component declares {declared}");
            if (template.Contains("{ProjectId", StringComparison.Ordinal) && access < Access.Viewer) problems.Add($"{template}: a project page open to non-members");
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    internal static string Fill(string pattern, SweepIds v) =>
        System.Text.RegularExpressions.Regex.Replace(pattern, @"\{(?<name>[A-Za-z]+)(:[a-z]+)?\}", m => m.Groups["name"].Value.ToLowerInvariant() switch
        {
            "projectid" => v.ProjectId.ToString(),
            "taskid" => v.TaskId.ToString(),
            "candidateid" => v.CandidateId.ToString(),
            "jobid" => v.JobId.ToString(),
            "runid" when pattern.Contains("labelling-runs", StringComparison.Ordinal) => v.LabellingRunId.ToString(),
            "runid" when pattern.Contains("query-runs", StringComparison.Ordinal) => v.QueryRunId.ToString(),
            "runid" => v.GenerationRunId.ToString(),
            "corpusid" => v.CorpusId.ToString(),
            "datasetid" => v.DatasetId.ToString(),
            "modelid" => v.ModelId.ToString(),
            "invitationid" => v.InvitationId.ToString(),
            "label" => "billing",
            "token" => "no-such-invitation",
            "documentname" => "v1",
            var other => throw new InvalidOperationException($"The sweep has no id for {{{other}}} in {pattern}: add one to SweepPortal."),
        });

    private static async Task<HttpResponseMessage> CallAsync(AuthenticatedClient client, string method, string url, HttpContent? body)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), url) { Content = body };
        return await client.Http.SendAsync(request);
    }

    private IEnumerable<(Enumerated Route, Route Rule)> ProjectRoutes() =>
        EnumerateRoutes().Where(r => Routes.TryGetValue(r.Key, out var rule) && rule.Min >= Access.Viewer).Select(r => (r, Routes[r.Key]));

    [Fact]
    public async Task Anonymous_calls_to_every_non_public_route_get_401_not_a_redirect()
    {
        var problems = new List<string>();
        using var anonymous = AuthenticatedClient.Anonymous(portal);
        var checkedCount = 0;
        foreach (var r in EnumerateRoutes().Where(r => Routes.TryGetValue(r.Key, out var x) && x.Min != Access.Public))
        {
            var rule = Routes[r.Key];
            var method = r.Method == "*" ? "GET" : r.Method;
            var url = Fill(r.Pattern, portal.Victim) + rule.Query;
            using var response = await CallAsync(anonymous, method, url, rule.Body?.Invoke(portal.Victim));
            var body = await response.Content.ReadAsStringAsync();
            checkedCount++;
            if (response.StatusCode != HttpStatusCode.Unauthorized || response.Headers.Location is not null || body.Contains(SweepPortal.Marker, StringComparison.Ordinal))
                problems.Add($"{r.Key}: {(int)response.StatusCode} {response.Headers.Location} {Short(body)}");
        }
        output.WriteLine($"{checkedCount} routes called anonymously");
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public async Task An_outsider_is_refused_by_every_project_route_learns_nothing_and_changes_nothing()
    {
        var problems = new List<string>();
        var statuses = new Dictionary<int, int>();
        var before = await portal.SnapshotAsync();
        var checkedCount = 0;
        foreach (var (r, rule) in ProjectRoutes())
        {
            var url = Fill(r.Pattern, portal.Victim) + rule.Query;
            using var response = await CallAsync(portal.Outsider, r.Method, url, rule.Body?.Invoke(portal.Victim));
            var body = await response.Content.ReadAsStringAsync();
            checkedCount++;
            statuses[(int)response.StatusCode] = statuses.GetValueOrDefault((int)response.StatusCode) + 1;
            if (response.StatusCode is not (HttpStatusCode.Forbidden or HttpStatusCode.NotFound)
                || response.Content.Headers.ContentType?.MediaType == "text/html"
                || body.Contains(SweepPortal.Marker, StringComparison.Ordinal)
                || body.Contains(portal.OwnerEmail, StringComparison.OrdinalIgnoreCase))
                problems.Add($"{r.Key}: {(int)response.StatusCode} {response.Content.Headers.ContentType} {Short(body)}");
            await portal.WaitForJobsAsync(portal.Victim.ProjectId);
            var after = await portal.SnapshotAsync();
            foreach (var d in SweepPortal.Differences(before, after)) problems.Add($"{r.Key} changed the database: {d}");
            before = after;
        }
        output.WriteLine($"{checkedCount} project routes called by an outsider: " + string.Join(", ", statuses.OrderBy(x => x.Key).Select(x => $"{x.Value}x {x.Key}")));
        Assert.True(checkedCount > 50, "The sweep found too few project routes: is the enumeration broken?");
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public async Task Members_whose_role_is_too_low_are_refused_and_change_nothing()
    {
        var problems = new List<string>();
        var before = await portal.SnapshotAsync();
        var checkedCount = 0;
        foreach (var (r, rule) in ProjectRoutes().Where(x => x.Rule.Min > Access.Viewer))
        {
            // Every role below the minimum: Viewer, Reviewer and Author for an Owner's route.
            foreach (var below in ProjectRoles.Take(Array.IndexOf(ProjectRoles, rule.Min.ToString())).Select(Enum.Parse<ProjectRole>))
            {
                var url = Fill(r.Pattern, portal.Victim) + rule.Query;
                using var response = await CallAsync(portal.Client(below), r.Method, url, rule.Body?.Invoke(portal.Victim));
                var body = await response.Content.ReadAsStringAsync();
                checkedCount++;
                if (response.StatusCode != HttpStatusCode.Forbidden) problems.Add($"{r.Key} as {below}: {(int)response.StatusCode} {Short(body)}");
                await portal.WaitForJobsAsync(portal.Victim.ProjectId);
                var after = await portal.SnapshotAsync();
                foreach (var d in SweepPortal.Differences(before, after)) problems.Add($"{r.Key} as {below} changed the database: {d}");
                before = after;
            }
        }
        output.WriteLine($"{checkedCount} calls of routes by a role below their minimum");
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    /// <summary>Keeps the table honest in the other direction: a read the table gives to Viewers is not refused to a
    /// Viewer (a table entry stricter than the app would make the checks above pass for the wrong reason).</summary>
    [Fact]
    public async Task The_lowest_role_the_table_allows_may_read()
    {
        var problems = new List<string>();
        foreach (var (r, rule) in ProjectRoutes().Where(x => x.Route.Method == "GET" && x.Rule.NoPositiveCheck is null))
        {
            var role = Enum.Parse<ProjectRole>(rule.Min.ToString());
            using var response = await CallAsync(portal.Client(role), "GET", Fill(r.Pattern, portal.Victim) + rule.Query, null);
            if (!response.IsSuccessStatusCode) problems.Add($"{r.Key} as {role}: {(int)response.StatusCode} {Short(await response.Content.ReadAsStringAsync())}");
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    /// <summary>The outsider owns project O: O's address with the victim's run, task, corpus, dataset or model ids.</summary>
    [Fact]
    public async Task Ids_of_another_project_under_a_members_own_project_are_refused()
    {
        var o = portal.OutsidersProjectId;
        var v = portal.Victim;
        var cases = new (string Method, string Url, HttpContent? Body)[]
        {
            ("GET", $"/api/projects/{o}/query-runs/{v.QueryRunId}", null),
            ("GET", $"/api/projects/{o}/query-runs/{v.QueryRunId}/hits", null),
            ("GET", $"/api/projects/{o}/query-runs/{v.QueryRunId}/export", null),
            ("GET", $"/api/projects/{o}/runs?taskId={v.TaskId}", null),
            ("GET", $"/api/projects/{o}/models?taskId={v.TaskId}", null),
            ("POST", $"/api/projects/{o}/runs", Json(new { taskId = v.TaskId, connectionId = v.ConnectionId, perLabel = 2 })),
            // The outsider's own task and corpus with the victim's LLM connection (its key, its spending).
            ("POST", $"/api/projects/{o}/runs", Json(new { taskId = portal.OutsidersTaskId, connectionId = v.ConnectionId, perLabel = 2 })),
            ("POST", $"/api/tasks/{portal.OutsidersTaskId}/labelling/estimate", Json(new { corpusId = portal.OutsidersCorpusId, connectionId = v.ConnectionId, limit = 5 })),
            ("POST", $"/api/tasks/{portal.OutsidersTaskId}/labelling/runs", Json(new { corpusId = portal.OutsidersCorpusId, connectionId = v.ConnectionId, limit = 5 })),
            ("POST", $"/api/projects/{o}/queries", Json(new { corpusId = v.CorpusId, expression = "billing" })),
            ("POST", $"/api/projects/{o}/applications", Json(new { corpusId = portal.OutsidersCorpusId, modelVersionId = v.ModelId })),
            ("POST", $"/api/projects/{o}/applications", Json(new { corpusId = v.CorpusId, modelVersionId = v.ModelId })),
            ("POST", $"/api/tasks/{portal.OutsidersTaskId}/mining/runs", Json(new { corpusId = v.CorpusId, perLabel = 2 })),
            ("POST", $"/api/tasks/{portal.OutsidersTaskId}/labelling/estimate", Json(new { corpusId = v.CorpusId, connectionId = v.ConnectionId, limit = 5 })),
            ("POST", $"/api/tasks/{portal.OutsidersTaskId}/labelling/runs", Json(new { corpusId = v.CorpusId, connectionId = v.ConnectionId, limit = 5 })),
            ("POST", $"/api/tasks/{portal.OutsidersTaskId}/training", Json(new { family = "auto", datasetVersionId = v.DatasetId })),
            ("POST", $"/api/tasks/{portal.OutsidersTaskId}/assignments/next", Json(new { runId = v.GenerationRunId })),
            ("GET", $"/api/tasks/{portal.OutsidersTaskId}/candidates?runId={v.GenerationRunId}&view=All", null),
        };
        var problems = new List<string>();
        var before = await portal.SnapshotAsync();
        foreach (var (method, url, body) in cases)
        {
            using var response = await CallAsync(portal.Outsider, method, url, body);
            var text = await response.Content.ReadAsStringAsync();
            // A list filtered by a foreign id may answer 200 with nothing in it; anything else must be a refusal.
            var ok = response.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.NotFound or HttpStatusCode.BadRequest
                || (method == "GET" && response.StatusCode == HttpStatusCode.OK) || response.StatusCode == HttpStatusCode.NoContent;
            if (!ok || text.Contains(SweepPortal.Marker, StringComparison.Ordinal)
                || text.Contains(v.GenerationRunId.ToString(), StringComparison.OrdinalIgnoreCase) && !url.Contains(v.GenerationRunId.ToString(), StringComparison.Ordinal)
                || text.Contains(v.ModelId.ToString(), StringComparison.OrdinalIgnoreCase) && !url.Contains(v.ModelId.ToString(), StringComparison.Ordinal))
                problems.Add($"{method} {url}: {(int)response.StatusCode} {Short(text)}");
            await portal.WaitForJobsAsync(o);
            await portal.WaitForJobsAsync(v.ProjectId);
        }
        var after = await portal.SnapshotAsync();
        // The outsider's own project may have gained rows only if a call above was accepted, and then problems says so.
        foreach (var d in SweepPortal.Differences(before, after)) problems.Add($"changed the database: {d}");
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    private static Uri? Target(AuthenticatedClient client, HttpResponseMessage response) =>
        response.Headers.Location is { } l ? new Uri(client.BaseAddress, l) : null;

    private static string FillPage(string template, SweepIds v) => Fill(template + PageQueries.GetValueOrDefault(template, ""), v);

    [Fact]
    public async Task Every_project_page_sends_anonymous_visitors_to_sign_in_and_outsiders_to_access_denied()
    {
        var problems = new List<string>();
        using var anonymous = AuthenticatedClient.Anonymous(portal);
        var before = await portal.SnapshotAsync();
        foreach (var (template, _) in EnumeratePages().Where(p => Pages.GetValueOrDefault(p.Template) is not Access.Public))
        {
            var access = Pages[template];
            var url = FillPage(template, portal.Victim);
            using (var page = await anonymous.Http.GetAsync(url))
            {
                if (page.StatusCode != HttpStatusCode.Redirect || Target(anonymous, page)?.AbsolutePath != "/account/login")
                    problems.Add($"{template} anonymous: {(int)page.StatusCode} {page.Headers.Location}");
            }
            if (access == Access.SignedIn) continue;
            // An administrator-only page refuses a signed-in non-administrator: the outsider (the first account registered,
            // the victim's owner, is the site's administrator).
            var refusedBy = new List<AuthenticatedClient> { portal.Outsider };
            if (access > Access.Viewer && access != Access.Admin)
                refusedBy.AddRange(ProjectRoles.Take(Array.IndexOf(ProjectRoles, access.ToString())).Select(r => portal.Client(Enum.Parse<ProjectRole>(r))));
            foreach (var client in refusedBy)
            {
                using var page = await client.Http.GetAsync(url);
                var html = await page.Content.ReadAsStringAsync();
                var who = client == portal.Outsider ? "outsider" : "role too low";
                if (page.StatusCode is not (HttpStatusCode.Redirect or HttpStatusCode.Forbidden)
                    || page.StatusCode == HttpStatusCode.Redirect && Target(client, page)?.AbsolutePath != "/account/access-denied"
                    || (client == portal.Outsider && html.Contains(SweepPortal.Marker, StringComparison.Ordinal)))
                    problems.Add($"{template} {who}: {(int)page.StatusCode} {page.Headers.Location}");
            }
        }
        foreach (var d in SweepPortal.Differences(before, await portal.SnapshotAsync())) problems.Add($"opening pages changed the database: {d}");
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public async Task Every_project_page_opens_for_the_lowest_role_the_table_allows()
    {
        var problems = new List<string>();
        foreach (var (template, _) in EnumeratePages().Where(p => Pages.GetValueOrDefault(p.Template) >= Access.Viewer))
        {
            var client = portal.Client(Enum.Parse<ProjectRole>(Pages[template].ToString()));
            using var page = await client.Http.GetAsync(FillPage(template, portal.Victim));
            var html = await page.Content.ReadAsStringAsync();
            if (page.StatusCode != HttpStatusCode.OK || html.Contains("data-testid=\"no-access\"", StringComparison.Ordinal))
                problems.Add($"{template} as {Pages[template]}: {(int)page.StatusCode} {page.Headers.Location}");
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    /// <summary>Pages with a task, run or model id besides the project: the outsider, Owner of their own project O,
    /// opens them with O's address and the victim's ids — the page must say it is not there and show nothing of it.</summary>
    [Fact]
    public async Task Every_page_refuses_a_child_id_of_another_project_under_a_members_own_project()
    {
        var problems = new List<string>();
        var checkedCount = 0;
        foreach (var (template, _) in EnumeratePages().Where(p => Pages.GetValueOrDefault(p.Template) >= Access.Viewer
                     && (System.Text.RegularExpressions.Regex.Matches(p.Template, @"\{").Count > 1 || PageQueries.ContainsKey(p.Template))))
        {
            var url = FillPage(template, portal.Victim).Replace(portal.Victim.ProjectId.ToString(), portal.OutsidersProjectId.ToString(), StringComparison.Ordinal);
            using var page = await portal.Outsider.Http.GetAsync(url);
            var html = await page.Content.ReadAsStringAsync();
            checkedCount++;
            var refused = page.StatusCode == HttpStatusCode.NotFound || html.Contains("data-testid=\"no-access\"", StringComparison.Ordinal);
            // An id in the path names what the page is about: the page must say it is not there. An id in the query only
            // preselects or filters (?task=, ?model=, ?run=): the page may open on the member's own project, showing nothing of the other.
            var mustRefuse = System.Text.RegularExpressions.Regex.Matches(template, @"\{").Count > 1;
            if ((mustRefuse && !refused) || html.Contains(SweepPortal.Marker, StringComparison.Ordinal))
                problems.Add($"{template}: {(int)page.StatusCode}, no-access {refused}, leaks {html.Contains(SweepPortal.Marker, StringComparison.Ordinal)}");
        }
        output.WriteLine($"{checkedCount} pages with child ids opened under another project");
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    private static string Short(string body) => body.Length > 300 ? body[..300] + "…" : body;
}
