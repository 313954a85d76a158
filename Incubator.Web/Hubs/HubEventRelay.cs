using Incubator.Domain.Common.Events;
using Incubator.Domain.Projects;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;

namespace Incubator.Web.Hubs;

/// <summary>Forwards every <see cref="IRunEvents"/> event published in this process to the project's hub group, under the
/// event's catalogue name. It is a subscriber like any page: a slow hub client delays only this relay's own buffer,
/// never the publisher. Events from other instances are not forwarded here: with several instances SignalR's Redis
/// backplane carries each instance's sends to every instance's clients (docs/decisions/0029-instances.md).</summary>
internal sealed class HubEventRelay(IRunEvents events, IHubContext<ProjectsHub> hub, ILogger<HubEventRelay> logger) : IHostedService
{
    private IDisposable? _subscription;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _subscription = events.SubscribeLocal(RelayAsync);
        return Task.CompletedTask;
    }

    internal async Task RelayAsync(RunEvent e)
    {
        if (RunEventCatalog.NameOf(e) is not { } method)
        {
            logger.LogWarning("{EventType} is not a catalogued event; not relayed", e.GetType().Name);
            return;
        }
        await hub.Clients.Group(ProjectsHub.Group(e.ProjectId)).SendAsync(method, e);
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _subscription?.Dispose();
        return Task.CompletedTask;
    }
}
