using System.Net;
using System.Text.RegularExpressions;
using Incubator.Tests.Infrastructure;

namespace Incubator.Tests.Security;

/// <summary>Headers on pages and API responses, and cookies that are Secure whenever the request is HTTPS — here as a
/// TLS-terminating proxy reports it (X-Forwarded-Proto from loopback, which is always a trusted proxy).</summary>
public sealed partial class SecurityHeadersTests(SecurityHeadersTests.Portal portal) : IClassFixture<SecurityHeadersTests.Portal>
{
    public sealed class Portal : PortalFactory;

    [Theory]
    [InlineData("/account/login")]
    [InlineData("/api/projects")]
    [InlineData("/healthz")]
    public async Task Every_response_says_nosniff_same_origin_referrer_no_framing_and_carries_the_policy(string path)
    {
        using var client = AuthenticatedClient.Anonymous(portal);

        using var response = await client.Http.GetAsync(path);

        Assert.Equal("nosniff", Single(response, "X-Content-Type-Options"));
        Assert.Equal("same-origin", Single(response, "Referrer-Policy"));
        Assert.Equal("DENY", Single(response, "X-Frame-Options"));
        var csp = Single(response, "Content-Security-Policy");
        Assert.Contains("default-src 'self'", csp);
        Assert.Contains("frame-ancestors 'none'", csp);
        Assert.Contains("object-src 'none'", csp);
        Assert.DoesNotContain("unsafe-eval", csp);
        Assert.Matches("script-src 'self' 'nonce-[A-Za-z0-9_-]{22}';", csp);
    }

    [Fact]
    public async Task The_pages_one_inline_script_carries_the_nonce_of_its_own_response_and_nonces_differ_per_request()
    {
        using var client = AuthenticatedClient.Anonymous(portal);

        using var first = await client.Http.GetAsync("/account/login");
        using var second = await client.Http.GetAsync("/account/login");

        var nonce = Nonce().Match(Single(first, "Content-Security-Policy")).Groups[1].Value;
        var html = await first.Content.ReadAsStringAsync();
        var inline = InlineScripts().Matches(html).Select(m => m.Value).ToList();
        Assert.NotEmpty(inline);
        Assert.All(inline, tag => Assert.Contains($"nonce=\"{nonce}\"", tag));
        Assert.NotEqual(nonce, Nonce().Match(Single(second, "Content-Security-Policy")).Groups[1].Value);
    }

    [Fact]
    public async Task Cookies_are_secure_when_the_request_reached_the_proxy_over_https_and_not_otherwise()
    {
        var email = PortalExtensions.UniqueEmail("secure-cookie");
        await portal.RegisterAsync(email);

        async Task<IReadOnlyList<string>> SignInCookiesAsync(bool https)
        {
            using var client = AuthenticatedClient.Anonymous(portal);
            var ticket = await portal.IssueTicketAsync(email);
            var token = await client.GetAntiforgeryTokenAsync();
            using var request = new HttpRequestMessage(HttpMethod.Post, "/account/signin-ticket")
            {
                Content = new FormUrlEncodedContent([new("ticket", ticket), new(AuthenticatedClient.AntiforgeryField, token)]),
            };
            if (https) request.Headers.Add("X-Forwarded-Proto", "https");
            using var response = await client.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            return response.Headers.TryGetValues("Set-Cookie", out var values) ? values.ToList() : [];
        }

        var secure = await SignInCookiesAsync(https: true);
        var plain = await SignInCookiesAsync(https: false);

        var auth = Assert.Single(secure, c => c.StartsWith(AuthenticatedClient.AuthCookieName + "=", StringComparison.Ordinal));
        Assert.Contains("; secure", auth, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("; httponly", auth, StringComparison.OrdinalIgnoreCase);
        var plainAuth = Assert.Single(plain, c => c.StartsWith(AuthenticatedClient.AuthCookieName + "=", StringComparison.Ordinal));
        Assert.DoesNotContain("; secure", plainAuth, StringComparison.OrdinalIgnoreCase);
    }

    private static string Single(HttpResponseMessage response, string header) =>
        Assert.Single(response.Headers.TryGetValues(header, out var v) ? v : response.Content.Headers.TryGetValues(header, out var c) ? c : []);

    [GeneratedRegex("'nonce-([^']+)'")]
    private static partial Regex Nonce();

    [GeneratedRegex("<script(?![^>]*\\bsrc=)[^>]*>", RegexOptions.IgnoreCase)]
    private static partial Regex InlineScripts();
}
