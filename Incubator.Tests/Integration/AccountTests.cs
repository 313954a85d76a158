using Incubator.Domain.Accounts;
using Incubator.Domain.Common;
using Incubator.Tests.Infrastructure;
using Incubator.Web.Accounts;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.Integration;

/// <summary>Who becomes site administrator. Each test needs an empty database, so each starts its own portal.</summary>
public sealed class SiteAdminTests
{
    [Fact]
    public async Task The_first_registered_account_becomes_site_admin_and_the_second_does_not()
    {
        using var portal = new PortalFactory();
        var first = await portal.RegisterAsync(PortalExtensions.UniqueEmail("first"));
        var second = await portal.RegisterAsync(PortalExtensions.UniqueEmail("second"));

        var (firstIsAdmin, secondIsAdmin, admins) = await portal.InScopeAsync(async sp =>
        {
            var users = sp.GetRequiredService<UserManager<AppUser>>();
            return (await users.IsInRoleAsync((await users.FindByIdAsync(first.Id))!, SiteRoles.Admin),
                await users.IsInRoleAsync((await users.FindByIdAsync(second.Id))!, SiteRoles.Admin),
                (await users.GetUsersInRoleAsync(SiteRoles.Admin)).Select(u => u.Id).ToList());
        });
        Assert.True(firstIsAdmin);
        Assert.False(secondIsAdmin);
        Assert.Equal(new[] { first.Id }, admins);
    }

    [Fact]
    public async Task INCUBATOR_ADMIN_EMAIL_and_PASSWORD_seed_an_administrator_at_startup_who_can_sign_in()
    {
        const string email = "root@example.test";
        const string password = "Seeded-Passw0rd";
        using var portal = new PortalFactory()
            .With("INCUBATOR_ADMIN_EMAIL", email)
            .With("INCUBATOR_ADMIN_PASSWORD", password);

        // Nobody registers: starting the host must be enough.
        var (seeded, isAdmin) = await portal.InScopeAsync(async sp =>
        {
            var users = sp.GetRequiredService<UserManager<AppUser>>();
            var user = await users.FindByEmailAsync(email);
            return (user, user is not null && await users.IsInRoleAsync(user, SiteRoles.Admin));
        });
        Assert.NotNull(seeded);
        Assert.True(isAdmin);
        Assert.Equal("Administrator", seeded.DisplayName);

        var check = await portal.InScopeAsync(sp => sp.GetRequiredService<AccountService>().CheckPasswordAsync(email, password));
        Assert.Equal(SignInOutcome.Succeeded, check.Outcome);

        // With an administrator already present, the first self-registered account is an ordinary user.
        var later = await portal.RegisterAsync(PortalExtensions.UniqueEmail("later"));
        var laterIsAdmin = await portal.InScopeAsync(async sp =>
        {
            var users = sp.GetRequiredService<UserManager<AppUser>>();
            return await users.IsInRoleAsync((await users.FindByIdAsync(later.Id))!, SiteRoles.Admin);
        });
        Assert.False(laterIsAdmin);
    }
}

public sealed class AccountsPortal : PortalFactory;

/// <summary>Registration rules and lock-out through the real <see cref="AccountService"/> and Identity stores.
/// Every test uses its own e-mail addresses, so they share one portal.</summary>
public sealed class AccountServiceTests(AccountsPortal portal) : IClassFixture<AccountsPortal>
{
    private Task<int> TotalUsersAsync() => portal.QueryAsync(db => db.Users.CountAsync());

    [Theory]
    [InlineData("same")]
    [InlineData("upper")]
    [InlineData("padded")]
    public async Task Registering_a_known_address_answers_like_a_new_one_and_changes_nothing(string variant)
    {
        var email = PortalExtensions.UniqueEmail("dup");
        await portal.RegisterAsync(email);
        var again = variant switch
        {
            "upper" => email.ToUpperInvariant(),
            "padded" => "  " + email + " ",
            _ => email,
        };

        // No exception and no account: the page says "sign in" either way, so the answer reveals nothing.
        var result = await portal.InScopeAsync(sp => sp.GetRequiredService<AccountService>().RegisterAsync(again, "Other-Passw0rd", null));

        Assert.Null(result);
        Assert.Equal(1, await portal.CountUsersWithEmailAsync(email));
        var check = (string pw) => portal.InScopeAsync(sp => sp.GetRequiredService<AccountService>().CheckPasswordAsync(email, pw));
        Assert.Equal(SignInOutcome.Invalid, (await check("Other-Passw0rd")).Outcome);
        Assert.Equal(SignInOutcome.Succeeded, (await check(PortalExtensions.GoodPassword)).Outcome);
    }

    [Fact]
    public async Task A_weak_password_for_a_known_address_is_refused_exactly_like_for_a_new_one()
    {
        var known = PortalExtensions.UniqueEmail("weak-known");
        await portal.RegisterAsync(known);

        var forKnown = await Assert.ThrowsAsync<DomainValidationException>(() => portal.RegisterAsync(known, "abc"));
        var forNew = await Assert.ThrowsAsync<DomainValidationException>(() => portal.RegisterAsync(PortalExtensions.UniqueEmail("weak-new"), "abc"));

        Assert.Equal(forNew.Details.Select(d => (d.Field, d.Code)), forKnown.Details.Select(d => (d.Field, d.Code)));
    }

    [Fact]
    public async Task A_weak_password_is_refused_on_the_password_field_with_Identity_codes_and_no_user_is_stored()
    {
        var email = PortalExtensions.UniqueEmail("weak");
        var before = await TotalUsersAsync();

        var ex = await Assert.ThrowsAsync<DomainValidationException>(() => portal.RegisterAsync(email, "abc"));

        Assert.NotEmpty(ex.Details);
        Assert.All(ex.Details, e =>
        {
            Assert.Equal("password", e.Field);
            Assert.StartsWith("Identity.Password", e.Code);
        });
        var codes = ex.Details.Select(e => e.Code).ToHashSet();
        Assert.Contains("Identity.PasswordTooShort", codes);
        Assert.Contains("Identity.PasswordRequiresDigit", codes);
        Assert.Contains("Identity.PasswordRequiresUpper", codes);
        Assert.Equal(new object[] { 8 }, ex.Details.Single(e => e.Code == "Identity.PasswordTooShort").Args);
        Assert.Contains("password", ex.Errors.Keys);
        Assert.Equal(0, await portal.CountUsersWithEmailAsync(email));
        Assert.Equal(before, await TotalUsersAsync());
    }

    [Fact]
    public async Task A_missing_password_is_refused_before_Identity_is_asked()
    {
        var email = PortalExtensions.UniqueEmail("nopw");
        var ex = await Assert.ThrowsAsync<DomainValidationException>(() => portal.RegisterAsync(email, ""));
        var error = Assert.Single(ex.Details);
        Assert.Equal(("password", "PasswordRequired"), (error.Field, error.Code));
        Assert.Equal(0, await portal.CountUsersWithEmailAsync(email));
    }

    [Theory]
    [InlineData("not-an-email")]
    [InlineData("someone@localhost")]
    [InlineData("two@@example.test")]
    public async Task An_invalid_email_is_refused_with_EmailInvalid_and_no_user_is_stored(string email)
    {
        var before = await TotalUsersAsync();

        var ex = await Assert.ThrowsAsync<DomainValidationException>(() => portal.RegisterAsync(email));

        var error = Assert.Single(ex.Details);
        Assert.Equal(("email", "EmailInvalid"), (error.Field, error.Code));
        Assert.Equal(before, await TotalUsersAsync());
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public async Task An_empty_email_is_refused_with_EmailRequired(string email)
    {
        var ex = await Assert.ThrowsAsync<DomainValidationException>(() => portal.RegisterAsync(email));
        Assert.Equal(("email", "EmailRequired"), (ex.Details.Single().Field, ex.Details.Single().Code));
    }

    [Fact]
    public async Task Five_wrong_passwords_throttle_the_account_and_then_even_the_right_password_is_LockedOut()
    {
        var email = PortalExtensions.UniqueEmail("lock");
        await portal.RegisterAsync(email);
        var check = (string pw) => portal.InScopeAsync(sp => sp.GetRequiredService<AccountService>().CheckPasswordAsync(email, pw));

        // The right password works before the lock-out, so it is the lock-out (not the password) that refuses it later.
        Assert.Equal(SignInOutcome.Succeeded, (await check(PortalExtensions.GoodPassword)).Outcome);

        for (var i = 1; i <= 4; i++)
        {
            var wrong = await check("Wrong-Passw0rd");
            Assert.Equal(SignInOutcome.Invalid, wrong.Outcome);
            Assert.Null(wrong.User);
        }
        var fifth = await check("Wrong-Passw0rd");
        Assert.Equal(SignInOutcome.LockedOut, fifth.Outcome);
        Assert.NotNull(fifth.LockedUntil);

        var right = await check(PortalExtensions.GoodPassword);
        Assert.Equal(SignInOutcome.LockedOut, right.Outcome);
    }

    [Fact]
    public async Task An_unknown_email_or_empty_password_is_Invalid_without_a_user()
    {
        var accounts = (Func<AccountService, Task<SignInCheck>> f) => portal.InScopeAsync(sp => f(sp.GetRequiredService<AccountService>()));
        var email = PortalExtensions.UniqueEmail("known");
        await portal.RegisterAsync(email);

        var unknown = await accounts(a => a.CheckPasswordAsync(PortalExtensions.UniqueEmail("nobody"), PortalExtensions.GoodPassword));
        var empty = await accounts(a => a.CheckPasswordAsync(email, ""));

        Assert.Equal((SignInOutcome.Invalid, (AppUser?)null), (unknown.Outcome, unknown.User));
        Assert.Equal((SignInOutcome.Invalid, (AppUser?)null), (empty.Outcome, empty.User));
    }
}
