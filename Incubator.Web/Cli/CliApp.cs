using Microsoft.Extensions.Hosting;
using Incubator.Domain.Llm;
using Incubator.Domain.Benchmarks;
using Incubator.Domain.Common.TextFiles;
using Incubator.Domain.Data;
using Incubator.Domain.Jobs;
using Incubator.Domain.Projects;
using Incubator.Web.Accounts;
using Incubator.Web.Extensions;
using Incubator.Domain.Common;

namespace Incubator.Web.Cli;

/// <summary>Verb dispatch for the single executable. Headless verbs build a small host with only the services they
/// need (no web server, no job worker) so they start fast and exit.</summary>
public static class CliApp
{
    private static readonly (string Verb, string Usage, string Help)[] Verbs =
    [
        ("serve", "serve [--urls URL] [ASP.NET options]", "Run the portal (the default when no verb is given)."),
        ("migrate", "migrate", "Create or upgrade the database in the data folder (and encrypt LLM connection addresses saved with a credential, as the portal's start does), print what was done, and exit."),
        ("bench", "bench [--filter TEXT] [--list]", "Run the registered benchmarks and print a table."),
        ("generate", GenerateVerb.Usage, "Generate labelled samples for a task JSON with an LLM endpoint and write label<TAB>text rows."),
        ("train", TrainVerbs.TrainUsage, "Train a text classifier on label<TAB>text rows (TSV, CSV or JSONL), print its metrics and write an ONNX model bundle (zip)."),
        ("predict", TrainVerbs.PredictUsage, "Label each row of a file with a model bundle; prints accuracy and macro-F1 when the file has labels. Writes label<TAB>probability<TAB>text."),
        ("label", LabelVerb.Usage, "Label texts of a file with an LLM endpoint in batches for a task JSON (all, or --limit N stratified by the miner's labels) and write label<TAB>text rows."),
        ("mine", MineVerb.Usage, "Mine candidates for a task JSON from a file of unlabelled texts, offline (no LLM), and write label<TAB>text rows; with --self-train also train a model with no human label and write its bundle."),
        ("pairs", PairsVerb.Usage, "Turn approved label<TAB>text rows and their task JSON into fine-tuning pairs for a generator (zip: OpenAI chat JSONL, instruction/input/output JSONL, validation split, data card)."),
        ("query", QueryVerb.Usage, "Run a query over published model bundles and a corpus (one text per line); write the matching texts with each clause's probability and print the funnel."),
        ("healthcheck", "healthcheck [--url URL]", "Ask a running portal's /healthz; exit 0 when healthy (used by the Docker HEALTHCHECK)."),
    ];

    /// <summary>The exit code when the data folder cannot be used (documented in the README).</summary>
    public const int DataFolderExitCode = 3;

    public static async Task<int> RunAsync(string[] args, TextWriter? stdout = null, TextWriter? stderr = null)
    {
        stdout ??= Console.Out;
        stderr ??= Console.Error;
        TextSniffer.RegisterCodePages(); // Shift_JIS, EUC-JP, Windows-1252 by name too, for the portal and every verb
        var verb = args.Length == 0 || args[0].StartsWith('-') && args[0] is not ("--help" or "-h" or "-?") ? "serve" : args[0];
        var rest = verb == "serve" && (args.Length == 0 || args[0] != "serve") ? args : args.Skip(1).ToArray();
        try
        {
            switch (verb)
            {
                case "serve":
                    await IncubatorWeb.Build(rest).RunAsync();
                    return 0;
                case "migrate":
                    return await MigrateAsync(rest, stdout);
                case "bench":
                    return await BenchAsync(rest, stdout, stderr);
                case "generate":
                    return await GenerateVerb.RunAsync(rest, stdout, stderr, CancellationToken.None);
                case "train":
                    return TrainVerbs.Train(rest, stdout, stderr, CancellationToken.None);
                case "predict":
                    return TrainVerbs.Predict(rest, stdout, stderr);
                case "label":
                    return await LabelVerb.RunAsync(rest, stdout, stderr, CancellationToken.None);
                case "mine":
                    return await MineVerb.RunAsync(rest, stdout, stderr, CancellationToken.None);
                case "pairs":
                    return await PairsVerb.RunAsync(rest, stdout, stderr, CancellationToken.None);
                case "query":
                    return await QueryVerb.RunAsync(rest, stdout, stderr, CancellationToken.None);
                case "healthcheck":
                    return await HealthCheckAsync(rest, stdout, stderr);
                case "--help" or "-h" or "-?" or "help":
                    PrintHelp(stdout);
                    return 0;
                default:
                    stderr.WriteLine($"Unknown verb '{verb}'.");
                    PrintHelp(stderr);
                    return 2;
            }
        }
        catch (CliUsageException ex)
        {
            foreach (var line in ex.Message.Split('\n')) stderr.WriteLine($"error: {line}");
            return 2;
        }
        catch (DataFolderException ex)
        {
            // An environment problem, not a bug: one sentence, no stack trace.
            stderr.WriteLine($"error: {ex.Message}");
            return DataFolderExitCode;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A file that could not be written or read after the checks (a full disk, a file removed meanwhile): one
            // line naming the file, no stack trace; CliOutput has already removed any half-written output.
            stderr.WriteLine($"error: {EndpointSecrets.Redact(ex.Message)}");
            return 1;
        }
    }

    public static void PrintHelp(TextWriter w)
    {
        w.WriteLine("Incubator — grow small text classifiers from an instruction.");
        w.WriteLine();
        w.WriteLine("Usage: Incubator.Web [verb] [options]");
        w.WriteLine();
        w.WriteLine("Verbs:");
        foreach (var (_, usage, help) in Verbs)
            w.WriteLine($"  {usage}\n      {help}");
        w.WriteLine();
        w.WriteLine("Data folder: ./data under the current folder; set INCUBATOR_DATA or --Incubator:DataDirectory=PATH to change it.");
        w.WriteLine("Port: http://localhost:5080 by default; change it with --urls or ASPNETCORE_URLS.");
    }

    private static async Task<int> MigrateAsync(string[] args, TextWriter stdout)
    {
        string[] settings = ["--Incubator:", "--Database:", "--ConnectionStrings:", "--KeyRing:"];
        // Only the stray arguments are echoed: the settings beside them may hold a connection string with its password.
        var stray = args.Where(a => !settings.Any(p => a.StartsWith(p, StringComparison.OrdinalIgnoreCase))).ToList();
        if (stray.Count > 0)
            throw new CliUsageException($"migrate takes no arguments besides --Incubator:*, --Database:*, --ConnectionStrings:* and --KeyRing:* settings (got '{EndpointSecrets.RedactSettings(string.Join(' ', stray))}').");
        // The portal's key ring (and its options' checks): what is encrypted here, the portal must be able to decrypt.
        using var host = BuildHeadlessHost(args, b =>
        {
            b.AddIncubatorDataProtection();
            b.Services.AddIncubatorLlm(b.Configuration);
        });
        var options = host.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<IncubatorOptions>>().Value;
        DataFolder.EnsureUsable(options.ResolveDataDirectory());
        // Starting runs the key ring's own start step (KeyRingStartup) and validates the options, as the portal's start
        // does; this host has no job worker or other background work.
        await host.StartAsync();
        // The portal's start step, not a copy of it: migrations, then old addresses with a credential encrypted.
        var upgrade = await DatabaseUpgrade.RunAsync(host.Services);
        var applied = upgrade.Applied;
        var database = host.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<DatabaseOptions>>().Value;
        var where = database.Provider == DatabaseProvider.Sqlite ? options.ResolveDataDirectory() : "PostgreSQL";
        stdout.WriteLine(applied.Count == 0
            ? $"Database is up to date ({where})."
            : $"Applied {EnglishCount.Of(applied.Count, "migration", "migrations")} to {where}: {string.Join(", ", applied)}");
        stdout.WriteLine(DatabaseUpgrade.ProtectedEndpointsLine(upgrade.ProtectedEndpoints));
        await host.StopAsync();
        return 0;
    }

    private static async Task<int> BenchAsync(string[] args, TextWriter stdout, TextWriter stderr)
    {
        string? filter = null;
        var list = false;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--filter" when i + 1 < args.Length:
                    filter = args[++i];
                    break;
                case "--filter":
                    throw new CliUsageException("--filter needs a value, for example --filter jobs.");
                case "--list":
                    list = true;
                    break;
                default:
                    throw new CliUsageException($"Unknown bench option '{args[i]}'. Use --filter TEXT or --list.");
            }
        }
        var benchmarks = BenchmarkCatalog.All();
        if (list)
        {
            foreach (var b in benchmarks) stdout.WriteLine($"{b.Name,-28} {b.Description}");
            return 0;
        }
        var selected = benchmarks.Where(b => filter is null || b.Name.Contains(filter, StringComparison.OrdinalIgnoreCase)).ToList();
        if (selected.Count == 0)
        {
            stderr.WriteLine($"No benchmark matches '{filter}'. Registered: {string.Join(", ", benchmarks.Select(b => b.Name))}.");
            return 2;
        }
        var rows = new List<BenchmarkRow>();
        foreach (var b in selected)
        {
            stderr.WriteLine($"running {b.Name} ...");
            rows.AddRange(await b.RunAsync(CancellationToken.None));
        }
        BenchmarkTable.Write(stdout, rows);
        return 0;
    }

    private static async Task<int> HealthCheckAsync(string[] args, TextWriter stdout, TextWriter stderr)
    {
        string url;
        if (args.Length == 2 && args[0] == "--url") url = args[1];
        else if (args.Length == 0) url = DefaultHealthUrl();
        else throw new CliUsageException("healthcheck takes only --url URL (for example --url http://localhost:8080/healthz).");
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw new CliUsageException($"'{EndpointSecrets.Redact(url)}' is not an http(s) URL.");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        try
        {
            using var response = await http.GetAsync(uri);
            var body = await response.Content.ReadAsStringAsync();
            (response.IsSuccessStatusCode ? stdout : stderr).WriteLine($"{(int)response.StatusCode} {body}");
            return response.IsSuccessStatusCode ? 0 : 1;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            // The address as given may carry a user:password@ or a ?key=: never printed (nor in the error's text).
            stderr.WriteLine(EndpointSecrets.Redact($"unhealthy: {url} did not answer ({ex.Message})"));
            return 1;
        }
    }

    /// <summary>The first address in ASPNETCORE_URLS (wildcards mean this machine), else the documented default port.</summary>
    internal static string DefaultHealthUrl()
    {
        var urls = Environment.GetEnvironmentVariable("ASPNETCORE_URLS");
        var first = string.IsNullOrWhiteSpace(urls) ? "http://localhost:5080" : urls.Split(';', StringSplitOptions.RemoveEmptyEntries)[0];
        first = first.Replace("://+", "://localhost").Replace("://*", "://localhost").Replace("://0.0.0.0", "://localhost").Replace("://[::]", "://localhost");
        return first.TrimEnd('/') + "/healthz";
    }

    /// <summary>A host builder for a verb that runs and exits. Its log lines (a retry, the LLM client's token counts) are
    /// warnings and worse only, and go to stderr: stdout is the verb's own output (rows, a summary, JSON), which scripts
    /// read. A rule rather than a minimum level: appsettings.json's "Default": "Information" would win over a minimum.</summary>
    internal static HostApplicationBuilder HeadlessBuilder(string[] args)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.AddFilter((string?)null, LogLevel.Warning);
        builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        return builder;
    }

    internal static IHost BuildHeadlessHost(string[] args, Action<HostApplicationBuilder>? configure = null)
    {
        var builder = HeadlessBuilder(args);
        builder.Services.AddIncubatorData(builder.Configuration);
        builder.Services.AddIncubatorProjects();
        builder.Services.AddIncubatorJobs(builder.Configuration, runWorker: false);
        configure?.Invoke(builder);
        return builder.Build();
    }
}

public sealed class CliUsageException(string message) : Exception(message);
