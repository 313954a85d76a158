using System.Text.Encodings.Web;
using Incubator.Domain.Accounts;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace Incubator.Web.Accounts;

/// <summary>`Authorization: Bearer inc_…` on /api: the request acts as the token's owner, with exactly the claims a
/// cookie sign-in would give (so the same project role checks apply). Unknown or revoked tokens are 401.</summary>
public sealed class ApiTokenAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ApiTokenService tokens,
    UserManager<AppUser> users,
    IUserClaimsPrincipalFactory<AppUser> principals) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiToken";
    /// <summary>The default scheme: bearer requests to /api go to <see cref="SchemeName"/>, everything else to the cookie.</summary>
    public const string SelectorScheme = "IncubatorAuth";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (BearerToken(Request) is not { } presented) return AuthenticateResult.NoResult();
        var userId = await tokens.ValidateAsync(presented, Context.RequestAborted);
        if (userId is null) return AuthenticateResult.Fail("The API token is unknown or revoked.");
        var user = await users.FindByIdAsync(userId);
        if (user is null) return AuthenticateResult.Fail("The token's account no longer exists.");
        var principal = await principals.CreateAsync(user);
        return AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer";
        return Task.CompletedTask;
    }

    internal static string? BearerToken(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : null;
    }

    /// <summary>Bearer calls to the API use tokens; everything else (pages, the hub, cookie calls to the API) the cookie.</summary>
    internal static string SelectScheme(HttpContext context) =>
        context.Request.Path.StartsWithSegments("/api") && BearerToken(context.Request) is not null ? SchemeName : IdentityConstants.ApplicationScheme;
}
