using System.ComponentModel.DataAnnotations;
using Incubator.Domain.Accounts;
using Incubator.Domain.Common;
using Incubator.Domain.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Incubator.Web.Accounts;

public enum SignInOutcome
{
    Succeeded,
    Invalid,
    LockedOut,
}

public sealed record SignInCheck(SignInOutcome Outcome, AppUser? User, DateTimeOffset? LockedUntil);

/// <summary>Registration and password checks for the interactive pages. Cookies are issued by the sign-in ticket
/// endpoint (an HTTP request), because an interactive circuit has no response to put a cookie on.</summary>
public sealed class AccountService(
    UserManager<AppUser> users,
    SignInManager<AppUser> signIn,
    RoleManager<IdentityRole> roles,
    IDbContextFactory<IncubatorDbContext> dbFactory,
    IOptions<IdentityOptions> identityOptions,
    TimeProvider time)
{
    public const int MaxDisplayNameLength = 100;

    public async Task<AppUser> RegisterAsync(string? email, string? password, string? displayName, CancellationToken ct = default)
    {
        var errors = new List<DomainError>();
        var trimmedEmail = (email ?? "").Trim();
        var name = (displayName ?? "").Trim();
        if (trimmedEmail.Length == 0) errors.Add(new("email", "EmailRequired", "Enter your e-mail address.", []));
        else if (trimmedEmail.Length > 256 || !new EmailAddressAttribute().IsValid(trimmedEmail) || !trimmedEmail.Contains('.'))
            errors.Add(new("email", "EmailInvalid", $"'{trimmedEmail}' is not a valid e-mail address.", [trimmedEmail]));
        if (name.Length > MaxDisplayNameLength)
            errors.Add(new("displayName", "DisplayNameTooLong", $"Name must be at most {MaxDisplayNameLength} characters.", [MaxDisplayNameLength]));
        if (string.IsNullOrEmpty(password)) errors.Add(new("password", "PasswordRequired", "Choose a password.", []));
        if (errors.Count > 0) throw new DomainValidationException(errors);

        var user = new AppUser
        {
            UserName = trimmedEmail, Email = trimmedEmail, DisplayName = name.Length > 0 ? name : trimmedEmail.Split('@')[0],
            CreatedAt = time.GetUtcNow(), EmailConfirmed = true,
        };
        var result = await users.CreateAsync(user, password!);
        if (!result.Succeeded)
        {
            var pw = identityOptions.Value.Password;
            foreach (var e in result.Errors)
            {
                if (e.Code is "DuplicateEmail" or "DuplicateUserName")
                {
                    if (errors.All(x => x.Code != "DuplicateEmail"))
                        errors.Add(new("email", "DuplicateEmail", $"An account with the e-mail address '{trimmedEmail}' already exists. Sign in instead.", [trimmedEmail]));
                    continue;
                }
                var field = e.Code.StartsWith("Password", StringComparison.Ordinal) ? "password" : "email";
                object[] args = e.Code switch
                {
                    "PasswordTooShort" => [pw.RequiredLength],
                    "PasswordRequiresUniqueChars" => [pw.RequiredUniqueChars],
                    _ => [],
                };
                errors.Add(new(field, "Identity." + e.Code, e.Description, args));
            }
            throw new DomainValidationException(errors);
        }
        await PromoteIfFirstAsync(user, ct);
        return user;
    }

    /// <summary>The earliest account becomes site administrator while there is none. Deciding by "earliest" rather
    /// than "there is no admin yet" keeps two simultaneous first registrations from both becoming admin.</summary>
    private async Task PromoteIfFirstAsync(AppUser user, CancellationToken ct)
    {
        await EnsureAdminRoleAsync();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var adminRoleId = await db.Roles.Where(r => r.Name == SiteRoles.Admin).Select(r => r.Id).SingleAsync(ct);
        if (await db.UserRoles.AnyAsync(r => r.RoleId == adminRoleId, ct)) return;
        var earliest = await db.Users.OrderBy(u => u.CreatedAt).ThenBy(u => u.Id).Select(u => u.Id).FirstAsync(ct);
        if (earliest == user.Id) await users.AddToRoleAsync(user, SiteRoles.Admin);
    }

    public async Task<bool> EnsureAdministratorAsync(string email, string password, CancellationToken ct = default)
    {
        await EnsureAdminRoleAsync();
        var existing = await users.FindByEmailAsync(email.Trim());
        if (existing is not null)
        {
            if (!await users.IsInRoleAsync(existing, SiteRoles.Admin)) await users.AddToRoleAsync(existing, SiteRoles.Admin);
            return false;
        }
        AppUser user;
        try
        {
            user = await RegisterAsync(email, password, "Administrator", ct);
        }
        catch (DomainValidationException ex)
        {
            throw new InvalidOperationException($"Cannot seed the administrator from INCUBATOR_ADMIN_EMAIL/INCUBATOR_ADMIN_PASSWORD: {ex.Message}");
        }
        if (!await users.IsInRoleAsync(user, SiteRoles.Admin)) await users.AddToRoleAsync(user, SiteRoles.Admin);
        return true;
    }

    public async Task<SignInCheck> CheckPasswordAsync(string? email, string? password)
    {
        var user = string.IsNullOrWhiteSpace(email) ? null : await users.FindByEmailAsync(email.Trim());
        if (user is null || string.IsNullOrEmpty(password)) return new SignInCheck(SignInOutcome.Invalid, null, null);
        var result = await signIn.CheckPasswordSignInAsync(user, password, lockoutOnFailure: true);
        if (result.IsLockedOut) return new SignInCheck(SignInOutcome.LockedOut, user, await users.GetLockoutEndDateAsync(user));
        return result.Succeeded ? new SignInCheck(SignInOutcome.Succeeded, user, null) : new SignInCheck(SignInOutcome.Invalid, null, null);
    }

    public async Task<bool> IsFirstRunAsync(CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return !await db.Users.AnyAsync(ct);
    }

    public async Task SetPreferredCultureAsync(string userId, string culture)
    {
        var user = await users.FindByIdAsync(userId);
        if (user is null || user.PreferredCulture == culture) return;
        user.PreferredCulture = culture;
        await users.UpdateAsync(user);
    }

    private async Task EnsureAdminRoleAsync()
    {
        if (!await roles.RoleExistsAsync(SiteRoles.Admin))
        {
            var r = await roles.CreateAsync(new IdentityRole(SiteRoles.Admin));
            if (!r.Succeeded && !await roles.RoleExistsAsync(SiteRoles.Admin))
                throw new InvalidOperationException(string.Join(" ", r.Errors.Select(e => e.Description)));
        }
    }

}
