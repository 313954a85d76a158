using Incubator.Domain.Accounts;
using Incubator.Domain.Common;
using Incubator.Domain.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace Incubator.Web.Accounts;

public sealed record UserRow(string Id, string Email, string DisplayName, DateTimeOffset CreatedAt, bool IsAdmin, DateTimeOffset? LockedUntil, int Projects,
    DateTimeOffset? ResetRequestedAt = null);

/// <summary>What a site administrator does with accounts: see them, clear a throttled sign-in, grant or revoke the
/// admin role, and create a password reset link. Every method checks that the caller is an administrator.</summary>
public sealed class UserAdministration(UserManager<AppUser> users, IDbContextFactory<IncubatorDbContext> dbFactory, SignInThrottle throttle,
    ILogger<UserAdministration> logger)
{
    public async Task<IReadOnlyList<UserRow>> ListAsync(string actingUserId, CancellationToken ct = default)
    {
        await RequireAdminAsync(actingUserId);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var adminRoleId = await db.Roles.Where(r => r.Name == SiteRoles.Admin).Select(r => r.Id).FirstOrDefaultAsync(ct);
        var rows = await db.Users.AsNoTracking()
            .Select(u => new
            {
                u.Id, u.Email, u.DisplayName, u.CreatedAt, u.PasswordResetRequestedAt,
                IsAdmin = db.UserRoles.Any(r => r.UserId == u.Id && r.RoleId == adminRoleId),
                Projects = db.ProjectMembers.Count(m => m.UserId == u.Id),
            })
            .ToListAsync(ct);
        var result = new List<UserRow>();
        foreach (var r in rows.OrderBy(r => r.Email, StringComparer.OrdinalIgnoreCase))
            result.Add(new UserRow(r.Id, r.Email ?? "", r.DisplayName, r.CreatedAt, r.IsAdmin, await throttle.AccountBlockedUntilAsync(r.Email, ct), r.Projects,
                r.PasswordResetRequestedAt));
        return result;
    }

    /// <summary>Clears the account's failed sign-ins, so its owner can sign in at once.</summary>
    public async Task UnlockAsync(string actingUserId, string userId)
    {
        await RequireAdminAsync(actingUserId);
        var user = await users.FindByIdAsync(userId) ?? throw new NotFoundException("No such user.");
        await throttle.ClearAccountAsync(user.Email);
    }

    public async Task SetAdminAsync(string actingUserId, string userId, bool admin)
    {
        await RequireAdminAsync(actingUserId);
        var user = await users.FindByIdAsync(userId) ?? throw new NotFoundException("No such user.");
        var isAdmin = await users.IsInRoleAsync(user, SiteRoles.Admin);
        if (isAdmin == admin) return;
        if (!admin && (await users.GetUsersInRoleAsync(SiteRoles.Admin)).Count <= 1)
            throw new DomainValidationException("admin", "LastAdmin", "The site needs at least one administrator. Make someone else administrator first.");
        var result = admin ? await users.AddToRoleAsync(user, SiteRoles.Admin) : await users.RemoveFromRoleAsync(user, SiteRoles.Admin);
        if (!result.Succeeded) throw new InvalidOperationException(string.Join(" ", result.Errors.Select(e => e.Description)));
        // A new security stamp ends the user's open sessions, so the changed role takes effect at once.
        await users.UpdateSecurityStampAsync(user);
    }

    /// <summary>A link (the path and query of <c>/account/reset-password</c>) with which the account's owner sets a new
    /// password; the administrator hands it over and never learns the password. It works once, for a day, and only
    /// until the password changes.</summary>
    public async Task<string> CreateResetLinkAsync(string actingUserId, string userId)
    {
        await RequireAdminAsync(actingUserId);
        var user = await users.FindByIdAsync(userId) ?? throw new NotFoundException("No such user.");
        var token = await users.GeneratePasswordResetTokenAsync(user);
        logger.LogInformation("Administrator {AdminId} created a password reset link for user {UserId}", actingUserId, userId);
        return $"account/reset-password?user={Uri.EscapeDataString(user.Id)}&token={Uri.EscapeDataString(token)}";
    }

    private async Task RequireAdminAsync(string actingUserId)
    {
        var acting = await users.FindByIdAsync(actingUserId);
        if (acting is null || !await users.IsInRoleAsync(acting, SiteRoles.Admin))
            throw new ForbiddenException("Only site administrators can manage accounts.");
    }
}
