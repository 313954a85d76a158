using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Serialization;
using Incubator.Domain.Accounts;
using Incubator.Domain.Common.Events;
using Incubator.Domain.Projects;
using Incubator.Tests.Infrastructure;
using Incubator.Tests.Jobs;
using Incubator.Web.Hubs;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.Security;

/// <summary>The hub checks membership when it sends, not only when someone joins: a Reviewer removed by the Owner stops
/// receiving the project's events — sample texts included — at once, while the Owner's connection keeps receiving them.
/// Personal API tokens open the hub with the same checks.</summary>
public sealed class LiveMembershipTests : IClassFixture<LiveMembershipTests.Portal>
{
    public sealed class Portal() : PortalFactory(realServer: true);

    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(60);
    private readonly Portal _portal;

    public LiveMembershipTests(Portal portal) => _portal = portal;

    private HubConnection Connect(AuthenticatedClient? cookie = null, string? token = null) =>
        new HubConnectionBuilder()
            .WithUrl(_portal.ServerAddress + ProjectsHub.Path, o =>
            {
                if (cookie is not null) o.Cookies = cookie.Cookies;
                if (token is not null) o.AccessTokenProvider = () => Task.FromResult<string?>(token);
            })
            .AddJsonProtocol(o => o.PayloadSerializerOptions.Converters.Add(new JsonStringEnumConverter()))
            .Build();

    private async Task<(string OwnerId, string ReviewerId, AuthenticatedClient Owner, AuthenticatedClient Reviewer, Guid ProjectId)> ArrangeAsync()
    {
        var ownerEmail = PortalExtensions.UniqueEmail("live-owner");
        var reviewerEmail = PortalExtensions.UniqueEmail("live-reviewer");
        var owner = await _portal.RegisterAsync(ownerEmail);
        var reviewer = await _portal.RegisterAsync(reviewerEmail);
        var projects = _portal.Services.GetRequiredService<ProjectService>();
        var projectId = (await projects.CreateProjectAsync(owner.Id, "Live membership", "")).Id;
        await projects.AddMemberAsync(owner.Id, projectId, reviewerEmail, ProjectRole.Reviewer);
        return (owner.Id, reviewer.Id, await AuthenticatedClient.SignInAsync(_portal, ownerEmail),
            await AuthenticatedClient.SignInAsync(_portal, reviewerEmail), projectId);
    }

    private static SampleAccepted Sample(Guid projectId, string text) => new(projectId, Guid.NewGuid(), Guid.NewGuid(), "billing", text, 0, false);

    [Fact]
    public async Task A_removed_reviewers_open_connection_receives_nothing_after_the_removal()
    {
        var (ownerId, reviewerId, ownerClient, reviewerClient, projectId) = await ArrangeAsync();
        await using var owner = Connect(ownerClient);
        await using var reviewer = Connect(reviewerClient);
        var ownerSamples = new ConcurrentQueue<string>();
        var reviewerSamples = new ConcurrentQueue<string>();
        var ownerGot = new ConcurrentDictionary<string, TaskCompletionSource>();
        TaskCompletionSource Waiter(string text) => ownerGot.GetOrAdd(text, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        owner.On<SampleAccepted>(nameof(SampleAccepted), e =>
        {
            ownerSamples.Enqueue(e.Text);
            Waiter(e.Text).TrySetResult();
        });
        var reviewerBefore = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        reviewer.On<SampleAccepted>(nameof(SampleAccepted), e =>
        {
            reviewerSamples.Enqueue(e.Text);
            if (e.Text == "before") reviewerBefore.TrySetResult();
        });
        await owner.StartAsync();
        await reviewer.StartAsync();
        await owner.InvokeAsync(nameof(ProjectsHub.JoinProject), projectId);
        await reviewer.InvokeAsync(nameof(ProjectsHub.JoinProject), projectId);
        var events = _portal.Services.GetRequiredService<IRunEvents>();

        await events.PublishAsync(Sample(projectId, "before"));
        await reviewerBefore.Task.WaitAsync(Guard);
        await Waiter("before").Task.WaitAsync(Guard);

        await _portal.Services.GetRequiredService<ProjectService>().RemoveMemberAsync(ownerId, projectId, reviewerId);
        for (var i = 0; i < 20; i++) await events.PublishAsync(Sample(projectId, $"secret {i}"));
        // Barrier: the owner has every event published after the removal, so anything sent to the reviewer has arrived.
        await Waiter("secret 19").Task.WaitAsync(Guard);

        Assert.Equal(["before"], reviewerSamples.ToArray());
        Assert.Equal(21, ownerSamples.Count);
        Assert.Equal(HubConnectionState.Connected, reviewer.State);
        var refused = await Assert.ThrowsAsync<HubException>(() => reviewer.InvokeAsync(nameof(ProjectsHub.JoinProject), projectId));
        Assert.Contains("not a member", refused.Message);
    }

    [Fact]
    public async Task A_removal_made_on_another_instance_takes_this_instances_connection_out_of_the_group()
    {
        var (_, reviewerId, ownerClient, reviewerClient, projectId) = await ArrangeAsync();
        await using var owner = Connect(ownerClient);
        await using var reviewer = Connect(reviewerClient);
        var ownerGot = new ConcurrentDictionary<string, TaskCompletionSource>();
        TaskCompletionSource Waiter(string text) => ownerGot.GetOrAdd(text, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        owner.On<SampleAccepted>(nameof(SampleAccepted), e => Waiter(e.Text).TrySetResult());
        var reviewerSamples = new ConcurrentQueue<string>();
        var reviewerBefore = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        reviewer.On<SampleAccepted>(nameof(SampleAccepted), e =>
        {
            reviewerSamples.Enqueue(e.Text);
            if (e.Text == "before") reviewerBefore.TrySetResult();
        });
        await owner.StartAsync();
        await reviewer.StartAsync();
        await owner.InvokeAsync(nameof(ProjectsHub.JoinProject), projectId);
        await reviewer.InvokeAsync(nameof(ProjectsHub.JoinProject), projectId);
        // What another instance's send looks like here: through the backplane straight to this instance's group,
        // with none of this instance's per-send checks.
        var group = _portal.Services.GetRequiredService<IHubContext<ProjectsHub>>().Clients.Group(ProjectsHub.Group(projectId));
        await group.SendAsync(nameof(SampleAccepted), Sample(projectId, "before"));
        await reviewerBefore.Task.WaitAsync(Guard);

        // The Owner removes the reviewer on the other instance: the row goes, and the "members" event arrives here
        // relayed, not published by this process.
        await _portal.QueryAsync(db => db.ProjectMembers.Where(m => m.ProjectId == projectId && m.UserId == reviewerId).ExecuteDeleteAsync());
        var events = (InProcessRunEvents)_portal.Services.GetRequiredService<IRunEvents>();
        events.DeliverRemote(new ProjectChanged(projectId, "members"));
        await Poll.UntilAsync(async () =>
        {
            // Sends keep coming from the other instance; once the reviewer's connection has left the group, none reaches it.
            var probe = $"probe {Guid.NewGuid():N}";
            await group.SendAsync(nameof(SampleAccepted), Sample(projectId, probe));
            await Waiter(probe).Task.WaitAsync(Guard);
            await Task.Delay(200); // the reviewer's copy, if it was sent one, is not behind the owner's by more than this
            return !reviewerSamples.Contains(probe);
        }, Guard, () => Task.FromResult($"the removed reviewer still receives the group's sends ({reviewerSamples.Count} so far)"));
        for (var i = 0; i < 10; i++) await group.SendAsync(nameof(SampleAccepted), Sample(projectId, $"secret {i}"));
        await group.SendAsync(nameof(SampleAccepted), Sample(projectId, "last"));
        await Waiter("last").Task.WaitAsync(Guard);

        Assert.DoesNotContain(reviewerSamples, t => t.StartsWith("secret", StringComparison.Ordinal) || t == "last");
        Assert.Equal(HubConnectionState.Connected, reviewer.State);
    }

    [Fact]
    public async Task A_personal_token_opens_the_hub_for_a_member_and_a_revoked_or_foreign_token_does_not()
    {
        var (_, reviewerId, _, _, projectId) = await ArrangeAsync();
        var tokens = _portal.Services.GetRequiredService<ApiTokenService>();
        var reviewerToken = await tokens.CreateAsync(reviewerId, "watcher");
        var outsider = await _portal.RegisterAsync(PortalExtensions.UniqueEmail("live-outsider"));
        var outsiderToken = await tokens.CreateAsync(outsider.Id, "outsider");

        await using var program = Connect(token: reviewerToken.Secret);
        var received = new TaskCompletionSource<SampleAccepted>(TaskCreationOptions.RunContinuationsAsynchronously);
        program.On<SampleAccepted>(nameof(SampleAccepted), e => received.TrySetResult(e));
        await program.StartAsync();
        await program.InvokeAsync(nameof(ProjectsHub.JoinProject), projectId);
        await _portal.Services.GetRequiredService<IRunEvents>().PublishAsync(Sample(projectId, "for programs"));
        Assert.Equal("for programs", (await received.Task.WaitAsync(Guard)).Text);

        await using var foreign = Connect(token: outsiderToken.Secret);
        await foreign.StartAsync();
        await Assert.ThrowsAsync<HubException>(() => foreign.InvokeAsync(nameof(ProjectsHub.JoinProject), projectId));

        await tokens.RevokeAsync(reviewerId, reviewerToken.Token.Id);
        await using var revoked = Connect(token: reviewerToken.Secret);
        var ex = await Assert.ThrowsAsync<HttpRequestException>(() => revoked.StartAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, ex.StatusCode);
    }
}
