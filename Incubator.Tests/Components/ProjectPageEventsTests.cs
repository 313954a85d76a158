using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Security.Claims;
using Bunit;
using Incubator.Domain.Common.Events;
using Incubator.Domain.Projects;
using Incubator.Tests.Jobs;
using Incubator.Web.Components.Pages.Projects;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Rendering;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.Components;

/// <summary>bUnit: a project page gets the live events it wants in batches — what arrived while it handled the previous
/// batch comes in one call, followed by one render — and a page stuck in its handler never holds up the publisher.</summary>
public sealed class ProjectPageEventsTests
{
    /// <summary>A project page that wants the samples of one run, records each batch, counts its renders, and can be
    /// held inside its first batch.</summary>
    public sealed class ProbePage : ProjectPage
    {
        [Parameter] public Guid WantedRun { get; set; }

        [Parameter] public Task HoldFirstBatch { get; set; } = Task.CompletedTask;

        [Parameter] public ConcurrentQueue<IReadOnlyList<RunEvent>> Batches { get; set; } = new();

        [Parameter] public StrongBox<int> Renders { get; set; } = new(0);

        [Parameter] public Task HoldLoad { get; set; } = Task.CompletedTask;

        [Parameter] public TaskCompletionSource? LoadStarted { get; set; }

        protected override async Task OnProjectLoadedAsync()
        {
            LoadStarted?.TrySetResult();
            await HoldLoad;
        }

        protected override bool WantsEvent(RunEvent e) => e is SampleAccepted s && s.RunId == WantedRun;

        protected override async Task OnProjectEventsAsync(IReadOnlyList<RunEvent> events)
        {
            Batches.Enqueue(events);
            if (Batches.Count == 1) await HoldFirstBatch;
        }

        protected override void BuildRenderTree(RenderTreeBuilder builder)
        {
            Interlocked.Increment(ref Renders.Value);
            builder.AddContent(0, Project?.Name);
        }
    }

    /// <summary>bUnit's own waits re-check only when the component renders; a page held in its handler does not.</summary>
    private static Task UntilAsync(Func<bool> condition) =>
        Poll.UntilAsync(() => Task.FromResult(condition()), TimeSpan.FromSeconds(30), () => Task.FromResult("condition never held"));

    /// <summary>A project with a viewer, and a bUnit context signed in as that viewer over the host's real bus.</summary>
    private static async Task<(Guid ProjectId, IRunEvents Events, BunitContext Context)> ViewerContextAsync(JobTestHost host, string projectName)
    {
        var projectId = await host.CreateProjectAsync(projectName);
        var userId = await host.CreateUserAsync(projectId, ProjectRole.Viewer, "viewer");
        var events = host.Services.GetRequiredService<IRunEvents>();
        var ctx = PortalBunit.NewContext(s => s.AddSingleton(host.Services.GetRequiredService<ProjectService>()).AddSingleton(events)
            .AddScoped<Incubator.Web.Components.Pages.Shared.PageErrors>());
        ctx.AddAuthorization().SetAuthorized("viewer").SetClaims(new Claim(ClaimTypes.NameIdentifier, userId));
        return (projectId, events, ctx);
    }

    private static SampleAccepted Sample(Guid projectId, Guid run, int i) => new(projectId, run, Guid.NewGuid(), "billing", $"text {i}", 0, false);

    [Fact]
    public async Task Events_that_arrive_while_the_page_is_busy_come_as_one_filtered_batch_and_one_render()
    {
        await using var host = await JobTestHost.CreateAsync();
        var (projectId, events, ctx) = await ViewerContextAsync(host, "Live page");
        await using var _ = ctx;
        var hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var batches = new ConcurrentQueue<IReadOnlyList<RunEvent>>();
        var renders = new StrongBox<int>(0);
        var run = Guid.NewGuid();
        var cut = ctx.Render<ProbePage>(p => p.Add(x => x.ProjectId, projectId).Add(x => x.WantedRun, run).Add(x => x.HoldFirstBatch, hold.Task)
            .Add(x => x.Batches, batches).Add(x => x.Renders, renders));
        cut.WaitForAssertion(() => Assert.Equal("Live page", cut.Markup));

        await events.PublishAsync(Sample(projectId, run, 0));
        await UntilAsync(() => batches.Count == 1);
        // The page is stuck in its handler: publishing goes on regardless.
        var wanted = new List<SampleAccepted>();
        for (var i = 1; i <= 30; i++)
        {
            var s = Sample(projectId, run, i);
            wanted.Add(s);
            Assert.True(events.PublishAsync(s).IsCompletedSuccessfully);
            Assert.True(events.PublishAsync(Sample(projectId, Guid.NewGuid(), i)).IsCompletedSuccessfully); // another run's
        }
        var rendersBefore = Volatile.Read(ref renders.Value);
        hold.SetResult();

        await UntilAsync(() => batches.Count == 2 && Volatile.Read(ref renders.Value) >= rendersBefore + 2);
        await Task.Delay(500); // room for a wrong extra batch or render

        Assert.Equal(2, batches.Count);
        Assert.Equal(wanted, batches.ElementAt(1));
        Assert.Equal(rendersBefore + 2, Volatile.Read(ref renders.Value));
    }

    [Fact]
    public async Task An_event_published_while_the_page_loads_still_reaches_it_after_the_load()
    {
        await using var host = await JobTestHost.CreateAsync();
        var (projectId, events, ctx) = await ViewerContextAsync(host, "Loading page");
        await using var _ = ctx;
        var hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var batches = new ConcurrentQueue<IReadOnlyList<RunEvent>>();
        var run = Guid.NewGuid();
        var cut = ctx.Render<ProbePage>(p => p.Add(x => x.ProjectId, projectId).Add(x => x.WantedRun, run).Add(x => x.HoldLoad, hold.Task)
            .Add(x => x.LoadStarted, started).Add(x => x.Batches, batches));
        await started.Task.WaitAsync(TimeSpan.FromSeconds(30));

        // The page has read its state and is still loading: a job that ends now must not be lost to it.
        var ended = Sample(projectId, run, 1);
        await events.PublishAsync(ended);
        await Task.Delay(300);
        Assert.Empty(batches); // held until the load is done: what the page wants depends on what it loaded
        hold.SetResult();

        await UntilAsync(() => batches.Count == 1);
        Assert.Equal([ended], batches.Single());
    }
}
