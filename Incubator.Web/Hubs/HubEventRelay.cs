using Incubator.Domain.Common.Events;
using Microsoft.AspNetCore.SignalR;

namespace Incubator.Web.Hubs;

/// <summary>Forwards every <see cref="IRunEvents"/> event published in this process to the project's hub group, under the
/// event's catalogue name. It is a subscriber like any page: a slow hub client delays only this relay's own buffer,
/// never the publisher. Before each send it asks <see cref="HubMembership"/> which joined connections may not have the
/// event (a member removed or demoted since joining) and leaves them out; removed members' connections leave the group
/// at once. Events from other instances are not forwarded here: with several instances SignalR's Redis backplane carries
/// each instance's sends to every instance's clients (docs/decisions/0029-instances.md) — but a membership change made on
/// another instance still takes this instance's removed members out of the group.</summary>
internal sealed class HubEventRelay(IRunEvents events, IHubContext<ProjectsHub> hub, HubMembership membership, ILogger<HubEventRelay> logger)
    : IHostedService
{
    private IDisposable? _subscription;
    private IDisposable? _members;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _subscription = events.SubscribeLocal(RelayAsync);
        _members = events.SubscribeAll(MembersChangedAsync);
        return Task.CompletedTask;
    }

    /// <summary>Members changed on any instance: this instance's connections of people no longer members leave the group.</summary>
    internal async Task MembersChangedAsync(RunEvent e)
    {
        if (e is not ProjectChanged { What: "members" }) return;
        membership.MembersChanged(e.ProjectId);
        var (_, removed) = await membership.ExcludedAsync(e);
        foreach (var connectionId in removed) await hub.Groups.RemoveFromGroupAsync(connectionId, ProjectsHub.Group(e.ProjectId));
    }

    internal async Task RelayAsync(RunEvent e)
    {
        if (RunEventCatalog.NameOf(e) is not { } method)
        {
            logger.LogWarning("{EventType} is not a catalogued event; not relayed", e.GetType().Name);
            return;
        }
        if (e is ProjectChanged { What: "members" }) membership.MembersChanged(e.ProjectId);
        var group = ProjectsHub.Group(e.ProjectId);
        var (excluded, removed) = await membership.ExcludedAsync(e);
        foreach (var connectionId in removed)
        {
            await hub.Groups.RemoveFromGroupAsync(connectionId, group);
            logger.LogInformation("Hub connection {ConnectionId} left project {ProjectId}: its user is no longer a member", connectionId, e.ProjectId);
        }
        var clients = excluded.Count == 0 ? hub.Clients.Group(group) : hub.Clients.GroupExcept(group, excluded);
        await clients.SendAsync(method, e);
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _subscription?.Dispose();
        _members?.Dispose();
        return Task.CompletedTask;
    }
}
