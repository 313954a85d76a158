using Incubator.Tests.Infrastructure;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Incubator.Tests.Browser;

/// <summary>The end-to-end story in headless Chromium: a first user registers and becomes admin, creates a
/// project, adds a colleague as Reviewer; the colleague sees it with Reviewer rights and watches a job live; an
/// outsider sees nothing of it in pages, API or hub.</summary>
[Collection(BrowserCollection.Name)]
public sealed class FoundationFlowTests(BrowserFixture browser)
{
    private const string Password = "Incub8tor-pass";

    [Fact]
    public async Task Owner_invites_a_reviewer_who_watches_a_job_live_while_an_outsider_sees_nothing()
    {
        using var portal = new PortalFactory(realServer: true);
        var url = portal.ServerAddress;

        var ada = await PortalBrowser.OpenAsync(browser.Browser, url);
        await ada.GotoAsync("/");
        await Expect(ada.Page.GetByTestId("first-run")).ToBeVisibleAsync();
        await Expect(ada.Page.GetByTestId("cta-register")).ToBeVisibleAsync();
        await ada.RegisterAsync("ada@example.com", Password, "Ada");
        await Expect(ada.Page.GetByTestId("next-step")).ToBeVisibleAsync();

        var ben = await PortalBrowser.OpenAsync(browser.Browser, url);
        await ben.RegisterAsync("ben@example.com", Password, "Ben");
        await ben.ClickAsync("user-menu");
        await Expect(ben.Page.GetByTestId("sign-out")).ToBeVisibleAsync();
        await Expect(ben.Page.GetByTestId("admin-users")).ToHaveCountAsync(0);

        // The administrator sees every account; a regular user may not open that page.
        await ada.ClickAsync("user-menu");
        await ada.ClickAsync("admin-users");
        await Expect(ada.Page.GetByTestId("users-table")).ToContainTextAsync("ben@example.com");
        await ben.Page.GotoAsync($"{url}/admin/users");
        await Expect(ben.Page.GetByTestId("no-access")).ToBeVisibleAsync();

        var projectId = await ada.CreateProjectAsync("Support tickets");
        await Expect(ada.Page.GetByTestId("project-name")).ToHaveTextAsync("Support tickets");
        await Expect(ada.Page.GetByTestId("my-role")).ToHaveTextAsync("Owner");

        await ada.GotoAsync($"/projects/{projectId}/members");
        await ada.FillAsync("member-email", "ben@example.com");
        await ada.SelectAsync("member-role", "Reviewer");
        await ada.ClickAsync("member-add");
        await Expect(ada.Page.GetByTestId("members-table")).ToContainTextAsync("ben@example.com");

        await ben.GotoAsync("/");
        var card = ben.Page.GetByTestId("project-card");
        await Expect(card).ToContainTextAsync("Support tickets");
        await Expect(card).ToContainTextAsync("Reviewer");
        await ben.GotoAsync($"/projects/{projectId}");
        await Expect(ben.Page.GetByTestId("my-role")).ToHaveTextAsync("Reviewer");

        // A Reviewer may not open the Owner's settings, nor start jobs.
        await ben.Page.GotoAsync($"{url}/projects/{projectId}/settings");
        await Expect(ben.Page.GetByTestId("no-access")).ToBeVisibleAsync();
        await ben.GotoAsync($"/projects/{projectId}/jobs");
        await Expect(ben.Page.GetByTestId("start-worker-check")).ToHaveCountAsync(0);

        // The Owner starts a job; the Reviewer's open page shows it and its progress without a reload.
        await ada.GotoAsync($"/projects/{projectId}/jobs");
        await ada.ClickAsync("start-worker-check");
        await ben.Page.WaitForFunctionAsync(
            "() => { const e = document.querySelector('[data-testid=job-progress]'); return e && parseFloat(e.getAttribute('data-progress')) > 0; }");
        await Expect(ben.Page.GetByTestId("job-state")).ToHaveAttributeAsync("data-state", "Running");
        await ada.ClickAsync("job-cancel");
        await Expect(ben.Page.GetByTestId("job-state")).ToHaveAttributeAsync("data-state", "Cancelled");
        await Expect(ada.Page.GetByTestId("job-state")).ToHaveAttributeAsync("data-state", "Cancelled");

        // An outsider: page refused, API 403, hub join refused.
        var cy = await PortalBrowser.OpenAsync(browser.Browser, url);
        await cy.RegisterAsync("cy@example.com", Password, "Cy");
        await Expect(cy.Page.GetByTestId("project-card")).ToHaveCountAsync(0);
        var response = await cy.Page.GotoAsync($"{url}/projects/{projectId}");
        Assert.Equal(403, response!.Status);
        await Expect(cy.Page.GetByTestId("no-access")).ToBeVisibleAsync();
        await Expect(cy.Page.GetByText("Support tickets")).ToHaveCountAsync(0);
        var api = await cy.Page.APIRequest.GetAsync($"{url}/api/projects/{projectId}");
        Assert.Equal(403, api.Status);
        Assert.DoesNotContain("Support tickets", await api.TextAsync());

        var cookies = await cy.Page.Context.CookiesAsync();
        await using var hub = new HubConnectionBuilder()
            .WithUrl($"{url}/hubs/projects", o => o.Headers["Cookie"] = string.Join("; ", cookies.Select(c => $"{c.Name}={c.Value}")))
            .Build();
        await hub.StartAsync();
        var refused = await Assert.ThrowsAsync<HubException>(() => hub.InvokeAsync("JoinProject", projectId));
        Assert.Contains("not a member", refused.Message);

        await ada.Page.Context.CloseAsync();
        await ben.Page.Context.CloseAsync();
        await cy.Page.Context.CloseAsync();
    }

    [Fact]
    public async Task Language_switch_turns_the_portal_japanese_and_is_remembered_for_the_user()
    {
        using var portal = new PortalFactory(realServer: true);
        var url = portal.ServerAddress;
        var user = await PortalBrowser.OpenAsync(browser.Browser, url);
        await user.RegisterAsync("hana@example.com", Password, "Hana");
        await Expect(user.Page.GetByRole(AriaRole.Heading, new() { Name = "Your projects" })).ToBeVisibleAsync();

        await user.ClickAsync("language-menu");
        await user.Page.GetByTestId("language-ja").ClickAsync();
        await user.Page.WaitForURLAsync(url + "/");
        await user.WaitInteractiveAsync();
        await Expect(user.Page.GetByRole(AriaRole.Heading, new() { Name = "あなたのプロジェクト" })).ToBeVisibleAsync();
        Assert.Equal("ja", await user.Page.EvaluateAsync<string>("() => document.documentElement.lang"));

        // A fresh browser with an English Accept-Language still gets Japanese after signing in: the choice is the user's.
        var again = await PortalBrowser.OpenAsync(browser.Browser, url, locale: "en-US");
        await again.SignInAsync("hana@example.com", Password);
        await Expect(again.Page.GetByRole(AriaRole.Heading, new() { Name = "あなたのプロジェクト" })).ToBeVisibleAsync();

        await user.Page.Context.CloseAsync();
        await again.Page.Context.CloseAsync();
    }
}
