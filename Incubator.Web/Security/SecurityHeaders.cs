using System.Security.Cryptography;

namespace Incubator.Web.Security;

/// <summary>Headers on every response, pages and API alike: no MIME sniffing, no referrer to other sites, no framing,
/// and a Content-Security-Policy the portal (Blazor Server, MudBlazor) works under — scripts only from the portal itself
/// plus the one inline import map, which carries the request's nonce; styles may be inline (MudBlazor writes style
/// attributes and its theme as a style element); connections (the circuit's WebSocket) only to the portal.</summary>
internal sealed class SecurityHeaders(RequestDelegate next)
{
    private const string NonceKey = "incubator.csp-nonce";

    public Task InvokeAsync(HttpContext context)
    {
        // base64url: no "+" or "/" that HTML attribute encoding would rewrite (a nonce must read the same in the header and the tag).
        var nonce = System.Buffers.Text.Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(16));
        context.Items[NonceKey] = nonce;
        context.Response.OnStarting(() =>
        {
            var headers = context.Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "same-origin";
            headers.XFrameOptions = "DENY";
            headers.ContentSecurityPolicy = Policy(nonce);
            return Task.CompletedTask;
        });
        return next(context);
    }

    public static string Policy(string nonce) =>
        "default-src 'self'; " +
        $"script-src 'self' 'nonce-{nonce}'; " +
        "style-src 'self' 'unsafe-inline'; " +
        "img-src 'self' data: blob:; " +
        "font-src 'self' data:; " +
        "connect-src 'self'; " +
        "object-src 'none'; " +
        "base-uri 'self'; " +
        "form-action 'self'; " +
        "frame-ancestors 'none'";

    /// <summary>The nonce of this request's policy, for the page's inline scripts (the import map).</summary>
    public static string? Nonce(HttpContext? context) => context?.Items[NonceKey] as string;
}
