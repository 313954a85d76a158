using Incubator.Domain.Common.Events;
using Incubator.Domain.Common;
using Incubator.Domain.Jobs;
using Incubator.Domain.Projects;
using Incubator.Web.Components.Pages.Shared;
using Microsoft.AspNetCore.Components;

namespace Incubator.Web.Components.Pages.Projects;

/// <summary>Base for pages under /projects/{ProjectId}. The route's policy has already checked membership; this
/// loads the project as the user sees it and listens to its live events until the page is left.</summary>
public abstract class ProjectPage : PortalPage, IDisposable
{
    private IDisposable? _subscription;

    [Parameter] public Guid ProjectId { get; set; }

    [Inject] protected ProjectService Projects { get; set; } = default!;

    [Inject] protected IRunEvents Events { get; set; } = default!;

    protected ProjectSummary? Project { get; private set; }

    protected string UserId { get; private set; } = "";

    protected bool Forbidden { get; private set; }

    protected bool CanAuthor => Project is { MyRole: >= ProjectRole.Author };

    protected bool IsOwner => Project is { MyRole: ProjectRole.Owner };

    protected override async Task OnParametersSetAsync()
    {
        _subscription?.Dispose();
        try
        {
            UserId = await GetUserIdAsync();
            Project = await Projects.GetProjectAsync(UserId, ProjectId);
            Forbidden = false;
        }
        catch (ForbiddenException)
        {
            // Membership was removed after the page opened: show nothing of the project.
            Forbidden = true;
            Project = null;
            return;
        }
        await OnProjectLoadedAsync();
        _subscription = Events.Subscribe(ProjectId, e => InvokeAsync(async () =>
        {
            if (e is ProjectChanged)
            {
                try
                {
                    Project = await Projects.GetProjectAsync(UserId, ProjectId);
                }
                catch (ForbiddenException)
                {
                    Forbidden = true;
                    Project = null;
                }
            }
            await OnProjectEventAsync(e);
            StateHasChanged();
        }));
    }

    protected virtual Task OnProjectLoadedAsync() => Task.CompletedTask;

    protected virtual Task OnProjectEventAsync(RunEvent e) => Task.CompletedTask;

    public virtual void Dispose()
    {
        _subscription?.Dispose();
        GC.SuppressFinalize(this);
    }
}
