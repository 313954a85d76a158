using Incubator.Domain.Common;
using Incubator.Domain.Generation;
using Incubator.Domain.Llm;
using Incubator.Domain.Projects;
using Incubator.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.Generation;

/// <summary>Which connection the Generate page preselects: the project's default (an Owner's choice), else the one the
/// author used last in the project, else the only one — never one just added; and the last test of each connection,
/// kept so failing ones are marked.</summary>
public sealed class ConnectionChoiceTests
{
    private static LlmConnectionInput Input(string name) =>
        new(name, LlmProvider.OpenAICompatible, "http://127.0.0.1:9/v1", "m", null, 0.9, 512, 2, null, 0m, 0m);

    private static async Task<(PortalFactory Portal, string Owner, string Author, Guid ProjectId)> ArrangeAsync()
    {
        var portal = new PortalFactory()
            .With("Llm:Provider", "OpenAICompatible")
            .With("Llm:Endpoint", "http://127.0.0.1:9/v1")
            .With("Llm:Model", "configured");
        var owner = (await portal.RegisterAsync(PortalExtensions.UniqueEmail("owner"))).Id;
        var authorEmail = PortalExtensions.UniqueEmail("author");
        var author = (await portal.RegisterAsync(authorEmail)).Id;
        var projectId = await portal.InScopeAsync(async sp =>
        {
            var projects = sp.GetRequiredService<ProjectService>();
            var p = await projects.CreateProjectAsync(owner, "choice", null);
            await projects.AddMemberAsync(owner, p.Id, authorEmail, ProjectRole.Author);
            return p.Id;
        });
        return (portal, owner, author, projectId);
    }

    private static Task<ConnectionChoice> ChooseAsync(PortalFactory portal, string user, Guid projectId) =>
        portal.InScopeAsync(sp => sp.GetRequiredService<GenerationService>().ChooseConnectionAsync(user, projectId));

    private static Task AddRunAsync(PortalFactory portal, Guid projectId, string user, Guid connectionId, DateTimeOffset at) =>
        portal.QueryAsync(async db =>
        {
            // A run row is all the choice reads (who started which connection when).
            var task = new Incubator.Domain.Tasks.ClassifierTask { Id = Guid.NewGuid(), ProjectId = projectId, Name = "t", CurrentVersion = 1, CreatedAt = at, UpdatedAt = at };
            db.Tasks.Add(task);
            db.GenerationRuns.Add(new GenerationRun { Id = Guid.NewGuid(), ProjectId = projectId, TaskId = task.Id, TaskVersionId = Guid.NewGuid(), ConnectionId = connectionId, CreatedById = user, CreatedAt = at });
            return await db.SaveChangesAsync();
        });

    [Fact]
    public async Task The_default_then_the_authors_last_connection_then_the_only_one_is_preselected_never_a_new_one()
    {
        var (portal, owner, author, projectId) = await ArrangeAsync();
        using var _ = portal;
        var connections = portal.Services.GetRequiredService<LlmConnectionService>();

        // Only the configured connection: it is preselected (there is no other to be surprised by).
        var only = await ChooseAsync(portal, author, projectId);
        Assert.Equal((LlmConnectionService.ConfiguredConnectionId, PreselectReason.OnlyOne), (only.Preselected, only.Reason));

        // A second connection, added later: nothing is preselected for someone who never ran anything here.
        var older = await connections.CreateAsync(owner, projectId, Input("older"));
        var none = await ChooseAsync(portal, author, projectId);
        Assert.Equal((null, PreselectReason.None), (none.Preselected, none.Reason));

        // The author's last run used "older"; a newer connection added afterwards does not take its place. Another
        // member's later run does not count for this author.
        await AddRunAsync(portal, projectId, author, older.Id, DateTimeOffset.UtcNow.AddMinutes(-5));
        await AddRunAsync(portal, projectId, owner, LlmConnectionService.ConfiguredConnectionId, DateTimeOffset.UtcNow.AddMinutes(-1));
        var newest = await connections.CreateAsync(owner, projectId, Input("newest"));
        var last = await ChooseAsync(portal, author, projectId);
        Assert.Equal((older.Id, PreselectReason.LastUsed), (last.Preselected, last.Reason));
        Assert.Equal(3, last.Connections.Count);

        // The project's default wins; only an Owner sets it, and only to a connection usable in the project.
        await Assert.ThrowsAsync<ForbiddenException>(() => connections.SetProjectDefaultAsync(author, projectId, newest.Id));
        var elsewhere = await portal.InScopeAsync(async sp =>
        {
            var other = await sp.GetRequiredService<ProjectService>().CreateProjectAsync(owner, "elsewhere", null);
            return (await connections.CreateAsync(owner, other.Id, Input("elsewhere"))).Id;
        });
        var refused = await Assert.ThrowsAsync<DomainValidationException>(() => connections.SetProjectDefaultAsync(owner, projectId, elsewhere));
        Assert.Equal("DefaultConnectionUnknown", Assert.Single(refused.Details).Code);
        await connections.SetProjectDefaultAsync(owner, projectId, LlmConnectionService.ConfiguredConnectionId);
        var byDefault = await ChooseAsync(portal, author, projectId);
        Assert.Equal((LlmConnectionService.ConfiguredConnectionId, PreselectReason.ProjectDefault), (byDefault.Preselected, byDefault.Reason));
        Assert.Contains(await portal.QueryAsync(db => db.Activity.Where(a => a.ProjectId == projectId).Select(a => a.Kind).ToListAsync()),
            k => k == LlmActivityKinds.DefaultConnectionChanged);

        // Deleting the default connection takes the default away with it.
        await connections.SetProjectDefaultAsync(owner, projectId, newest.Id);
        await connections.DeleteAsync(owner, newest.Id);
        Assert.Null(await connections.GetProjectDefaultAsync(author, projectId));
        Assert.Equal((older.Id, PreselectReason.LastUsed), ((await ChooseAsync(portal, author, projectId)).Preselected, (await ChooseAsync(portal, author, projectId)).Reason));
    }

    [Fact]
    public async Task A_tested_connection_keeps_its_last_test_and_lists_show_it()
    {
        var (portal, owner, author, projectId) = await ArrangeAsync();
        using var _ = portal;
        var connections = portal.Services.GetRequiredService<LlmConnectionService>();
        var dead = await connections.CreateAsync(owner, projectId, Input("dead"));
        Assert.Null((await connections.ListAsync(author, projectId)).Single(c => c.Id == dead.Id).LastTest);

        var result = await connections.TestAsync(author, projectId, dead.Id);

        Assert.False(result.Ok);
        var listed = (await connections.ListAsync(author, projectId)).Single(c => c.Id == dead.Id).LastTest!;
        Assert.Equal((false, result.Error), (listed.Ok, listed.Error));
        Assert.Null((await connections.ListAsync(author, projectId)).Single(c => c.Id == LlmConnectionService.ConfiguredConnectionId).LastTest);
        // A viewer may read but not test.
        var viewerEmail = PortalExtensions.UniqueEmail("viewer");
        var viewer = (await portal.RegisterAsync(viewerEmail)).Id;
        await portal.InScopeAsync(sp => sp.GetRequiredService<ProjectService>().AddMemberAsync(owner, projectId, viewerEmail, ProjectRole.Viewer));
        await Assert.ThrowsAsync<ForbiddenException>(() => connections.TestAsync(viewer, projectId, dead.Id));
    }
}
