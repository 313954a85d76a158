using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Incubator.Domain.Accounts;
using Incubator.Domain.Common;
using Incubator.Domain.Projects;
using Incubator.Tests.Infrastructure;
using Incubator.Web.Accounts;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.Security;

/// <summary>Registration modes and invitations on a portal with the shipped default (open until the first
/// administrator, by invitation afterwards). Each test needs a fresh site, so each starts its own portal.</summary>
public sealed class RegistrationModeTests
{
    private static PortalFactory DefaultPortal() => new PortalFactory().With("Accounts:Registration", null);

    private static Task<AppUser?> RegisterAsync(PortalFactory portal, string email, string? invitation = null) =>
        portal.InScopeAsync(sp => sp.GetRequiredService<AccountService>().RegisterAsync(email, PortalExtensions.GoodPassword, null, invitation));

    [Fact]
    public async Task An_invitation_only_portal_refuses_plain_registration_and_accepts_an_invited_one_into_its_project()
    {
        using var portal = DefaultPortal();
        var ownerEmail = PortalExtensions.UniqueEmail("inv-owner");
        var owner = await portal.RegisterAsync(ownerEmail); // the first account: allowed, and it becomes the administrator
        var projectId = (await portal.Services.GetRequiredService<ProjectService>().CreateProjectAsync(owner.Id, "Invited", "")).Id;
        Assert.Equal(RegistrationMode.Invitation, await portal.Services.GetRequiredService<SiteSettingsService>().RegistrationAsync());

        var plain = PortalExtensions.UniqueEmail("plain");
        var refused = await Assert.ThrowsAsync<DomainValidationException>(() => RegisterAsync(portal, plain));
        Assert.Equal("RegistrationByInvitation", refused.Details.Single().Code);
        Assert.Equal(0, await portal.CountUsersWithEmailAsync(plain));

        using var ownerClient = await AuthenticatedClient.SignInAsync(portal, ownerEmail);
        using var create = await ownerClient.Http.PostJsonAsync($"/api/projects/{projectId}/invitations", new { email = "guest@example.test", role = "Reviewer" });
        Assert.Equal(HttpStatusCode.Created, create.StatusCode);
        var link = JsonDocument.Parse(await create.Content.ReadAsStringAsync()).RootElement.GetProperty("link").GetString()!;
        var token = link["/invite/".Length..];

        var guest = await RegisterAsync(portal, "guest@example.test", token);

        Assert.NotNull(guest);
        Assert.Equal(ProjectRole.Reviewer, await portal.Services.GetRequiredService<ProjectAccess>().GetRoleAsync(projectId, guest.Id));
        // Single use: the same link does not register anyone else.
        var again = await Assert.ThrowsAsync<DomainValidationException>(() => RegisterAsync(portal, PortalExtensions.UniqueEmail("second"), token));
        Assert.Equal("InvitationInvalid", again.Details.Single().Code);
        var listed = JsonDocument.Parse(await ownerClient.Http.GetStringAsync($"/api/projects/{projectId}/invitations")).RootElement;
        Assert.Equal("Accepted", listed[0].GetProperty("state").GetString());
    }

    [Fact]
    public async Task Expired_and_revoked_links_do_not_work_and_a_known_address_does_not_use_up_a_link()
    {
        using var portal = DefaultPortal();
        var owner = await portal.RegisterAsync(PortalExtensions.UniqueEmail("links-owner"));
        var projectId = (await portal.Services.GetRequiredService<ProjectService>().CreateProjectAsync(owner.Id, "Links", "")).Id;
        var invitations = portal.Services.GetRequiredService<InvitationService>();
        var expired = await invitations.CreateAsync(owner.Id, projectId, ProjectRole.Viewer, null);
        await portal.QueryAsync(db => db.Invitations.Where(i => i.Id == expired.Invitation.Id)
            .ExecuteUpdateAsync(s => s.SetProperty(i => i.ExpiresAt, DateTimeOffset.UtcNow.AddMinutes(-1))));
        var revoked = await invitations.CreateAsync(owner.Id, projectId, ProjectRole.Viewer, null);
        await invitations.RevokeAsync(owner.Id, revoked.Invitation.Id);
        var kept = await invitations.CreateAsync(owner.Id, projectId, ProjectRole.Author, null);

        foreach (var token in new[] { expired.Token, revoked.Token, "inv_not-a-real-token-at-all" })
        {
            var ex = await Assert.ThrowsAsync<DomainValidationException>(() => RegisterAsync(portal, PortalExtensions.UniqueEmail("late"), token));
            Assert.Equal("InvitationInvalid", ex.Details.Single().Code);
        }
        // Someone who already has an account gets the same answer as a new person, and the link stays usable for them.
        Assert.Null(await RegisterAsync(portal, owner.Email!, kept.Token));
        Assert.NotNull(await invitations.PreviewAsync(kept.Token));
        var member = await portal.RegisterAsync(PortalExtensions.UniqueEmail("kept"), invitation: kept.Token);
        Assert.Equal(ProjectRole.Author, await portal.Services.GetRequiredService<ProjectAccess>().GetRoleAsync(projectId, member.Id));
    }

    [Fact]
    public async Task A_closed_portal_takes_no_accounts_even_with_a_link_but_a_signed_in_person_can_still_accept_one()
    {
        using var portal = DefaultPortal();
        var owner = await portal.RegisterAsync(PortalExtensions.UniqueEmail("closed-owner"));
        var projectId = (await portal.Services.GetRequiredService<ProjectService>().CreateProjectAsync(owner.Id, "Closed", "")).Id;
        await portal.Services.GetRequiredService<SiteSettingsService>().SetRegistrationAsync(owner.Id, RegistrationMode.Open);
        var existing = await portal.RegisterAsync(PortalExtensions.UniqueEmail("existing"));
        await portal.Services.GetRequiredService<SiteSettingsService>().SetRegistrationAsync(owner.Id, RegistrationMode.Closed);
        var invitations = portal.Services.GetRequiredService<InvitationService>();
        var link = await invitations.CreateAsync(owner.Id, projectId, ProjectRole.Viewer, null);

        var ex = await Assert.ThrowsAsync<DomainValidationException>(() => RegisterAsync(portal, PortalExtensions.UniqueEmail("new"), link.Token));
        Assert.Equal("RegistrationClosed", ex.Details.Single().Code);
        await Assert.ThrowsAsync<ForbiddenException>(() => portal.Services.GetRequiredService<SiteSettingsService>()
            .SetRegistrationAsync(existing.Id, RegistrationMode.Open));

        Assert.Equal(projectId, await invitations.AcceptAsync(existing.Id, link.Token));
        Assert.Equal(ProjectRole.Viewer, await portal.Services.GetRequiredService<ProjectAccess>().GetRoleAsync(projectId, existing.Id));
    }
}

/// <summary>Sessions, throttling and passwords on one shared portal (every test uses its own accounts).</summary>
public sealed class SessionAndPasswordTests(SessionAndPasswordTests.Portal portal) : IClassFixture<SessionAndPasswordTests.Portal>
{
    public sealed class Portal : PortalFactory;

    /// <summary>A second client holding a copy of <paramref name="original"/>'s sign-in cookie, as a thief would.</summary>
    private AuthenticatedClient Copy(AuthenticatedClient original)
    {
        var thief = AuthenticatedClient.Anonymous(portal);
        thief.Cookies.Add(original.BaseAddress, new Cookie(AuthenticatedClient.AuthCookieName, original.AuthCookie!));
        return thief;
    }

    [Fact]
    public async Task A_cookie_copied_before_logout_stops_working_after_it()
    {
        var email = PortalExtensions.UniqueEmail("copied");
        await portal.RegisterAsync(email);
        using var victim = await AuthenticatedClient.SignInAsync(portal, email);
        using var thief = Copy(victim);
        Assert.Equal(HttpStatusCode.OK, (await thief.Http.GetAsync("/api/projects")).StatusCode);

        using var logout = await victim.LogoutAsync();

        Assert.Equal(HttpStatusCode.Redirect, logout.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await thief.Http.GetAsync("/api/projects")).StatusCode);
        // Signing in again works as usual.
        using var back = await AuthenticatedClient.SignInAsync(portal, email);
        Assert.Equal(HttpStatusCode.OK, (await back.Http.GetAsync("/api/projects")).StatusCode);
    }

    [Fact]
    public async Task Changing_the_password_ends_other_sessions_and_needs_the_current_password()
    {
        var email = PortalExtensions.UniqueEmail("changer");
        var user = await portal.RegisterAsync(email);
        using var other = await AuthenticatedClient.SignInAsync(portal, email);
        var accounts = (Func<AccountService, Task> f) => portal.InScopeAsync(async sp =>
        {
            await f(sp.GetRequiredService<AccountService>());
            return 0;
        });

        var wrong = await Assert.ThrowsAsync<DomainValidationException>(() => accounts(a => a.ChangePasswordAsync(user.Id, "Not-the-Passw0rd", "Brand-New-Passw0rd")));
        Assert.Equal("CurrentPasswordWrong", wrong.Details.Single().Code);
        Assert.Equal(HttpStatusCode.OK, (await other.Http.GetAsync("/api/projects")).StatusCode);

        await accounts(a => a.ChangePasswordAsync(user.Id, PortalExtensions.GoodPassword, "Brand-New-Passw0rd"));

        Assert.Equal(HttpStatusCode.Unauthorized, (await other.Http.GetAsync("/api/projects")).StatusCode);
        var check = (string pw) => portal.InScopeAsync(sp => sp.GetRequiredService<AccountService>().CheckPasswordAsync(email, pw, "10.1.0.1"));
        Assert.Equal(SignInOutcome.Invalid, (await check(PortalExtensions.GoodPassword)).Outcome);
        Assert.Equal(SignInOutcome.Succeeded, (await check("Brand-New-Passw0rd")).Outcome);
    }

    [Fact]
    public async Task An_unknown_address_is_throttled_exactly_like_a_known_one()
    {
        var known = PortalExtensions.UniqueEmail("known");
        await portal.RegisterAsync(known);
        var unknown = PortalExtensions.UniqueEmail("unknown");

        async Task<IReadOnlyList<SignInOutcome>> FiveWrongAsync(string email, string address)
        {
            var outcomes = new List<SignInOutcome>();
            for (var i = 0; i < 6; i++)
                outcomes.Add((await portal.InScopeAsync(sp => sp.GetRequiredService<AccountService>().CheckPasswordAsync(email, "Wrong-Passw0rd", address))).Outcome);
            return outcomes;
        }

        var forKnown = await FiveWrongAsync(known, "10.2.0.1");
        var forUnknown = await FiveWrongAsync(unknown, "10.2.0.2");

        Assert.Equal([SignInOutcome.Invalid, SignInOutcome.Invalid, SignInOutcome.Invalid, SignInOutcome.Invalid, SignInOutcome.LockedOut, SignInOutcome.LockedOut],
            forKnown);
        Assert.Equal(forKnown, forUnknown);
    }

    [Fact]
    public async Task A_stranger_who_throttles_an_account_does_not_cut_off_its_api_tokens_and_one_address_cannot_try_many_accounts()
    {
        var ownerEmail = PortalExtensions.UniqueEmail("token-owner");
        var owner = await portal.RegisterAsync(ownerEmail);
        var token = await portal.InScopeAsync(sp => sp.GetRequiredService<ApiTokenService>().CreateAsync(owner.Id, "build server"));
        var check = (string email, string pw, string address) =>
            portal.InScopeAsync(sp => sp.GetRequiredService<AccountService>().CheckPasswordAsync(email, pw, address));
        for (var i = 0; i < 6; i++) await check(ownerEmail, "Guessing-1234", "10.3.0.66");
        Assert.Equal(SignInOutcome.LockedOut, (await check(ownerEmail, PortalExtensions.GoodPassword, "10.3.0.1")).Outcome);

        using var http = portal.CreateClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token.Secret);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/api/projects")).StatusCode);

        // One address spraying many account names is stopped too, even for a right password; other addresses are not.
        var victim = PortalExtensions.UniqueEmail("victim");
        await portal.RegisterAsync(victim);
        for (var i = 0; i < 20; i++) await check(PortalExtensions.UniqueEmail("spray"), "Spray-Passw0rd", "10.3.0.99");
        Assert.Equal(SignInOutcome.LockedOut, (await check(victim, PortalExtensions.GoodPassword, "10.3.0.99")).Outcome);
        Assert.Equal(SignInOutcome.Succeeded, (await check(victim, PortalExtensions.GoodPassword, "10.3.0.100")).Outcome);
    }

    [Fact]
    public async Task An_administrators_reset_link_sets_a_new_password_once_and_ends_old_sessions()
    {
        var adminEmail = PortalExtensions.UniqueEmail("reset-admin");
        var admin = await portal.RegisterAsync(adminEmail);
        await portal.InScopeAsync(async sp =>
        {
            var users = sp.GetRequiredService<UserManager<AppUser>>();
            return await users.AddToRoleAsync((await users.FindByIdAsync(admin.Id))!, SiteRoles.Admin);
        });
        var email = PortalExtensions.UniqueEmail("forgetful");
        var user = await portal.RegisterAsync(email);
        using var session = await AuthenticatedClient.SignInAsync(portal, email);
        await portal.InScopeAsync(async sp =>
        {
            var accounts = sp.GetRequiredService<AccountService>();
            await accounts.RequestPasswordResetAsync(email);
            await accounts.RequestPasswordResetAsync(PortalExtensions.UniqueEmail("nobody")); // same call, nothing to note
            return 0;
        });
        using var scope = portal.Services.CreateScope();
        var administration = scope.ServiceProvider.GetRequiredService<UserAdministration>();
        Assert.NotNull((await administration.ListAsync(admin.Id)).Single(r => r.Id == user.Id).ResetRequestedAt);
        await Assert.ThrowsAsync<ForbiddenException>(() => administration.CreateResetLinkAsync(user.Id, user.Id));

        var link = await administration.CreateResetLinkAsync(admin.Id, user.Id);
        var query = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(new Uri("http://x/" + link).Query);
        var reset = (string? token, string pw) => portal.InScopeAsync(sp => sp.GetRequiredService<AccountService>().ResetPasswordAsync(query["user"], token, pw));

        Assert.False(await reset("not-the-token", "Chosen-Again-1"));
        Assert.True(await reset(query["token"], "Chosen-Again-1"));
        Assert.False(await reset(query["token"], "Chosen-Twice-22"));

        Assert.Equal(HttpStatusCode.Unauthorized, (await session.Http.GetAsync("/api/projects")).StatusCode);
        var check = (string pw) => portal.InScopeAsync(sp => sp.GetRequiredService<AccountService>().CheckPasswordAsync(email, pw, "10.4.0.1"));
        Assert.Equal(SignInOutcome.Succeeded, (await check("Chosen-Again-1")).Outcome);
        Assert.Null((await administration.ListAsync(admin.Id)).Single(r => r.Id == user.Id).ResetRequestedAt);
    }
}
