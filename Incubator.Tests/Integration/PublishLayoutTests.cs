using System.Net;
using Incubator.Tests.Infrastructure;

namespace Incubator.Tests.Integration;

/// <summary>wwwroot-shared/ and the portal's own assets must be served the same from `dotnet run` (the build output),
/// from `dotnet publish` output, and in the Docker image layout (publish folder in /app, data in a volume, started
/// from another folder). This publishes the already-built portal and runs it like the image does.</summary>
public sealed class PublishLayoutTests
{
    private static readonly string SharedCss = File.ReadAllText(Path.Combine(Repo.Root, "wwwroot-shared", "incubator.css"));

    [Fact]
    public async Task Published_portal_started_from_another_folder_serves_shared_assets_health_and_its_own_assets()
    {
        using var tmp = new TempFolder("incubator-publish");
        var app = Path.Combine(tmp.Path, "app");
        var work = Directory.CreateDirectory(Path.Combine(tmp.Path, "work")).FullName;
        var data = Path.Combine(tmp.Path, "data");

        using (var publish = AppProcess.StartDotnet("publish",
                   ["publish", "Incubator.Web/Incubator.Web.csproj", "--no-build", "-c", Repo.Configuration, "-o", app, "/p:UseAppHost=false"],
                   new Dictionary<string, string>(), Repo.Root))
        {
            var code = await publish.WaitForExitAsync(TimeSpan.FromMinutes(3));
            Assert.True(code == 0, publish.Output);
        }
        Assert.True(File.Exists(Path.Combine(app, "wwwroot-shared", "incubator.css")), "publish output lacks wwwroot-shared");

        using var portal = AppProcess.StartDotnet("published portal", [Path.Combine(app, "Incubator.Web.dll")], new Dictionary<string, string>
        {
            ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["INCUBATOR_DATA"] = data,
        }, work);
        var baseUrl = await portal.WaitForListeningAsync(TimeSpan.FromSeconds(60));
        using var http = new HttpClient { BaseAddress = new Uri(baseUrl) };

        var health = await http.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.True(File.Exists(Path.Combine(data, "incubator.db")), "the database must be created in INCUBATOR_DATA");
        Assert.False(Directory.Exists(Path.Combine(app, "data")), "nothing may be written next to the binaries");

        Assert.Equal(SharedCss, await http.GetStringAsync("/shared/incubator.css"));
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/shared/incubator.js")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/shared/logo.svg")).StatusCode);

        var home = await http.GetStringAsync("/");
        var mud = System.Text.RegularExpressions.Regex.Match(home, "_content/MudBlazor/MudBlazor\\.min(\\.[a-z0-9]+)?\\.css");
        Assert.True(mud.Success, "home page must link MudBlazor's stylesheet");
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/" + mud.Value)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/_framework/blazor.web.js")).StatusCode);

        // The same check the Docker HEALTHCHECK runs.
        using var check = AppProcess.StartDotnet("healthcheck", [Path.Combine(app, "Incubator.Web.dll"), "healthcheck", "--url", baseUrl + "/healthz"],
            new Dictionary<string, string>(), work);
        Assert.Equal(0, await check.WaitForExitAsync(TimeSpan.FromSeconds(60)));

        // Production hides exception details behind the friendly error page and serves a localised 404 page.
        var missing = await http.GetAsync("/no/such/page");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Contains("Page not found", await missing.Content.ReadAsStringAsync());
    }

    [Fact]
    public void Dockerfile_is_multi_stage_non_root_with_a_data_volume_and_a_health_check()
    {
        var lines = File.ReadAllLines(Path.Combine(Repo.Root, "Dockerfile")).Select(l => l.Trim()).ToList();
        Assert.Contains(lines, l => l.StartsWith("FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build"));
        Assert.Contains(lines, l => l.StartsWith("FROM mcr.microsoft.com/dotnet/aspnet:10.0"));
        Assert.Contains(lines, l => l == "USER app");
        Assert.Contains(lines, l => l.StartsWith("VOLUME") && l.Contains("/data"));
        Assert.Contains(lines, l => l.StartsWith("HEALTHCHECK"));
        Assert.Contains(lines, l => l.StartsWith("COPY wwwroot-shared/"));
        // Every project the portal references is copied into the build stage.
        Assert.Contains(lines, l => l.StartsWith("COPY Incubator.Domain/ "));
        Assert.Contains(lines, l => l.StartsWith("COPY Incubator.Web/ "));
        Assert.Contains(lines, l => l.Contains("INCUBATOR_DATA=/data"));
    }

    [Fact]
    public async Task Healthcheck_verb_reports_unhealthy_when_nothing_answers()
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await Incubator.Web.Cli.CliApp.RunAsync(["healthcheck", "--url", "http://127.0.0.1:1/healthz"], stdout, stderr);
        Assert.Equal(1, code);
        Assert.Contains("unhealthy", stderr.ToString());
    }
}
