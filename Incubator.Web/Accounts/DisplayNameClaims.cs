using System.Security.Claims;
using Incubator.Domain.Accounts;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace Incubator.Web.Accounts;

/// <summary>Adds the person's display name to their sign-in, so the user menu greets them by name rather than by
/// e-mail address. Sessions signed in before this existed have no such claim and show the address until the cookie is
/// renewed.</summary>
public sealed class DisplayNameClaims(UserManager<AppUser> users, RoleManager<IdentityRole> roles, IOptions<IdentityOptions> options)
    : UserClaimsPrincipalFactory<AppUser, IdentityRole>(users, roles, options)
{
    public const string ClaimType = "incubator:display_name";

    protected override async Task<ClaimsIdentity> GenerateClaimsAsync(AppUser user)
    {
        var identity = await base.GenerateClaimsAsync(user);
        if (!string.IsNullOrWhiteSpace(user.DisplayName)) identity.AddClaim(new Claim(ClaimType, user.DisplayName));
        return identity;
    }

    /// <summary>The name to show for a signed-in principal: the display name, else the user name (the e-mail).</summary>
    public static string? ShownName(ClaimsPrincipal user) => user.FindFirstValue(ClaimType) ?? user.Identity?.Name;
}
