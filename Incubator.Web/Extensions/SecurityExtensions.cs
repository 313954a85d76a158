using Incubator.Web.Api;
using Incubator.Web.Security;
using Microsoft.AspNetCore.CookiePolicy;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;

namespace Incubator.Web.Extensions;

public static class SecurityExtensions
{
    /// <summary>Section "Security" (<see cref="SecurityOptions"/>), trusted proxies for X-Forwarded-Proto, Secure cookies
    /// whenever the request is HTTPS, and request binding errors as exceptions that become problem documents.</summary>
    public static WebApplicationBuilder AddSecurity(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<SecurityOptions>().Bind(builder.Configuration.GetSection(SecurityOptions.Section)).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<SecurityOptions>, SecurityOptionsValidator>();
        builder.Services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<SecurityOptions>>((o, security) =>
        {
            foreach (var proxy in security.Value.TrustedProxies)
                if (SecurityOptions.TryNetwork(proxy, out var network)) o.KnownIPNetworks.Add(network);
        });
        // Every cookie the portal writes (sign-in, antiforgery, language) is Secure when the request came over HTTPS —
        // directly or, per X-Forwarded-Proto from a trusted proxy, to the proxy — and HttpOnly unless it is the language
        // cookie, which is harmless to read.
        builder.Services.Configure<CookiePolicyOptions>(o =>
        {
            o.Secure = CookieSecurePolicy.SameAsRequest;
            o.MinimumSameSitePolicy = SameSiteMode.Lax;
            o.HttpOnly = HttpOnlyPolicy.None;
        });
        // A body the binder cannot read (too large, malformed JSON, wrong content type) throws instead of ending as a
        // bare status code, so BadRequestProblems answers it with a problem document.
        builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        return builder;
    }

    /// <summary>Headers on every response, cookie policy, cross-origin refusal, and problem documents for unreadable
    /// requests. Runs after forwarded headers (so the scheme and host are the client's) and before authentication.</summary>
    public static WebApplication UseSecurity(this WebApplication app)
    {
        app.UseMiddleware<SecurityHeaders>();
        app.UseCookiePolicy();
        app.UseMiddleware<BadRequestProblems>();
        app.UseMiddleware<CrossSiteProtection>();
        return app;
    }
}
