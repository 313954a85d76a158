using Incubator.Domain.Common;
using Incubator.Domain.Data;
using Microsoft.EntityFrameworkCore;

namespace Incubator.Domain.Projects;

/// <summary>The one place that answers "may this user do that in this project". Pages, API endpoints, hub methods
/// and use cases all call it, so a check cannot be forgotten in one front door and present in another.</summary>
public sealed class ProjectAccess(IDbContextFactory<IncubatorDbContext> dbFactory)
{
    public async Task<ProjectRole?> GetRoleAsync(Guid projectId, string? userId, CancellationToken ct = default)
    {
        if (string.IsNullOrEmpty(userId)) return null;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var member = await db.ProjectMembers.AsNoTracking()
            .Where(m => m.ProjectId == projectId && m.UserId == userId)
            .Select(m => (ProjectRole?)m.Role)
            .FirstOrDefaultAsync(ct);
        return member;
    }

    /// <summary>Every member of the project with their role (a project has tens of members, not thousands).</summary>
    public async Task<IReadOnlyDictionary<string, ProjectRole>> MemberRolesAsync(Guid projectId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.ProjectMembers.AsNoTracking().Where(m => m.ProjectId == projectId)
            .ToDictionaryAsync(m => m.UserId, m => m.Role, StringComparer.Ordinal, ct);
    }

    public async Task<bool> HasRoleAsync(Guid projectId, string? userId, ProjectRole minimum, CancellationToken ct = default)
    {
        var role = await GetRoleAsync(projectId, userId, ct);
        return role is not null && role.Value >= minimum;
    }

    /// <summary>Throws <see cref="ForbiddenException"/> for non-members and for members below <paramref name="minimum"/>.
    /// A non-member is told nothing about whether the project exists.</summary>
    public async Task<ProjectRole> RequireAsync(Guid projectId, string? userId, ProjectRole minimum, CancellationToken ct = default)
    {
        var role = await GetRoleAsync(projectId, userId, ct);
        if (role is null) throw new ForbiddenException("You are not a member of this project.");
        if (role.Value < minimum) throw new ForbiddenException($"This needs the {minimum} role or higher; you are {role.Value}.");
        return role.Value;
    }

    /// <summary>The code of <see cref="Archived"/>.</summary>
    public const string ArchivedCode = "ProjectArchived";

    /// <summary>The refusal of a write in an archived project: a <see cref="DomainValidationException"/> with the code
    /// "ProjectArchived" (localised as Error.ProjectArchived). The request itself is valid; the project's state conflicts
    /// with it, so the API answers 409 Conflict with the code in "problems" (docs/decisions/0024, amendment sec22).</summary>
    public static DomainValidationException Archived() =>
        new("project", ArchivedCode, "This project is archived: it is read-only until an Owner restores it.");

    /// <summary>True when <paramref name="ex"/> is the refusal of <see cref="Archived"/>.</summary>
    public static bool IsArchived(DomainValidationException ex) => ex.Details.Any(d => d.Code == ArchivedCode);

    /// <summary><see cref="RequireAsync"/> for a WRITE: membership, the role AND that the project is not archived, in one
    /// query. An archived project is read-only until an Owner restores it (docs/decisions/0024, amendment arch21): every
    /// service method that changes a project's rows calls this, except the few allowed while archived (restoring it,
    /// membership and invitations by the Owner, cancelling or pausing running work, giving back one's own hand-outs,
    /// exports). Non-members and low roles are refused first (ForbiddenException), so an outsider learns nothing about
    /// whether the project is archived.</summary>
    public async Task<ProjectRole> RequireWriteAsync(Guid projectId, string? userId, ProjectRole minimum, CancellationToken ct = default)
    {
        if (string.IsNullOrEmpty(userId)) throw new ForbiddenException("You are not a member of this project.");
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var member = await db.ProjectMembers.AsNoTracking()
            .Where(m => m.ProjectId == projectId && m.UserId == userId)
            .Select(m => new { m.Role, m.Project!.IsArchived })
            .FirstOrDefaultAsync(ct);
        if (member is null) throw new ForbiddenException("You are not a member of this project.");
        if (member.Role < minimum) throw new ForbiddenException($"This needs the {minimum} role or higher; you are {member.Role}.");
        if (member.IsArchived) throw Archived();
        return member.Role;
    }

    /// <summary><see cref="RequireTaskAsync"/> for a WRITE (<see cref="RequireWriteAsync"/>): the task's project, after
    /// checking the role there and that the project is not archived.</summary>
    public async Task<Guid> RequireTaskWriteAsync(Guid taskId, string? userId, ProjectRole minimum, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var projectId = await db.Tasks.AsNoTracking().Where(t => t.Id == taskId).Select(t => (Guid?)t.ProjectId).FirstOrDefaultAsync(ct)
            ?? throw new ForbiddenException("You do not have access to this task.");
        await RequireWriteAsync(projectId, userId, minimum, ct);
        return projectId;
    }

    /// <summary>The task's project, after checking the role there. A missing task is reported like a foreign one, so a
    /// non-member learns nothing about which task ids exist.</summary>
    public async Task<Guid> RequireTaskAsync(Guid taskId, string? userId, ProjectRole minimum, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var projectId = await db.Tasks.AsNoTracking().Where(t => t.Id == taskId).Select(t => (Guid?)t.ProjectId).FirstOrDefaultAsync(ct)
            ?? throw new ForbiddenException("You do not have access to this task.");
        await RequireAsync(projectId, userId, minimum, ct);
        return projectId;
    }
}
