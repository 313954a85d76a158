using Incubator.Domain.Jobs;
using Incubator.Domain.Review;

namespace Incubator.Domain.Common.Events;

/// <summary>Everything long-running reports through here. Blazor components subscribe in-process; the SignalR hub
/// relays the same events to external clients. Every non-abstract subclass in this assembly is an event: the
/// <see cref="RunEventCatalog"/>, the hub's method names and the JSON type names are all derived from these records,
/// so a new event needs nothing but its record.</summary>
public abstract record RunEvent(Guid ProjectId)
{
    /// <summary>Non-null for events that report only the latest state of one thing (a run's counters, a running job's
    /// progress): a newer event of the same type and key replaces one a slow subscriber has not read yet, so it skips
    /// intermediate states instead of falling behind. Null: the event is a fact of its own (a sample, a decision, a
    /// finished job) and every subscriber gets it, in order.</summary>
    public virtual Guid? LatestWinsKey() => null;
}

/// <summary>A job was queued, started, made progress, began or stopped waiting for its endpoint, or finished.
/// <c>Note</c> says why it stopped short or failed, or what it waits for; <c>Waiting</c> is true while it waits.</summary>
public sealed record JobChanged(
    Guid ProjectId, Guid JobId, string Kind, string Title, JobState State, double Progress, string? Message, string? Error,
    DateTimeOffset At, JobNote? Note = null, bool Waiting = false) : RunEvent(ProjectId)
{
    /// <summary>Progress ticks of a running job supersede each other; queued, paused and finished are transitions.</summary>
    public override Guid? LatestWinsKey() => State == JobState.Running ? JobId : null;

    /// <summary>The progress line (<see cref="Message"/>) as a note, for the portal to say in the reader's language.</summary>
    public JobNote? ProgressNote { get; init; }
}

/// <summary>The project itself changed (renamed, archived, membership). <c>What</c> is a stable key.</summary>
public sealed record ProjectChanged(Guid ProjectId, string What) : RunEvent(ProjectId);

/// <summary>A task was created or got a new version (<c>Version</c> is its current version number).</summary>
public sealed record TaskChanged(Guid ProjectId, Guid TaskId, int Version) : RunEvent(ProjectId);

/// <summary>A reviewer decided on a candidate (or undid a decision): its status and label now, and who (e-mail).</summary>
public sealed record ReviewChanged(Guid ProjectId, Guid TaskId, Guid CandidateId, CandidateStatus Status, string Label, string? By) : RunEvent(ProjectId);

/// <summary>Review leases on a task changed (someone was handed an item, or gave items back).</summary>
public sealed record AssignmentChanged(Guid ProjectId, Guid TaskId) : RunEvent(ProjectId)
{
    /// <summary>Carries nothing but "re-read the task's leases": two in a row say no more than one.</summary>
    public override Guid? LatestWinsKey() => TaskId;
}

/// <summary>A labelling run committed a batch (docs/decisions/0037-llm-labels-a-corpus.md): its counters as the database
/// now holds them.</summary>
public sealed record LabellingProgressed(Guid ProjectId, Guid RunId, Guid TaskId, int Done, int Total, int Labelled, int Disagreed, int NoneOfThese,
    int Rejected, long Tokens, decimal Cost) : RunEvent(ProjectId)
{
    /// <summary>Each carries the run's whole counters, so the latest says everything the earlier ones did.</summary>
    public override Guid? LatestWinsKey() => RunId;
}

/// <summary>A generated sample was kept (it is already a row).</summary>
public sealed record SampleAccepted(Guid ProjectId, Guid RunId, Guid CandidateId, string Label, string Text, int Round, bool Ambiguous) : RunEvent(ProjectId);

/// <summary>A piece of LLM output was rejected, with the reason.</summary>
public sealed record SampleRejected(Guid ProjectId, Guid RunId, string? Label, string Text, string Reason, string Detail, JobNote? Note = null) : RunEvent(ProjectId);

/// <summary>A generation run's counters: pool and selected per label, tokens, cost, rate. <c>Goal</c> is each label's pool
/// target while it is filling (0 once selected); <c>UsefulPerSecond</c> the recent rate of samples that joined an open
/// pool and <c>Missing</c> what the open pools still need — together, the time left. <c>Fraction</c> is the run's
/// progress (0..1), the same number its job shows.</summary>
public sealed record RunProgress(
    Guid ProjectId, Guid RunId, int Round, IReadOnlyDictionary<string, int> Pool, IReadOnlyDictionary<string, int> Selected, int Target,
    long InputTokens, long OutputTokens, decimal Cost, int Calls, double AcceptedPerSecond,
    IReadOnlyDictionary<string, int>? Goal = null, double UsefulPerSecond = 0, int Missing = 0, Guid? TaskId = null, double Fraction = 0) : RunEvent(ProjectId)
{
    /// <summary>Each carries the run's whole counters, so the latest says everything the earlier ones did.</summary>
    public override Guid? LatestWinsKey() => RunId;
}

/// <summary>A training run moved on: its stage, iteration (when the trainer reports one) and time since it started.</summary>
public sealed record TrainingProgressed(Guid ProjectId, Guid ModelVersionId, string Stage, int? Iteration, int? TotalIterations, string? Message,
    double ElapsedSeconds) : RunEvent(ProjectId)
{
    /// <summary>The message as a code with arguments, for the page to say in the reader's language.</summary>
    public JobNote? Note { get; init; }

    /// <summary>Where a training run is now; the model's end is a <see cref="ModelChanged"/>, which is never skipped.</summary>
    public override Guid? LatestWinsKey() => ModelVersionId;
}

/// <summary>A self-training run finished a round: its held-out agreement and whether it beat the best so far
/// (round 0 is the seed model; <c>MaxRounds</c> the rounds asked for after it).</summary>
public sealed record SelfTrainingRoundDone(Guid ProjectId, Guid RunId, Guid TaskId, int Round, int MaxRounds, double Agreement, bool Improved,
    int PseudoLabels) : RunEvent(ProjectId)
{
    /// <summary>Each round says all a watcher needs (the page reads the finished rounds from the run when it ends).</summary>
    public override Guid? LatestWinsKey() => RunId;
}

/// <summary>A model version changed state (trained, failed, published, retired).</summary>
public sealed record ModelChanged(Guid ProjectId, Guid ModelVersionId, Guid TaskId, Training.ModelVersionState State) : RunEvent(ProjectId);

/// <summary>Someone opened or left a task's review pages.</summary>
public sealed record PresenceChanged(Guid ProjectId, Guid TaskId) : RunEvent(ProjectId)
{
    /// <summary>Carries nothing but "re-read who is here".</summary>
    public override Guid? LatestWinsKey() => TaskId;
}

public interface IRunEvents
{
    /// <summary>Hands the event to every subscriber's own buffer and returns at once: it never waits for a subscriber,
    /// however slow or broken (the returned task is always complete).</summary>
    ValueTask PublishAsync(RunEvent e, CancellationToken ct = default);

    /// <summary>Receive events of one project, one at a time and in order (superseded progress skipped), until the
    /// returned handle is disposed.</summary>
    IDisposable Subscribe(Guid projectId, Func<RunEvent, Task> handler);

    /// <summary>Receive every project's events, those relayed from other instances included.</summary>
    IDisposable SubscribeAll(Func<RunEvent, Task> handler);

    /// <summary>Receive every project's events published in this process only: what this instance hands on to others
    /// (the instance relay, and the SignalR hub, whose Redis backplane reaches the other instances' clients).</summary>
    IDisposable SubscribeLocal(Func<RunEvent, Task> handler);

    /// <summary>Hands an event another instance published to this process's subscribers — all but the
    /// <see cref="SubscribeLocal"/> ones, so nothing is relayed twice — and returns at once, like
    /// <see cref="PublishAsync"/> (docs/decisions/0029-instances.md).</summary>
    void DeliverRemote(RunEvent e);

    /// <summary>Receive events of one project in batches: everything that arrived while the previous batch was being
    /// handled comes in the next call (progress already coalesced), so a slow handler gets fewer, larger batches.</summary>
    IDisposable SubscribeBatches(Guid projectId, Func<IReadOnlyList<RunEvent>, Task> handler);
}
