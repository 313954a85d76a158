using System.Collections.Concurrent;
using Incubator.Domain.Common.Events;

namespace Incubator.Web.Components.Pages.Review;

/// <summary>Which of a project's live events concern one task's review pages. Decisions, leases and presence name their
/// task; a new sample names its run, so the filter learns once per run whether the run is the task's (one query for
/// the runs first seen in a batch) and from then on drops the samples of other tasks' runs before they cost anything.</summary>
public sealed class TaskEventFilter(Guid taskId)
{
    // Written on the circuit, read on the publisher's thread (WantsEvent).
    private readonly ConcurrentDictionary<Guid, bool> _runs = new();

    public bool Wants(RunEvent e) => e switch
    {
        ReviewChanged r => r.TaskId == taskId,
        AssignmentChanged a => a.TaskId == taskId,
        PresenceChanged p => p.TaskId == taskId,
        SampleAccepted s => !_runs.TryGetValue(s.RunId, out var ours) || ours,
        // An LLM labelling run's batch puts its texts into the queue (it names its task; no per-sample events).
        LabellingProgressed l => l.TaskId == taskId,
        _ => false,
    };

    /// <summary>The events of <paramref name="batch"/> that concern the task. <paramref name="runsOfTask"/> answers, for runs
    /// not seen before, which of them are the task's; it is not called when every run is known.</summary>
    public async Task<IReadOnlyList<RunEvent>> OfTaskAsync(
        IReadOnlyList<RunEvent> batch, Func<IReadOnlyCollection<Guid>, Task<IReadOnlySet<Guid>>> runsOfTask)
    {
        var unknown = batch.OfType<SampleAccepted>().Select(s => s.RunId).Where(id => !_runs.ContainsKey(id)).Distinct().ToList();
        if (unknown.Count > 0)
        {
            var ours = await runsOfTask(unknown);
            foreach (var id in unknown) _runs[id] = ours.Contains(id);
        }
        return batch.Where(Wants).ToList();
    }
}
