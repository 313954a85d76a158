using Incubator.Domain.Common;
using Incubator.Domain.Projects;
using Incubator.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.Integration;

public sealed class ProjectsPortal : PortalFactory;

/// <summary>Project use cases through the real <see cref="ProjectService"/> on a real database. Each test creates
/// its own users and projects, so they share one portal.</summary>
public sealed class ProjectServiceTests(ProjectsPortal portal) : IClassFixture<ProjectsPortal>
{
    private ProjectService Projects => portal.Services.GetRequiredService<ProjectService>();

    private async Task<(string Id, string Email)> UserAsync(string prefix)
    {
        var email = PortalExtensions.UniqueEmail(prefix);
        var user = await portal.RegisterAsync(email);
        return (user.Id, email);
    }

    private Task<int> ProjectRowsAsync() => portal.QueryAsync(db => db.Projects.CountAsync());

    private Task<int> ActivityRowsAsync(Guid projectId, string kind) =>
        portal.QueryAsync(db => db.Activity.CountAsync(a => a.ProjectId == projectId && a.Kind == kind));

    private Task<ProjectRole?> StoredRoleAsync(Guid projectId, string userId) =>
        portal.QueryAsync(db => db.ProjectMembers.Where(m => m.ProjectId == projectId && m.UserId == userId).Select(m => (ProjectRole?)m.Role).SingleOrDefaultAsync());

    /// <summary>A project owned by a new user, with one extra member per requested role.</summary>
    private async Task<(Guid ProjectId, string OwnerId, Dictionary<ProjectRole, (string Id, string Email)> Members)> ProjectWithMembersAsync(params ProjectRole[] roles)
    {
        var owner = await UserAsync("owner");
        var project = await Projects.CreateProjectAsync(owner.Id, $"Project {Guid.NewGuid():N}"[..20], "");
        var members = new Dictionary<ProjectRole, (string, string)>();
        foreach (var role in roles)
        {
            var m = await UserAsync(role.ToString().ToLowerInvariant());
            await Projects.AddMemberAsync(owner.Id, project.Id, m.Email, role);
            members[role] = m;
        }
        return (project.Id, owner.Id, members);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("\t \n")]
    [InlineData(null)]
    public async Task Creating_a_project_without_a_name_fails_with_ProjectNameRequired_and_saves_nothing(string? name)
    {
        var owner = await UserAsync("noname");
        var before = await ProjectRowsAsync();

        var ex = await Assert.ThrowsAsync<DomainValidationException>(() => Projects.CreateProjectAsync(owner.Id, name, "desc"));

        var error = Assert.Single(ex.Details);
        Assert.Equal(("name", "ProjectNameRequired"), (error.Field, error.Code));
        Assert.Equal(before, await ProjectRowsAsync());
        Assert.Empty(await Projects.ListProjectsAsync(owner.Id, includeArchived: true));
    }

    [Fact]
    public async Task A_101_character_name_fails_with_ProjectNameTooLong_and_saves_nothing_while_100_is_accepted()
    {
        var owner = await UserAsync("longname");
        var before = await ProjectRowsAsync();

        var ex = await Assert.ThrowsAsync<DomainValidationException>(() => Projects.CreateProjectAsync(owner.Id, new string('x', 101), null));

        var error = Assert.Single(ex.Details);
        Assert.Equal(("name", "ProjectNameTooLong"), (error.Field, error.Code));
        Assert.Equal(before, await ProjectRowsAsync());

        // The limit is inclusive, and surrounding spaces do not count.
        var ok = await Projects.CreateProjectAsync(owner.Id, "  " + new string('y', 100) + "  ", null);
        Assert.Equal(new string('y', 100), ok.Name);
        Assert.Equal(before + 1, await ProjectRowsAsync());
    }

    [Fact]
    public async Task The_creator_is_the_only_member_and_Owner_and_creation_is_logged()
    {
        var owner = await UserAsync("creator");

        var summary = await Projects.CreateProjectAsync(owner.Id, "  Seedlings  ", "  first try ");

        Assert.Equal(("Seedlings", "first try", ProjectRole.Owner, 1), (summary.Name, summary.Description, summary.MyRole, summary.MemberCount));
        var member = Assert.Single(await Projects.ListMembersAsync(owner.Id, summary.Id));
        Assert.Equal((owner.Id, owner.Email, ProjectRole.Owner), (member.UserId, member.Email, member.Role));
        Assert.Equal(ProjectRole.Owner, await StoredRoleAsync(summary.Id, owner.Id));
        Assert.Equal(1, await ActivityRowsAsync(summary.Id, ActivityKinds.ProjectCreated));
    }

    [Fact]
    public async Task Creating_a_project_as_an_unknown_user_is_forbidden_and_saves_nothing()
    {
        var before = await ProjectRowsAsync();
        await Assert.ThrowsAsync<ForbiddenException>(() => Projects.CreateProjectAsync("no-such-user", "Ghost", null));
        Assert.Equal(before, await ProjectRowsAsync());
    }

    [Theory]
    [InlineData(ProjectRole.Viewer)]
    [InlineData(ProjectRole.Reviewer)]
    [InlineData(ProjectRole.Author)]
    public async Task Only_an_Owner_can_rename_a_project(ProjectRole role)
    {
        var (projectId, ownerId, members) = await ProjectWithMembersAsync(role);
        var original = (await Projects.GetProjectAsync(ownerId, projectId)).Name;

        await Assert.ThrowsAsync<ForbiddenException>(() => Projects.RenameProjectAsync(members[role].Id, projectId, "Hijacked", ""));

        Assert.Equal(original, (await Projects.GetProjectAsync(ownerId, projectId)).Name);
        Assert.Equal(0, await ActivityRowsAsync(projectId, ActivityKinds.ProjectRenamed));

        await Projects.RenameProjectAsync(ownerId, projectId, "Renamed by owner", "");

        Assert.Equal("Renamed by owner", (await Projects.GetProjectAsync(members[role].Id, projectId)).Name);
        var detail = await portal.QueryAsync(db => db.Activity.Where(a => a.ProjectId == projectId && a.Kind == ActivityKinds.ProjectRenamed).Select(a => new { a.Detail, a.UserId }).SingleAsync());
        Assert.Equal($"{original} → Renamed by owner", detail.Detail);
        Assert.Equal(ownerId, detail.UserId);
    }

    [Fact]
    public async Task Renaming_validates_the_new_name_and_keeps_the_old_one()
    {
        var (projectId, ownerId, _) = await ProjectWithMembersAsync();
        var original = (await Projects.GetProjectAsync(ownerId, projectId)).Name;

        var ex = await Assert.ThrowsAsync<DomainValidationException>(() => Projects.RenameProjectAsync(ownerId, projectId, " ", ""));

        Assert.Equal("ProjectNameRequired", Assert.Single(ex.Details).Code);
        Assert.Equal(original, (await Projects.GetProjectAsync(ownerId, projectId)).Name);
        Assert.Equal(0, await ActivityRowsAsync(projectId, ActivityKinds.ProjectRenamed));
    }

    [Fact]
    public async Task Only_an_Owner_can_archive_and_archived_projects_are_hidden_unless_asked_for()
    {
        var (projectId, ownerId, members) = await ProjectWithMembersAsync(ProjectRole.Author);
        var author = members[ProjectRole.Author].Id;

        await Assert.ThrowsAsync<ForbiddenException>(() => Projects.SetArchivedAsync(author, projectId, true));
        Assert.False((await Projects.GetProjectAsync(ownerId, projectId)).IsArchived);
        Assert.Equal(0, await ActivityRowsAsync(projectId, ActivityKinds.ProjectArchived));

        await Projects.SetArchivedAsync(ownerId, projectId, true);

        Assert.True((await Projects.GetProjectAsync(ownerId, projectId)).IsArchived);
        Assert.Equal(1, await ActivityRowsAsync(projectId, ActivityKinds.ProjectArchived));
        foreach (var user in new[] { ownerId, author })
        {
            Assert.DoesNotContain(await Projects.ListProjectsAsync(user, includeArchived: false), p => p.Id == projectId);
            var all = await Projects.ListProjectsAsync(user, includeArchived: true);
            Assert.True(Assert.Single(all, p => p.Id == projectId).IsArchived);
        }

        // Archiving again changes nothing; restoring brings it back into the default list.
        await Projects.SetArchivedAsync(ownerId, projectId, true);
        Assert.Equal(1, await ActivityRowsAsync(projectId, ActivityKinds.ProjectArchived));
        await Projects.SetArchivedAsync(ownerId, projectId, false);
        Assert.Contains(await Projects.ListProjectsAsync(author, includeArchived: false), p => p.Id == projectId);
        Assert.Equal(1, await ActivityRowsAsync(projectId, ActivityKinds.ProjectRestored));
    }

    [Fact]
    public async Task Adding_a_member_by_an_email_without_an_account_fails_with_MemberNoAccount_and_adds_nobody()
    {
        var (projectId, ownerId, _) = await ProjectWithMembersAsync();

        var ex = await Assert.ThrowsAsync<DomainValidationException>(() =>
            Projects.AddMemberAsync(ownerId, projectId, PortalExtensions.UniqueEmail("stranger"), ProjectRole.Viewer));

        Assert.Equal(("email", "MemberNoAccount"), (Assert.Single(ex.Details).Field, ex.Details[0].Code));
        Assert.Equal(1, await portal.QueryAsync(db => db.ProjectMembers.CountAsync(m => m.ProjectId == projectId)));
        Assert.Equal(0, await ActivityRowsAsync(projectId, ActivityKinds.MemberAdded));
    }

    [Fact]
    public async Task Adding_someone_who_is_already_a_member_fails_with_MemberAlreadyExists_and_keeps_their_role()
    {
        var (projectId, ownerId, members) = await ProjectWithMembersAsync(ProjectRole.Reviewer);
        var reviewer = members[ProjectRole.Reviewer];

        // Same person, differently cased address, different role: still a duplicate.
        var ex = await Assert.ThrowsAsync<DomainValidationException>(() =>
            Projects.AddMemberAsync(ownerId, projectId, reviewer.Email.ToUpperInvariant(), ProjectRole.Owner));

        Assert.Equal(("email", "MemberAlreadyExists"), (Assert.Single(ex.Details).Field, ex.Details[0].Code));
        Assert.Equal(ProjectRole.Reviewer, await StoredRoleAsync(projectId, reviewer.Id));
        Assert.Equal(2, await portal.QueryAsync(db => db.ProjectMembers.CountAsync(m => m.ProjectId == projectId)));
    }

    [Fact]
    public async Task Adding_a_member_stores_the_role_and_logs_it()
    {
        var (projectId, ownerId, _) = await ProjectWithMembersAsync();
        var newcomer = await UserAsync("newcomer");

        var view = await Projects.AddMemberAsync(ownerId, projectId, "  " + newcomer.Email.ToUpperInvariant() + " ", ProjectRole.Author);

        Assert.Equal((newcomer.Id, ProjectRole.Author), (view.UserId, view.Role));
        Assert.Equal(ProjectRole.Author, await StoredRoleAsync(projectId, newcomer.Id));
        Assert.Equal(1, await ActivityRowsAsync(projectId, ActivityKinds.MemberAdded));
        Assert.Contains(await Projects.ListProjectsAsync(newcomer.Id, false), p => p.Id == projectId && p.MyRole == ProjectRole.Author);
    }

    [Fact]
    public async Task Only_an_Owner_can_add_members()
    {
        var (projectId, _, members) = await ProjectWithMembersAsync(ProjectRole.Author);
        var target = await UserAsync("target");

        await Assert.ThrowsAsync<ForbiddenException>(() => Projects.AddMemberAsync(members[ProjectRole.Author].Id, projectId, target.Email, ProjectRole.Viewer));

        Assert.Null(await StoredRoleAsync(projectId, target.Id));
    }

    [Fact]
    public async Task The_last_Owner_can_be_neither_demoted_nor_removed()
    {
        var (projectId, ownerId, members) = await ProjectWithMembersAsync(ProjectRole.Author);

        var demote = await Assert.ThrowsAsync<DomainValidationException>(() => Projects.ChangeMemberRoleAsync(ownerId, projectId, ownerId, ProjectRole.Author));
        var remove = await Assert.ThrowsAsync<DomainValidationException>(() => Projects.RemoveMemberAsync(ownerId, projectId, ownerId));

        Assert.Equal("LastOwner", Assert.Single(demote.Details).Code);
        Assert.Equal("LastOwner", Assert.Single(remove.Details).Code);
        Assert.Equal(ProjectRole.Owner, await StoredRoleAsync(projectId, ownerId));

        // With a second Owner the same operations are allowed: the rule is about the last one only.
        var author = members[ProjectRole.Author].Id;
        await Projects.ChangeMemberRoleAsync(ownerId, projectId, author, ProjectRole.Owner);
        await Projects.ChangeMemberRoleAsync(ownerId, projectId, ownerId, ProjectRole.Viewer);
        Assert.Equal(ProjectRole.Viewer, await StoredRoleAsync(projectId, ownerId));

        // Now the former Author is the only Owner, and is protected in turn.
        var again = await Assert.ThrowsAsync<DomainValidationException>(() => Projects.RemoveMemberAsync(author, projectId, author));
        Assert.Equal("LastOwner", Assert.Single(again.Details).Code);
        await Projects.RemoveMemberAsync(author, projectId, ownerId);
        Assert.Null(await StoredRoleAsync(projectId, ownerId));
        Assert.Equal(1, await ActivityRowsAsync(projectId, ActivityKinds.MemberRemoved));
    }

    [Fact]
    public async Task A_non_member_can_neither_read_nor_list_the_project()
    {
        var (projectId, _, _) = await ProjectWithMembersAsync();
        var outsider = await UserAsync("outsider");

        await Assert.ThrowsAsync<ForbiddenException>(() => Projects.GetProjectAsync(outsider.Id, projectId));
        await Assert.ThrowsAsync<ForbiddenException>(() => Projects.ListMembersAsync(outsider.Id, projectId));
        await Assert.ThrowsAsync<ForbiddenException>(() => Projects.GetOverviewAsync(outsider.Id, projectId));
        Assert.Empty(await Projects.ListProjectsAsync(outsider.Id, includeArchived: true));
    }
}
