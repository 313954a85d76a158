using Incubator.Tests.Infrastructure;
using Incubator.Web.Cli;

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
