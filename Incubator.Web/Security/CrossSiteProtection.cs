using Incubator.Web.Accounts;
using Incubator.Web.Extensions;
using Microsoft.Extensions.Options;

namespace Incubator.Web.Security;

/// <summary>Refuses requests that a page of another origin made the browser send with the portal's cookies: unsafe
/// methods (POST, PUT, PATCH, DELETE) anywhere, and every request to the real-time endpoints (<c>/hubs</c>, the Blazor
/// circuit's <c>/_blazor</c>), whose WebSocket handshakes are GETs that no CORS rule covers.
/// <para>The browser says where a request comes from. <c>Sec-Fetch-Site</c> (every current browser, on HTTPS and
/// localhost) must be <c>same-origin</c> or <c>none</c> (typed by the user). Without it, the <c>Origin</c> header, when
/// present, must name the portal's own host. A request with neither did not come from a page of another origin (browsers
/// send Origin on every cross-origin unsafe request), so scripts and the tests' HTTP clients are unaffected. Origins in
/// <see cref="SecurityOptions.AllowedOrigins"/> pass (the public address behind a proxy that rewrites Host). Requests
/// that carry a personal API token (<c>Authorization: Bearer</c>) pass: a page cannot add that header to a cross-origin
/// request without a CORS preflight, which the portal never grants. The same algorithm as Go's
/// <c>net/http.CrossOriginProtection</c>.</para></summary>
internal sealed class CrossSiteProtection(RequestDelegate next, IOptions<SecurityOptions> options, ILogger<CrossSiteProtection> logger)
{
    private readonly IReadOnlySet<string> _allowed = options.Value.OriginSet();

    public Task InvokeAsync(HttpContext context)
    {
        if (IsAllowed(context.Request, _allowed)) return next(context);
        var origin = context.Request.Headers.Origin.ToString();
        logger.LogWarning("Refused a cross-origin {Method} to {Path} from origin '{Origin}' (Sec-Fetch-Site '{Site}')",
            context.Request.Method, context.Request.Path, origin, context.Request.Headers["Sec-Fetch-Site"].ToString());
        return Results.Problem(
            $"This request came from another site ({(origin.Length == 0 ? "unknown origin" : origin)}) and was refused. If that site is yours, add its origin to Security:AllowedOrigins.",
            statusCode: StatusCodes.Status403Forbidden, title: "Cross-origin request refused").ExecuteAsync(context);
    }

    internal static bool IsAllowed(HttpRequest request, IReadOnlySet<string> allowedOrigins)
    {
        var realtime = request.Path.StartsWithSegments("/hubs") || request.Path.StartsWithSegments("/_blazor");
        if (!realtime && (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || HttpMethods.IsOptions(request.Method)
                          || HttpMethods.IsTrace(request.Method)))
            return true;
        if (ApiTokenAuthenticationHandler.PresentedToken(request) is not null) return true;

        var origin = request.Headers.Origin.ToString();
        if (origin.Length > 0 && SecurityOptions.TryOrigin(origin, out var normalized) && allowedOrigins.Contains(normalized)) return true;

        var site = request.Headers["Sec-Fetch-Site"].ToString();
        if (site.Length > 0) return site is "same-origin" or "none";

        if (origin.Length == 0) return true;
        return Uri.TryCreate(origin, UriKind.Absolute, out var uri) && origin != "null"
            && string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase);
    }
}
