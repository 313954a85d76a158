using Incubator.Domain.Common.Events;
using Incubator.Domain.Projects;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;

namespace Incubator.Web.Hubs;

/// <summary>Relays a project's live events to members who joined its group. Membership is checked on join, on the
/// server, and again before every event is sent (<see cref="HubMembership"/>): a non-member's join fails, and a member
/// who is removed stops receiving at once. Clients sign in with the portal's cookie or a personal API token
/// (<c>Authorization: Bearer</c>, or <c>access_token</c> in the query for transports without headers). Clients receive
/// each event under its record's name (<see cref="ClientMethods"/>: JobChanged, SampleAccepted, ...), with the record as
/// the one argument.</summary>
[Authorize]
public sealed class ProjectsHub(ProjectAccess access, HubMembership membership) : Hub
{
    public const string Path = "/hubs/projects";

    /// <summary>The client methods this hub calls: one per event of <see cref="RunEventCatalog"/>.</summary>
    public static IReadOnlyList<string> ClientMethods { get; } = RunEventCatalog.All.Select(k => k.Name).ToList();

    public static string Group(Guid projectId) => $"project:{projectId:N}";

    public async Task JoinProject(Guid projectId)
    {
        if (Context.UserIdentifier is not { } userId || !await access.HasRoleAsync(projectId, userId, ProjectRole.Viewer))
            throw new HubException("You are not a member of this project.");
        membership.Join(projectId, Context.ConnectionId, userId);
        await Groups.AddToGroupAsync(Context.ConnectionId, Group(projectId));
    }

    public async Task LeaveProject(Guid projectId)
    {
        membership.Leave(projectId, Context.ConnectionId);
        await Groups.RemoveFromGroupAsync(Context.ConnectionId, Group(projectId));
    }

    public override Task OnDisconnectedAsync(Exception? exception)
    {
        membership.Disconnected(Context.ConnectionId);
        return base.OnDisconnectedAsync(exception);
    }
}
