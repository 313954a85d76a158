using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Incubator.Domain.Benchmarks;

/// <summary>A private PostgreSQL cluster for benchmarks and tests: Debian's server binaries, initdb in a temporary
/// folder, trust authentication on a free loopback port, durability off (the data is thrown away), stopped when the
/// process exits. As root it runs as the <c>postgres</c> user (PostgreSQL refuses root). Each caller gets its own
/// database (<see cref="CreateDatabaseAsync"/>).</summary>
internal sealed class LocalPostgres
{
    private readonly string _bin;
    private readonly string _dir;
    private readonly string? _user;
    private int _databases;

    private LocalPostgres(string bin, string dir, int port, string? user)
    {
        _bin = bin;
        _dir = dir;
        _user = user;
        Port = port;
    }

    public int Port { get; }

    public string AdminConnectionString => $"Host=127.0.0.1;Port={Port};Username=postgres;Database=postgres;Pooling=false";

    /// <summary>INCUBATOR_PG_BIN, or the newest /usr/lib/postgresql/*/bin holding pg_ctl; null when PostgreSQL is not installed.</summary>
    public static string? FindBinaries()
    {
        var env = Environment.GetEnvironmentVariable("INCUBATOR_PG_BIN");
        if (!string.IsNullOrEmpty(env)) return File.Exists(Path.Combine(env, "pg_ctl")) ? env : null;
        if (!Directory.Exists("/usr/lib/postgresql")) return null;
        return Directory.GetDirectories("/usr/lib/postgresql")
            .Select(d => Path.Combine(d, "bin"))
            .Where(b => File.Exists(Path.Combine(b, "pg_ctl")))
            .OrderByDescending(b => int.TryParse(Path.GetFileName(Path.GetDirectoryName(b)), out var v) ? v : 0)
            .FirstOrDefault();
    }

    public static async Task<LocalPostgres> StartAsync()
    {
        var bin = FindBinaries() ?? throw new InvalidOperationException(
            "PostgreSQL's server binaries were not found under /usr/lib/postgresql. Install Debian's package: sudo apt-get install -y postgresql " +
            "(./run-tests.sh does this when run as root), or set INCUBATOR_PG_BIN to the folder holding pg_ctl.");
        var dir = Path.Combine(Path.GetTempPath(), $"incubator-pg-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        var user = Environment.UserName == "root" ? "postgres" : null;
        if (user is not null) await RunAsync("chown", ["-R", "postgres:postgres", dir]);
        var data = Path.Combine(dir, "data");
        await RunAsync(Path.Combine(bin, "initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "-N"], user);
        var port = FreePort();
        var options = $"-p {port} -k {dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off " +
                      "-c max_connections=400 -c shared_buffers=128MB";
        await RunAsync(Path.Combine(bin, "pg_ctl"), ["-D", data, "-o", options, "-l", Path.Combine(dir, "server.log"), "-w", "-t", "60", "start"], user,
            TimeSpan.FromSeconds(90));
        var server = new LocalPostgres(bin, dir, port, user);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => server.Stop();
        return server;
    }

    /// <summary>A new, empty database on this server and its connection string.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = $"incubator_{Interlocked.Increment(ref _databases)}_{Guid.NewGuid():N}"[..40];
        await using (var conn = new NpgsqlConnection(AdminConnectionString))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", conn);
            await cmd.ExecuteNonQueryAsync();
        }
        return $"Host=127.0.0.1;Port={Port};Username=postgres;Database={name};Maximum Pool Size=60";
    }

    private void Stop()
    {
        try
        {
            RunAsync(Path.Combine(_bin, "pg_ctl"), ["-D", Path.Combine(_dir, "data"), "-m", "immediate", "stop"], _user).Wait(TimeSpan.FromSeconds(30));
            Directory.Delete(_dir, recursive: true);
        }
        catch (Exception)
        {
            // The process is exiting; the temp folder goes with the next clean-up.
        }
    }

    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    /// <summary>Runs a program to completion, as <paramref name="user"/> when given (through runuser).</summary>
    public static async Task<string> RunAsync(string program, IEnumerable<string> args, string? user = null, TimeSpan? timeout = null)
    {
        var psi = new ProcessStartInfo(user is null ? program : "runuser") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (user is not null)
        {
            foreach (var a in new[] { "-u", user, "--", program }) psi.ArgumentList.Add(a);
        }
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"Could not start {program}.");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        await p.WaitForExitAsync(cts.Token);
        var output = await stdout + await stderr;
        if (p.ExitCode != 0) throw new InvalidOperationException($"{program} {string.Join(' ', args)} exited {p.ExitCode}:\n{output}");
        return output;
    }
}
