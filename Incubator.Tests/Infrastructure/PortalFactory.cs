using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.Infrastructure;

/// <summary>The real portal (same composition root as `dotnet run`) on a temporary data folder. With
/// <see cref="RealServer"/> it listens on a loopback port so a browser can reach it.</summary>
public class PortalFactory : WebApplicationFactory<Program>
{
    private readonly TempFolder _data = new("incubator-portal");
    private readonly Dictionary<string, string?> _settings = new();

    public PortalFactory(bool realServer = false)
    {
        RealServer = realServer;
        if (realServer) UseKestrel(0);
        // Most tests create several accounts the quick way; the default (by invitation once an administrator exists) is
        // tested by clearing this with With("Accounts:Registration", null).
        _settings["Accounts:Registration"] = "Open";
    }

    public bool RealServer { get; }

    public string DataDirectory => _data.Path;

    public PortalFactory With(string key, string? value)
    {
        _settings[key] = value;
        return this;
    }

    /// <summary>The loopback address Kestrel bound (real-server mode only).</summary>
    public string ServerAddress
    {
        get
        {
            StartServer();
            var addresses = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
            return addresses.First().Replace("[::]", "127.0.0.1").Replace("0.0.0.0", "127.0.0.1").Replace("localhost", "127.0.0.1");
        }
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("Incubator:DataDirectory", _data.Path);
        builder.UseSetting("Jobs:PollInterval", "00:00:00.200");
        builder.UseSetting("Urls", "http://127.0.0.1:0");
        // Keep the test output readable: the portal logs information lines per request and per job step.
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        builder.UseSetting("Logging:LogLevel:Microsoft.Hosting.Lifetime", "Warning");
        foreach (var (k, v) in _settings) builder.UseSetting(k, v);
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing) _data.Dispose();
    }
}
