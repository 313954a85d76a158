using System.Security.Claims;
using Incubator.Domain.Data;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Incubator.Web.Accounts;

/// <summary>Security-stamp validation on every cookie-authenticated request: the cookie names the stamp it was issued
/// with, and a cookie whose account has a new stamp — after signing out, a password change, an administrator's reset or
/// a change of site role — is refused and cleared. One indexed read per request; Identity's periodic validator (which
/// also refreshes the claims) runs after it.</summary>
internal static class SessionValidation
{
    public static async Task ValidateAsync(CookieValidatePrincipalContext context)
    {
        var principal = context.Principal;
        var userId = principal?.FindFirstValue(ClaimTypes.NameIdentifier);
        if (principal is null || userId is null) return;
        var services = context.HttpContext.RequestServices;
        var stampClaim = services.GetRequiredService<IOptions<IdentityOptions>>().Value.ClaimsIdentity.SecurityStampClaimType;
        var presented = principal.FindFirstValue(stampClaim);
        var dbFactory = services.GetRequiredService<IDbContextFactory<IncubatorDbContext>>();
        await using var db = await dbFactory.CreateDbContextAsync(context.HttpContext.RequestAborted);
        var current = await db.Users.AsNoTracking().Where(u => u.Id == userId).Select(u => u.SecurityStamp).FirstOrDefaultAsync(context.HttpContext.RequestAborted);
        if (current is null || presented is null || current != presented)
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(IdentityConstants.ApplicationScheme);
            return;
        }
        await SecurityStampValidator.ValidatePrincipalAsync(context);
    }
}
