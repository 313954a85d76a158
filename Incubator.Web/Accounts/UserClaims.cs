using System.Security.Claims;
using Incubator.Domain.Common;

namespace Incubator.Web.Accounts;

/// <summary>The signed-in user's id, for endpoints and pages that act as that user. Both sit behind an authorisation
/// policy, so a principal without an id is not one of ours: refuse rather than act as nobody.</summary>
public static class UserClaims
{
    public static string UserId(ClaimsPrincipal user) =>
        user.FindFirstValue(ClaimTypes.NameIdentifier) ?? throw new ForbiddenException("Sign in first.");
}
