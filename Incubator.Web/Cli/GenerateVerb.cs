using Incubator.Domain.Review;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Incubator.Domain.Common.TextFiles;
using Incubator.Domain.Embeddings;
using Incubator.Domain.Generation;
using Incubator.Domain.Llm;
using Incubator.Domain.Tasks;

namespace Incubator.Web.Cli;

/// <summary>`generate`: the portal's generation engine without the portal — a task JSON in, `label&lt;TAB&gt;text` rows out.</summary>
internal static class GenerateVerb
{
    public const string Usage =
        "generate --task task.json --endpoint URL --model NAME [--provider openai|azure|compatible] [--api-key KEY] --per-label N "
        + "[--oversample F] [--concurrency C] [--budget-tokens T] [--endpoint-wait SECONDS] [--max-attempts N] --out samples.tsv [--json]";

    /// <summary>Exit codes, the same outcome the portal's job would have (docs/decisions/0020-truthful-outcomes.md):
    /// 0 completed, 1 stopped short, 2 bad arguments, 3 failed.</summary>
    public const int Completed = 0, StoppedShort = 1, Failed = 3;

    private sealed record Options(string Task, string Endpoint, string Model, LlmProvider Provider, string? ApiKey, int PerLabel, double Oversample,
        int Concurrency, long? BudgetTokens, TimeSpan EndpointWait, int? MaxAttempts, string Out, bool Json);

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        var o = Parse(args);
        if (await CliTaskFile.ReadAsync(o.Task, stderr, ct) is not { } spec) return 2;
        CliEndpointArgs.WarnIfKeySentInClear(o.Endpoint, o.ApiKey, stderr);

        var builder = CliApp.HeadlessBuilder([]);
        builder.Services.AddIncubatorEmbeddings();
        builder.Services.AddIncubatorLlm(builder.Configuration);
        builder.Services.AddSingleton<DemonstrationBank>();
        builder.Services.AddSingleton<GenerationEngine>();
        using var host = builder.Build();

        var profile = new LlmProfile(null, "command line", o.Provider, o.Endpoint, o.Model, o.ApiKey, 0.9, 1024, o.Concurrency, null, 0, 0);
        var client = host.Services.GetRequiredService<LlmClientFactory>().Create(profile, o.MaxAttempts);
        var engine = host.Services.GetRequiredService<GenerationEngine>();
        var store = new MemoryGenerationStore();
        var clock = Stopwatch.StartNew();
        var settings = new GenerationSettings(o.PerLabel, o.Oversample, o.Concurrency, o.BudgetTokens) { EndpointWait = o.EndpointWait };
        // The portal's default: a budget of the worst-case estimate unless one is given.
        settings = settings with { BudgetTokens = o.BudgetTokens ?? engine.Estimate(spec, settings, profile).DefaultBudgetTokens };
        var summary = await engine.RunAsync(spec, client, profile, settings, store, NullGenerationObserver.Instance, ct);
        clock.Stop();

        var rows = store.Candidates.Where(c => c.Stage == CandidateStage.Selected).OrderBy(c => spec.Labels.ToList().FindIndex(l => l.Name == c.Label)).ToList();
        await CliOutput.WriteTextAsync(o.Out, async writer =>
        {
            foreach (var r in rows) await writer.WriteLineAsync($"{r.Label}\t{TsvCell.Of(r.Text)}");
        });

        var rejected = summary.RejectedByReason.OrderByDescending(r => r.Value).ToDictionary(r => r.Key.ToString(), r => r.Value);
        if (o.Json)
        {
            stdout.WriteLine(JsonSerializer.Serialize(new
            {
                accepted = summary.Accepted, written = rows.Count, reserve = summary.Reserve, rejected, inputTokens = summary.InputTokens,
                outputTokens = summary.OutputTokens, calls = summary.Calls, failedCalls = summary.FailedCalls, seconds = Math.Round(clock.Elapsed.TotalSeconds, 2),
                outcome = summary.Outcome.ToString(), note = summary.End.Note is { } n ? new { code = n.Code, message = n.Message, args = n.Args } : null,
                shortfalls = summary.End.Shortfalls.Select(f => new { label = f.Label, selected = f.Selected, target = f.Target, reason = f.Reason.ToString() }),
                surplus = summary.Surplus, stopReason = summary.StopReason, output = Path.GetFullPath(o.Out),
            }, new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true }));
        }
        else
        {
            stdout.WriteLine($"accepted {summary.Accepted} ({rows.Count} written to {o.Out}, {summary.Reserve} in reserve)");
            stdout.WriteLine(rejected.Count == 0 ? "rejected 0" : $"rejected {rejected.Values.Sum()}: {string.Join(", ", rejected.Select(r => $"{r.Key} {r.Value}"))}");
            stdout.WriteLine($"tokens {summary.InputTokens.ToString("N0", CultureInfo.InvariantCulture)} in, {summary.OutputTokens.ToString("N0", CultureInfo.InvariantCulture)} out; {summary.Calls} calls ({summary.FailedCalls} failed)");
            stdout.WriteLine($"seconds {clock.Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)}");
            if (summary.Surplus > 0) stdout.WriteLine($"not kept {summary.Surplus} (their labels were already full)");
            if (summary.StopReason is not null) stdout.WriteLine($"{(summary.Outcome == RunOutcome.Failed ? "failed" : "stopped short")}: {summary.StopReason}");
        }
        return summary.Outcome switch
        {
            RunOutcome.Completed => Completed,
            RunOutcome.StoppedShort => StoppedShort,
            _ => Failed,
        };
    }

    private static Options Parse(string[] args)
    {
        var o = CliArgs.Parse(args, Usage, ["task", .. CliEndpointArgs.Names, "per-label", "oversample", "concurrency", "out"], flags: ["json"]);
        var llm = CliEndpointArgs.Read(o);
        var oversample = 3.0;
        if (o["oversample"] is { } os && (!double.TryParse(os, NumberStyles.Float, CultureInfo.InvariantCulture, out oversample) || oversample is < 1 or > 10))
            throw new CliUsageException($"--oversample must be a number from 1 to 10 (got '{os}').");
        // The rows are written after the run: a bad --out found only then would throw away samples already paid for.
        var output = o.Output("out", "task");
        return new Options(o.Required("task"), llm.Endpoint, llm.Model, llm.Provider, llm.ApiKey, o.Int("per-label", 1, GenerationService.MaxPerLabel),
            oversample, o.Int("concurrency", 1, 64, 4), llm.BudgetTokens, llm.EndpointWait, llm.MaxAttempts, output, o.Flag("json"));
    }
}
