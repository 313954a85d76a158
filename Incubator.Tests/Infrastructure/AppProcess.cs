using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Incubator.Tests.Infrastructure;

/// <summary>`dotnet ...` run as a real OS process (by default the built Incubator.Web.dll), with its output captured
/// for failure messages and the whole tree killed on dispose.</summary>
internal sealed partial class AppProcess : IDisposable
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

    /// <summary>Everything the process wrote so far, untrimmed (for tests that read its log).</summary>
    public string FullOutput
    {
        get
        {
            lock (_output) return _output.ToString();
        }
    }

    public string Output
    {
        get
        {
            lock (_output) return $"--- {_label} (pid {_process.Id}) ---\n{Tail(_output.ToString(), 12_000)}";
        }
    }

    public static string LocateWebDll()
    {
        var dll = Repo.WebDll;
        if (!File.Exists(dll)) throw new InvalidOperationException($"{dll} does not exist; build Incubator.Tests (it builds Incubator.Web) first.");
        return dll;
    }

    /// <summary>Runs the built portal executable with <paramref name="args"/>.</summary>
    public static AppProcess Start(string label, IReadOnlyList<string> args, IReadOnlyDictionary<string, string> environment, string workingDirectory) =>
        StartDotnet(label, [LocateWebDll(), .. args], environment, workingDirectory);

    /// <summary>Runs `dotnet` itself with <paramref name="args"/> (for example `publish`, or a published dll).</summary>
    public static AppProcess StartDotnet(string label, IReadOnlyList<string> args, IReadOnlyDictionary<string, string> environment, string workingDirectory)
    {
        var psi = new ProcessStartInfo(DotnetHost())
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
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

    [GeneratedRegex(@"Now listening on: (http://127\.0\.0\.1:\d+)")]
    private static partial Regex Listening();

    /// <summary>Waits for Kestrel's "Now listening on" line and returns the address.</summary>
    public async Task<string> WaitForListeningAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            string text;
            lock (_output) text = _output.ToString();
            var m = Listening().Match(text);
            if (m.Success) return m.Groups[1].Value;
            if (_process.HasExited) break;
            await Task.Delay(100);
        }
        throw new Xunit.Sdk.XunitException($"{_label} did not start listening.\n{Output}");
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
