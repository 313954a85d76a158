using Incubator.Domain.Common.Events;
using Incubator.Domain.Common;
using Incubator.Domain.Jobs;
using Incubator.Domain.Projects;
using Incubator.Domain.Tasks;
using Microsoft.EntityFrameworkCore;

namespace Incubator.Tests.Tasks;

/// <summary>Task use cases on a real SQLite database: validation before anything is written, versions, conflicts
/// and roles. One database per test class; each test makes its own project and users.</summary>
public sealed class TaskServiceTests : IAsyncLifetime
{
    private TaskTestHost _host = null!;

    public async Task InitializeAsync() => _host = await TaskTestHost.CreateAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private TaskService Tasks => _host.Tasks;

    private static TaskSpec Spec() => TaskJsonTests.Sample();

    private async Task<(Guid Project, string Author)> ProjectAsync()
    {
        var project = await _host.CreateProjectAsync();
        var author = await _host.CreateUserAsync(project, ProjectRole.Author, "author");
        return (project, author);
    }

    [Fact]
    public async Task Create_makes_version_1_normalised_with_activity_and_event()
    {
        var (project, author) = await ProjectAsync();
        var messy = Spec() with { Name = "  Support ticket routing  ", Preferences = Spec().Preferences with { Language = "EN" } };

        var view = await Tasks.CreateTaskAsync(author, project, messy, "builtin:support-intent:en");

        Assert.Equal((1, 1, ProjectRole.Author), (view.Version, view.CurrentVersion, view.MyRole));
        Assert.Equal("Support ticket routing", view.Spec.Name);
        Assert.Equal("en", view.Spec.Preferences.Language);
        var stored = await _host.QueryAsync(db => db.TaskVersions.SingleAsync(v => v.TaskId == view.Id));
        Assert.Equal(1, stored.Number);
        Assert.Equal(TaskJson.Serialize(view.Spec, indented: false), stored.SpecJson);
        Assert.Equal(64, stored.ContentHash.Length);
        var task = await _host.QueryAsync(db => db.Tasks.SingleAsync(t => t.Id == view.Id));
        Assert.Equal(("Support ticket routing", "builtin:support-intent:en", author), (task.Name, task.SourceTemplate, task.CreatedById));
        Assert.Equal(1, await _host.QueryAsync(db => db.Activity.CountAsync(a => a.ProjectId == project && a.Kind == ActivityKinds.TaskCreated)));
        await _host.Events.WaitForAsync<TaskChanged>(t => t.Version == 1 && t.TaskId == view.Id && t.ProjectId == project);

        var read = await Tasks.GetTaskAsync(author, view.Id);
        Assert.Equal(TaskJson.Serialize(view.Spec), TaskJson.Serialize(read.Spec));
    }

    [Fact]
    public async Task Invalid_specs_save_nothing()
    {
        var (project, author) = await ProjectAsync();
        var before = await _host.CountRowsAsync();
        var invalid = Spec() with { Name = "", Labels = [Spec().Labels[0]] };

        var ex = await Assert.ThrowsAsync<DomainValidationException>(() => Tasks.CreateTaskAsync(author, project, invalid, null));

        Assert.Equal(["TaskNameRequired", "TooFewLabels"], ex.Details.Select(d => d.Code));
        Assert.Equal(before, await _host.CountRowsAsync());

        var task = await Tasks.CreateTaskAsync(author, project, Spec(), null);
        var afterCreate = await _host.CountRowsAsync();
        var twoOthers = Spec() with { Labels = [.. Spec().Labels.Select(l => l with { IsOther = true })] };
        await Assert.ThrowsAsync<DomainValidationException>(() => Tasks.SaveAsync(author, task.Id, twoOthers, 1, null));
        Assert.Equal(afterCreate, await _host.CountRowsAsync());
        Assert.Equal(1, (await Tasks.GetTaskAsync(author, task.Id)).CurrentVersion);
    }

    [Fact]
    public async Task Save_with_changes_adds_version_2_with_activity_and_event()
    {
        var (project, author) = await ProjectAsync();
        var v1 = await Tasks.CreateTaskAsync(author, project, Spec(), null);
        var changed = Spec() with { Name = "Routing v2", Instruction = "Sort e-mails by need." };

        var v2 = await Tasks.SaveAsync(author, v1.Id, changed, expectedVersion: 1, comment: "  shorter instruction ");

        Assert.Equal((2, 2), (v2.Version, v2.CurrentVersion));
        var versions = await Tasks.ListVersionsAsync(author, v1.Id);
        Assert.Equal([2, 1], versions.Select(v => v.Number));
        Assert.Equal("shorter instruction", versions[0].Comment);
        Assert.EndsWith("@example.test", versions[0].CreatedByEmail);
        Assert.NotEqual(versions[0].ContentHash, versions[1].ContentHash);
        Assert.Equal("Routing v2", await _host.QueryAsync(db => db.Tasks.Where(t => t.Id == v1.Id).Select(t => t.Name).SingleAsync()));
        var activity = await _host.QueryAsync(db => db.Activity.Where(a => a.ProjectId == project && a.Kind == ActivityKinds.TaskSaved).ToListAsync());
        Assert.Equal("Routing v2 (v2)", Assert.Single(activity).Detail);
        await _host.Events.WaitForAsync<TaskChanged>(t => t.Version == 2 && t.TaskId == v1.Id);

        var old = await Tasks.GetTaskAsync(author, v1.Id, version: 1);
        Assert.Equal((1, 2, "Support ticket routing"), (old.Version, old.CurrentVersion, old.Spec.Name));
        await Assert.ThrowsAsync<NotFoundException>(() => Tasks.GetTaskAsync(author, v1.Id, version: 3));
    }

    [Fact]
    public async Task Saving_identical_content_adds_no_version()
    {
        var (project, author) = await ProjectAsync();
        var v1 = await Tasks.CreateTaskAsync(author, project, Spec(), null);
        var rows = await _host.CountRowsAsync();
        await _host.Events.SettledAsync();
        var events = _host.Events.Events.Count;

        // Same content after normalisation (extra spaces, blank example), even from a stale version number.
        var same = Spec() with { Name = " Support ticket routing ", Labels = [Spec().Labels[0] with { Examples = [.. Spec().Labels[0].Examples, "  "] }, .. Spec().Labels.Skip(1)] };
        var view = await Tasks.SaveAsync(author, v1.Id, same, expectedVersion: 1, comment: "no-op");
        var again = await Tasks.SaveAsync(author, v1.Id, Spec(), expectedVersion: 0, comment: null);

        Assert.Equal((1, 1), (view.Version, again.CurrentVersion));
        Assert.Equal(rows, await _host.CountRowsAsync());
        await _host.Events.SettledAsync();
        Assert.Equal(events, _host.Events.Events.Count);

        await Tasks.SaveAsync(author, v1.Id, Spec() with { Name = "Changed" }, 1, null);
        var afterV2 = await _host.CountRowsAsync();
        Assert.Equal(2, (await Tasks.SaveAsync(author, v1.Id, Spec() with { Name = "Changed" }, 2, null)).CurrentVersion);
        Assert.Equal(afterV2, await _host.CountRowsAsync());
    }

    [Fact]
    public async Task A_stale_expected_version_is_a_conflict_and_writes_nothing()
    {
        var (project, author) = await ProjectAsync();
        var other = await _host.CreateUserAsync(project, ProjectRole.Owner, "owner");
        var v1 = await Tasks.CreateTaskAsync(author, project, Spec(), null);
        await Tasks.SaveAsync(other, v1.Id, Spec() with { Name = "Theirs" }, 1, null);
        var rows = await _host.CountRowsAsync();

        var ex = await Assert.ThrowsAsync<ConflictException>(() => Tasks.SaveAsync(author, v1.Id, Spec() with { Name = "Mine" }, 1, null));

        Assert.Contains("someone saved version 2 meanwhile", ex.Message);
        Assert.Equal(rows, await _host.CountRowsAsync());
        Assert.Equal("Theirs", (await Tasks.GetTaskAsync(author, v1.Id)).Spec.Name);
    }

    [Fact]
    public async Task Two_concurrent_saves_from_the_same_version_give_exactly_one_new_version()
    {
        var (project, author) = await ProjectAsync();
        var v1 = await Tasks.CreateTaskAsync(author, project, Spec(), null);

        for (var round = 0; round < 5; round++)
        {
            var current = (await Tasks.GetTaskAsync(author, v1.Id)).CurrentVersion;
            var saves = Enumerable.Range(0, 4)
                .Select(i => Task.Run(() => Tasks.SaveAsync(author, v1.Id, Spec() with { Name = $"round {round} writer {i}" }, current, null)))
                .ToArray();
            var outcomes = await Task.WhenAll(saves.Select(async s =>
            {
                try
                {
                    return (object)await s;
                }
                catch (ConflictException ex)
                {
                    return ex;
                }
            }));

            var winners = outcomes.OfType<TaskView>().ToList();
            Assert.Single(winners);
            Assert.Equal(3, outcomes.OfType<ConflictException>().Count());
            Assert.Equal(current + 1, winners[0].CurrentVersion);
            var numbers = await _host.QueryAsync(db => db.TaskVersions.Where(v => v.TaskId == v1.Id).Select(v => v.Number).ToListAsync());
            Assert.Equal(Enumerable.Range(1, current + 1), numbers.Order());
            Assert.Equal(winners[0].Spec.Name, (await Tasks.GetTaskAsync(author, v1.Id)).Spec.Name);
        }
    }

    [Theory]
    [InlineData(ProjectRole.Viewer)]
    [InlineData(ProjectRole.Reviewer)]
    public async Task Viewers_and_reviewers_cannot_create_or_save_but_can_read(ProjectRole role)
    {
        var (project, author) = await ProjectAsync();
        var member = await _host.CreateUserAsync(project, role, role.ToString());
        var task = await Tasks.CreateTaskAsync(author, project, Spec(), null);
        var rows = await _host.CountRowsAsync();

        await Assert.ThrowsAsync<ForbiddenException>(() => Tasks.CreateTaskAsync(member, project, Spec(), null));
        await Assert.ThrowsAsync<ForbiddenException>(() => Tasks.SaveAsync(member, task.Id, Spec() with { Name = "x" }, 1, null));

        Assert.Equal(rows, await _host.CountRowsAsync());
        Assert.Equal(role, (await Tasks.GetTaskAsync(member, task.Id)).MyRole);
        Assert.Single(await Tasks.ListTasksAsync(member, project));
        Assert.Single(await Tasks.ListVersionsAsync(member, task.Id));
    }

    [Fact]
    public async Task Non_members_cannot_read_and_learn_nothing_about_existence()
    {
        var (project, author) = await ProjectAsync();
        var task = await Tasks.CreateTaskAsync(author, project, Spec(), null);
        var otherProject = await _host.CreateProjectAsync("other");
        var outsider = await _host.CreateUserAsync(otherProject, ProjectRole.Owner, "outsider");

        var existing = await Assert.ThrowsAsync<ForbiddenException>(() => Tasks.GetTaskAsync(outsider, task.Id));
        var unknown = await Assert.ThrowsAsync<ForbiddenException>(() => Tasks.GetTaskAsync(outsider, Guid.NewGuid()));
        Assert.Equal(unknown.Message, existing.Message);
        var save = await Assert.ThrowsAsync<ForbiddenException>(() => Tasks.SaveAsync(outsider, task.Id, Spec() with { Name = "x" }, 1, null));
        Assert.Equal(unknown.Message, save.Message);
        Assert.Equal(unknown.Message, (await Assert.ThrowsAsync<ForbiddenException>(() => Tasks.ListVersionsAsync(outsider, task.Id))).Message);
        await Assert.ThrowsAsync<ForbiddenException>(() => Tasks.ListTasksAsync(outsider, project));
        await Assert.ThrowsAsync<ForbiddenException>(() => Tasks.CreateTaskAsync(outsider, project, Spec(), null));
    }

    [Fact]
    public async Task List_shows_current_name_label_count_and_language()
    {
        var (project, author) = await ProjectAsync();
        var a = await Tasks.CreateTaskAsync(author, project, Spec() with { Name = "b task" }, null);
        await Tasks.CreateTaskAsync(author, project, TaskSpecValidatorTests.Valid() with { Name = "a task", Preferences = new TaskPreferences { Language = "ja" } }, null);
        await Tasks.SaveAsync(author, a.Id, Spec() with { Name = "c task" }, 1, null);

        var list = await Tasks.ListTasksAsync(author, project);

        Assert.Equal(["a task", "c task"], list.Select(t => t.Name));
        Assert.Equal((3, "ja", 1), (list[0].LabelCount, list[0].Language, list[0].CurrentVersion));
        Assert.Equal((4, "en", 2), (list[1].LabelCount, list[1].Language, list[1].CurrentVersion));
    }

    [Fact]
    public async Task Archived_projects_take_no_new_tasks()
    {
        var project = await _host.CreateProjectAsync(archived: true);
        var author = await _host.CreateUserAsync(project, ProjectRole.Author);
        var ex = await Assert.ThrowsAsync<DomainValidationException>(() => Tasks.CreateTaskAsync(author, project, Spec(), null));
        Assert.Equal("ProjectArchived", Assert.Single(ex.Details).Code);
        Assert.Equal(0, await _host.QueryAsync(db => db.Tasks.CountAsync(t => t.ProjectId == project)));
    }

    [Fact]
    public async Task A_long_comment_is_rejected()
    {
        var (project, author) = await ProjectAsync();
        var task = await Tasks.CreateTaskAsync(author, project, Spec(), null);
        var ex = await Assert.ThrowsAsync<DomainValidationException>(() => Tasks.SaveAsync(author, task.Id, Spec() with { Name = "x" }, 1, new string('c', 401)));
        Assert.Equal(("comment", "CommentTooLong"), (ex.Details[0].Field, ex.Details[0].Code));
    }
}
