using Incubator.Domain.Common.Events;
using System.Text.Json.Serialization;
using Incubator.Domain.Jobs;
using Incubator.Domain.Projects;
using Incubator.Domain.Tasks;
using Incubator.Tests.Infrastructure;
using Incubator.Tests.Integration;
using Incubator.Web.Hubs;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.Tasks;

/// <summary>TaskChanged reaches hub clients that joined the project (the relay has a case for it).</summary>
public sealed class TaskHubTests(HubPortal portal) : IClassFixture<HubPortal>
{
    [Fact]
    public async Task A_joined_member_receives_TaskChanged_for_create_and_save()
    {
        var author = await portal.RegisterAsync(PortalExtensions.UniqueEmail("hub-author"));
        await portal.QueryAsync(async db =>
        {
            db.ProjectMembers.Add(new ProjectMember { ProjectId = portal.ProjectId, UserId = author.Id, Role = ProjectRole.Author, AddedAt = DateTimeOffset.UtcNow });
            return await db.SaveChangesAsync();
        });
        await using var connection = new HubConnectionBuilder()
            .WithUrl(portal.ServerAddress + ProjectsHub.Path, o => o.Cookies = portal.Reviewer.Cookies)
            .AddJsonProtocol(o => o.PayloadSerializerOptions.Converters.Add(new JsonStringEnumConverter()))
            .Build();
        var saved = new TaskCompletionSource<TaskChanged>(TaskCreationOptions.RunContinuationsAsynchronously);
        connection.On<TaskChanged>(nameof(TaskChanged), e =>
        {
            if (e.Version == 2) saved.TrySetResult(e);
        });
        await connection.StartAsync();
        await connection.InvokeAsync(nameof(ProjectsHub.JoinProject), portal.ProjectId);

        var tasks = portal.Services.GetRequiredService<TaskService>();
        var created = await tasks.CreateTaskAsync(author.Id, portal.ProjectId, TaskJsonTests.Sample(), null);
        await tasks.SaveAsync(author.Id, created.Id, TaskJsonTests.Sample() with { Name = "Renamed" }, 1, null);

        var e = await saved.Task.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal((portal.ProjectId, created.Id, 2), (e.ProjectId, e.TaskId, e.Version));
    }
}
