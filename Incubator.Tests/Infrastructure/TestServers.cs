using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Incubator.Domain.Data;
using Incubator.Domain.Benchmarks;

namespace Incubator.Tests.Infrastructure;

/// <summary>Private PostgreSQL and Redis servers for the tests: real Debian binaries, started once per test process on
/// free loopback ports in temporary folders and stopped when the process exits. No mock stands in for them;
/// ./run-tests.sh installs the packages (postgresql, redis-server) when it runs as root.</summary>
public static class TestServers
{
    private static readonly Lazy<Task<LocalPostgres>> Pg = new(LocalPostgres.StartAsync, LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly Lazy<Task<RedisServer>> Redis = new(RedisServer.StartAsync, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The one PostgreSQL cluster of this test process (the benchmarks' <see cref="LocalPostgres"/>).</summary>
    internal static Task<LocalPostgres> PostgresAsync() => Pg.Value;

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
        var port = LocalPostgres.FreePort();
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
