using System.Net;
using Incubator.Tests.Infrastructure;

namespace Incubator.Tests.Integration;

public sealed class HealthTests
{
    [Fact]
    public async Task Healthz_reports_the_database_healthy_after_migrations_ran_on_an_empty_folder()
    {
        using var portal = new PortalFactory();
        using var client = portal.CreateClient();
        var response = await client.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("\"status\":\"Healthy\"", body);
        Assert.True(File.Exists(Path.Combine(portal.DataDirectory, "incubator.db")));
    }
}
