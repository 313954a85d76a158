using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Mvc.Testing.Handlers;

namespace Incubator.Tests.Infrastructure;

/// <summary>An HTTP client with its own cookie jar that signs in the way a browser does: it loads the login page,
/// takes the antiforgery token from the page's hidden sign-in form (the <c>&lt;AntiforgeryToken/&gt;</c> inside
/// PostForm is in the prerendered HTML), and posts a sign-in ticket to the real /account/signin-ticket endpoint.
/// Redirects are not followed, so tests see the 302s. The cookie jar is exposed so a SignalR connection can reuse
/// the same sign-in cookie.</summary>
public sealed partial class AuthenticatedClient : IDisposable
{
    public const string AuthCookieName = "incubator.auth";
    public const string AntiforgeryField = "__RequestVerificationToken";

    private AuthenticatedClient(HttpClient http, CookieContainer cookies)
    {
        Http = http;
        Cookies = cookies;
    }

    public HttpClient Http { get; }

    public CookieContainer Cookies { get; }

    public Uri BaseAddress => Http.BaseAddress!;

    /// <summary>The value of the sign-in cookie the jar would send, or null when there is none.</summary>
    public string? AuthCookie => Cookies.GetCookies(BaseAddress)[AuthCookieName]?.Value;

    /// <summary>A client with an empty cookie jar. Against a real server it talks over loopback TCP; otherwise
    /// through the in-memory test server.</summary>
    public static AuthenticatedClient Anonymous(PortalFactory portal)
    {
        var cookies = new CookieContainer();
        var http = portal.RealServer
            ? new HttpClient(new HttpClientHandler { CookieContainer = cookies, UseCookies = true, AllowAutoRedirect = false })
            {
                BaseAddress = new Uri(portal.ServerAddress),
            }
            : portal.CreateDefaultClient(new Uri("http://localhost"), new CookieContainerHandler(cookies));
        return new AuthenticatedClient(http, cookies);
    }

    /// <summary>Signs the account with this e-mail in through the real ticket endpoint and returns the client
    /// holding the resulting cookie. Fails loudly if the endpoint does not answer with a redirect and a cookie.</summary>
    public static async Task<AuthenticatedClient> SignInAsync(PortalFactory portal, string email, bool remember = false, string? returnUrl = null)
    {
        var client = Anonymous(portal);
        try
        {
            var ticket = await portal.IssueTicketAsync(email, remember, returnUrl);
            using var response = await client.PostTicketAsync(ticket);
            if (response.StatusCode != HttpStatusCode.Redirect || client.AuthCookie is null)
                throw new InvalidOperationException($"Sign-in of {email} failed: {(int)response.StatusCode} to '{response.Headers.Location}', auth cookie {(client.AuthCookie is null ? "missing" : "present")}.");
            return client;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>GETs the login page (as whoever this client is signed in as, which antiforgery binds the token to)
    /// and returns the token from its hidden form. The matching antiforgery cookie lands in the jar.</summary>
    public async Task<string> GetAntiforgeryTokenAsync()
    {
        using var response = await Http.GetAsync("/account/login");
        response.EnsureSuccessStatusCode();
        var html = await response.Content.ReadAsStringAsync();
        var input = TokenInput().Match(html);
        var value = input.Success ? ValueAttribute().Match(input.Value) : Match.Empty;
        if (!value.Success || value.Groups["value"].Value.Length == 0)
            throw new InvalidOperationException($"The login page has no {AntiforgeryField} hidden input.");
        return WebUtility.HtmlDecode(value.Groups["value"].Value);
    }

    /// <summary>POSTs a form, by default with a fresh antiforgery token added.</summary>
    public async Task<HttpResponseMessage> PostFormAsync(string path, IEnumerable<KeyValuePair<string, string>> fields, bool withAntiforgery = true)
    {
        var all = fields.ToList();
        if (withAntiforgery) all.Add(new(AntiforgeryField, await GetAntiforgeryTokenAsync()));
        using var content = new FormUrlEncodedContent(all);
        return await Http.PostAsync(path, content);
    }

    public Task<HttpResponseMessage> PostTicketAsync(string ticket, bool withAntiforgery = true) =>
        PostFormAsync("/account/signin-ticket", [new("ticket", ticket)], withAntiforgery);

    public Task<HttpResponseMessage> LogoutAsync() => PostFormAsync("/account/logout", []);

    public void Dispose() => Http.Dispose();

    [GeneratedRegex("""<input\b[^>]*\bname="__RequestVerificationToken"[^>]*>""", RegexOptions.IgnoreCase)]
    private static partial Regex TokenInput();

    [GeneratedRegex("\\bvalue=\"(?<value>[^\"]*)\"", RegexOptions.IgnoreCase)]
    private static partial Regex ValueAttribute();
}
