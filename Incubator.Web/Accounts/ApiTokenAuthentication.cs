using System.Text.Encodings.Web;
using Incubator.Domain.Accounts;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace Incubator.Web.Accounts;

/// <summary>`Authorization: Bearer inc_…` on /api and /hubs (or, for the hub's WebSocket and Server-Sent Events
/// transports, which browsers cannot give headers, <c>?access_token=inc_…</c>, as SignalR clients send it): the request
/// acts as the token's owner, with exactly the claims a cookie sign-in would give (so the same project role checks
/// apply). Unknown or revoked tokens are 401. A request that presents a token is judged by the token alone, never by a
/// cookie it also carries.</summary>
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
        if (PresentedToken(Request) is not { } presented) return AuthenticateResult.NoResult();
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

    /// <summary>The token a request to the API or the hub presents, or null.</summary>
    internal static string? PresentedToken(HttpRequest request)
    {
        var hub = request.Path.StartsWithSegments("/hubs");
        if (!hub && !request.Path.StartsWithSegments("/api")) return null;
        if (BearerToken(request) is { Length: > 0 } bearer) return bearer;
        return hub && request.Query["access_token"].ToString() is { Length: > 0 } query ? query : null;
    }

    /// <summary>Calls to the API or the hub that present a token use it; everything else (pages, cookie calls) the cookie.</summary>
    internal static string SelectScheme(HttpContext context) =>
        PresentedToken(context.Request) is not null ? SchemeName : IdentityConstants.ApplicationScheme;
}
