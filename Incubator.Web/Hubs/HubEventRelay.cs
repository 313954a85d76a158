using Incubator.Domain.Common.Events;
using Microsoft.AspNetCore.SignalR;

namespace Incubator.Web.Hubs;

/// <summary>Forwards every <see cref="IRunEvents"/> event to the project's hub group, under the event's catalogue name.
/// It is a subscriber like any page: a slow hub client delays only this relay's own buffer, never the publisher. Before
/// each send it asks <see cref="HubMembership"/> which joined connections may not have the event (a member removed or
/// demoted since joining) and leaves them out; removed members' connections leave the group at once.</summary>
internal sealed class HubEventRelay(IRunEvents events, IHubContext<ProjectsHub> hub, HubMembership membership, ILogger<HubEventRelay> logger)
    : IHostedService
{
    private IDisposable? _subscription;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _subscription = events.SubscribeAll(RelayAsync);
        return Task.CompletedTask;
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
        return Task.CompletedTask;
    }
}
