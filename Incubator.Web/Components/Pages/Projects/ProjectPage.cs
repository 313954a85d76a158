using Incubator.Domain.Common.Events;
using Incubator.Domain.Common;
using Incubator.Domain.Projects;
using Incubator.Web.Components.Pages.Shared;
using Microsoft.AspNetCore.Components;

namespace Incubator.Web.Components.Pages.Projects;

/// <summary>Base for pages under /projects/{ProjectId}. The route's policy has already checked membership; this
/// loads the project as the user sees it and listens to its live events until the page is left.</summary>
/// <remarks>Events reach a page in batches: the first after a quiet spell at once, then everything that arrived while
/// the page handled the previous batch or during the <see cref="RefreshInterval"/> after it, with progress already
/// coalesced — then one render. A page that is slow to render only gets bigger batches; the publisher never waits for
/// it.</remarks>
public abstract class ProjectPage : PortalPage, IDisposable
{
    private IDisposable? _subscription;
    private volatile bool _disposed;

    [Parameter] public Guid ProjectId { get; set; }

    [Inject] protected ProjectService Projects { get; set; } = default!;

    [Inject] protected IRunEvents Events { get; set; } = default!;

    protected ProjectSummary? Project { get; private set; }

    protected string UserId { get; private set; } = "";

    protected bool Forbidden { get; private set; }

    protected bool CanAuthor => Project is { MyRole: >= ProjectRole.Author };

    protected bool IsOwner => Project is { MyRole: ProjectRole.Owner };

    /// <summary>The least time between two refreshes caused by live events.</summary>
    protected virtual TimeSpan RefreshInterval => TimeSpan.FromMilliseconds(250);

    protected override async Task OnParametersSetAsync()
    {
        _subscription?.Dispose();
        // Subscribed before the page reads anything, with the events held until the read is done: a job that ends
        // while the page loads (its "succeeded" published between the read and a later subscription) would otherwise
        // leave the page showing "running" for good.
        var loaded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _subscription = Events.SubscribeBatches(ProjectId, batch => OnEventsArrivedAsync(batch, loaded.Task));
        try
        {
            Forbidden = !await PageErrors.LoadAsync(async () =>
            {
                UserId = await GetUserIdAsync();
                Project = await Projects.GetProjectAsync(UserId, ProjectId);
            });
            if (Forbidden)
            {
                // Membership was removed after the page opened: show nothing of the project.
                Project = null;
                _subscription.Dispose();
                return;
            }
            await OnProjectLoadedAsync();
        }
        finally
        {
            loaded.TrySetResult();
        }
    }

    protected virtual Task OnProjectLoadedAsync() => Task.CompletedTask;

    /// <summary>Which live events this page shows something of (its task, run, model or job). Evaluated off the render
    /// thread, on the subscription's own loop, so keep it a cheap test of the event against the page's ids. A
    /// <see cref="ProjectChanged"/> always reloads the project (membership may have gone) whatever this says.</summary>
    protected virtual bool WantsEvent(RunEvent e) => true;

    /// <summary>One batch of wanted events per refresh, in the order they were published; one render follows.</summary>
    protected virtual async Task OnProjectEventsAsync(IReadOnlyList<RunEvent> events)
    {
        foreach (var e in events) await OnProjectEventAsync(e);
    }

    protected virtual Task OnProjectEventAsync(RunEvent e) => Task.CompletedTask;

    private async Task OnEventsArrivedAsync(IReadOnlyList<RunEvent> batch, Task loaded)
    {
        // What the page wants depends on what it loaded (its run's job id, say).
        await loaded;
        var projectChanged = false;
        var wanted = new List<RunEvent>(batch.Count);
        foreach (var e in batch)
        {
            projectChanged |= e is ProjectChanged;
            if (WantsEvent(e)) wanted.Add(e);
        }
        if ((!projectChanged && wanted.Count == 0) || _disposed) return;
        await InvokeAsync(async () =>
        {
            if (_disposed) return;
            try
            {
                if (projectChanged)
                    Project = await Projects.GetProjectAsync(UserId, ProjectId);
                if (wanted.Count > 0) await OnProjectEventsAsync(wanted);
            }
            catch (ForbiddenException)
            {
                Forbidden = true;
                Project = null;
            }
            catch (Exception ex)
            {
                // Not a lifecycle method: without this, the failure would end up in the subscription's log and the page
                // would silently stop updating. Dispatched, it reaches the layout's error boundary.
                await DispatchExceptionAsync(ex);
            }
            StateHasChanged();
        });
        // Whatever arrives meanwhile waits in this page's own buffer and comes as the next batch.
        await Task.Delay(RefreshInterval);
    }

    public virtual void Dispose()
    {
        _disposed = true;
        _subscription?.Dispose();
        GC.SuppressFinalize(this);
    }
}
