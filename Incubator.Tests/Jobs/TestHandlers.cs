using System.Collections.Concurrent;
using Incubator.Domain.Jobs;

namespace Incubator.Tests.Jobs;

/// <summary>Shared by every host of a test (one instance registered in each), so it sees executions from all workers.</summary>
internal sealed class ExecutionRecorder
{
    private readonly ConcurrentDictionary<Guid, string> _active = new();

    /// <summary>Job id → the worker names that ran it, one entry per execution.</summary>
    public ConcurrentDictionary<Guid, ConcurrentQueue<string>> Runs { get; } = new();

    /// <summary>Executions that started while another execution of the same job was still in progress.</summary>
    public ConcurrentQueue<string> Overlaps { get; } = new();

    public void Enter(Guid jobId, string worker)
    {
        Runs.GetOrAdd(jobId, _ => new ConcurrentQueue<string>()).Enqueue(worker);
        if (!_active.TryAdd(jobId, worker))
            Overlaps.Enqueue($"job {jobId}: {worker} started while {_active.GetValueOrDefault(jobId)} was running it");
    }

    public void Exit(Guid jobId) => _active.TryRemove(jobId, out _);
}

/// <summary>"test.record": notes which worker ran it, waits a little so runs overlap in time, and commits one log line.</summary>
internal sealed class RecordingJob(ExecutionRecorder recorder) : IJobHandler
{
    public const string KindName = "test.record";

    public sealed record Payload(int DelayMs);

    public string Kind => KindName;

    public async Task RunAsync(JobContext context)
    {
        // The snapshot handed to the handler is the row as this worker claimed it, so LeaseOwner is this worker.
        var worker = context.Job.LeaseOwner ?? "(no lease owner)";
        recorder.Enter(context.JobId, worker);
        try
        {
            await Task.Delay(context.ReadPayload<Payload>().DelayMs, context.CancellationToken);
            await context.CommitAsync(1, new JobNote("Test.Recorded", "recorded"), log: new JobNote("Test.RanOn", $"Ran on {worker}.", worker));
        }
        finally
        {
            recorder.Exit(context.JobId);
        }
    }
}

/// <summary>"test.fail": commits half its work, then throws.</summary>
internal sealed class FailingJob : IJobHandler
{
    public const string KindName = "test.fail";

    public sealed record Payload(string Message);

    public string Kind => KindName;

    public async Task RunAsync(JobContext context)
    {
        var payload = context.ReadPayload<Payload>();
        await context.CommitAsync(0.5, new JobNote("Test.HalfWay", "half way"), new { half = true }, new JobNote("Test.HalfWayThere", "Half way there."));
        throw new InvalidOperationException(payload.Message);
    }
}
