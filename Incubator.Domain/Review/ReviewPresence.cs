using Incubator.Domain.Common.Events;
using System.Collections.Concurrent;
using Incubator.Domain.Jobs;

namespace Incubator.Domain.Review;

/// <summary>Who has a task's review pages open right now. Kept in this process's memory (one instance owned by DI):
/// presence is about open browser connections, which belong to one instance anyway; with several instances each shows
/// the reviewers connected to it until the event bus is shared.</summary>
public sealed class ReviewPresence(IRunEvents events)
{
    private readonly ConcurrentDictionary<Guid, ConcurrentDictionary<Guid, string>> _byTask = new();

    /// <summary>Marks the user as present until the returned handle is disposed (the page is left or the circuit ends).</summary>
    public IDisposable Join(Guid projectId, Guid taskId, string display)
    {
        var token = Guid.NewGuid();
        _byTask.GetOrAdd(taskId, _ => new ConcurrentDictionary<Guid, string>())[token] = display;
        _ = events.PublishAsync(new PresenceChanged(projectId, taskId)).AsTask();
        return new Leave(() =>
        {
            if (_byTask.TryGetValue(taskId, out var present)) present.TryRemove(token, out _);
            _ = events.PublishAsync(new PresenceChanged(projectId, taskId)).AsTask();
        });
    }

    /// <summary>Distinct people present on the task, in alphabetical order.</summary>
    public IReadOnlyList<string> Who(Guid taskId) =>
        _byTask.TryGetValue(taskId, out var present)
            ? present.Values.Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.OrdinalIgnoreCase).ToList()
            : [];

    private sealed class Leave(Action leave) : IDisposable
    {
        private int _done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0) leave();
        }
    }
}
