using System.Diagnostics;
using System.Text;

namespace Incubator.Tests.Jobs;

/// <summary>The built Incubator.Web.dll run as a real OS process, with its output captured for failure messages.</summary>
internal sealed class AppProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly string _label;

    private AppProcess(Process process, string label)
    {
        _process = process;
        _label = label;
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public string Output
    {
        get
        {
            lock (_output) return $"--- {_label} (pid {_process.Id}) ---\n{Tail(_output.ToString(), 12_000)}";
        }
    }

    /// <summary>Incubator.Web/bin/&lt;Debug|Release&gt;/net10.0/Incubator.Web.dll next to the solution this test build came from.</summary>
    public static string LocateWebDll()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Incubator.sln"))) dir = dir.Parent;
        if (dir is null) throw new InvalidOperationException($"No Incubator.sln above {AppContext.BaseDirectory}.");
        var testAssembly = typeof(AppProcess).Assembly.Location.Replace('\\', '/');
        var configuration = testAssembly.Contains("/bin/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
        var dll = Path.Combine(dir.FullName, "Incubator.Web", "bin", configuration, "net10.0", "Incubator.Web.dll");
        if (!File.Exists(dll)) throw new InvalidOperationException($"{dll} does not exist; build Incubator.Tests (it builds Incubator.Web) first.");
        return dll;
    }

    public static AppProcess Start(string label, IReadOnlyList<string> args, IReadOnlyDictionary<string, string> environment, string workingDirectory)
    {
        var psi = new ProcessStartInfo(DotnetHost())
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(LocateWebDll());
        foreach (var a in args) psi.ArgumentList.Add(a);
        // Settings from the test runner's own environment must not leak into the app under test.
        foreach (var key in psi.Environment.Keys.ToList())
        {
            if (key.StartsWith("ASPNETCORE_", StringComparison.OrdinalIgnoreCase) || key.StartsWith("Jobs__", StringComparison.OrdinalIgnoreCase)
                || key.StartsWith("Incubator__", StringComparison.OrdinalIgnoreCase) || key.StartsWith("INCUBATOR_", StringComparison.OrdinalIgnoreCase))
                psi.Environment.Remove(key);
        }
        foreach (var (k, v) in environment) psi.Environment[k] = v;

        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        var app = new AppProcess(process, label);
        process.OutputDataReceived += (_, e) => app.Append(e.Data);
        process.ErrorDataReceived += (_, e) => app.Append(e.Data is null ? null : "[stderr] " + e.Data);
        if (!process.Start()) throw new InvalidOperationException($"Could not start {psi.FileName}.");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return app;
    }

    /// <summary>Runs to completion (for verbs such as migrate) and returns the exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            Kill();
            throw new Xunit.Sdk.XunitException($"{_label} did not exit within {timeout.TotalSeconds:0} s.\n{Output}");
        }
        return _process.ExitCode;
    }

    /// <summary>SIGKILL to the whole tree: no shutdown hooks, no graceful hand-back of running jobs.</summary>
    public void Kill()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
        catch (InvalidOperationException)
        {
            // Never started or already gone.
        }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_output) _output.AppendLine(line);
    }

    private static string Tail(string s, int max) => s.Length <= max ? s : "…" + s[^max..];

    private static string DotnetHost()
    {
        var hostPath = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(hostPath) && File.Exists(hostPath)) return hostPath;
        var self = Environment.ProcessPath;
        if (self is not null && Path.GetFileNameWithoutExtension(self).Equals("dotnet", StringComparison.OrdinalIgnoreCase)) return self;
        return "dotnet";
    }
}
