using Incubator.Domain.Data;
using Incubator.Domain.Generation;
using Incubator.Domain.Projects;
using Incubator.Domain.Review;
using Incubator.Domain.Tasks;
using Incubator.Tests.Infrastructure;
using Incubator.Web.Components.Pages.Review;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static Microsoft.Playwright.Assertions;

namespace Incubator.Tests.Browser;

/// <summary>A reviewer works through ten samples in focus mode with the keyboard only; the queue and the database
/// show exactly the decisions made, and undo takes the last one back.</summary>
[Collection(BrowserCollection.Name)]
public sealed class ReviewKeyboardTests(BrowserFixture browser)
{
    private const string Password = "Incub8tor-pass";

    [Fact]
    public async Task Ten_samples_reviewed_by_keyboard_only()
    {
        using var portal = new PortalFactory(realServer: true);
        var url = portal.ServerAddress;
        var owner = await PortalBrowser.OpenAsync(browser.Browser, url);
        await owner.RegisterAsync("rv-owner@example.com", Password);
        var reviewer = await PortalBrowser.OpenAsync(browser.Browser, url);
        await reviewer.RegisterAsync("rv-reviewer@example.com", Password);
        var projectId = await owner.CreateProjectAsync("Review by keys");

        var taskId = await portal.CreateTaskAsync("rv-owner@example.com", projectId, members: ("rv-reviewer@example.com", ProjectRole.Reviewer));
        await portal.SeedCandidatesAsync(projectId, taskId, Enumerable.Range(0, 10).Select(i => $"Sample number {i}: a customer writes about order {1000 + i}.").ToList());

        await reviewer.GotoAsync($"/projects/{projectId}/tasks/{taskId}/review/focus");
        var card = reviewer.Page.GetByTestId("focus-card");
        await Expect(card).ToBeVisibleAsync();
        var keys = reviewer.Page.Keyboard;

        async Task ExpectText(int i) => await Expect(reviewer.Page.GetByTestId("focus-text")).ToContainTextAsync($"Sample number {i}:");

        // 0–3: approve; 4–5: reject as off-task (reason 2); 6: relabel to shipping (label 2) then approve;
        // 7: approve then undo, then reject as low quality (reason 3); 8–9: approve.
        for (var i = 0; i < 4; i++) { await ExpectText(i); await keys.PressAsync("a"); }
        for (var i = 4; i < 6; i++)
        {
            await ExpectText(i);
            await keys.PressAsync("r");
            await Expect(reviewer.Page.GetByTestId("focus-reject-reasons")).ToBeVisibleAsync();
            await keys.PressAsync("2");
        }
        await ExpectText(6);
        await keys.PressAsync("2");
        await Expect(reviewer.Page.GetByTestId("focus-label")).ToHaveTextAsync("shipping");
        await keys.PressAsync("a");
        await ExpectText(7);
        await keys.PressAsync("a");
        await ExpectText(8);
        await keys.PressAsync("u");
        await ExpectText(7);
        await Expect(reviewer.Page.GetByTestId("focus-status")).ToHaveAttributeAsync("data-status", "Pending");
        await keys.PressAsync("r");
        await keys.PressAsync("3");
        for (var i = 8; i < 10; i++) { await ExpectText(i); await keys.PressAsync("a"); }
        await Expect(reviewer.Page.GetByTestId("focus-done")).ToBeVisibleAsync();
        await keys.PressAsync("?");
        await Expect(reviewer.Page.GetByTestId("focus-help")).ToBeVisibleAsync();

        var rows = await portal.QueryAsync(db => db.Candidates.AsNoTracking().Where(c => c.TaskId == taskId).OrderBy(c => c.CreatedAt).ToListAsync());
        Assert.Equal(
            [CandidateStatus.Approved, CandidateStatus.Approved, CandidateStatus.Approved, CandidateStatus.Approved, CandidateStatus.Rejected,
             CandidateStatus.Rejected, CandidateStatus.Approved, CandidateStatus.Rejected, CandidateStatus.Approved, CandidateStatus.Approved],
            rows.Select(r => r.Status));
        Assert.Equal(RejectionReason.OffTask, rows[4].RejectionReason);
        Assert.Equal(RejectionReason.LowQuality, rows[7].RejectionReason);
        Assert.Equal(("shipping", "billing"), (rows[6].Label, rows[6].OriginalLabel));
        var audit = await portal.QueryAsync(db => db.ReviewEvents.CountAsync(e => e.TaskId == taskId));
        Assert.Equal(13, audit); // 10 decisions + relabel + the approve that was undone + the undo

        await owner.Page.Context.CloseAsync();
        await reviewer.Page.Context.CloseAsync();
    }

    /// <summary>Issue 18: a whole session with edits, history and help, and not one mouse event after the page loads.</summary>
    [Fact]
    public async Task A_full_session_with_edits_history_undo_and_help_needs_no_mouse()
    {
        using var portal = new PortalFactory(realServer: true);
        var reviewer = await PortalBrowser.OpenAsync(browser.Browser, portal.ServerAddress);
        await reviewer.RegisterAsync("kb-owner@example.com", Password);
        var projectId = await reviewer.CreateProjectAsync("Keyboard only");
        var taskId = await portal.CreateTaskAsync("kb-owner@example.com", projectId);
        await portal.SeedCandidatesAsync(projectId, taskId, Enumerable.Range(0, 5).Select(i => $"Sample {i}: the parcel for order {2000 + i} came late.").ToList());

        var page = reviewer.Page;
        await reviewer.GotoAsync($"/projects/{projectId}/tasks/{taskId}/review/focus");
        await Expect(page.GetByTestId("focus-card")).ToBeVisibleAsync();
        // Any trusted mouse or pointer event from here on would be counted.
        await page.EvaluateAsync("""
            () => { window.__mouse = 0; ['mousedown', 'mouseup', 'click', 'pointerdown', 'wheel', 'contextmenu']
                .forEach(t => document.addEventListener(t, e => { if (e.isTrusted) window.__mouse++; }, true)); }
            """);
        var keys = page.Keyboard;
        var text = page.GetByTestId("focus-text");
        var box = page.Locator(".mud-dialog textarea");

        // 0: approve. 1: reject as off-task.
        await Expect(text).ToContainTextAsync("Sample 0:");
        await keys.PressAsync("a");
        await Expect(text).ToContainTextAsync("Sample 1:");
        await keys.PressAsync("r");
        await keys.PressAsync("2");

        // 2: e opens the edit with the text box focused and the cursor at the end; typing appends; Ctrl+Enter saves.
        await Expect(text).ToContainTextAsync("Sample 2:");
        await keys.PressAsync("e");
        await Expect(box).ToBeFocusedAsync();
        await keys.TypeAsync(" Checked.");
        await Expect(box).ToHaveValueAsync("Sample 2: the parcel for order 2002 came late. Checked.");
        await keys.PressAsync("Control+Enter");
        await Expect(box).ToHaveCountAsync(0);
        await Expect(text).ToHaveTextAsync("Sample 2: the parcel for order 2002 came late. Checked.");
        await keys.PressAsync("a");

        // 3: an edit cancelled with Escape changes nothing; h opens the history, Escape closes it.
        await Expect(text).ToContainTextAsync("Sample 3:");
        await keys.PressAsync("e");
        await Expect(box).ToBeFocusedAsync();
        await keys.TypeAsync(" Not this.");
        await keys.PressAsync("Escape");
        await Expect(box).ToHaveCountAsync(0);
        await Expect(text).ToHaveTextAsync("Sample 3: the parcel for order 2003 came late.");
        await keys.PressAsync("k");
        await Expect(text).ToContainTextAsync("Sample 2:");
        await keys.PressAsync("h");
        await Expect(page.GetByTestId("audit-kind")).ToHaveCountAsync(2); // the edit and the approve
        await keys.PressAsync("Escape");
        await Expect(page.GetByTestId("audit-table")).ToHaveCountAsync(0);
        await keys.PressAsync("j");
        await Expect(text).ToContainTextAsync("Sample 3:");
        await keys.PressAsync("a");

        // Undo takes the approve of 3 back; 3 is then rejected as a duplicate; 4 approved.
        await Expect(text).ToContainTextAsync("Sample 4:");
        await keys.PressAsync("u");
        await Expect(text).ToContainTextAsync("Sample 3:");
        await Expect(page.GetByTestId("focus-status")).ToHaveAttributeAsync("data-status", "Pending");
        await keys.PressAsync("r");
        await keys.PressAsync("4");
        await Expect(text).ToContainTextAsync("Sample 4:");
        await keys.PressAsync("a");
        await Expect(page.GetByTestId("focus-done")).ToBeVisibleAsync();

        // ? lists every shortcut of the one list the keys are mapped with; Escape closes it.
        await keys.PressAsync("?");
        await Expect(page.GetByTestId("focus-help-key")).ToHaveCountAsync(FocusKeys.All.Count);
        await Expect(page.GetByTestId("focus-help")).ToContainTextAsync("Ctrl+Enter");
        await keys.PressAsync("Escape");
        await Expect(page.GetByTestId("focus-help")).ToHaveCountAsync(0);

        Assert.Equal(0, await page.EvaluateAsync<int>("() => window.__mouse"));
        var rows = await portal.QueryAsync(db => db.Candidates.AsNoTracking().Where(c => c.TaskId == taskId).OrderBy(c => c.CreatedAt).ToListAsync());
        Assert.Equal(
            [CandidateStatus.Approved, CandidateStatus.Rejected, CandidateStatus.Approved, CandidateStatus.Rejected, CandidateStatus.Approved],
            rows.Select(r => r.Status));
        Assert.Equal([null, null, "Sample 2: the parcel for order 2002 came late. Checked.", null, null], rows.Select(r => r.EditedText));
        Assert.Equal((RejectionReason.OffTask, RejectionReason.Duplicate), (rows[1].RejectionReason, rows[3].RejectionReason));
        var audit = await portal.QueryAsync(db => db.ReviewEvents.CountAsync(e => e.TaskId == taskId));
        Assert.Equal(8, audit); // 5 decisions + the edit + the approve that was undone + the undo
        await reviewer.Page.Context.CloseAsync();
    }
}
