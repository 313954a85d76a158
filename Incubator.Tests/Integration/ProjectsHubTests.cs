using Incubator.Domain.Common.Events;
using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Serialization;
using Incubator.Domain.Jobs;
using Incubator.Domain.Projects;
using Incubator.Tests.Infrastructure;
using Incubator.Web.Hubs;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.Integration;

/// <summary>A real Kestrel server (SignalR needs a socket): A owns the project, B is its Reviewer, C is signed in,
/// not a member, and owns a project of their own.</summary>
public sealed class HubPortal() : PortalFactory(realServer: true), IAsyncLifetime
{
    public Guid ProjectId { get; private set; }

    public Guid OutsidersOwnProjectId { get; private set; }

    public string OutsiderId { get; private set; } = "";

    public AuthenticatedClient Owner { get; private set; } = null!;

    public AuthenticatedClient Reviewer { get; private set; } = null!;

    public AuthenticatedClient Outsider { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _ = ServerAddress;
        var a = PortalExtensions.UniqueEmail("a-owner");
        var b = PortalExtensions.UniqueEmail("b-reviewer");
        var c = PortalExtensions.UniqueEmail("c-outsider");
        var owner = await this.RegisterAsync(a);
        await this.RegisterAsync(b);
        OutsiderId = (await this.RegisterAsync(c)).Id;
        var projects = Services.GetRequiredService<ProjectService>();
        ProjectId = (await projects.CreateProjectAsync(owner.Id, "Live project", "")).Id;
        await projects.AddMemberAsync(owner.Id, ProjectId, b, ProjectRole.Reviewer);
        OutsidersOwnProjectId = (await projects.CreateProjectAsync(OutsiderId, "Outsider's own", "")).Id;
        Owner = await AuthenticatedClient.SignInAsync(this, a);
        Reviewer = await AuthenticatedClient.SignInAsync(this, b);
        Outsider = await AuthenticatedClient.SignInAsync(this, c);
    }

    Task IAsyncLifetime.DisposeAsync()
    {
        foreach (var client in new[] { Owner, Reviewer, Outsider }) client?.Dispose();
        return Task.CompletedTask;
    }
}

public sealed class ProjectsHubTests(HubPortal portal) : IClassFixture<HubPortal>
{
    /// <summary>Only a guard against hanging forever; nothing is asserted about how long anything takes.</summary>
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(60);

    private HubConnection Connect(AuthenticatedClient? client, bool webSocketsOnly = false) =>
        new HubConnectionBuilder()
            .WithUrl(portal.ServerAddress + ProjectsHub.Path, o =>
            {
                if (client is not null) o.Cookies = client.Cookies;
                if (webSocketsOnly)
                {
                    o.SkipNegotiation = true;
                    o.Transports = Microsoft.AspNetCore.Http.Connections.HttpTransportType.WebSockets;
                }
            })
            .AddJsonProtocol(o => o.PayloadSerializerOptions.Converters.Add(new JsonStringEnumConverter()))
            .Build();

    [Fact]
    public async Task An_anonymous_connection_is_refused_with_401()
    {
        await using var connection = Connect(null);

        var ex = await Assert.ThrowsAsync<HttpRequestException>(() => connection.StartAsync());

        Assert.Equal(HttpStatusCode.Unauthorized, ex.StatusCode);
        Assert.Equal(HubConnectionState.Disconnected, connection.State);
    }

    [Fact]
    public async Task An_anonymous_websocket_that_skips_negotiation_is_refused_too()
    {
        await using var connection = Connect(null, webSocketsOnly: true);

        await Assert.ThrowsAnyAsync<Exception>(() => connection.StartAsync());

        Assert.Equal(HubConnectionState.Disconnected, connection.State);
    }

    [Fact]
    public async Task A_member_who_joined_receives_the_jobs_events_and_an_outsider_can_neither_join_nor_receive_them()
    {
        await using var reviewer = Connect(portal.Reviewer);
        await using var outsider = Connect(portal.Outsider);
        var reviewerEvents = new ConcurrentQueue<JobChanged>();
        var outsiderJobEvents = new ConcurrentQueue<JobChanged>();
        var finished = new TaskCompletionSource<JobChanged>(TaskCreationOptions.RunContinuationsAsynchronously);
        var outsidersOwnEvent = new TaskCompletionSource<ProjectChanged>(TaskCreationOptions.RunContinuationsAsynchronously);
        reviewer.On<JobChanged>(nameof(JobChanged), e =>
        {
            reviewerEvents.Enqueue(e);
            if (e.State is JobState.Succeeded or JobState.Failed or JobState.Cancelled) finished.TrySetResult(e);
        });
        outsider.On<JobChanged>(nameof(JobChanged), outsiderJobEvents.Enqueue);
        outsider.On<ProjectChanged>(nameof(ProjectChanged), e =>
        {
            if (e.ProjectId == portal.OutsidersOwnProjectId) outsidersOwnEvent.TrySetResult(e);
        });
        await reviewer.StartAsync();
        await outsider.StartAsync();

        var refused = await Assert.ThrowsAsync<HubException>(() => outsider.InvokeAsync(nameof(ProjectsHub.JoinProject), portal.ProjectId));
        Assert.Contains("not a member", refused.Message);
        // The outsider's connection itself works: joining their own project succeeds.
        await outsider.InvokeAsync(nameof(ProjectsHub.JoinProject), portal.OutsidersOwnProjectId);
        await reviewer.InvokeAsync(nameof(ProjectsHub.JoinProject), portal.ProjectId);

        using var start = await portal.Owner.Http.PostJsonAsync($"/api/projects/{portal.ProjectId}/jobs/diagnostics", new { steps = 3, delayMs = 50 });
        Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
        var jobId = (await start.ReadJsonAsync<JobView>()).Id;

        var last = await finished.Task.WaitAsync(Guard);
        Assert.Equal((jobId, JobState.Succeeded, 1.0), (last.JobId, last.State, last.Progress));
        var events = reviewerEvents.ToList();
        Assert.All(events, e => Assert.Equal((portal.ProjectId, jobId), (e.ProjectId, e.JobId)));
        Assert.Contains(events, e => e.State == JobState.Queued);
        Assert.Contains(events, e => e.State == JobState.Running);
        Assert.Equal(JobState.Succeeded, events[^1].State);
        Assert.Single(events, e => e.State == JobState.Succeeded);

        // Barrier without sleeping: an event of the outsider's own project, published after the job finished, reaches
        // the outsider. Anything of A's project sent to that connection would have arrived before it.
        await portal.Services.GetRequiredService<ProjectService>().RenameProjectAsync(portal.OutsiderId, portal.OutsidersOwnProjectId, "Outsider's renamed", "");
        await outsidersOwnEvent.Task.WaitAsync(Guard);
        Assert.Empty(outsiderJobEvents);
    }

    [Fact]
    public async Task A_joined_member_receives_AssignmentChanged_and_PresenceChanged_under_their_names()
    {
        await using var reviewer = Connect(portal.Reviewer);
        var assignment = new TaskCompletionSource<AssignmentChanged>(TaskCreationOptions.RunContinuationsAsynchronously);
        var presence = new TaskCompletionSource<PresenceChanged>(TaskCreationOptions.RunContinuationsAsynchronously);
        reviewer.On<AssignmentChanged>(nameof(AssignmentChanged), e => assignment.TrySetResult(e));
        reviewer.On<PresenceChanged>(nameof(PresenceChanged), e => presence.TrySetResult(e));
        await reviewer.StartAsync();
        await reviewer.InvokeAsync(nameof(ProjectsHub.JoinProject), portal.ProjectId);

        var taskId = Guid.NewGuid();
        var events = portal.Services.GetRequiredService<IRunEvents>();
        await events.PublishAsync(new AssignmentChanged(portal.ProjectId, taskId));
        await events.PublishAsync(new PresenceChanged(portal.ProjectId, taskId));

        var a = await assignment.Task.WaitAsync(Guard);
        var p = await presence.Task.WaitAsync(Guard);
        Assert.Equal((portal.ProjectId, taskId), (a.ProjectId, a.TaskId));
        Assert.Equal((portal.ProjectId, taskId), (p.ProjectId, p.TaskId));
    }
}
