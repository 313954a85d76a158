using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Incubator.Domain.Accounts;
using Incubator.Domain.Jobs;
using Incubator.Domain.Projects;
using Incubator.Tests.Infrastructure;
using Incubator.Web.Hubs;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.Security;

/// <summary>The cross-site attacks, replayed as a browser on another port of the same host would send them
/// (same site, so SameSite=Lax sends the cookie): a text/plain corpus upload, a multipart gold-set upload and a bodyless
/// job cancel are refused with 403 and change nothing, while the same requests from the portal's own origin, from an
/// origin the operator allowed, or with a personal token still work.</summary>
public sealed class CrossSiteTests : IClassFixture<CrossSiteTests.Portal>
{
    public sealed class Portal() : PortalFactory(realServer: true)
    {
        public const string TrustedOrigin = "https://portal.example.com";

        protected override void ConfigureWebHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
        {
            With("Security:AllowedOrigins:0", TrustedOrigin);
            base.ConfigureWebHost(builder);
        }
    }

    private const string Evil = "http://127.0.0.1:1";
    private readonly Portal _portal;

    public CrossSiteTests(Portal portal) => _portal = portal;

    private async Task<(AuthenticatedClient Owner, string OwnerId, Guid ProjectId, Guid TaskId)> ArrangeAsync()
    {
        var email = PortalExtensions.UniqueEmail("xs-owner");
        var owner = await _portal.RegisterAsync(email);
        var projectId = (await _portal.Services.GetRequiredService<ProjectService>().CreateProjectAsync(owner.Id, "Cross-site", "")).Id;
        var taskId = await _portal.CreateTaskAsync(email, projectId);
        return (await AuthenticatedClient.SignInAsync(_portal, email), owner.Id, projectId, taskId);
    }

    private static HttpRequestMessage From(HttpMethod method, string path, string? origin, string? fetchSite, HttpContent? content = null)
    {
        var request = new HttpRequestMessage(method, path) { Content = content };
        if (origin is not null) request.Headers.Add("Origin", origin);
        if (fetchSite is not null) request.Headers.Add("Sec-Fetch-Site", fetchSite);
        return request;
    }

    private static StringContent PlainText(string text) => new(text, Encoding.UTF8, "text/plain");

    private static MultipartFormDataContent Gold()
    {
        var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(Encoding.UTF8.GetBytes("billing\tInvoice 7 is wrong.\nshipping\tWhere is my parcel?\n"));
        file.Headers.ContentType = new MediaTypeHeaderValue("text/tab-separated-values");
        form.Add(file, "file", "gold.tsv");
        return form;
    }

    [Theory]
    [InlineData(Evil, "same-site")] // a current browser on another port of the same host
    [InlineData(Evil, null)] // a browser that sends Origin but not Sec-Fetch-Site (plain HTTP on a non-local host)
    [InlineData("null", null)] // a sandboxed frame or a redirect chain
    [InlineData(null, "cross-site")]
    public async Task Cross_origin_unsafe_requests_with_the_cookie_are_refused_and_change_nothing(string? origin, string? fetchSite)
    {
        var (owner, _, projectId, taskId) = await ArrangeAsync();
        using var job = await owner.Http.PostJsonAsync($"/api/projects/{projectId}/jobs/diagnostics", new { steps = 10_000, delayMs = 1_000 });
        var jobId = (await job.ReadJsonAsync<JobView>()).Id;

        using var corpus = await owner.Http.SendAsync(From(HttpMethod.Post, $"/api/projects/{projectId}/corpora?fileName=x.txt&name=x", origin, fetchSite,
            PlainText("one text\nanother text\n")));
        using var gold = await owner.Http.SendAsync(From(HttpMethod.Post, $"/api/tasks/{taskId}/gold", origin, fetchSite, Gold()));
        using var cancel = await owner.Http.SendAsync(From(HttpMethod.Post, $"/api/jobs/{jobId}/cancel", origin, fetchSite));

        Assert.Equal((HttpStatusCode.Forbidden, HttpStatusCode.Forbidden, HttpStatusCode.Forbidden), (corpus.StatusCode, gold.StatusCode, cancel.StatusCode));
        Assert.Contains("Cross-origin request refused", await cancel.Content.ReadAsStringAsync());
        Assert.Equal(0, await _portal.QueryAsync(db => db.Corpora.CountAsync(c => c.ProjectId == projectId)));
        Assert.Equal(0, await _portal.QueryAsync(db => db.GoldSets.CountAsync(g => g.TaskId == taskId)));
        Assert.False(await _portal.QueryAsync(db => db.Jobs.Where(j => j.Id == jobId).Select(j => j.CancelRequested || j.State == JobState.Cancelled).SingleAsync()));
    }

    [Theory]
    [InlineData(null, "same-origin")] // the portal's own pages in a current browser
    [InlineData("own", null)] // the portal's own pages in a browser without Sec-Fetch-Site
    [InlineData(Portal.TrustedOrigin, "cross-site")] // an origin the operator listed (the public address behind a proxy)
    [InlineData(null, null)] // a program with a copied cookie: no browser, no cross-site page
    public async Task The_same_requests_from_the_portals_own_or_an_allowed_origin_work(string? origin, string? fetchSite)
    {
        var (owner, _, projectId, taskId) = await ArrangeAsync();
        origin = origin == "own" ? owner.BaseAddress.GetLeftPart(UriPartial.Authority) : origin;
        using var job = await owner.Http.PostJsonAsync($"/api/projects/{projectId}/jobs/diagnostics", new { steps = 10_000, delayMs = 1_000 });
        var jobId = (await job.ReadJsonAsync<JobView>()).Id;

        using var corpus = await owner.Http.SendAsync(From(HttpMethod.Post, $"/api/projects/{projectId}/corpora?fileName=x.txt&name=x", origin, fetchSite,
            PlainText("one text\nanother text\n")));
        using var gold = await owner.Http.SendAsync(From(HttpMethod.Post, $"/api/tasks/{taskId}/gold", origin, fetchSite, Gold()));
        using var cancel = await owner.Http.SendAsync(From(HttpMethod.Post, $"/api/jobs/{jobId}/cancel", origin, fetchSite));

        Assert.Equal(HttpStatusCode.Created, corpus.StatusCode);
        Assert.Equal(HttpStatusCode.OK, gold.StatusCode);
        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        Assert.Equal(1, await _portal.QueryAsync(db => db.GoldSets.CountAsync(g => g.TaskId == taskId)));
    }

    [Fact]
    public async Task A_personal_token_is_not_an_ambient_credential_so_its_requests_pass_from_any_origin()
    {
        var (_, ownerId, projectId, _) = await ArrangeAsync();
        var token = await _portal.InScopeAsync(sp => sp.GetRequiredService<ApiTokenService>().CreateAsync(ownerId, "script"));
        using var http = new HttpClient { BaseAddress = new Uri(_portal.ServerAddress) };
        var request = From(HttpMethod.Post, $"/api/projects/{projectId}/corpora?fileName=x.txt&name=x", Evil, "cross-site", PlainText("a text\n"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token.Secret);

        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Fact]
    public async Task A_cross_origin_hub_connection_is_refused_for_negotiation_and_for_a_direct_websocket()
    {
        var (owner, _, projectId, _) = await ArrangeAsync();
        HubConnection Connect(string? origin, bool webSocketOnly) => new HubConnectionBuilder()
            .WithUrl(_portal.ServerAddress + ProjectsHub.Path, o =>
            {
                o.Cookies = owner.Cookies;
                if (origin is not null) o.Headers["Origin"] = origin;
                if (webSocketOnly)
                {
                    o.SkipNegotiation = true;
                    o.Transports = Microsoft.AspNetCore.Http.Connections.HttpTransportType.WebSockets;
                }
            })
            .Build();

        await using var negotiated = Connect(Evil, webSocketOnly: false);
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => negotiated.StartAsync());
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);

        await using var direct = Connect(Evil, webSocketOnly: true);
        await Assert.ThrowsAnyAsync<Exception>(() => direct.StartAsync());
        Assert.Equal(HubConnectionState.Disconnected, direct.State);

        // From the portal's own origin the same cookie connects and joins.
        await using var own = Connect(owner.BaseAddress.GetLeftPart(UriPartial.Authority), webSocketOnly: true);
        await own.StartAsync();
        await own.InvokeAsync(nameof(ProjectsHub.JoinProject), projectId);
        Assert.Equal(HubConnectionState.Connected, own.State);
    }
}
