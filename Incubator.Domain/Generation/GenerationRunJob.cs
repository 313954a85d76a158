using Incubator.Domain.Common.Events;
using Incubator.Domain.Data;
using Incubator.Domain.Jobs;
using Incubator.Domain.Llm;
using Incubator.Domain.Tasks;
using Microsoft.EntityFrameworkCore;

namespace Incubator.Domain.Generation;

/// <summary>Runs a <see cref="GenerationRun"/> as a durable job. Resumable by construction: the store reloads what the
/// run already has, so a restart (or a resume after pause) only generates the shortfall.</summary>
public sealed class GenerationRunJob(
    IDbContextFactory<IncubatorDbContext> dbFactory,
    LlmConnectionService connections,
    LlmClientFactory clients,
    SpendingGuard spending,
    GenerationEngine engine,
    IRunEvents events,
    TimeProvider time) : IJobHandler
{
    public const string KindName = "generation.run";

    public sealed record Payload(Guid RunId);

    public string Kind => KindName;

    public async Task RunAsync(JobContext context)
    {
        var payload = context.ReadPayload<Payload>();
        GenerationRun run;
        TaskSpec spec;
        await using (var db = await dbFactory.CreateDbContextAsync(context.CancellationToken))
        {
            run = await db.GenerationRuns.AsNoTracking().SingleAsync(r => r.Id == payload.RunId, context.CancellationToken);
            var version = await db.TaskVersions.AsNoTracking().SingleAsync(v => v.Id == run.TaskVersionId, context.CancellationToken);
            spec = TaskJson.Parse(version.SpecJson);
        }
        var profile = await connections.GetProfileForSystemAsync(run.ConnectionId, context.CancellationToken);
        var client = clients.Create(profile);
        // The site's key: every call is checked against the daily caps of the person who started the run and of the project.
        if (await connections.IsSiteWideAsync(run.ConnectionId, context.CancellationToken))
            client = spending.Guard(client, new SpendingScope(run.CreatedById ?? "", run.ProjectId, run.ConnectionId), profile);
        var settings = new GenerationSettings(run.PerLabelTarget, run.Oversample, Math.Clamp(run.Concurrency, 1, profile.MaxConcurrency),
            run.BudgetTokens, run.BudgetMoney, run.Seed);
        await context.LogAsync($"Generating {run.PerLabelTarget} per label for {spec.Labels.Count} labels with {profile.Name} ({profile.Model}), oversampling ×{run.Oversample:0.##}, concurrency {settings.Concurrency}.");
        var observer = new Observer(context, events, run, spec.Labels.Count, time);
        var summary = await engine.RunAsync(spec, client, profile, settings, new DbGenerationStore(dbFactory, run, time), observer, context.CancellationToken);
        var rejected = string.Join(", ", summary.RejectedByReason.OrderByDescending(r => r.Value).Select(r => $"{r.Key} {r.Value}"));
        await context.CommitAsync(summary.StopReason is null ? 1 : observer.LastFraction,
            summary.StopReason ?? $"Done: {summary.Selected} selected, {summary.Reserve} in reserve.",
            log: $"Accepted {summary.Accepted} (selected {summary.Selected}, reserve {summary.Reserve}); rejected: {(rejected.Length == 0 ? "none" : rejected)}; "
                 + $"tokens {summary.InputTokens:N0} in / {summary.OutputTokens:N0} out; cost {summary.Cost:0.####}; {summary.Calls} calls ({summary.FailedCalls} failed)."
                 + (summary.StopReason is null ? "" : $" Stopped: {summary.StopReason}"));
    }

    private sealed class Observer(JobContext context, IRunEvents events, GenerationRun run, int labelCount, TimeProvider time) : IGenerationObserver
    {
        private long _lastCommit;

        public double LastFraction { get; private set; }

        public Task SampleAcceptedAsync(Guid id, string label, string text, int round, bool ambiguous) =>
            events.PublishAsync(new SampleAccepted(run.ProjectId, run.Id, id, label, text, round, ambiguous)).AsTask();

        public Task SampleRejectedAsync(RejectedPiece piece, int round) =>
            events.PublishAsync(new SampleRejected(run.ProjectId, run.Id, piece.Label, piece.Text, piece.Reason.ToString(), piece.Detail)).AsTask();

        public async Task ProgressAsync(GenerationProgress p)
        {
            var oversample = Math.Max(1, run.Oversample);
            var done = p.Selected.Sum(s => Math.Min(p.Target, s.Value + (p.Pool.TryGetValue(s.Key, out var pool) ? pool / oversample : 0)));
            LastFraction = labelCount == 0 ? 0 : Math.Clamp(done / (p.Target * (double)labelCount), 0, 1);
            await events.PublishAsync(new RunProgress(run.ProjectId, run.Id, p.Round, p.Pool, p.Selected, p.Target, p.InputTokens, p.OutputTokens,
                p.Cost, p.Calls, p.AcceptedPerSecond));
            // The job row is for the Jobs page and restarts; once a second is plenty.
            if (time.GetElapsedTime(_lastCommit) >= TimeSpan.FromSeconds(1) || _lastCommit == 0)
            {
                _lastCommit = time.GetTimestamp();
                await context.CommitAsync(LastFraction, $"Round {p.Round + 1}: {p.Selected.Values.Sum()} selected, {p.Pool.Values.Sum()} in pool, {p.Calls} calls");
            }
        }
    }
}
