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
        Forbidden = !await PageErrors.LoadAsync(async () =>
        {
            UserId = await GetUserIdAsync();
            Project = await Projects.GetProjectAsync(UserId, ProjectId);
        });
        if (Forbidden)
        {
            // Membership was removed after the page opened: show nothing of the project.
            Project = null;
            return;
        }
        await OnProjectLoadedAsync();
        _subscription = Events.Subscribe(ProjectId, e => e is not ProjectChanged && !WantsEvent(e) ? Task.CompletedTask : InvokeAsync(async () =>
        {
            try
            {
                if (e is ProjectChanged)
                    Project = await Projects.GetProjectAsync(UserId, ProjectId);
                if (WantsEvent(e)) await OnProjectEventsAsync([e]);
            }
            catch (ForbiddenException)
            {
                Forbidden = true;
                Project = null;
            }
            catch (Exception ex)
            {
                // Not a lifecycle method: without this, the failure would end up in the publisher's log and the page
                // would silently stop updating. Dispatched, it reaches the layout's error boundary.
                await DispatchExceptionAsync(ex);
            }
            StateHasChanged();
        }));
    }

    protected virtual Task OnProjectLoadedAsync() => Task.CompletedTask;

    /// <summary>Which of the project's live events this page reacts to; the others cost it nothing (no render, no query).
    /// Called on the publisher's thread: read only what the page has already loaded.</summary>
    protected virtual bool WantsEvent(RunEvent e) => true;

    /// <summary>Reacts to a batch of wanted events; a page that reloads from the database overrides this to reload once
    /// per batch rather than once per event.</summary>
    protected virtual async Task OnProjectEventsAsync(IReadOnlyList<RunEvent> events)
    {
        foreach (var e in events) await OnProjectEventAsync(e);
    }

    protected virtual Task OnProjectEventAsync(RunEvent e) => Task.CompletedTask;

    public virtual void Dispose()
    {
        _subscription?.Dispose();
        GC.SuppressFinalize(this);
    }
}
