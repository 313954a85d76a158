using Incubator.Domain.Common.Events;
using Incubator.Domain.Common;
using Incubator.Domain.Data;
using Incubator.Domain.Jobs;
using Microsoft.EntityFrameworkCore;

namespace Incubator.Domain.Projects;

public sealed record ProjectSummary(Guid Id, string Name, string Description, bool IsArchived, ProjectRole MyRole, int MemberCount, DateTimeOffset CreatedAt);

public sealed record MemberView(string UserId, string Email, string DisplayName, ProjectRole Role, DateTimeOffset AddedAt);

/// <param name="Detail">The variable part in English (a job's title said in English when it was stored as a note).</param>
/// <param name="DetailNote">A job's title as a note, for the reader's language; null for other lines.</param>
public sealed record ActivityView(long Id, DateTimeOffset At, string Kind, string Detail, string? UserEmail, JobNote? DetailNote = null)
{
    internal static ActivityView From(long id, DateTimeOffset at, string kind, string detail, string? email) =>
        detail.StartsWith('{') && JobNote.FromJson(detail) is { } note
            ? new(id, at, kind, note.Message, email, note)
            : new(id, at, kind, detail, email);
}

public sealed record ProjectOverview(
    ProjectSummary Project,
    int RunningJobs,
    int FinishedJobs,
    IReadOnlyList<MemberView> Members,
    IReadOnlyList<ActivityView> RecentActivity);

/// <summary>Create, rename, archive projects and manage their members. Every method takes the acting user and checks
/// their role first; every change writes an activity line in the same transaction and publishes an event.</summary>
public sealed class ProjectService(
    IDbContextFactory<IncubatorDbContext> dbFactory,
    ProjectAccess access,
    IRunEvents events,
    TimeProvider time)
{
    public async Task<ProjectSummary> CreateProjectAsync(string userId, string? name, string? description, CancellationToken ct = default)
    {
        var validName = ProjectRules.ValidateName(name);
        var validDescription = ProjectRules.ValidateDescription(description);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (!await db.Users.AnyAsync(u => u.Id == userId, ct))
            throw new ForbiddenException("Sign in to create a project.");
        var now = time.GetUtcNow();
        var project = new Project
        {
            Id = Guid.NewGuid(), Name = validName, Description = validDescription, CreatedAt = now, CreatedById = userId,
        };
        project.Members.Add(new ProjectMember { UserId = userId, Role = ProjectRole.Owner, AddedAt = now });
        db.Projects.Add(project);
        db.Activity.Add(new ActivityEntry { ProjectId = project.Id, UserId = userId, At = now, Kind = ActivityKinds.ProjectCreated, Detail = validName });
        await db.SaveChangesAsync(ct);
        return new ProjectSummary(project.Id, project.Name, project.Description, false, ProjectRole.Owner, 1, now);
    }

    public async Task RenameProjectAsync(string userId, Guid projectId, string? newName, string? description, CancellationToken ct = default)
    {
        await access.RequireWriteAsync(projectId, userId, ProjectRole.Owner, ct);
        var validName = ProjectRules.ValidateName(newName);
        var validDescription = ProjectRules.ValidateDescription(description);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var project = await db.Projects.SingleAsync(p => p.Id == projectId, ct);
        if (project.Name == validName && project.Description == validDescription) return;
        var old = project.Name;
        project.Name = validName;
        project.Description = validDescription;
        db.Activity.Add(Entry(projectId, userId, old == validName ? ActivityKinds.ProjectDescribed : ActivityKinds.ProjectRenamed,
            old == validName ? validName : $"{old} → {validName}"));
        await db.SaveChangesAsync(ct);
        await events.PublishAsync(new ProjectChanged(projectId, "renamed"), ct);
    }

    public async Task SetArchivedAsync(string userId, Guid projectId, bool archived, CancellationToken ct = default)
    {
        await access.RequireAsync(projectId, userId, ProjectRole.Owner, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var project = await db.Projects.SingleAsync(p => p.Id == projectId, ct);
        if (project.IsArchived == archived) return;
        project.IsArchived = archived;
        db.Activity.Add(Entry(projectId, userId, archived ? ActivityKinds.ProjectArchived : ActivityKinds.ProjectRestored, project.Name));
        await db.SaveChangesAsync(ct);
        await events.PublishAsync(new ProjectChanged(projectId, archived ? "archived" : "restored"), ct);
    }

    /// <summary>Whether approved samples from this project's other tasks are offered as demonstrations when generating.</summary>
    public async Task<bool> GetTeamDemonstrationsAsync(string userId, Guid projectId, CancellationToken ct = default)
    {
        await access.RequireAsync(projectId, userId, ProjectRole.Viewer, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Projects.AsNoTracking().Where(p => p.Id == projectId).Select(p => p.UseTeamDemonstrations).SingleAsync(ct);
    }

    /// <summary>Owner only: opt the project in to (or out of) team demonstrations. Runs already generating keep what
    /// they loaded; the next run (or resume) follows the new setting.</summary>
    public async Task SetTeamDemonstrationsAsync(string userId, Guid projectId, bool enabled, CancellationToken ct = default)
    {
        await access.RequireWriteAsync(projectId, userId, ProjectRole.Owner, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var project = await db.Projects.SingleAsync(p => p.Id == projectId, ct);
        if (project.UseTeamDemonstrations == enabled) return;
        project.UseTeamDemonstrations = enabled;
        db.Activity.Add(Entry(projectId, userId, enabled ? ActivityKinds.TeamDemonstrationsOn : ActivityKinds.TeamDemonstrationsOff, project.Name));
        await db.SaveChangesAsync(ct);
        await events.PublishAsync(new ProjectChanged(projectId, "settings"), ct);
    }

    public async Task<MemberView> AddMemberAsync(string userId, Guid projectId, string? email, ProjectRole role, CancellationToken ct = default)
    {
        await access.RequireAsync(projectId, userId, ProjectRole.Owner, ct);
        if (!Enum.IsDefined(role)) throw new DomainValidationException("role", "RoleInvalid", "Choose a role: Owner, Author, Reviewer or Viewer.");
        var trimmed = (email ?? "").Trim();
        if (trimmed.Length == 0) throw new DomainValidationException("email", "MemberEmailRequired", "Enter the e-mail address of the person to add.");
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var normalized = trimmed.ToUpperInvariant();
        var user = await db.Users.AsNoTracking().SingleOrDefaultAsync(u => u.NormalizedEmail == normalized, ct)
            ?? throw new DomainValidationException("email", "MemberNoAccount", $"No account uses the e-mail address '{trimmed}'. Send them an invitation link instead (POST /api/projects/{projectId}/invitations).", trimmed);
        if (await db.ProjectMembers.AnyAsync(m => m.ProjectId == projectId && m.UserId == user.Id, ct))
            throw new DomainValidationException("email", "MemberAlreadyExists", $"{user.Email} is already a member of this project.", user.Email ?? trimmed);
        var now = time.GetUtcNow();
        db.ProjectMembers.Add(new ProjectMember { ProjectId = projectId, UserId = user.Id, Role = role, AddedAt = now });
        db.Activity.Add(Entry(projectId, userId, ActivityKinds.MemberAdded, $"{user.Email} ({role})"));
        await db.SaveChangesAsync(ct);
        await events.PublishAsync(new ProjectChanged(projectId, "members"), ct);
        return new MemberView(user.Id, user.Email ?? "", user.DisplayName, role, now);
    }

    public async Task ChangeMemberRoleAsync(string userId, Guid projectId, string memberUserId, ProjectRole role, CancellationToken ct = default)
    {
        await access.RequireAsync(projectId, userId, ProjectRole.Owner, ct);
        if (!Enum.IsDefined(role)) throw new DomainValidationException("role", "RoleInvalid", "Choose a role: Owner, Author, Reviewer or Viewer.");
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var member = await db.ProjectMembers.Include(m => m.User).SingleOrDefaultAsync(m => m.ProjectId == projectId && m.UserId == memberUserId, ct)
            ?? throw new NotFoundException("That person is not a member of this project.");
        if (member.Role == role) return;
        await EnsureAnotherOwnerRemainsAsync(db, projectId, member, ct, role);
        member.Role = role;
        db.Activity.Add(Entry(projectId, userId, ActivityKinds.MemberRoleChanged, $"{member.User?.Email} ({role})"));
        await db.SaveChangesAsync(ct);
        await events.PublishAsync(new ProjectChanged(projectId, "members"), ct);
    }

    public async Task RemoveMemberAsync(string userId, Guid projectId, string memberUserId, CancellationToken ct = default)
    {
        await access.RequireAsync(projectId, userId, ProjectRole.Owner, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var member = await db.ProjectMembers.Include(m => m.User).SingleOrDefaultAsync(m => m.ProjectId == projectId && m.UserId == memberUserId, ct)
            ?? throw new NotFoundException("That person is not a member of this project.");
        await EnsureAnotherOwnerRemainsAsync(db, projectId, member, ct, null);
        db.ProjectMembers.Remove(member);
        db.Activity.Add(Entry(projectId, userId, ActivityKinds.MemberRemoved, member.User?.Email ?? memberUserId));
        await db.SaveChangesAsync(ct);
        await events.PublishAsync(new ProjectChanged(projectId, "members"), ct);
    }

    public async Task<IReadOnlyList<ProjectSummary>> ListProjectsAsync(string userId, bool includeArchived, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await db.ProjectMembers.AsNoTracking()
            .Where(m => m.UserId == userId && (includeArchived || !m.Project!.IsArchived))
            .Select(m => new
            {
                m.Project!.Id, m.Project.Name, m.Project.Description, m.Project.IsArchived, m.Role,
                Members = m.Project.Members.Count, m.Project.CreatedAt,
            })
            .ToListAsync(ct);
        return rows
            .OrderBy(r => r.IsArchived).ThenBy(r => r.Name, StringComparer.CurrentCultureIgnoreCase)
            .Select(r => new ProjectSummary(r.Id, r.Name, r.Description, r.IsArchived, r.Role, r.Members, r.CreatedAt))
            .ToList();
    }

    public async Task<ProjectSummary> GetProjectAsync(string userId, Guid projectId, CancellationToken ct = default)
    {
        var role = await access.RequireAsync(projectId, userId, ProjectRole.Viewer, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var p = await db.Projects.AsNoTracking()
            .Where(x => x.Id == projectId)
            .Select(x => new { x.Id, x.Name, x.Description, x.IsArchived, x.CreatedAt, Members = x.Members.Count })
            .SingleAsync(ct);
        return new ProjectSummary(p.Id, p.Name, p.Description, p.IsArchived, role, p.Members, p.CreatedAt);
    }

    public async Task<IReadOnlyList<MemberView>> ListMembersAsync(string userId, Guid projectId, CancellationToken ct = default)
    {
        await access.RequireAsync(projectId, userId, ProjectRole.Viewer, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await db.ProjectMembers.AsNoTracking()
            .Where(m => m.ProjectId == projectId)
            .Select(m => new MemberView(m.UserId, m.User!.Email ?? "", m.User.DisplayName, m.Role, m.AddedAt))
            .ToListAsync(ct);
        return rows.OrderByDescending(m => m.Role).ThenBy(m => m.Email, StringComparer.OrdinalIgnoreCase).ToList();
    }

    public async Task<ProjectOverview> GetOverviewAsync(string userId, Guid projectId, int activityCount = 20, CancellationToken ct = default)
    {
        var project = await GetProjectAsync(userId, projectId, ct);
        var members = await ListMembersAsync(userId, projectId, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var running = await db.Jobs.CountAsync(j => j.ProjectId == projectId && (j.State == JobState.Queued || j.State == JobState.Running || j.State == JobState.Paused), ct);
        var finished = await db.Jobs.CountAsync(j => j.ProjectId == projectId && (j.State == JobState.Succeeded || j.State == JobState.StoppedShort || j.State == JobState.Failed || j.State == JobState.Cancelled), ct);
        var activity = await db.Activity.AsNoTracking()
            .Where(a => a.ProjectId == projectId)
            .OrderByDescending(a => a.Id)
            .Take(Math.Clamp(activityCount, 1, 200))
            .Select(a => new { a.Id, a.At, a.Kind, a.Detail, Email = db.Users.Where(u => u.Id == a.UserId).Select(u => u.Email).FirstOrDefault() })
            .ToListAsync(ct);
        return new ProjectOverview(project, running, finished, members, activity.Select(a => ActivityView.From(a.Id, a.At, a.Kind, a.Detail, a.Email)).ToList());
    }

    private static async Task EnsureAnotherOwnerRemainsAsync(IncubatorDbContext db, Guid projectId, ProjectMember member, CancellationToken ct, ProjectRole? newRole)
    {
        if (member.Role != ProjectRole.Owner || newRole == ProjectRole.Owner) return;
        var owners = await db.ProjectMembers.CountAsync(m => m.ProjectId == projectId && m.Role == ProjectRole.Owner, ct);
        if (owners <= 1)
            throw new DomainValidationException("role", "LastOwner", "A project needs at least one Owner. Make someone else Owner first.");
    }

    private ActivityEntry Entry(Guid projectId, string userId, string kind, string detail) =>
        new() { ProjectId = projectId, UserId = userId, At = time.GetUtcNow(), Kind = kind, Detail = detail.Length > 400 ? detail[..400] : detail };
}
