using System.Collections.Concurrent;
using Incubator.Domain.Common.Events;
using Incubator.Domain.Projects;

namespace Incubator.Web.Hubs;

/// <summary>Which of this instance's hub connections joined which project, as whom, and the project's members as they
/// are now. The relay asks it before every send, so an event reaches only connections whose user is a member with the
/// role the event needs at the moment it is sent — not at the moment they joined. Roles are read from the database at
/// most every <see cref="RolesLifetime"/> per project, and at once after a membership change (the
/// <see cref="ProjectChanged"/> "members" event, which the relay sees before any later event of the project).</summary>
public sealed class HubMembership(ProjectAccess access, TimeProvider time)
{
    /// <summary>How long a project's member list is trusted without a membership event (a bound even if that event was
    /// dropped by an overloaded relay).</summary>
    public static readonly TimeSpan RolesLifetime = TimeSpan.FromSeconds(2);

    private readonly ConcurrentDictionary<Guid, ConcurrentDictionary<string, string>> _joined = new();
    private readonly ConcurrentDictionary<Guid, (long ReadAt, IReadOnlyDictionary<string, ProjectRole> Roles)> _roles = new();

    public void Join(Guid projectId, string connectionId, string userId) =>
        _joined.GetOrAdd(projectId, _ => new ConcurrentDictionary<string, string>(StringComparer.Ordinal))[connectionId] = userId;

    public void Leave(Guid projectId, string connectionId)
    {
        if (_joined.TryGetValue(projectId, out var connections)) connections.TryRemove(connectionId, out _);
    }

    public void Disconnected(string connectionId)
    {
        foreach (var connections in _joined.Values) connections.TryRemove(connectionId, out _);
    }

    /// <summary>Forget the project's member list: the next send reads it again.</summary>
    public void MembersChanged(Guid projectId) => _roles.TryRemove(projectId, out _);

    /// <summary>The role an event needs. Every role may read the review queue (sample texts included), so today any
    /// member may receive any event of the project; an event meant for fewer people says so here.</summary>
    public static ProjectRole RequiredRole(RunEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return ProjectRole.Viewer;
    }

    /// <summary>Joined connections that must not receive <paramref name="e"/>: their user's role is too low for it, or
    /// they are no longer members — those are also forgotten here and returned in <c>Removed</c>, so the caller takes
    /// them out of the project's group.</summary>
    public async Task<(IReadOnlyList<string> Excluded, IReadOnlyList<string> Removed)> ExcludedAsync(RunEvent e, CancellationToken ct = default)
    {
        if (!_joined.TryGetValue(e.ProjectId, out var connections) || connections.IsEmpty) return ([], []);
        var roles = await RolesAsync(e.ProjectId, ct);
        var needed = RequiredRole(e);
        var excluded = new List<string>();
        var removed = new List<string>();
        foreach (var (connectionId, userId) in connections)
        {
            if (!roles.TryGetValue(userId, out var role))
            {
                connections.TryRemove(connectionId, out _);
                removed.Add(connectionId);
                excluded.Add(connectionId);
            }
            else if (role < needed)
            {
                excluded.Add(connectionId);
            }
        }
        return (excluded, removed);
    }

    private async Task<IReadOnlyDictionary<string, ProjectRole>> RolesAsync(Guid projectId, CancellationToken ct)
    {
        if (_roles.TryGetValue(projectId, out var cached) && time.GetElapsedTime(cached.ReadAt) < RolesLifetime) return cached.Roles;
        var readAt = time.GetTimestamp();
        var roles = await access.MemberRolesAsync(projectId, ct);
        _roles[projectId] = (readAt, roles);
        return roles;
    }
}
