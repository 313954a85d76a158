using Incubator.Domain.Review;
using Incubator.Domain.Data;
using Incubator.Domain.Generation;
using Incubator.Domain.Projects;
using Incubator.Domain.Tasks;
using Incubator.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static Microsoft.Playwright.Assertions;

namespace Incubator.Tests.Browser;

/// <summary>The review queue: a decision on one row, then a bulk approve whose confirmation says how many items and
/// how many already-decided ones would change; a Viewer sees the queue without any decision buttons.</summary>
[Collection(BrowserCollection.Name)]
public sealed class ReviewQueueTests(BrowserFixture browser)
{
    private const string Password = "Incub8tor-pass";

    [Fact]
    public async Task Row_decision_then_bulk_approve_with_honest_counts_and_a_read_only_viewer()
    {
        using var portal = new PortalFactory(realServer: true);
        var url = portal.ServerAddress;
        var owner = await PortalBrowser.OpenAsync(browser.Browser, url);
        await owner.RegisterAsync("q-owner@example.com", Password);
        var viewer = await PortalBrowser.OpenAsync(browser.Browser, url);
        await viewer.RegisterAsync("q-viewer@example.com", Password);
        var projectId = await owner.CreateProjectAsync("Queue");

        var taskId = await portal.CreateTaskAsync("q-owner@example.com", projectId, members: ("q-viewer@example.com", ProjectRole.Viewer));
        await portal.SeedCandidatesAsync(projectId, taskId, Enumerable.Range(0, 3).Select(i => $"Queue sample {i} about invoice {500 + i}.").ToList());

        await owner.GotoAsync($"/projects/{projectId}/tasks/{taskId}/review");
        await Expect(owner.Page.GetByTestId("review-text")).ToHaveCountAsync(3);
        await owner.Page.GetByTestId("row-approve").First.ClickAsync();
        await Expect(owner.Page.Locator("[data-testid=review-status][data-status=Approved]")).ToHaveCountAsync(1);

        // While a bulk decision is under way (confirmation included) neither bulk button can be clicked; Escape closes
        // the confirmation and changes nothing.
        await owner.ClickAsync("bulk-approve");
        await Expect(owner.Page.Locator(".mud-dialog")).ToContainTextAsync("This changes 3 samples; 1 of them already have a decision");
        await Expect(owner.Page.GetByTestId("bulk-approve")).ToBeDisabledAsync();
        await Expect(owner.Page.GetByTestId("bulk-reject")).ToBeDisabledAsync();
        await owner.Page.Keyboard.PressAsync("Escape");
        await Expect(owner.Page.Locator(".mud-dialog")).ToHaveCountAsync(0);
        await Expect(owner.Page.GetByTestId("bulk-approve")).ToBeEnabledAsync();
        Assert.Equal(1, await portal.QueryAsync(db => db.Candidates.CountAsync(c => c.TaskId == taskId && c.Status == CandidateStatus.Approved)));
        await owner.ClickAsync("bulk-approve");
        await owner.Page.Locator(".mud-dialog .mud-dialog-actions button").Last.ClickAsync();
        // The bulk decision is a write, an event and a re-read of the queue: on a loaded CI machine (the scale walk
        // beside it) that took longer than Playwright's default 5 s once.
        await Expect(owner.Page.Locator("[data-testid=review-status][data-status=Approved]")).ToHaveCountAsync(3, new() { Timeout = 30_000 });
        Assert.Equal(3, await portal.QueryAsync(db => db.Candidates.CountAsync(c => c.TaskId == taskId && c.Status == CandidateStatus.Approved)));

        // The audit trail page lists every decision, including each item of the bulk action.
        var events = await portal.QueryAsync(db => db.ReviewEvents.CountAsync(e => e.TaskId == taskId));
        Assert.True(events >= 4, $"{events} audit events");
        await owner.GotoAsync($"/projects/{projectId}/audit");
        await Expect(owner.Page.GetByTestId("audit-kind")).ToHaveCountAsync(events);

        await viewer.GotoAsync($"/projects/{projectId}/tasks/{taskId}/review");
        await Expect(viewer.Page.GetByTestId("review-text")).ToHaveCountAsync(3);
        await Expect(viewer.Page.GetByTestId("row-approve")).ToHaveCountAsync(0);
        await Expect(viewer.Page.GetByTestId("bulk-approve")).ToHaveCountAsync(0);

        // Presence: both see each other while the queue is open; leaving removes the owner from the viewer's page live.
        await owner.GotoAsync($"/projects/{projectId}/tasks/{taskId}/review");
        await Expect(owner.Page.GetByTestId("presence")).ToContainTextAsync("q-viewer@example.com");
        await Expect(viewer.Page.GetByTestId("presence")).ToContainTextAsync("q-owner@example.com");
        await owner.GotoAsync("/");
        await Expect(viewer.Page.GetByTestId("presence")).Not.ToContainTextAsync("q-owner@example.com");

        await owner.Page.Context.CloseAsync();
        await viewer.Page.Context.CloseAsync();
    }
}
