using Incubator.Domain.Llm;
using Incubator.Domain.Projects;
using Incubator.Tests.Infrastructure;
using Incubator.Web.Cli;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.Unit;

public sealed class CliTests
{
    private static async Task<(int Code, string Out, string Err)> RunAsync(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await CliApp.RunAsync(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public async Task Help_lists_every_verb_and_says_where_data_goes()
    {
        var (code, output, _) = await RunAsync("--help");
        Assert.Equal(0, code);
        foreach (var verb in new[] { "serve", "migrate", "bench" })
            Assert.Contains($"  {verb}", output);
        Assert.Contains("INCUBATOR_DATA", output);
        Assert.Contains("5080", output);
    }

    [Fact]
    public async Task Unknown_verb_fails_with_exit_code_2_and_shows_help_on_stderr()
    {
        var (code, output, error) = await RunAsync("frobnicate");
        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.Contains("Unknown verb 'frobnicate'", error);
        Assert.Contains("migrate", error);
    }

    [Fact]
    public async Task Migrate_creates_the_database_once_and_reports_up_to_date_the_second_time()
    {
        using var data = new TempFolder();
        var (code, output, _) = await RunAsync("migrate", $"--Incubator:DataDirectory={data.Path}");
        Assert.Equal(0, code);
        Assert.Matches(@"Applied (1 migration|[2-9]\d* migrations|1\d+ migrations) to ", output);
        Assert.Contains("_Initial", output);
        Assert.True(File.Exists(Path.Combine(data.Path, "incubator.db")));

        (code, output, _) = await RunAsync("migrate", $"--Incubator:DataDirectory={data.Path}");
        Assert.Equal(0, code);
        Assert.Contains("up to date", output);
    }

    /// <summary>`migrate` does to an LLM connection saved before credentials in an address were refused what the portal's
    /// start does (decision 0025, amendments sec19 and sec22): the address is encrypted with the portal's key ring and
    /// the column keeps its redacted text; one line says how many; the secret is in neither the output nor the database
    /// files afterwards, and the portal (same data folder and ring key) still calls the address as saved. Before: migrate
    /// only applied migrations and the secret stayed in the database in the clear until the portal's next start.</summary>
    [Fact]
    public async Task Migrate_encrypts_an_address_saved_with_a_credential_and_leaves_the_secret_nowhere()
    {
        const string saved = "https://bob:pw-in-the-address-78@llm.example.net/v1?api-key=key-in-the-address-78";
        string[] secrets = ["pw-in-the-address-78", "key-in-the-address-78"];
        var ringKey = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        using var data = new TempFolder("incubator-migrate-secret");
        PortalFactory Portal() => new PortalFactory().With("Incubator:DataDirectory", data.Path).With("KeyRing:Key", ringKey);
        (string UserId, Guid ProjectId, Guid ConnectionId) stored;
        using (var before = Portal())
        {
            var owner = await before.RegisterAsync(PortalExtensions.UniqueEmail("migrate"));
            var projectId = (await before.Services.GetRequiredService<ProjectService>().CreateProjectAsync(owner.Id, "Old rows", "")).Id;
            var connection = await before.Services.GetRequiredService<LlmConnectionService>().CreateAsync(owner.Id, projectId,
                new LlmConnectionInput("Old", LlmProvider.OpenAICompatible, "http://127.0.0.1:9/v1", "m", null, 0.9, 100, 1, null, 0m, 0m));
            stored = (owner.Id, projectId, connection.Id);
            // As an older version stored it: the validation that refuses it now did not exist.
            await before.QueryAsync(db => db.LlmConnections.Where(c => c.Id == stored.ConnectionId)
                .ExecuteUpdateAsync(s => s.SetProperty(c => c.Endpoint, saved).SetProperty(c => c.EndpointProtected, (string?)null)));
            // A row saved after it: the old row is no longer the page's last cell, so rewriting it leaves its old bytes
            // in the page's free space (SQLite does not clear them) unless the file is rebuilt.
            await before.Services.GetRequiredService<LlmConnectionService>().CreateAsync(owner.Id, projectId,
                new LlmConnectionInput("Newer", LlmProvider.OpenAICompatible, "http://127.0.0.1:9/v1", "m", null, 0.9, 100, 1, null, 0m, 0m));
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Assert.True(secrets.All(DatabaseFilesHold), "the test's old row should be in the database files in the clear before migrate");

        var (code, output, error) = await RunAsync("migrate", $"--Incubator:DataDirectory={data.Path}", $"--KeyRing:Key={ringKey}");
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();

        Assert.True(code == 0, error);
        Assert.Contains("Encrypted 1 LLM connection address saved with a credential in it", output);
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(secret, output + error);
            Assert.False(DatabaseFilesHold(secret), $"'{secret}' is still in the database files after migrate");
        }
        (code, output, _) = await RunAsync("migrate", $"--Incubator:DataDirectory={data.Path}", $"--KeyRing:Key={ringKey}");
        Assert.Equal(0, code);
        Assert.Contains("No LLM connection address holds a credential in the clear.", output);

        using var after = Portal();
        var row = await after.QueryAsync(db => db.LlmConnections.AsNoTracking().SingleAsync(c => c.Id == stored.ConnectionId));
        Assert.Equal("https://***@llm.example.net/v1?api-key=***", row.Endpoint);
        Assert.NotNull(row.EndpointProtected);
        // Encrypted with the portal's ring: the portal decrypts it for the calls.
        Assert.Equal(saved, (await after.Services.GetRequiredService<LlmConnectionService>().GetProfileAsync(stored.UserId, stored.ProjectId, stored.ConnectionId)).Endpoint);

        bool DatabaseFilesHold(string secret)
        {
            var needle = System.Text.Encoding.UTF8.GetBytes(secret);
            foreach (var file in Directory.EnumerateFiles(data.Path, "incubator.db*"))
            {
                using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                using var copy = new MemoryStream();
                stream.CopyTo(copy);
                if (copy.GetBuffer().AsSpan(0, (int)copy.Length).IndexOf(needle) >= 0) return true;
            }
            return false;
        }
    }

    [Fact]
    public async Task Migrate_rejects_stray_arguments_without_touching_anything()
    {
        var (code, _, error) = await RunAsync("migrate", "--force");
        Assert.Equal(2, code);
        Assert.Contains("migrate takes no arguments", error);
    }

    /// <summary>The address given to healthcheck may carry a user:password@ or a ?key=: neither is printed, whether the
    /// address is refused or does not answer. Before: both messages echoed the address as given.</summary>
    [Fact]
    public async Task Healthcheck_never_prints_a_credential_written_into_the_address()
    {
        var (code, _, error) = await RunAsync("healthcheck", "--url", "ftp://ops:s3cret-pw@example.test/healthz?api-key=k3y-value");
        Assert.Equal(2, code);
        Assert.Contains("is not an http(s) URL", error);
        Assert.Contains("ftp://***@example.test/healthz?api-key=***", error);

        (code, _, error) = await RunAsync("healthcheck", "--url", "http://ops:s3cret-pw@127.0.0.1:1/healthz?token=k3y-value");
        Assert.Equal(1, code);
        Assert.Contains("unhealthy: http://***@127.0.0.1:1/healthz?token=***", error);
        foreach (var secret in new[] { "s3cret-pw", "k3y-value" })
            Assert.DoesNotContain(secret, error);
    }

    /// <summary>A stray argument is named, not the settings beside it: the connection string's password stays out of the
    /// message. Before: every argument was echoed.</summary>
    [Fact]
    public async Task Migrate_names_a_stray_argument_without_echoing_the_connection_string()
    {
        var (code, _, error) = await RunAsync("migrate", "--ConnectionStrings:Incubator=Host=db;Username=app;Password=s3cret-pw", "--force", "--password=also-s3cret");
        Assert.Equal(2, code);
        Assert.Contains("migrate takes no arguments", error);
        Assert.Contains("--force", error);
        Assert.DoesNotContain("s3cret-pw", error);
        Assert.DoesNotContain("also-s3cret", error);
    }

    [Fact]
    public async Task Bench_lists_registered_benchmarks_and_rejects_unknown_filters_and_options()
    {
        var (code, output, _) = await RunAsync("bench", "--list");
        Assert.Equal(0, code);
        Assert.Contains("jobs.throughput", output);

        (code, _, var error) = await RunAsync("bench", "--filter", "no-such-benchmark");
        Assert.Equal(2, code);
        Assert.Contains("No benchmark matches 'no-such-benchmark'", error);

        (code, _, error) = await RunAsync("bench", "--fast");
        Assert.Equal(2, code);
        Assert.Contains("Unknown bench option '--fast'", error);

        (code, _, error) = await RunAsync("bench", "--filter");
        Assert.Equal(2, code);
        Assert.Contains("--filter needs a value", error);
    }

    [Fact]
    public async Task Bench_prints_a_table_with_a_baseline_and_ratio_measured_in_the_same_run()
    {
        var (code, output, _) = await RunAsync("bench", "--filter", "jobs");
        Assert.Equal(0, code);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("| benchmark", lines[0]);
        var concurrent = lines.Single(l => l.Contains("concurrency 4"));
        var cells = concurrent.Split('|', StringSplitOptions.TrimEntries);
        // cells: "", benchmark, metric, value, unit, baseline, ratio, note, ""
        Assert.True(double.Parse(cells[3], System.Globalization.CultureInfo.InvariantCulture) > 0);
        Assert.True(double.Parse(cells[5], System.Globalization.CultureInfo.InvariantCulture) > 0);
        Assert.True(double.Parse(cells[6], System.Globalization.CultureInfo.InvariantCulture) > 0);
    }
}
