using Incubator.Domain.Data;
using Incubator.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static Microsoft.Playwright.Assertions;

namespace Incubator.Tests.Browser;

/// <summary>What a person sees when they get something wrong: a clear message beside the field, and nothing saved.</summary>
[Collection(BrowserCollection.Name)]
public sealed class BadInputTests(BrowserFixture browser)
{
    private const string Password = "Incub8tor-pass";

    [Fact]
    public async Task Duplicate_email_weak_password_empty_project_name_and_unknown_member_each_get_a_clear_message()
    {
        using var portal = new PortalFactory(realServer: true);
        var url = portal.ServerAddress;
        var db = portal.Services.GetRequiredService<IDbContextFactory<IncubatorDbContext>>();

        var first = await PortalBrowser.OpenAsync(browser.Browser, url);
        await first.RegisterAsync("owner@example.com", Password);

        var other = await PortalBrowser.OpenAsync(browser.Browser, url);
        await other.GotoAsync("/account/register");
        await other.FillAsync("register-email", "OWNER@example.com");
        await other.FillAsync("register-password", Password);
        await other.FillAsync("register-confirm", Password);
        await other.ClickAsync("register-submit");
        // A known address gets the same answer as a new one: "sign in", and nothing about the account changes.
        await other.WaitForUrlAsync(new System.Text.RegularExpressions.Regex("/account/login\\?registered=1"));
        await other.WaitInteractiveAsync();
        await Expect(other.Page.GetByTestId("login-registered")).ToBeVisibleAsync();
        await other.GotoAsync("/account/register");

        await other.FillAsync("register-email", "new@example.com");
        await other.FillAsync("register-password", "short");
        await other.FillAsync("register-confirm", "short");
        await other.ClickAsync("register-submit");
        await Expect(other.Page.GetByText("The password must be at least 8 characters long.", new() { Exact = false })).ToBeVisibleAsync();
        await Expect(other.Page.GetByText("The password must contain a digit (0-9).", new() { Exact = false })).ToBeVisibleAsync();

        await other.FillAsync("register-password", Password);
        await other.FillAsync("register-confirm", Password + "x");
        await other.ClickAsync("register-submit");
        await Expect(other.Page.GetByText("The two passwords do not match.")).ToBeVisibleAsync();
        await using (var ctx = await db.CreateDbContextAsync())
            Assert.Equal(1, await ctx.Users.CountAsync());

        await first.GotoAsync("/projects/new");
        await first.FillAsync("project-name-input", "   ");
        await first.ClickAsync("project-create");
        await Expect(first.Page.GetByText("Project name is required.")).ToBeVisibleAsync();
        Assert.EndsWith("/projects/new", first.Page.Url);
        await using (var ctx = await db.CreateDbContextAsync())
            Assert.Equal(0, await ctx.Projects.CountAsync());

        var projectId = await first.CreateProjectAsync("Urgency triage");
        await first.GotoAsync($"/projects/{projectId}/members");
        await first.FillAsync("member-email", "nobody@example.com");
        await first.ClickAsync("member-add");
        await Expect(first.Page.GetByTestId("member-no-account")).ToContainTextAsync("nobody@example.com");
        await Expect(first.Page.GetByTestId("member-invite")).ToBeVisibleAsync();
        await using (var ctx = await db.CreateDbContextAsync())
            Assert.Equal(1, await ctx.ProjectMembers.CountAsync(m => m.ProjectId == projectId));

        // Wrong password: a clear message, and the same one for an unknown account (no account enumeration).
        var third = await PortalBrowser.OpenAsync(browser.Browser, url);
        await third.GotoAsync("/account/login");
        await third.FillAsync("login-email", "owner@example.com");
        await third.FillAsync("login-password", "Wrong-pass1");
        await third.ClickAsync("login-submit");
        await Expect(third.Page.GetByTestId("login-error")).ToHaveTextAsync("The e-mail address or password is not correct.");

        await first.Page.Context.CloseAsync();
        await other.Page.Context.CloseAsync();
        await third.Page.Context.CloseAsync();
    }

    [Fact]
    public async Task Owner_renames_and_archives_a_project_and_a_member_sees_it_change_live_then_signs_out()
    {
        using var portal = new PortalFactory(realServer: true);
        var url = portal.ServerAddress;
        var owner = await PortalBrowser.OpenAsync(browser.Browser, url);
        await owner.RegisterAsync("own@example.com", Password);
        var viewer = await PortalBrowser.OpenAsync(browser.Browser, url);
        await viewer.RegisterAsync("view@example.com", Password);

        var projectId = await owner.CreateProjectAsync("Draft name");
        await owner.GotoAsync($"/projects/{projectId}/members");
        await owner.FillAsync("member-email", "view@example.com");
        await owner.SelectAsync("member-role", "Viewer");
        await owner.ClickAsync("member-add");
        await Expect(owner.Page.GetByTestId("members-table")).ToContainTextAsync("view@example.com");

        await viewer.GotoAsync($"/projects/{projectId}");
        await Expect(viewer.Page.GetByTestId("project-name")).ToHaveTextAsync("Draft name");

        await owner.GotoAsync($"/projects/{projectId}/settings");
        await owner.FillAsync("settings-name", "News topics");
        await owner.ClickAsync("settings-save");
        await Expect(viewer.Page.GetByTestId("project-name")).ToHaveTextAsync("News topics");
        await Expect(viewer.Page.GetByTestId("activity")).ToContainTextAsync("renamed the project: Draft name → News topics");

        await owner.ClickAsync("settings-archive");
        await owner.Page.Locator(".mud-dialog .mud-dialog-actions button").Last.ClickAsync();
        await Expect(viewer.Page.GetByTestId("archived-banner")).ToBeVisibleAsync();
        await viewer.GotoAsync("/");
        await Expect(viewer.Page.GetByTestId("project-card")).ToHaveCountAsync(0);

        await viewer.ClickAsync("user-menu");
        await viewer.ClickAsync("sign-out");
        await viewer.Page.WaitForURLAsync(url + "/");
        await Expect(viewer.Page.GetByTestId("cta-register")).ToBeVisibleAsync();
        var response = await viewer.Page.GotoAsync($"{url}/projects/{projectId}");
        Assert.Contains("/account/login", viewer.Page.Url);
        Assert.Equal(200, response!.Status);

        await owner.Page.Context.CloseAsync();
        await viewer.Page.Context.CloseAsync();
    }
}
