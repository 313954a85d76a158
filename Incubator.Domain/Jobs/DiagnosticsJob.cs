namespace Incubator.Domain.Jobs;

/// <summary>"Check the worker": counts through N steps with a pause each, committing every step. It proves on a live
/// install that jobs run, report progress, can be cancelled and resume after a restart — without spending anything.</summary>
public sealed class DiagnosticsJob : IJobHandler
{
    public const string KindName = "diagnostics.count";

    public string Kind => KindName;

    public sealed record Payload(int Steps, int DelayMs);

    public sealed record Checkpoint(int Done);

    public async Task RunAsync(JobContext context)
    {
        var payload = context.ReadPayload<Payload>();
        if (payload.Steps is < 0 or > 100_000) throw new ArgumentOutOfRangeException(nameof(context), "Steps must be 0..100000.");
        var done = context.ReadCheckpoint<Checkpoint>()?.Done ?? 0;
        if (done > 0) await context.LogAsync(ProgressNotes.DiagnosticsResuming(done, payload.Steps));
        for (var step = done + 1; step <= payload.Steps; step++)
        {
            await Task.Delay(Math.Clamp(payload.DelayMs, 0, 60_000), context.CancellationToken);
            await context.CommitAsync((double)step / payload.Steps, ProgressNotes.DiagnosticsStep(step, payload.Steps), new Checkpoint(step), ProgressNotes.DiagnosticsStepDone(step));
        }
    }
}
