using Incubator.Domain.Common;
using Incubator.Tests.Infrastructure;
using Incubator.Web.Accounts;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.Integration;

public sealed class UserAdministrationTests
{
    [Fact]
    public async Task Only_admins_manage_accounts_and_the_last_admin_cannot_be_revoked()
    {
        using var portal = new PortalFactory();
        await using var scope = portal.Services.CreateAsyncScope();
        var admin = scope.ServiceProvider.GetRequiredService<UserAdministration>();
        var first = await portal.RegisterAsync("first@example.com", "Incub8tor-pass");
        var second = await portal.RegisterAsync("second@example.com", "Incub8tor-pass");

        await Assert.ThrowsAsync<ForbiddenException>(() => admin.ListAsync(second.Id));
        await Assert.ThrowsAsync<ForbiddenException>(() => admin.SetAdminAsync(second.Id, second.Id, true));

        var rows = await admin.ListAsync(first.Id);
        Assert.Equal(["first@example.com", "second@example.com"], rows.Select(r => r.Email));
        Assert.True(rows[0].IsAdmin);
        Assert.False(rows[1].IsAdmin);

        var ex = await Assert.ThrowsAsync<DomainValidationException>(() => admin.SetAdminAsync(first.Id, first.Id, false));
        Assert.Equal("LastAdmin", ex.Details.Single().Code);

        await admin.SetAdminAsync(first.Id, second.Id, true);
        await admin.SetAdminAsync(second.Id, first.Id, false);
        rows = await admin.ListAsync(second.Id);
        Assert.False(rows.Single(r => r.Email == "first@example.com").IsAdmin);
        Assert.True(rows.Single(r => r.Email == "second@example.com").IsAdmin);
    }

    [Fact]
    public async Task Admin_unlocks_a_locked_out_account()
    {
        using var portal = new PortalFactory();
        await using var scope = portal.Services.CreateAsyncScope();
        var accounts = scope.ServiceProvider.GetRequiredService<AccountService>();
        var admin = scope.ServiceProvider.GetRequiredService<UserAdministration>();
        var boss = await portal.RegisterAsync("boss@example.com", "Incub8tor-pass");
        var user = await portal.RegisterAsync("user@example.com", "Incub8tor-pass");
        for (var i = 0; i < 5; i++) await accounts.CheckPasswordAsync("user@example.com", "Wrong-pass1");
        Assert.Equal(SignInOutcome.LockedOut, (await accounts.CheckPasswordAsync("user@example.com", "Incub8tor-pass")).Outcome);
        Assert.NotNull((await admin.ListAsync(boss.Id)).Single(r => r.Id == user.Id).LockedUntil);

        await admin.UnlockAsync(boss.Id, user.Id);

        Assert.Null((await admin.ListAsync(boss.Id)).Single(r => r.Id == user.Id).LockedUntil);
        Assert.Equal(SignInOutcome.Succeeded, (await accounts.CheckPasswordAsync("user@example.com", "Incub8tor-pass")).Outcome);
    }
}
