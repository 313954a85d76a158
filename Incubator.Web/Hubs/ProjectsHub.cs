using Incubator.Domain.Common.Events;
using Incubator.Domain.Jobs;
using Incubator.Domain.Projects;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;

namespace Incubator.Web.Hubs;

/// <summary>What external clients (CLI watch, scripts, dashboards) receive. Names match the event records.</summary>
public interface IProjectsClient
{
    Task JobChanged(JobChanged e);

    Task ProjectChanged(ProjectChanged e);

    Task TaskChanged(TaskChanged e);

    Task SampleAccepted(SampleAccepted e);

    Task SampleRejected(SampleRejected e);

    Task RunProgress(RunProgress e);

    Task PresenceChanged(PresenceChanged e);

    Task ReviewChanged(ReviewChanged e);

    /// <summary>A training run's stage, iteration and elapsed time.</summary>
    Task TrainingProgressed(TrainingProgressed e);

    /// <summary>A model version was trained, failed, was cancelled, published or retired.</summary>
    Task ModelChanged(ModelChanged e);
}

/// <summary>Relays a project's live events to members who joined its group. Membership is checked on join, on the
/// server; a non-member's join fails and their connection receives nothing of the project.</summary>
[Authorize]
public sealed class ProjectsHub(ProjectAccess access) : Hub<IProjectsClient>
{
    public const string Path = "/hubs/projects";

    public static string Group(Guid projectId) => $"project:{projectId:N}";

    public async Task JoinProject(Guid projectId)
    {
        if (!await access.HasRoleAsync(projectId, Context.UserIdentifier, ProjectRole.Viewer))
            throw new HubException("You are not a member of this project.");
        await Groups.AddToGroupAsync(Context.ConnectionId, Group(projectId));
    }

    public Task LeaveProject(Guid projectId) => Groups.RemoveFromGroupAsync(Context.ConnectionId, Group(projectId));
}

/// <summary>Forwards every <see cref="IRunEvents"/> event to the project's hub group.</summary>
internal sealed class HubEventRelay(IRunEvents events, IHubContext<ProjectsHub, IProjectsClient> hub, ILogger<HubEventRelay> logger) : IHostedService
{
    private IDisposable? _subscription;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _subscription = events.SubscribeAll(async e =>
        {
            var group = hub.Clients.Group(ProjectsHub.Group(e.ProjectId));
            switch (e)
            {
                case JobChanged j:
                    await group.JobChanged(j);
                    break;
                case ProjectChanged p:
                    await group.ProjectChanged(p);
                    break;
                case TaskChanged t:
                    await group.TaskChanged(t);
                    break;
                case SampleAccepted a:
                    await group.SampleAccepted(a);
                    break;
                case SampleRejected r:
                    await group.SampleRejected(r);
                    break;
                case RunProgress p:
                    await group.RunProgress(p);
                    break;
                case PresenceChanged pc:
                    await group.PresenceChanged(pc);
                    break;
                case ReviewChanged r:
                    await group.ReviewChanged(r);
                    break;
                case TrainingProgressed tp:
                    await group.TrainingProgressed(tp);
                    break;
                case ModelChanged mc:
                    await group.ModelChanged(mc);
                    break;
                default:
                    logger.LogDebug("No hub method for {EventType}", e.GetType().Name);
                    break;
            }
        });
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _subscription?.Dispose();
        return Task.CompletedTask;
    }
}
