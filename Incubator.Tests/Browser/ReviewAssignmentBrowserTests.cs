using Incubator.Domain.Review;
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
        // Exports of more than 5 rows run as a job here, so the queue's export shows progress and a download link.
        using var portal = new PortalFactory(realServer: true).With("Review:ExportJobThreshold", "5");
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

        // The queue shows who is reviewing which item right now.
        await owner.GotoAsync($"/projects/{projectId}/tasks/{taskId}/review");
        await Expect(owner.Page.GetByTestId("row-leased")).ToHaveCountAsync(2);
        await Expect(owner.Page.GetByTestId("row-leased").Filter(new() { HasText = "as-two@example.com" })).ToHaveCountAsync(1);

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

        // The queue's 14 rows exceed the export threshold: the export runs as a job, then offers a download link.
        await one.ClickAsync("export-menu");
        await one.Page.GetByTestId("export-tsv").ClickAsync();
        await Expect(one.Page.GetByTestId("export-download")).ToBeVisibleAsync(new() { Timeout = 30_000 });
        var href = await one.Page.GetByTestId("export-download").GetAttributeAsync("href");
        var file = await one.Page.Context.APIRequest.GetAsync(url.TrimEnd('/') + "/" + href!.TrimStart('/'));
        Assert.Equal(200, file.Status);
        var lines = (await file.TextAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(14, lines.Length);
        Assert.Contains("billing\tAssigned sample 13: about parcel 713.", lines);

        await owner.Page.Context.CloseAsync();
        await one.Page.Context.CloseAsync();
        await two.Page.Context.CloseAsync();
    }
}

/// <summary>Overlap mode end to end in the browser: the Owner sets k = 2 in the queue policies (a Reviewer only reads
/// them), two reviewers give blind independent reviews by keyboard, agreeing reviews settle an item, conflicting ones
/// reach the Owner's conflicts list, the Owner settles, and the agreement panel shows Cohen's kappa.</summary>
[Collection(BrowserCollection.Name)]
public sealed class ReviewOverlapBrowserTests(BrowserFixture browser)
{
    private const string Password = "Incub8tor-pass";

    [Fact]
    public async Task Owner_sets_overlap_reviewers_review_blind_and_the_Owner_settles_the_conflict()
    {
        using var portal = new PortalFactory(realServer: true);
        var url = portal.ServerAddress;
        var owner = await PortalBrowser.OpenAsync(browser.Browser, url);
        await owner.RegisterAsync("ov-owner@example.com", Password);
        var one = await PortalBrowser.OpenAsync(browser.Browser, url);
        await one.RegisterAsync("ov-one@example.com", Password);
        var two = await PortalBrowser.OpenAsync(browser.Browser, url);
        await two.RegisterAsync("ov-two@example.com", Password);
        var projectId = await owner.CreateProjectAsync("Overlap review");
        var taskId = await portal.CreateTaskAsync("ov-owner@example.com", projectId,
            members: [("ov-one@example.com", ProjectRole.Reviewer), ("ov-two@example.com", ProjectRole.Reviewer)]);
        await portal.SeedCandidatesAsync(projectId, taskId, ["Overlap sample 0: where is my invoice?", "Overlap sample 1: the parcel never came."]);
        var queue = $"/projects/{projectId}/tasks/{taskId}/review";

        await owner.GotoAsync(queue);
        await Expect(owner.Page.GetByTestId("agreement-none")).ToBeVisibleAsync();
        // Out of range: a clear message, nothing saved.
        await owner.Page.Locator("[data-testid=policy-overlap]").FillAsync("0");
        await owner.ClickAsync("policy-save");
        await Expect(owner.Page.Locator(".mud-snackbar")).ToContainTextAsync("Independent reviews per sample must be between 1 (overlap off) and 10.");
        Assert.False(await portal.QueryAsync(db => db.ReviewPolicies.AnyAsync(p => p.TaskId == taskId)));

        await owner.Page.Locator("[data-testid=policy-overlap]").FillAsync("2");
        await owner.Page.Locator("[data-testid=policy-threshold]").FillAsync("0.75");
        await owner.ClickAsync("policy-save");
        await Poll.UntilAsync(async () => await portal.QueryAsync(db => db.ReviewPolicies.AnyAsync(p => p.TaskId == taskId && p.OverlapK == 2 && p.SpotCheckThreshold == 0.75)),
            TimeSpan.FromSeconds(10), () => Task.FromResult("the policy was not saved"));

        // A Reviewer sees the policy but cannot change it.
        await one.GotoAsync(queue);
        await Expect(one.Page.GetByTestId("policy-readonly")).ToContainTextAsync("2");
        await Expect(one.Page.GetByTestId("policy-readonly")).ToContainTextAsync("0.75");
        await Expect(one.Page.GetByTestId("policy-save")).ToHaveCountAsync(0);
        await Expect(one.Page.GetByTestId("bulk-approve")).ToHaveCountAsync(0);

        // Reviewer one: sample 0 is billing (1), sample 1 is shipping (2). Blind: nothing settles yet.
        await one.GotoAsync(queue + "/focus");
        await Expect(one.Page.GetByTestId("focus-blind")).ToBeVisibleAsync();
        await Expect(one.Page.GetByTestId("focus-text")).ToContainTextAsync("Overlap sample 0:");
        await one.Page.Keyboard.PressAsync("1");
        await Expect(one.Page.GetByTestId("focus-text")).ToContainTextAsync("Overlap sample 1:");
        await one.Page.Keyboard.PressAsync("2");
        await Expect(one.Page.GetByTestId("focus-done")).ToBeVisibleAsync();
        Assert.Equal(2, await portal.QueryAsync(db => db.Candidates.CountAsync(c => c.TaskId == taskId && c.Status == CandidateStatus.Pending)));

        // Reviewer two: says shipping for both — disagrees on sample 0, agrees on sample 1.
        await two.GotoAsync(queue + "/focus");
        await Expect(two.Page.GetByTestId("focus-text")).ToContainTextAsync("Overlap sample 0:");
        await two.Page.Keyboard.PressAsync("2");
        await Expect(two.Page.GetByTestId("focus-text")).ToContainTextAsync("Overlap sample 1:");
        await two.Page.Keyboard.PressAsync("2");
        await Expect(two.Page.GetByTestId("focus-done")).ToBeVisibleAsync();

        // The Owner's queue (open all along) shows the conflict and the agreement live.
        await Expect(owner.Page.GetByTestId("conflict")).ToHaveCountAsync(1);
        await Expect(owner.Page.GetByTestId("conflict-vote")).ToHaveCountAsync(2);
        await Expect(owner.Page.GetByTestId("agreement-overall")).ToHaveAttributeAsync("data-kappa", "0.000");
        await Expect(one.Page.GetByTestId("focus-done")).ToBeVisibleAsync();
        await owner.Page.Locator("[data-testid=settle-approve][data-label=billing]").ClickAsync();
        await Expect(owner.Page.GetByTestId("conflicts")).ToHaveCountAsync(0);

        var rows = await portal.QueryAsync(db => db.Candidates.AsNoTracking().Where(c => c.TaskId == taskId).OrderBy(c => c.CreatedAt).ToListAsync());
        Assert.Equal([(CandidateStatus.Approved, "billing", false), (CandidateStatus.Approved, "shipping", false)], rows.Select(r => (r.Status, r.Label, r.InConflict)));
        var kinds = await portal.QueryAsync(db => db.ReviewEvents.AsNoTracking().Where(e => e.CandidateId == rows[0].Id).OrderBy(e => e.Id).Select(e => e.Kind).ToListAsync());
        Assert.Equal([Incubator.Domain.Review.DecisionKind.Independent, Incubator.Domain.Review.DecisionKind.Independent,
            Incubator.Domain.Review.DecisionKind.Conflict, Incubator.Domain.Review.DecisionKind.Settle], kinds);

        await owner.Page.Context.CloseAsync();
        await one.Page.Context.CloseAsync();
        await two.Page.Context.CloseAsync();
    }
}

/// <summary>"Review next" from a filtered queue view hands out only that view's items and says so.</summary>
[Collection(BrowserCollection.Name)]
public sealed class ReviewFocusScopeBrowserTests(BrowserFixture browser)
{
    [Fact]
    public async Task Review_next_from_a_label_filtered_queue_shows_the_scope_and_hands_out_only_that_label()
    {
        using var portal = new PortalFactory(realServer: true);
        var owner = await PortalBrowser.OpenAsync(browser.Browser, portal.ServerAddress);
        await owner.RegisterAsync("fs-owner@example.com", "Incub8tor-pass");
        var projectId = await owner.CreateProjectAsync("Focus scope");
        var taskId = await portal.CreateTaskAsync("fs-owner@example.com", projectId);
        // Oldest first alternates billing, shipping, billing...: an unscoped hand-out would start with billing.
        await portal.SeedCandidatesAsync(projectId, taskId, Enumerable.Range(0, 8).Select(i => $"Scoped sample {i}: {(i % 2 == 0 ? "an invoice" : "a parcel")}.").ToList(),
            labelOf: i => i % 2 == 0 ? "billing" : "shipping");

        await owner.GotoAsync($"/projects/{projectId}/tasks/{taskId}/review");
        await Expect(owner.Page.GetByTestId("review-text")).ToHaveCountAsync(8);
        await owner.SelectAsync("filter-label", "shipping");
        await Expect(owner.Page.GetByTestId("review-text")).ToHaveCountAsync(4);
        await owner.ClickAsync("focus-mode");
        await owner.WaitForUrlAsync(new System.Text.RegularExpressions.Regex("/review/focus\\?.*label=shipping"));
        await owner.WaitInteractiveAsync();

        await Expect(owner.Page.GetByTestId("focus-scope")).ToContainTextAsync("shipping");
        await Expect(owner.Page.GetByTestId("focus-position")).ToContainTextAsync("4");
        // Approve all four by keyboard: each handed-out item is a shipping one, then the view is done.
        for (var i = 0; i < 4; i++)
        {
            await Expect(owner.Page.GetByTestId("focus-text")).ToContainTextAsync($"Scoped sample {2 * i + 1}: a parcel.");
            await owner.Page.Keyboard.PressAsync("a");
        }
        await Expect(owner.Page.GetByTestId("focus-text")).ToHaveCountAsync(0);
        var statuses = await portal.QueryAsync(db => db.Candidates.Where(c => c.TaskId == taskId)
            .Select(c => new { c.Label, c.Status }).ToListAsync());
        Assert.All(statuses.Where(s => s.Label == "shipping"), s => Assert.Equal(CandidateStatus.Approved, s.Status));
        Assert.All(statuses.Where(s => s.Label == "billing"), s => Assert.Equal(CandidateStatus.Pending, s.Status));
        await owner.Page.Context.CloseAsync();
    }
}
