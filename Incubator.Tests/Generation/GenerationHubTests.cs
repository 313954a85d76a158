using Incubator.Domain.Common.Events;
using System.Text.Json.Serialization;
using Incubator.Domain.Jobs;
using Incubator.Tests.Integration;
using Incubator.Web.Hubs;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.Generation;

/// <summary>The generation events reach external clients through /hubs/projects, for members who joined the project.</summary>
public sealed class GenerationHubTests(HubPortal portal) : IClassFixture<HubPortal>
{
    [Fact]
    public async Task A_joined_member_receives_SampleAccepted_SampleRejected_and_RunProgress()
    {
        await using var connection = new HubConnectionBuilder()
            .WithUrl(portal.ServerAddress + ProjectsHub.Path, o => o.Cookies = portal.Reviewer.Cookies)
            .AddJsonProtocol(o => o.PayloadSerializerOptions.Converters.Add(new JsonStringEnumConverter()))
            .Build();
        var accepted = new TaskCompletionSource<SampleAccepted>(TaskCreationOptions.RunContinuationsAsynchronously);
        var rejected = new TaskCompletionSource<SampleRejected>(TaskCreationOptions.RunContinuationsAsynchronously);
        var progress = new TaskCompletionSource<RunProgress>(TaskCreationOptions.RunContinuationsAsynchronously);
        connection.On<SampleAccepted>(nameof(SampleAccepted), e => accepted.TrySetResult(e));
        connection.On<SampleRejected>(nameof(SampleRejected), e => rejected.TrySetResult(e));
        connection.On<RunProgress>(nameof(RunProgress), e => progress.TrySetResult(e));
        await connection.StartAsync();
        await connection.InvokeAsync(nameof(ProjectsHub.JoinProject), portal.ProjectId);

        var runId = Guid.NewGuid();
        var events = portal.Services.GetRequiredService<IRunEvents>();
        await events.PublishAsync(new SampleAccepted(portal.ProjectId, runId, Guid.NewGuid(), "billing", "Invoice text", 0, false));
        await events.PublishAsync(new SampleRejected(portal.ProjectId, runId, "zzz", "Unknown", "UnknownLabel", "key 'zzz'"));
        await events.PublishAsync(new RunProgress(portal.ProjectId, runId, 0, new Dictionary<string, int> { ["billing"] = 1 },
            new Dictionary<string, int> { ["billing"] = 0 }, 5, 100, 20, 0.0012m, 1, 2.5));

        var a = await accepted.Task.WaitAsync(TimeSpan.FromSeconds(60));
        var r = await rejected.Task.WaitAsync(TimeSpan.FromSeconds(60));
        var p = await progress.Task.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal((runId, "billing", "Invoice text"), (a.RunId, a.Label, a.Text));
        Assert.Equal(("UnknownLabel", "key 'zzz'"), (r.Reason, r.Detail));
        Assert.Equal((1, 100L, 0.0012m), (p.Pool["billing"], p.InputTokens, p.Cost));
    }
}
