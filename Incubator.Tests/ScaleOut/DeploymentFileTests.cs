using System.Text.RegularExpressions;
using Incubator.Domain.Data;
using Incubator.Tests.Infrastructure;
using Incubator.Web.Extensions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Incubator.Tests.ScaleOut;

/// <summary>docker does not run on these machines, so deploy/compose.yaml is kept correct by reading it: its portal
/// settings are ones the portal binds and accepts, every replica shares the database, Redis and the shared volume under a
/// name of its own, and the proxy is sticky. The topology itself runs as local processes in <see cref="TwoInstanceTests"/>.</summary>
public sealed partial class DeploymentFileTests
{
    private static readonly string Compose = File.ReadAllText(Path.Combine(Repo.Root, "deploy", "compose.yaml"));

    /// <summary>The "key: value" lines of a top-level block or service (two-space indented YAML, as the file is written).</summary>
    private static Dictionary<string, string> Block(string header, string? sub = null)
    {
        var lines = Compose.Split('\n');
        var start = Array.FindIndex(lines, l => l.TrimEnd() == header);
        Assert.True(start >= 0, $"compose.yaml has no '{header}'");
        var indent = lines[start].Length - lines[start].TrimStart().Length;
        var result = new Dictionary<string, string>();
        var inSub = sub is null;
        for (var i = start + 1; i < lines.Length; i++)
        {
            var line = lines[i];
            if (line.Trim().Length == 0 || line.TrimStart().StartsWith('#')) continue;
            var lineIndent = line.Length - line.TrimStart().Length;
            if (lineIndent <= indent) break;
            if (sub is not null && line.Trim() == sub) { inSub = true; continue; }
            if (sub is not null && lineIndent <= indent + 2) inSub = false;
            if (!inSub) continue;
            var m = KeyValue().Match(line);
            if (m.Success) result[m.Groups[1].Value] = m.Groups[2].Value.Trim();
            else if (line.Trim().StartsWith("- ")) result[line.Trim()[2..]] = "";
        }
        return result;
    }

    [GeneratedRegex(@"^\s+(<<|[A-Za-z_][A-Za-z0-9_]*):\s+(.+)$")]
    private static partial Regex KeyValue();

    [Fact]
    public void The_portal_settings_in_compose_are_ones_the_portal_binds_and_accepts()
    {
        var env = Block("x-portal-environment: &portal-environment");
        var settings = env.ToDictionary(kv => kv.Key.Replace("__", ":"), kv => (string?)Regex.Replace(kv.Value, @"\$\{[A-Z_]+:-([^}]*)\}", "$1"));
        var config = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        using var sp = new ServiceCollection().AddLogging().AddIncubatorData(config)
            .Configure<RedisOptions>(config.GetSection(RedisOptions.Section)).AddSingleton<IValidateOptions<RedisOptions>, RedisOptionsValidator>()
            .BuildServiceProvider();

        var database = sp.GetRequiredService<IOptions<DatabaseOptions>>().Value;
        Assert.Equal(DatabaseProvider.Postgres, database.Provider);
        Assert.Contains("Host=postgres", database.ConnectionString);
        var redis = sp.GetRequiredService<IOptions<RedisOptions>>().Value;
        Assert.True(redis.Enabled);
        Assert.Equal("redis:6379", redis.Configuration);
        Assert.Equal("/shared", sp.GetRequiredService<IOptions<IncubatorOptions>>().Value.ResolveSharedDirectory());
    }

    [Fact]
    public void Two_replicas_share_database_redis_and_the_shared_volume_each_under_its_own_name_and_data_volume()
    {
        foreach (var name in new[] { "postgres", "redis", "portal-1", "portal-2", "proxy" })
            Assert.Contains($"\n  {name}:\n", Compose);
        var names = new List<string>();
        var dataVolumes = new List<string>();
        foreach (var portal in new[] { "  portal-1:", "  portal-2:" })
        {
            Assert.Contains($"{portal}\n    <<: *portal\n", Compose);
            Assert.Equal("*portal-environment", Block(portal, "environment:")["<<"]);
            names.Add(Block(portal, "environment:")["Instance__Name"]);
            var volumes = Block(portal, "volumes:").Keys.ToList();
            Assert.Contains("shared:/shared", volumes);
            dataVolumes.Add(Assert.Single(volumes, v => v.EndsWith(":/data", StringComparison.Ordinal)));
        }
        Assert.Equal(["portal-1", "portal-2"], names);
        Assert.Equal(2, dataVolumes.Distinct().Count());
        // Both wait for healthy servers, and the proxy for healthy replicas.
        Assert.True(Regex.Matches(Compose, "condition: service_healthy").Count >= 4, "portals wait for postgres and redis, the proxy for both portals");
        Assert.Contains("pg_isready", Compose);
        Assert.Contains("redis-cli", Compose);
        Assert.Contains("/healthz", Compose);
    }

    [Fact]
    public void The_proxy_is_sticky_by_cookie_over_both_replicas_and_checks_their_health()
    {
        var caddy = File.ReadAllText(Path.Combine(Repo.Root, "deploy", "Caddyfile"));
        Assert.Contains("./Caddyfile:/etc/caddy/Caddyfile", Compose);
        Assert.Matches(@"reverse_proxy\s+portal-1:8080\s+portal-2:8080", caddy);
        Assert.Matches(@"lb_policy\s+cookie", caddy);
        Assert.Matches(@"health_uri\s+/healthz", caddy);
    }
}
