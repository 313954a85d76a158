using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Incubator.Domain.Data;
using Npgsql;

namespace Incubator.Tests.Infrastructure;

/// <summary>Private PostgreSQL and Redis servers for the tests: real Debian binaries, started once per test process on
/// free loopback ports in temporary folders and stopped when the process exits. No mock stands in for them;
/// ./run-tests.sh installs the packages (postgresql, redis-server) when it runs as root.</summary>
public static class TestServers
{
    private static readonly Lazy<Task<PostgresServer>> Pg = new(PostgresServer.StartAsync, LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly Lazy<Task<RedisServer>> Redis = new(RedisServer.StartAsync, LazyThreadSafetyMode.ExecutionAndPublication);

    public static Task<PostgresServer> PostgresAsync() => Pg.Value;

    public static Task<RedisServer> RedisAsync() => Redis.Value;

    /// <summary>Both providers, for <c>[Theory, MemberData(nameof(TestServers.Providers), MemberType = typeof(TestServers))]</c>.</summary>
    public static TheoryData<DatabaseProvider> Providers => new() { DatabaseProvider.Sqlite, DatabaseProvider.Postgres };

    /// <summary>The settings that put a host on <paramref name="provider"/>: nothing for SQLite (a file in the data
    /// folder), a fresh database on the shared test server for PostgreSQL.</summary>
    public static async Task<Dictionary<string, string?>> DatabaseSettingsAsync(DatabaseProvider provider)
    {
        if (provider == DatabaseProvider.Sqlite) return new() { ["Database:Provider"] = "Sqlite" };
        var pg = await PostgresAsync();
        return new()
        {
            ["Database:Provider"] = "Postgres",
            ["ConnectionStrings:Incubator"] = await pg.CreateDatabaseAsync(),
        };
    }

    internal static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    internal static bool IsRoot => Environment.UserName == "root";

    /// <summary>Runs a program to completion, as <paramref name="user"/> when given (through runuser: PostgreSQL refuses to
    /// run as root).</summary>
    internal static async Task<string> RunAsync(string program, IEnumerable<string> args, string? user = null, TimeSpan? timeout = null)
    {
        var psi = new ProcessStartInfo(user is null ? program : "runuser") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (user is not null)
        {
            psi.ArgumentList.Add("-u");
            psi.ArgumentList.Add(user);
            psi.ArgumentList.Add("--");
            psi.ArgumentList.Add(program);
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

/// <summary>One PostgreSQL cluster (initdb in a temp folder, trust authentication on loopback, durability off: test
/// data need not survive a power cut). Each test host gets its own database.</summary>
public sealed class PostgresServer
{
    private readonly string _bin;
    private readonly string _dir;
    private int _databases;

    private PostgresServer(string bin, string dir, int port)
    {
        _bin = bin;
        _dir = dir;
        Port = port;
    }

    public int Port { get; }

    public string AdminConnectionString => $"Host=127.0.0.1;Port={Port};Username=postgres;Database=postgres;Pooling=false";

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

    internal static async Task<PostgresServer> StartAsync()
    {
        var bin = FindBinaries() ?? throw new InvalidOperationException(
            "PostgreSQL's server binaries were not found under /usr/lib/postgresql. Install Debian's package: sudo apt-get install -y postgresql " +
            "(./run-tests.sh does this when run as root), or set INCUBATOR_PG_BIN to the folder holding pg_ctl.");
        var dir = Path.Combine(Path.GetTempPath(), $"incubator-pg-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        // PostgreSQL refuses to run as root: as root, the cluster belongs to the postgres user.
        var user = TestServers.IsRoot ? "postgres" : null;
        if (user is not null) await TestServers.RunAsync("chown", ["-R", "postgres:postgres", dir]);
        var data = Path.Combine(dir, "data");
        await TestServers.RunAsync(Path.Combine(bin, "initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "-N"], user);
        var port = TestServers.FreePort();
        var options = $"-p {port} -k {dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off " +
                      "-c max_connections=400 -c shared_buffers=128MB";
        await TestServers.RunAsync(Path.Combine(bin, "pg_ctl"), ["-D", data, "-o", options, "-l", Path.Combine(dir, "server.log"), "-w", "-t", "60", "start"], user,
            TimeSpan.FromSeconds(90));
        var server = new PostgresServer(bin, dir, port);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => server.Stop(user);
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

    private void Stop(string? user)
    {
        try
        {
            TestServers.RunAsync(Path.Combine(_bin, "pg_ctl"), ["-D", Path.Combine(_dir, "data"), "-m", "immediate", "stop"], user).Wait(TimeSpan.FromSeconds(30));
        }
        catch (Exception)
        {
            // The process is exiting; the temp folder goes with the next clean-up.
        }
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (Exception)
        {
        }
    }
}

/// <summary>One redis-server on a free loopback port, without persistence, a child of the test process.</summary>
public sealed class RedisServer
{
    private readonly Process _process;
    private readonly string _dir;

    private RedisServer(Process process, string dir, int port)
    {
        _process = process;
        _dir = dir;
        Port = port;
    }

    public int Port { get; }

    /// <summary>For <c>Redis:Configuration</c>.</summary>
    public string Configuration => $"127.0.0.1:{Port}";

    internal static async Task<RedisServer> StartAsync()
    {
        var exe = new[] { Environment.GetEnvironmentVariable("INCUBATOR_REDIS_SERVER"), "/usr/bin/redis-server", "/usr/local/bin/redis-server" }
            .FirstOrDefault(p => !string.IsNullOrEmpty(p) && File.Exists(p)) ?? throw new InvalidOperationException(
                "redis-server was not found. Install Debian's package: sudo apt-get install -y redis-server (./run-tests.sh does this when run as " +
                "root), or set INCUBATOR_REDIS_SERVER to its path.");
        var dir = Path.Combine(Path.GetTempPath(), $"incubator-redis-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        var port = TestServers.FreePort();
        var psi = new ProcessStartInfo(exe) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = dir };
        foreach (var a in new[] { "--port", port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--daemonize", "no" })
            psi.ArgumentList.Add(a);
        var process = Process.Start(psi) ?? throw new InvalidOperationException("Could not start redis-server.");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                break;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline && !process.HasExited)
            {
                await Task.Delay(50);
            }
        }
        var server = new RedisServer(process, dir, port);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => server.Stop();
        return server;
    }

    private void Stop()
    {
        try
        {
            if (!_process.HasExited) _process.Kill();
            Directory.Delete(_dir, recursive: true);
        }
        catch (Exception)
        {
        }
    }
}
