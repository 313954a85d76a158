using System.Net;
using System.Text.Json;
using Incubator.Domain.Projects;
using Incubator.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.Security;

/// <summary>/healthz tells the truth: a database that answers queries but refuses writes, or a data folder without room,
/// is not ready — while liveness (/healthz/live) stays up, because a restart would not help. An unusable data folder
/// stops the start with one sentence and exit code 3, not a stack trace.</summary>
public sealed class HealthAndDataFolderTests
{
    private static async Task<(HttpStatusCode Status, JsonElement Body)> GetAsync(PortalFactory portal, string path)
    {
        using var client = portal.CreateClient();
        using var response = await client.GetAsync(path);
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    [Fact]
    public async Task A_read_only_database_is_unhealthy_although_it_answers_queries_and_liveness_stays_up()
    {
        using var writable = new PortalFactory();
        var owner = await writable.RegisterAsync(PortalExtensions.UniqueEmail("ro-owner"));
        await writable.Services.GetRequiredService<ProjectService>().CreateProjectAsync(owner.Id, "Written before", "");
        var dbFile = Path.Combine(writable.DataDirectory, "incubator.db");
        // The same database opened read-only, as with a read-only file or volume (the tests run as root, which file
        // permissions do not stop).
        using var readOnly = new PortalFactory()
            .With("Incubator:DataDirectory", writable.DataDirectory)
            .With("ConnectionStrings:Incubator", $"Data Source={dbFile};Mode=ReadOnly;Pooling=False");

        var (status, body) = await GetAsync(readOnly, "/healthz");
        var (ready, _) = await GetAsync(readOnly, "/healthz/ready");
        var (live, liveBody) = await GetAsync(readOnly, "/healthz/live");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready);
        var database = body.GetProperty("checks").GetProperty("database");
        Assert.Equal("Unhealthy", database.GetProperty("status").GetString());
        Assert.Contains("does not accept writes", database.GetProperty("Description").GetString());
        Assert.Equal(HttpStatusCode.OK, live);
        Assert.Equal("Healthy", liveBody.GetProperty("status").GetString());
        // It does answer queries, which is what made the old check say Healthy.
        Assert.Equal("Written before", Assert.Single(await readOnly.Services.GetRequiredService<ProjectService>().ListProjectsAsync(owner.Id, false)).Name);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(writable, "/healthz")).Status);
    }

    [Fact]
    public async Task A_data_folder_without_enough_free_space_is_not_ready()
    {
        using var portal = new PortalFactory().With("Health:MinFreeMegabytes", (long.MaxValue / (1024 * 1024) - 1).ToString(System.Globalization.CultureInfo.InvariantCulture));

        var (status, body) = await GetAsync(portal, "/healthz");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        var folder = body.GetProperty("checks").GetProperty("data-folder");
        Assert.Equal("Unhealthy", folder.GetProperty("status").GetString());
        Assert.Contains("MB free", folder.GetProperty("Description").GetString());
        Assert.Equal("Healthy", body.GetProperty("checks").GetProperty("database").GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(portal, "/healthz/live")).Status);
    }

    [Theory]
    [InlineData("serve")]
    [InlineData("migrate")]
    public async Task An_unusable_data_folder_stops_the_start_with_one_clear_message_and_exit_code_3(string verb)
    {
        using var temp = new TempFolder("incubator-bad-data");
        var file = Path.Combine(temp.Path, "not-a-folder");
        await File.WriteAllTextAsync(file, "a file where the data folder should be");
        using var app = AppProcess.Start($"{verb} on a bad data folder", verb == "serve" ? ["--urls", "http://127.0.0.1:0"] : ["migrate"],
            new Dictionary<string, string> { ["INCUBATOR_DATA"] = Path.Combine(file, "data") }, temp.Path);

        var exit = await app.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.True(exit == 3, app.Output);
        Assert.Contains("error: The data folder", app.Output);
        Assert.Contains("INCUBATOR_DATA", app.Output);
        Assert.DoesNotContain("   at ", app.Output);
        Assert.DoesNotContain("Unhandled exception", app.Output);
    }
}
