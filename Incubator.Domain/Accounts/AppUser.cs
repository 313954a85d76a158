using Microsoft.AspNetCore.Identity;

namespace Incubator.Domain.Accounts;

public sealed class AppUser : IdentityUser
{
    public string DisplayName { get; set; } = "";

    /// <summary>UI culture the user chose with the language switcher ("en" or "ja"); null means "follow the browser".</summary>
    public string? PreferredCulture { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>When someone last asked, on the "forgot password" page, for this account's password to be reset; the
    /// administrators' list shows it until an administrator resets the password.</summary>
    public DateTimeOffset? PasswordResetRequestedAt { get; set; }
}
