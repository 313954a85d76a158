using System.ComponentModel.DataAnnotations;
using Incubator.Domain.Accounts;
using Incubator.Domain.Common;
using Incubator.Domain.Data;
using Incubator.Domain.Projects;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Incubator.Web.Accounts;

public enum SignInOutcome
{
    Succeeded,
    Invalid,
    /// <summary>Too many failed attempts for this account name or from this address: refused until
    /// <see cref="SignInCheck.LockedUntil"/>, whether or not the account exists and whatever the password.</summary>
    LockedOut,
}

public sealed record SignInCheck(SignInOutcome Outcome, AppUser? User, DateTimeOffset? LockedUntil);

/// <summary>Registration, password checks and password changes for the interactive pages. Cookies are issued by the
/// sign-in ticket endpoint (an HTTP request), because an interactive circuit has no response to put a cookie on.
/// <para>No answer here says whether an e-mail address has an account: registering an address that has one looks
/// exactly like registering a new one (nothing changes, and the person is asked to sign in); a wrong password and an
/// unknown address are both <see cref="SignInOutcome.Invalid"/> and take as long (the password hasher runs either
/// way); throttling counts account names, not accounts; a reset request always gets the same reply.</para></summary>
public sealed class AccountService(
    UserManager<AppUser> users,
    SignInManager<AppUser> signIn,
    RoleManager<IdentityRole> roles,
    IDbContextFactory<IncubatorDbContext> dbFactory,
    IOptions<IdentityOptions> identityOptions,
    SiteSettingsService site,
    SignInThrottle throttle,
    InvitationService invitations,
    ILogger<AccountService> logger,
    TimeProvider time)
{
    public const int MaxDisplayNameLength = 100;

    /// <summary>A hash of nothing anyone knows, checked when the e-mail has no account so that a miss costs what a wrong
    /// password costs.</summary>
    private static readonly Lazy<string> DecoyHash = new(() => new PasswordHasher<AppUser>().HashPassword(new AppUser(), Guid.NewGuid().ToString("N")));

    /// <summary>Creates an account when the registration mode allows it — open, or through a working
    /// <paramref name="invitation"/> link, which also makes the new account a member of the link's project. Returns null
    /// when the address already has an account: then nothing changes (no invitation is used up) and the caller must
    /// answer exactly as for a new account. Invalid input is refused the same way whether or not the address is known.</summary>
    public async Task<AppUser?> RegisterAsync(string? email, string? password, string? displayName, string? invitation = null, CancellationToken ct = default)
    {
        var (trimmedEmail, name) = await ValidateNewAccountAsync(email, password, displayName);
        var mode = await site.RegistrationAsync(ct);
        var firstAccount = await IsFirstRunAsync(ct);
        var hasInvitation = !string.IsNullOrWhiteSpace(invitation);
        if (!firstAccount && mode == RegistrationMode.Closed)
            throw new DomainValidationException("email", "RegistrationClosed", "This portal does not take new accounts. Ask its administrator.");
        if (!firstAccount && mode == RegistrationMode.Invitation && !hasInvitation)
            throw new DomainValidationException("email", "RegistrationByInvitation",
                "On this portal you register through an invitation link from a project's Owner. Ask one for a link.");
        if (hasInvitation && await invitations.PreviewAsync(invitation, ct) is null)
            throw InvitationInvalid();

        if (await users.FindByEmailAsync(trimmedEmail) is not null)
        {
            // Same answer as a new account; the work a new account costs (hashing) is done anyway.
            new PasswordHasher<AppUser>().HashPassword(new AppUser(), password!);
            logger.LogInformation("Registration for an address that already has an account; nothing changed");
            return null;
        }

        Guid? claimed = null;
        if (hasInvitation && (claimed = await invitations.ClaimAsync(invitation, ct)) is null) throw InvitationInvalid();
        AppUser user;
        try
        {
            user = await CreateAsync(trimmedEmail, password!, name, ct);
        }
        catch
        {
            if (claimed is { } id) await invitations.ReleaseAsync(id, CancellationToken.None);
            throw;
        }
        if (claimed is { } invitationId) await invitations.CompleteAsync(invitationId, user.Id, ct);
        return user;
    }

    private static DomainValidationException InvitationInvalid() =>
        new("invitation", "InvitationInvalid",
            "This invitation link does not work: it was used already, revoked, or it expired. Ask the project's Owner for a new one.");

    /// <summary>Field checks that do not depend on whether the address has an account: e-mail form, name length and the
    /// password rules (run here, not by account creation, so a weak password is refused for known addresses too).</summary>
    private async Task<(string Email, string Name)> ValidateNewAccountAsync(string? email, string? password, string? displayName)
    {
        var errors = new List<DomainError>();
        var trimmedEmail = (email ?? "").Trim();
        var name = (displayName ?? "").Trim();
        if (trimmedEmail.Length == 0) errors.Add(new("email", "EmailRequired", "Enter your e-mail address.", []));
        else if (!Incubator.Domain.Common.EmailAddresses.IsPlausible(trimmedEmail))
            errors.Add(new("email", "EmailInvalid", $"'{trimmedEmail}' is not a valid e-mail address.", [trimmedEmail]));
        if (name.Length > MaxDisplayNameLength)
            errors.Add(new("displayName", "DisplayNameTooLong", $"Name must be at most {MaxDisplayNameLength} characters.", [MaxDisplayNameLength]));
        if (string.IsNullOrEmpty(password)) errors.Add(new("password", "PasswordRequired", "Choose a password.", []));
        else errors.AddRange(await PasswordErrorsAsync(new AppUser { UserName = trimmedEmail, Email = trimmedEmail }, password, "password"));
        if (errors.Count > 0) throw new DomainValidationException(errors);
        return (trimmedEmail, name);
    }

    private async Task<IReadOnlyList<DomainError>> PasswordErrorsAsync(AppUser user, string password, string field)
    {
        var errors = new List<DomainError>();
        foreach (var validator in users.PasswordValidators)
        {
            var result = await validator.ValidateAsync(users, user, password);
            if (!result.Succeeded) errors.AddRange(result.Errors.Select(e => ToError(e, field)));
        }
        return errors;
    }

    private DomainError ToError(IdentityError e, string passwordField)
    {
        var pw = identityOptions.Value.Password;
        var field = e.Code.StartsWith("Password", StringComparison.Ordinal) ? passwordField : "email";
        object[] args = e.Code switch
        {
            "PasswordTooShort" => [pw.RequiredLength],
            "PasswordRequiresUniqueChars" => [pw.RequiredUniqueChars],
            _ => [],
        };
        return new DomainError(field, "Identity." + e.Code, e.Description, args);
    }

    /// <summary>Creates the account (no mode check: registration and the seeded administrator call this).</summary>
    private async Task<AppUser> CreateAsync(string email, string password, string name, CancellationToken ct)
    {
        var user = new AppUser
        {
            UserName = email, Email = email, DisplayName = name.Length > 0 ? name : email.Split('@')[0],
            CreatedAt = time.GetUtcNow(), EmailConfirmed = true,
        };
        var result = await users.CreateAsync(user, password);
        if (!result.Succeeded)
        {
            // Two registrations of one address at the same moment: the loser is told what everyone is told.
            if (result.Errors.Any(e => e.Code is "DuplicateEmail" or "DuplicateUserName"))
                throw new DomainValidationException("email", "RegistrationRetry", "Registering did not finish. Try signing in, or register again.");
            throw new DomainValidationException(result.Errors.Select(e => ToError(e, "password")).ToList());
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
            var (trimmed, _) = await ValidateNewAccountAsync(email, password, "Administrator");
            user = await CreateAsync(trimmed, password, "Administrator", ct);
        }
        catch (DomainValidationException ex)
        {
            throw new InvalidOperationException($"Cannot seed the administrator from INCUBATOR_ADMIN_EMAIL/INCUBATOR_ADMIN_PASSWORD: {ex.Message}");
        }
        if (!await users.IsInRoleAsync(user, SiteRoles.Admin)) await users.AddToRoleAsync(user, SiteRoles.Admin);
        return true;
    }

    /// <summary>Checks a password for sign-in from <paramref name="address"/> (the client's IP, for throttling).</summary>
    public async Task<SignInCheck> CheckPasswordAsync(string? email, string? password, string address = ClientAddress.Unknown)
    {
        if (await throttle.BlockedUntilAsync(address, email) is { } until) return new SignInCheck(SignInOutcome.LockedOut, null, until);
        var user = string.IsNullOrWhiteSpace(email) ? null : await users.FindByEmailAsync(email.Trim());
        var ok = false;
        if (user is null || string.IsNullOrEmpty(password))
            new PasswordHasher<AppUser>().VerifyHashedPassword(new AppUser(), DecoyHash.Value, password ?? "");
        else
            ok = (await signIn.CheckPasswordSignInAsync(user, password, lockoutOnFailure: false)).Succeeded;
        if (!ok)
        {
            await throttle.RecordFailureAsync(address, email);
            // The attempt that reaches the limit is told so at once, like every later one.
            return await throttle.BlockedUntilAsync(address, email) is { } now
                ? new SignInCheck(SignInOutcome.LockedOut, null, now)
                : new SignInCheck(SignInOutcome.Invalid, null, null);
        }
        await throttle.ClearAccountAsync(email);
        return new SignInCheck(SignInOutcome.Succeeded, user, null);
    }

    /// <summary>The signed-in user changes their password (the current one is required). Every other session of the
    /// account ends (a new security stamp); the caller signs this browser in again with the returned account.</summary>
    public async Task<AppUser> ChangePasswordAsync(string userId, string? current, string? newPassword)
    {
        var user = await users.FindByIdAsync(userId) ?? throw new ForbiddenException("Sign in first.");
        var errors = new List<DomainError>();
        if (string.IsNullOrEmpty(current)) errors.Add(new("current", "PasswordRequired", "Enter your current password.", []));
        if (string.IsNullOrEmpty(newPassword)) errors.Add(new("password", "PasswordRequired", "Choose a password.", []));
        else errors.AddRange(await PasswordErrorsAsync(user, newPassword, "password"));
        if (errors.Count > 0) throw new DomainValidationException(errors);
        var result = await users.ChangePasswordAsync(user, current!, newPassword!);
        if (!result.Succeeded)
        {
            if (result.Errors.Any(e => e.Code == "PasswordMismatch"))
                throw new DomainValidationException("current", "CurrentPasswordWrong", "The current password is not correct.");
            throw new DomainValidationException(result.Errors.Select(e => ToError(e, "password")).ToList());
        }
        logger.LogInformation("User {UserId} changed their password; their other sessions end", userId);
        return user;
    }

    /// <summary>"Forgot password": notes the request for the administrators when the address has an account. The
    /// caller tells everyone the same thing.</summary>
    public async Task RequestPasswordResetAsync(string? email, CancellationToken ct = default)
    {
        var normalized = (email ?? "").Trim().ToUpperInvariant();
        if (normalized.Length is 0 or > 256) return;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await db.Users.Where(u => u.NormalizedEmail == normalized)
            .ExecuteUpdateAsync(s => s.SetProperty(u => u.PasswordResetRequestedAt, time.GetUtcNow()), ct);
    }

    /// <summary>Sets a new password with a reset link an administrator created. False when the link does not work
    /// (unknown account, used, expired, or the password changed since); password rules are refused as usual.</summary>
    public async Task<bool> ResetPasswordAsync(string? userId, string? token, string? newPassword)
    {
        var errors = new List<DomainError>();
        if (string.IsNullOrEmpty(newPassword)) errors.Add(new("password", "PasswordRequired", "Choose a password.", []));
        var user = string.IsNullOrEmpty(userId) || userId.Length > 450 ? null : await users.FindByIdAsync(userId);
        if (!string.IsNullOrEmpty(newPassword)) errors.AddRange(await PasswordErrorsAsync(user ?? new AppUser(), newPassword, "password"));
        if (errors.Count > 0) throw new DomainValidationException(errors);
        if (user is null || string.IsNullOrEmpty(token)) return false;
        var result = await users.ResetPasswordAsync(user, token, newPassword!);
        if (!result.Succeeded)
        {
            if (result.Errors.Any(e => e.Code == "InvalidToken")) return false;
            throw new DomainValidationException(result.Errors.Select(e => ToError(e, "password")).ToList());
        }
        user.PasswordResetRequestedAt = null;
        await users.UpdateAsync(user);
        await throttle.ClearAccountAsync(user.Email);
        logger.LogInformation("User {UserId} set a new password with a reset link", user.Id);
        return true;
    }

    /// <summary>Signing out ends every session of the account: the security stamp changes, so a copy of any of its
    /// cookies stops working at its next request.</summary>
    public async Task SignOutEverywhereAsync(string userId)
    {
        if (await users.FindByIdAsync(userId) is { } user) await users.UpdateSecurityStampAsync(user);
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
