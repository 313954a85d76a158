using Incubator.Domain.Generation;
using Incubator.Domain.Projects;
using System.Text.RegularExpressions;
using Incubator.Tests.Infrastructure;
using Incubator.Tests.Jobs;
using Microsoft.EntityFrameworkCore;
using static Microsoft.Playwright.Assertions;

namespace Incubator.Tests.Browser;

/// <summary>Two reviewers in two browser contexts on one queue: the assignment hands them disjoint items, each sees
/// the other's progress live (counts and per-person decisions) without a reload, and one works through ten items in
/// focus mode with the keyboard only.</summary>
[Collection(BrowserCollection.Name)]
public sealed class ReviewAssignmentBrowserTests(BrowserFixture browser)
{
    private const string Password = "Incub8tor-pass";

    [Fact]
    public async Task Two_reviewers_get_disjoint_items_see_each_others_progress_live_and_one_works_ten_by_keyboard()
    {
        using var portal = new PortalFactory(realServer: true);
        var url = portal.ServerAddress;
        var owner = await PortalBrowser.OpenAsync(browser.Browser, url);
        await owner.RegisterAsync("as-owner@example.com", Password);
        var one = await PortalBrowser.OpenAsync(browser.Browser, url);
        await one.RegisterAsync("as-one@example.com", Password);
        var two = await PortalBrowser.OpenAsync(browser.Browser, url);
        await two.RegisterAsync("as-two@example.com", Password);
        var projectId = await owner.CreateProjectAsync("Assigned review");
        var taskId = await portal.CreateTaskAsync("as-owner@example.com", projectId,
            members: [("as-one@example.com", ProjectRole.Reviewer), ("as-two@example.com", ProjectRole.Reviewer)]);
        await portal.SeedCandidatesAsync(projectId, taskId, Enumerable.Range(0, 14).Select(i => $"Assigned sample {i:00}: about parcel {700 + i}.").ToList());

        // Both open focus mode: each is handed a different item.
        await one.GotoAsync($"/projects/{projectId}/tasks/{taskId}/review/focus");
        await Expect(one.Page.GetByTestId("focus-text")).ToContainTextAsync("Assigned sample 00:");
        await two.GotoAsync($"/projects/{projectId}/tasks/{taskId}/review/focus");
        await Expect(two.Page.GetByTestId("focus-text")).ToContainTextAsync("Assigned sample 01:");
        var twosItem = await two.Page.GetByTestId("focus-card").GetAttributeAsync("data-candidate");
        Assert.NotEqual(await one.Page.GetByTestId("focus-card").GetAttributeAsync("data-candidate"), twosItem);

        // Reviewer one: ten items by keyboard only — never the item reviewer two holds.
        var keys = one.Page.Keyboard;
        var seen = new List<string?>();
        int[] expected = [0, 2, 3, 4, 5, 6, 7, 8, 9, 10];
        foreach (var i in expected)
        {
            await Expect(one.Page.GetByTestId("focus-text")).ToContainTextAsync($"Assigned sample {i:00}:");
            seen.Add(await one.Page.GetByTestId("focus-card").GetAttributeAsync("data-candidate"));
            if (i == 5)
            {
                // Reject as off-task (reason 2) instead of approving, to show the full keyboard flow.
                await keys.PressAsync("r");
                await Expect(one.Page.GetByTestId("focus-reject-reasons")).ToBeVisibleAsync();
                await keys.PressAsync("2");
            }
            else
            {
                await keys.PressAsync("a");
            }
        }
        await Expect(one.Page.GetByTestId("focus-text")).ToContainTextAsync("Assigned sample 11:");
        Assert.DoesNotContain(twosItem, seen);
        Assert.Equal(10, seen.Distinct().Count());

        // Reviewer two sees reviewer one's progress without reloading: counts and the per-person line.
        await Expect(two.Page.Locator("[data-testid=focus-count][data-status=Approved]")).ToHaveTextAsync(new Regex(@"\D9$"));
        await Expect(two.Page.Locator("[data-testid=focus-count][data-status=Rejected]")).ToHaveTextAsync(new Regex(@"\D1$"));
        await Expect(two.Page.Locator("[data-testid=progress-user][data-email='as-one@example.com']")).ToHaveAttributeAsync("data-decided", "10");
        // Reviewer two still has their own item, and decides it; reviewer one sees that live too.
        await Expect(two.Page.GetByTestId("focus-text")).ToContainTextAsync("Assigned sample 01:");
        await two.Page.Keyboard.PressAsync("a");
        await Expect(two.Page.GetByTestId("focus-text")).ToContainTextAsync("Assigned sample 12:");
        await Expect(one.Page.Locator("[data-testid=progress-user][data-email='as-two@example.com']")).ToHaveAttributeAsync("data-decided", "1");
        await Expect(one.Page.Locator("[data-testid=focus-count][data-status=Approved]")).ToHaveTextAsync(new Regex(@"\D10$"));

        var oneId = await portal.UserIdAsync("as-one@example.com");
        var twoId = await portal.UserIdAsync("as-two@example.com");
        var events = await portal.QueryAsync(db => db.ReviewEvents.AsNoTracking().Where(e => e.TaskId == taskId).ToListAsync());
        Assert.DoesNotContain(events, e => e.Lost);
        Assert.Equal(10, events.Count(e => e.UserId == oneId));
        Assert.Equal([Guid.Parse(twosItem!)], events.Where(e => e.UserId == twoId).Select(e => e.CandidateId));
        Assert.Empty(events.Where(e => e.UserId == oneId).Select(e => e.CandidateId).Intersect(events.Where(e => e.UserId == twoId).Select(e => e.CandidateId)));
        Assert.Equal(10, await portal.QueryAsync(db => db.Candidates.CountAsync(c => c.TaskId == taskId && c.Status == CandidateStatus.Approved)));

        // Leaving focus mode gives reviewer one's current item back to the pool at once.
        await one.GotoAsync($"/projects/{projectId}/tasks/{taskId}/review");
        await Expect(one.Page.GetByTestId("review-policy")).ToBeVisibleAsync();
        await Expect(one.Page.GetByTestId("agreement-none")).ToBeVisibleAsync();
        await Poll.UntilAsync(async () => await portal.QueryAsync(db => db.ReviewLeases.CountAsync(l => l.UserId == oneId)) == 0,
            TimeSpan.FromSeconds(10), () => Task.FromResult("reviewer one's lease was not released on leaving focus mode"));

        await owner.Page.Context.CloseAsync();
        await one.Page.Context.CloseAsync();
        await two.Page.Context.CloseAsync();
    }
}
