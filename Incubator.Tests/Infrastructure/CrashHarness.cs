namespace Incubator.Tests.Infrastructure;

/// <summary>The real portal executable on a temporary data folder, for tests that kill it mid-job and start it again:
/// the database is migrated once, each <see cref="Start"/> is a fresh process (a short job lease, so a restart takes a
/// dead worker's job over within seconds), and every process's output is kept for failure messages.</summary>
internal sealed class CrashHarness : IDisposable
{
    private readonly TempFolder _folder;
    private readonly List<AppProcess> _processes = [];

    private CrashHarness(TempFolder folder, Dictionary<string, string> environment)
    {
        _folder = folder;
        Environment = environment;
    }

    public string DataDirectory => _folder.Path;

    public IReadOnlyDictionary<string, string> Environment { get; }

    /// <summary>Creates the data folder, writes the settings every process gets (plus <paramref name="settings"/>)
    /// and runs `migrate`.</summary>
    public static async Task<CrashHarness> MigrateAsync(string prefix, IReadOnlyDictionary<string, string>? settings = null)
    {
        var folder = new TempFolder(prefix);
        var environment = new Dictionary<string, string>
        {
            ["INCUBATOR_DATA"] = folder.Path,
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
            ["Jobs__LeaseDuration"] = "00:00:03",
            ["Jobs__PollInterval"] = "00:00:00.200",
        };
        if (settings is not null)
            foreach (var (k, v) in settings) environment[k] = v;
        var harness = new CrashHarness(folder, environment);
        try
        {
            var migrate = harness.Start("migrate", ["migrate"]);
            var exitCode = await migrate.WaitForExitAsync(TimeSpan.FromSeconds(60));
            if (exitCode != 0) throw new Xunit.Sdk.XunitException($"migrate exited with {exitCode}\n{harness.Output}");
            return harness;
        }
        catch
        {
            harness.Dispose();
            throw;
        }
    }

    /// <summary>Starts the portal (no arguments: it serves, and its job worker runs).</summary>
    public AppProcess Start(string label, string[]? args = null)
    {
        var process = AppProcess.Start(label, args ?? [], new Dictionary<string, string>(Environment), _folder.Path);
        _processes.Add(process);
        return process;
    }

    /// <summary>What every process said, for a failure message.</summary>
    public string Output => string.Join("\n", _processes.Select(p => p.Output));

    /// <summary>Runs the test body; whatever fails, the failure carries the processes' output.</summary>
    public async Task RunAsync(Func<Task> body)
    {
        try
        {
            await body();
        }
        catch (Exception ex)
        {
            throw new Xunit.Sdk.XunitException($"{ex.GetType().Name}: {ex.Message}\n{Output}", ex);
        }
    }

    public void Dispose()
    {
        foreach (var p in _processes) p.Dispose();
        _folder.Dispose();
    }
}

/// <summary>Tests that keep both cores busy for many seconds (several portal processes embedding with MiniLM, a 43 MB
/// upload). xUnit runs this collection on its own after the parallel ones, so timing-sensitive browser steps never
/// share the machine with them.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HeavyCollection
{
    public const string Name = "heavy, run alone";
}
