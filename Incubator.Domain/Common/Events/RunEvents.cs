using System.Collections.Concurrent;
using System.Text.Json.Serialization;
using Incubator.Domain.Jobs;
using Incubator.Domain.Review;
using Microsoft.Extensions.Logging;

namespace Incubator.Domain.Common.Events;

/// <summary>Everything long-running reports through here. Blazor components subscribe in-process; the SignalR hub
/// relays the same events to external clients.</summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(JobChanged), "JobChanged")]
[JsonDerivedType(typeof(ProjectChanged), "ProjectChanged")]
[JsonDerivedType(typeof(SampleAccepted), "SampleAccepted")]
[JsonDerivedType(typeof(SampleRejected), "SampleRejected")]
[JsonDerivedType(typeof(RunProgress), "RunProgress")]
[JsonDerivedType(typeof(PresenceChanged), "PresenceChanged")]
[JsonDerivedType(typeof(TaskChanged), "TaskChanged")]
[JsonDerivedType(typeof(ReviewChanged), "ReviewChanged")]
[JsonDerivedType(typeof(AssignmentChanged), "AssignmentChanged")]
[JsonDerivedType(typeof(TrainingProgressed), "TrainingProgressed")]
[JsonDerivedType(typeof(ModelChanged), "ModelChanged")]
public abstract record RunEvent(Guid ProjectId);

/// <summary>A job was queued, started, made progress, or finished.</summary>
public sealed record JobChanged(
    Guid ProjectId, Guid JobId, string Kind, string Title, JobState State, double Progress, string? Message, string? Error,
    DateTimeOffset At) : RunEvent(ProjectId);

/// <summary>The project itself changed (renamed, archived, membership). <c>What</c> is a stable key.</summary>
public sealed record ProjectChanged(Guid ProjectId, string What) : RunEvent(ProjectId);

/// <summary>A task was created or got a new version (<c>Version</c> is its current version number).</summary>
public sealed record TaskChanged(Guid ProjectId, Guid TaskId, int Version) : RunEvent(ProjectId);

/// <summary>A reviewer decided on a candidate (or undid a decision): its status and label now, and who (e-mail).</summary>
public sealed record ReviewChanged(Guid ProjectId, Guid TaskId, Guid CandidateId, CandidateStatus Status, string Label, string? By) : RunEvent(ProjectId);

/// <summary>Review leases on a task changed (someone was handed an item, or gave items back).</summary>
public sealed record AssignmentChanged(Guid ProjectId, Guid TaskId) : RunEvent(ProjectId);

/// <summary>A generated sample was kept (it is already a row).</summary>
public sealed record SampleAccepted(Guid ProjectId, Guid RunId, Guid CandidateId, string Label, string Text, int Round, bool Ambiguous) : RunEvent(ProjectId);

/// <summary>A piece of LLM output was rejected, with the reason.</summary>
public sealed record SampleRejected(Guid ProjectId, Guid RunId, string? Label, string Text, string Reason, string Detail) : RunEvent(ProjectId);

/// <summary>A generation run's counters: pool and selected per label, tokens, cost, rate.</summary>
public sealed record RunProgress(
    Guid ProjectId, Guid RunId, int Round, IReadOnlyDictionary<string, int> Pool, IReadOnlyDictionary<string, int> Selected, int Target,
    long InputTokens, long OutputTokens, decimal Cost, int Calls, double AcceptedPerSecond) : RunEvent(ProjectId);

/// <summary>A training run moved on: its stage, iteration (when the trainer reports one) and time since it started.</summary>
public sealed record TrainingProgressed(Guid ProjectId, Guid ModelVersionId, string Stage, int? Iteration, int? TotalIterations, string? Message,
    double ElapsedSeconds) : RunEvent(ProjectId);

/// <summary>A model version changed state (trained, failed, published, retired).</summary>
public sealed record ModelChanged(Guid ProjectId, Guid ModelVersionId, Guid TaskId, Training.ModelVersionState State) : RunEvent(ProjectId);

/// <summary>Someone opened or left a task's review pages.</summary>
public sealed record PresenceChanged(Guid ProjectId, Guid TaskId) : RunEvent(ProjectId);

public interface IRunEvents
{
    ValueTask PublishAsync(RunEvent e, CancellationToken ct = default);

    /// <summary>Receive events of one project until the returned handle is disposed.</summary>
    IDisposable Subscribe(Guid projectId, Func<RunEvent, Task> handler);

    /// <summary>Receive every project's events (the hub relay uses this).</summary>
    IDisposable SubscribeAll(Func<RunEvent, Task> handler);
}

/// <summary>In-process fan-out. A failing subscriber is logged and skipped: a closed browser tab must never break a job.</summary>
public sealed class InProcessRunEvents(ILogger<InProcessRunEvents> logger) : IRunEvents
{
    private readonly ConcurrentDictionary<long, (Guid? Project, Func<RunEvent, Task> Handler)> _subscribers = new();
    private long _next;

    public async ValueTask PublishAsync(RunEvent e, CancellationToken ct = default)
    {
        foreach (var (_, s) in _subscribers)
        {
            if (s.Project is { } p && p != e.ProjectId) continue;
            try
            {
                await s.Handler(e);
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "A subscriber failed on {EventType} for project {ProjectId}", e.GetType().Name, e.ProjectId);
            }
        }
    }

    public IDisposable Subscribe(Guid projectId, Func<RunEvent, Task> handler) => Add(projectId, handler);

    public IDisposable SubscribeAll(Func<RunEvent, Task> handler) => Add(null, handler);

    private Subscription Add(Guid? project, Func<RunEvent, Task> handler)
    {
        var id = Interlocked.Increment(ref _next);
        _subscribers[id] = (project, handler);
        return new Subscription(() => _subscribers.TryRemove(id, out _));
    }

    private sealed class Subscription(Action dispose) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0) dispose();
        }
    }
}
