using System.Net;
using Incubator.Domain.Generation;
using Incubator.Domain.Projects;
using Incubator.Domain.Tasks;
using Incubator.Tests.Infrastructure;
using Incubator.Tests.Mining;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.Integration;

/// <summary>A task or a generation run of project B under project A's address: every task and run page (the labelling
/// and mining pages too) says it is not there, even to a member of both, rather than show B's task under A's header
/// beside A's data.</summary>
public sealed class CrossProjectPagesTests(TeamPortal team) : IClassFixture<TeamPortal>
{
    [Fact]
    public async Task Task_and_run_pages_refuse_a_task_or_run_of_another_project()
    {
        var ownerId = await team.QueryAsync(db => db.Users.Where(u => u.Email == team.OwnerEmail).Select(u => u.Id).SingleAsync());
        var projects = team.Services.GetRequiredService<ProjectService>();
        var other = (await projects.CreateProjectAsync(ownerId, $"Other {Guid.NewGuid():N}", "")).Id;
        await projects.AddMemberAsync(ownerId, other, team.AuthorEmail, ProjectRole.Author);
        var name = $"Elsewhere {Guid.NewGuid():N}";
        var task = await team.Services.GetRequiredService<TaskService>().CreateTaskAsync(ownerId, other, MiningFixtures.EnglishTask with { Name = name }, null);
        var runId = Guid.NewGuid();
        await team.QueryAsync(async db =>
        {
            var version = await db.TaskVersions.SingleAsync(v => v.TaskId == task.Id);
            db.GenerationRuns.Add(new GenerationRun
            {
                Id = runId, ProjectId = other, TaskId = task.Id, TaskVersionId = version.Id, TaskVersionNumber = version.Number,
                ConnectionId = Guid.NewGuid(), ConnectionName = "gone", Model = "m", PerLabelTarget = 1, CreatedAt = DateTimeOffset.UtcNow, CreatedById = ownerId,
            });
            return await db.SaveChangesAsync();
        });

        foreach (var page in new[] { "", "/history", "/generate", "/review", "/review/focus", "/label", "/mine" })
        {
            using var own = await team.Author.Http.GetAsync($"/projects/{other}/tasks/{task.Id}{page}");
            var ownHtml = await own.Content.ReadAsStringAsync();
            Assert.True(ownHtml.Contains(name, StringComparison.Ordinal), $"tasks/…{page} in its own project shows the task");
            Assert.DoesNotContain("data-testid=\"no-access\"", ownHtml);

            using var crossed = await team.Author.Http.GetAsync($"/projects/{team.ProjectId}/tasks/{task.Id}{page}");
            Assert.Equal(HttpStatusCode.OK, crossed.StatusCode);
            var html = await crossed.Content.ReadAsStringAsync();
            Assert.True(html.Contains("data-testid=\"no-access\"", StringComparison.Ordinal), $"tasks/…{page} under another project says it is not there");
            Assert.DoesNotContain(name, html);
        }

        using (var own = await team.Author.Http.GetAsync($"/projects/{other}/runs/{runId}"))
        {
            var ownHtml = await own.Content.ReadAsStringAsync();
            Assert.Contains(name, ownHtml);
            Assert.DoesNotContain("data-testid=\"no-access\"", ownHtml);
        }
        using (var crossed = await team.Author.Http.GetAsync($"/projects/{team.ProjectId}/runs/{runId}"))
        {
            var html = await crossed.Content.ReadAsStringAsync();
            Assert.Contains("data-testid=\"no-access\"", html);
            Assert.DoesNotContain(name, html);
        }
    }
}
