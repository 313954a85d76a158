using Incubator.Domain.Data;
using Incubator.Domain.Generation;
using Incubator.Domain.Projects;
using Incubator.Domain.Review;
using Incubator.Domain.Tasks;
using Incubator.Tests.Infrastructure;
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
}
