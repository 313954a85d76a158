using System.Net;
using Incubator.Domain.Accounts;
using Incubator.Tests.Infrastructure;
using Incubator.Web.Accounts;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.Integration;

public sealed class SignInPortal : PortalFactory;

/// <summary>POST /account/signin-ticket and POST /account/logout, called the way the browser calls them.</summary>
public sealed class SignInTicketEndpointTests(SignInPortal portal) : IClassFixture<SignInPortal>
{
    private static Uri ExpiredLogin => new("/account/login?expired=1", UriKind.Relative);

    private async Task<string> NewUserAsync(string prefix = "user")
    {
        var email = PortalExtensions.UniqueEmail(prefix);
        await portal.RegisterAsync(email);
        return email;
    }

    private static void AssertNoAuthCookieSet(HttpResponseMessage response, AuthenticatedClient client)
    {
        Assert.Null(client.AuthCookie);
        var setCookies = response.Headers.TryGetValues("Set-Cookie", out var values) ? values : [];
        Assert.DoesNotContain(setCookies, c => c.StartsWith(AuthenticatedClient.AuthCookieName + "=", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_valid_ticket_with_antiforgery_redirects_to_the_local_return_url_and_issues_a_working_cookie()
    {
        var email = await NewUserAsync();
        using var client = AuthenticatedClient.Anonymous(portal);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.Http.GetAsync("/api/projects")).StatusCode);

        var ticket = await portal.IssueTicketAsync(email, remember: false, returnUrl: "/projects/new?from=login");
        using var response = await client.PostTicketAsync(ticket);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/projects/new?from=login", response.Headers.Location?.OriginalString);
        Assert.NotNull(client.AuthCookie);
        var setCookie = response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith(AuthenticatedClient.AuthCookieName + "=", StringComparison.Ordinal));
        Assert.Contains("httponly", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=lax", setCookie, StringComparison.OrdinalIgnoreCase);
        // Not "remember me": a session cookie, gone when the browser closes.
        Assert.DoesNotContain("expires=", setCookie, StringComparison.OrdinalIgnoreCase);

        // The cookie really authenticates.
        Assert.Equal(HttpStatusCode.OK, (await client.Http.GetAsync("/api/projects")).StatusCode);
    }

    [Fact]
    public async Task Remember_me_makes_the_cookie_persistent()
    {
        var email = await NewUserAsync("remember");
        using var client = AuthenticatedClient.Anonymous(portal);
        using var response = await client.PostTicketAsync(await portal.IssueTicketAsync(email, remember: true));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var setCookie = response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith(AuthenticatedClient.AuthCookieName + "=", StringComparison.Ordinal));
        Assert.Contains("expires=", setCookie, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("tampered")]
    [InlineData("garbage")]
    public async Task A_tampered_ticket_redirects_to_login_expired_and_sets_no_cookie(string kind)
    {
        var email = await NewUserAsync("tamper");
        var ticket = await portal.IssueTicketAsync(email);
        var bad = kind == "garbage" ? "not-a-ticket" : Tamper(ticket);
        using var client = AuthenticatedClient.Anonymous(portal);

        using var response = await client.PostTicketAsync(bad);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal(ExpiredLogin, response.Headers.Location);
        AssertNoAuthCookieSet(response, client);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.Http.GetAsync("/api/projects")).StatusCode);
    }

    [Fact]
    public async Task A_ticket_issued_before_the_security_stamp_changed_is_refused()
    {
        var email = await NewUserAsync("stamp");
        var ticket = await portal.IssueTicketAsync(email);
        await portal.InScopeAsync(async sp =>
        {
            var users = sp.GetRequiredService<UserManager<AppUser>>();
            return await users.UpdateSecurityStampAsync((await users.FindByEmailAsync(email))!);
        });
        using var client = AuthenticatedClient.Anonymous(portal);

        using var response = await client.PostTicketAsync(ticket);

        Assert.Equal(ExpiredLogin, response.Headers.Location);
        AssertNoAuthCookieSet(response, client);
    }

    [Fact]
    public async Task A_ticket_of_an_account_locked_out_after_it_was_issued_is_refused()
    {
        var email = await NewUserAsync("lockedticket");
        var ticket = await portal.IssueTicketAsync(email);
        for (var i = 0; i < 5; i++)
            await portal.InScopeAsync(sp => sp.GetRequiredService<AccountService>().CheckPasswordAsync(email, "Wrong-Passw0rd"));
        using var client = AuthenticatedClient.Anonymous(portal);

        using var response = await client.PostTicketAsync(ticket);

        Assert.Equal(ExpiredLogin, response.Headers.Location);
        AssertNoAuthCookieSet(response, client);
    }

    [Fact]
    public async Task A_valid_ticket_without_the_antiforgery_token_is_rejected_with_400()
    {
        var email = await NewUserAsync("noaf");
        using var client = AuthenticatedClient.Anonymous(portal);
        // Load the page first so the antiforgery cookie is present and only the form token is missing.
        await client.GetAntiforgeryTokenAsync();

        using var response = await client.PostTicketAsync(await portal.IssueTicketAsync(email), withAntiforgery: false);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        AssertNoAuthCookieSet(response, client);
    }

    [Fact]
    public async Task An_antiforgery_token_from_another_browser_is_rejected_with_400()
    {
        var email = await NewUserAsync("otheraf");
        using var other = AuthenticatedClient.Anonymous(portal);
        var foreignToken = await other.GetAntiforgeryTokenAsync();
        using var client = AuthenticatedClient.Anonymous(portal);
        await client.GetAntiforgeryTokenAsync();

        using var response = await client.PostFormAsync("/account/signin-ticket",
            [new("ticket", await portal.IssueTicketAsync(email)), new(AuthenticatedClient.AntiforgeryField, foreignToken)], withAntiforgery: false);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        AssertNoAuthCookieSet(response, client);
    }

    [Theory]
    [InlineData("//evil.example")]
    [InlineData("https://evil.example")]
    [InlineData("/\\evil.example")]
    [InlineData("//evil.example/projects")]
    [InlineData("/\t/evil.example")]
    [InlineData("/\r\n/evil.example")]
    public async Task A_return_url_to_another_site_is_reduced_to_the_home_page(string returnUrl)
    {
        var email = await NewUserAsync("redirect");
        using var client = AuthenticatedClient.Anonymous(portal);

        using var response = await client.PostTicketAsync(await portal.IssueTicketAsync(email, returnUrl: returnUrl));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/", response.Headers.Location?.OriginalString);
        Assert.NotNull(client.AuthCookie);
    }

    [Fact]
    public async Task Logout_clears_the_cookie_and_the_api_answers_401_again()
    {
        var email = await NewUserAsync("logout");
        using var client = await AuthenticatedClient.SignInAsync(portal, email);
        Assert.Equal(HttpStatusCode.OK, (await client.Http.GetAsync("/api/projects")).StatusCode);

        using var response = await client.LogoutAsync();

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/", response.Headers.Location?.OriginalString);
        var cleared = response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith(AuthenticatedClient.AuthCookieName + "=", StringComparison.Ordinal));
        Assert.Contains("expires=Thu, 01 Jan 1970", cleared, StringComparison.OrdinalIgnoreCase);
        Assert.Null(client.AuthCookie);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.Http.GetAsync("/api/projects")).StatusCode);
    }

    [Fact]
    public async Task Logout_without_an_antiforgery_token_is_rejected_and_keeps_the_session()
    {
        var email = await NewUserAsync("logoutcsrf");
        using var client = await AuthenticatedClient.SignInAsync(portal, email);

        using var response = await client.PostFormAsync("/account/logout", [], withAntiforgery: false);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.NotNull(client.AuthCookie);
        Assert.Equal(HttpStatusCode.OK, (await client.Http.GetAsync("/api/projects")).StatusCode);
    }

    /// <summary>Changes one character in the middle of the protected payload (a full 6-bit symbol, not padding).</summary>
    private static string Tamper(string ticket)
    {
        var chars = ticket.ToCharArray();
        var i = chars.Length / 2;
        chars[i] = chars[i] == 'A' ? 'B' : 'A';
        return new string(chars);
    }
}
