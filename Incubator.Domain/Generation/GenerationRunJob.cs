using Incubator.Domain.Common.Events;
using Incubator.Domain.Data;
using Incubator.Domain.Jobs;
using Incubator.Domain.Llm;
using Incubator.Domain.Tasks;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Incubator.Domain.Generation;

/// <summary>Runs a <see cref="GenerationRun"/> as a durable job. Resumable by construction: the store reloads what the
/// run already has, so a restart (or a resume after pause) only generates the shortfall. The job ends the way the run
/// did (docs/decisions/0020-truthful-outcomes.md): Succeeded when every label met its target, StoppedShort with the
/// labels and the reason, Failed with why — after a fresh connection test when the endpoint never answered.</summary>
public sealed class GenerationRunJob(
    IDbContextFactory<IncubatorDbContext> dbFactory,
    LlmConnectionService connections,
    LlmClientFactory clients,
    ConnectionTester tester,
    SpendingGuard spending,
    GenerationEngine engine,
    IRunEvents events,
    IOptions<GenerationOptions> options,
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
            run.BudgetTokens, run.BudgetMoney, run.Seed) { EndpointWait = options.Value.EndpointWait };
        await context.LogAsync(ProgressNotes.GenerationStarted(run.PerLabelTarget, spec.Labels.Count, profile.Name, profile.Model, run.Oversample, settings.Concurrency,
            run.BudgetTokens, run.BudgetMoney));
        var observer = new Observer(context, events, run, time);
        var summary = await engine.RunAsync(spec, client, profile, settings, new DbGenerationStore(dbFactory, run, time), observer, context.CancellationToken);
        var rejected = string.Join(", ", summary.RejectedByReason.OrderByDescending(r => r.Value).Select(r => $"{r.Key} {r.Value}"));
        var log = ProgressNotes.GenerationSummary(summary.Accepted, summary.Selected, summary.Reserve, summary.Surplus, rejected, summary.InputTokens, summary.OutputTokens,
            summary.Cost, summary.Calls, summary.FailedCalls);
        var end = summary.End;
        switch (end.Outcome)
        {
            case RunOutcome.Completed:
                await context.CommitAsync(1, ProgressNotes.GenerationDone(summary.Selected, summary.Reserve), log: log);
                return;
            case RunOutcome.StoppedShort:
                await context.CommitAsync(observer.LastFraction, end.Note!, log: log);
                context.StopShort(end.Note!);
                return;
            default:
                var note = end.Note!;
                if (end is { Failure: RunFailure.Unreachable, Answered: false })
                {
                    // Never one answer: what does the connection test say right now? It tells "wrong address" from
                    // "the server is up but these requests fail", and the connection list marks the result.
                    var test = await tester.TestAsync(profile, CancellationToken.None);
                    await connections.RecordTestAsync(run.ConnectionId, test, CancellationToken.None);
                    note = RunNotes.UnreachableTested(end.FailureDetail ?? "",
                        new ConnectionTestSummary(test.Ok, test.Error, test.Elapsed.TotalSeconds.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture)));
                }
                await context.CommitAsync(observer.LastFraction, note, log: log);
                throw new JobFailedException(note);
        }
    }

    private sealed class Observer(JobContext context, IRunEvents events, GenerationRun run, TimeProvider time) : IGenerationObserver
    {
        private long _lastCommit;

        public double LastFraction { get; private set; }

        public Task SampleAcceptedAsync(Guid id, string label, string text, int round, bool ambiguous) =>
            events.PublishAsync(new SampleAccepted(run.ProjectId, run.Id, id, label, text, round, ambiguous)).AsTask();

        public Task SampleRejectedAsync(RejectedPiece piece, int round) =>
            events.PublishAsync(new SampleRejected(run.ProjectId, run.Id, piece.Label, piece.Text, piece.Reason.ToString(), piece.Detail, piece.Note)).AsTask();

        public async Task ProgressAsync(GenerationProgress p)
        {
            LastFraction = Math.Clamp(p.Fraction, 0, 1);
            await events.PublishAsync(new RunProgress(run.ProjectId, run.Id, p.Round, p.Pool, p.Selected, p.Target, p.InputTokens, p.OutputTokens,
                p.Cost, p.Calls, p.AcceptedPerSecond, p.Goal, p.UsefulPerSecond, p.Missing, run.TaskId, LastFraction));
            // The job row is for the Jobs page and restarts; once a second is plenty.
            if (time.GetElapsedTime(_lastCommit) >= TimeSpan.FromSeconds(1) || _lastCommit == 0)
            {
                _lastCommit = time.GetTimestamp();
                await context.CommitAsync(LastFraction, ProgressNotes.Generating(p.Selected.Values.Sum(), p.Target * p.Selected.Count, p.Pool.Values.Sum(), p.Calls));
            }
        }

        public Task EndpointAsync(EndpointWaiting? waiting) =>
            context.SetWaitingAsync(waiting is null ? null : RunNotes.Waiting(waiting.LastError, waiting.Limit));
    }
}
