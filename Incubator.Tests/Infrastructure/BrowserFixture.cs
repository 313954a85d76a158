using Microsoft.Playwright;

namespace Incubator.Tests.Infrastructure;

/// <summary>One headless Debian Chromium per test collection, driven by Playwright. Never downloads a browser:
/// the README's test command installs Debian's chromium; INCUBATOR_CHROMIUM overrides the path.</summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    public IPlaywright Playwright { get; private set; } = default!;

    public IBrowser Browser { get; private set; } = default!;

    public static string ExecutablePath => Environment.GetEnvironmentVariable("INCUBATOR_CHROMIUM") ?? "/usr/bin/chromium";

    public async Task InitializeAsync()
    {
        if (!File.Exists(ExecutablePath))
            throw new InvalidOperationException(
                $"Chromium was not found at {ExecutablePath}. Install Debian's package (sudo apt-get install -y chromium) or set INCUBATOR_CHROMIUM to a Chromium binary.");
        Playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        Browser = await Playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            Args =
            [
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--disable-quic",
            ],
        });
    }

    public async Task DisposeAsync()
    {
        await Browser.DisposeAsync();
        Playwright.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class BrowserCollection : ICollectionFixture<BrowserFixture>
{
    public const string Name = "browser";
}
