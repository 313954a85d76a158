using Incubator.Domain.Common.Events;
using Incubator.Domain.Projects;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;

namespace Incubator.Web.Hubs;

/// <summary>Relays a project's live events to members who joined its group. Membership is checked on join, on the
/// server; a non-member's join fails and their connection receives nothing of the project. Clients receive each event
/// under its record's name (<see cref="ClientMethods"/>: JobChanged, SampleAccepted, ...), with the record as the one
/// argument.</summary>
[Authorize]
public sealed class ProjectsHub(ProjectAccess access) : Hub
{
    public const string Path = "/hubs/projects";

    /// <summary>The client methods this hub calls: one per event of <see cref="RunEventCatalog"/>.</summary>
    public static IReadOnlyList<string> ClientMethods { get; } = RunEventCatalog.All.Select(k => k.Name).ToList();

    public static string Group(Guid projectId) => $"project:{projectId:N}";

    public async Task JoinProject(Guid projectId)
    {
        if (!await access.HasRoleAsync(projectId, Context.UserIdentifier, ProjectRole.Viewer))
            throw new HubException("You are not a member of this project.");
        await Groups.AddToGroupAsync(Context.ConnectionId, Group(projectId));
    }

    public Task LeaveProject(Guid projectId) => Groups.RemoveFromGroupAsync(Context.ConnectionId, Group(projectId));
}
