using System.Collections.Concurrent;
using Incubator.Domain.Mining;
using Incubator.Domain.Projects;
using Incubator.Domain.Review;
using Incubator.Tests.Infrastructure;
using Incubator.Tests.Mining;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Incubator.Tests.Security;

/// <summary>The portal's own pages still work under the cross-origin refusal, the Content-Security-Policy and the
/// shipped registration default, in Chromium: the first person registers (and must sign in), invites a colleague who
/// has no account through the members page, uploads a corpus, reviews every sample of the queue (approve, reject, edit,
/// bulk approve, by keys in focus mode), and exports as a job whose link says until when it is available; the colleague
/// registers through the link and lands in the project. No page breaks the policy.</summary>
[Collection(BrowserCollection.Name)]
public sealed class SecureFlowBrowserTests(BrowserFixture browser)
{
    private const string Password = "Incub8tor-pass";

    [Fact]
    public async Task Register_invite_upload_review_and_export_work_under_the_new_protections()
    {
        using var portal = new PortalFactory(realServer: true).With("Accounts:Registration", null).With("Review:ExportJobThreshold", "2");
        using var folder = new TempFolder("incubator-secure-flow");
        var url = portal.ServerAddress;
        var violations = new ConcurrentQueue<string>();
        async Task<PortalBrowser> OpenAsync()
        {
            var b = await PortalBrowser.OpenAsync(browser.Browser, url);
            b.Page.Console += (_, m) =>
            {
                if (m.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase)) violations.Enqueue(m.Text);
            };
            return b;
        }

        var owner = await OpenAsync();
        await owner.RegisterAsync("secure-owner@example.com", Password);
        var projectId = await owner.CreateProjectAsync("Secure flow");
        var taskId = await portal.CreateTaskAsync("secure-owner@example.com", projectId, MiningFixtures.EnglishTask);
        var labels = MiningFixtures.EnglishTask.Labels.Select(l => l.Name).ToList();
        await portal.SeedCandidatesAsync(projectId, taskId, Enumerable.Range(0, 6).Select(i => $"Secure sample {i} about order {700 + i}.").ToList(), label: labels[0]);

        // Plain registration is closed now that an administrator exists: the page says so and offers no form.
        var stranger = await OpenAsync();
        await stranger.GotoAsync("/account/register");
        await Expect(stranger.Page.GetByTestId("registration-closed")).ToHaveAttributeAsync("data-mode", "Invitation");
        await Expect(stranger.Page.GetByTestId("register-submit")).ToHaveCountAsync(0);

        // Adding someone without an account offers an invitation link instead of a dead end.
        await owner.GotoAsync($"/projects/{projectId}/members");
        await owner.FillAsync("member-email", "colleague@example.com");
        await owner.SelectAsync("member-role", "Reviewer");
        await owner.ClickAsync("member-add");
        await Expect(owner.Page.GetByTestId("member-no-account")).ToContainTextAsync("colleague@example.com");
        await owner.ClickAsync("member-invite");
        var link = await owner.Page.Locator("input[data-testid=invite-link], [data-testid=invite-link] input").First.InputValueAsync();
        Assert.StartsWith(url + "/invite/inv_", link);
        await Expect(owner.Page.Locator("[data-testid=invitation-row][data-state=Pending]")).ToHaveCountAsync(1);

        var colleague = await OpenAsync();
        await colleague.Page.GotoAsync(link);
        await colleague.WaitInteractiveAsync();
        await Expect(colleague.Page.GetByTestId("invite-offer")).ToContainTextAsync("Secure flow");
        await colleague.ClickAsync("invite-register");
        await colleague.WaitForUrlAsync(new System.Text.RegularExpressions.Regex("/account/register\\?invite="));
        await colleague.WaitInteractiveAsync();
        await Expect(colleague.Page.GetByTestId("register-invitation")).ToContainTextAsync("Secure flow");
        await colleague.FillAsync("register-email", "colleague@example.com");
        await colleague.FillAsync("register-password", Password);
        await colleague.FillAsync("register-confirm", Password);
        await colleague.ClickAsync("register-submit");
        await colleague.WaitForUrlAsync(new System.Text.RegularExpressions.Regex("/account/login\\?registered=1"));
        await colleague.SignInAsync("colleague@example.com", Password);
        await Expect(colleague.Page.GetByTestId("project-card")).ToContainTextAsync("Reviewer");

        // A corpus upload: the page's own XMLHttpRequest to the API passes the cross-origin check.
        var file = Path.Combine(folder.Path, "tickets.txt");
        var texts = MiningFixtures.Labelled().Select(l => l.Text).Take(12).ToList();
        await File.WriteAllLinesAsync(file, texts);
        await owner.GotoAsync($"/projects/{projectId}/corpora");
        await owner.Page.GetByTestId("corpus-file").SetInputFilesAsync(file);
        await Expect(owner.Page.GetByTestId("corpus-preview")).ToContainTextAsync(texts[0]);
        await owner.ClickAsync("corpus-upload");
        await Expect(owner.Page.GetByTestId("report-kept")).ToContainTextAsync("12", new() { Timeout = 60_000 });
        Assert.Equal(12, await portal.QueryAsync(db => db.CorpusTexts.CountAsync(t => db.Corpora.Any(c => c.Id == t.CorpusId && c.ProjectId == projectId))));

        // A full review in the queue: approve, reject with a reason, edit, then bulk-approve what is left.
        await owner.GotoAsync($"/projects/{projectId}/tasks/{taskId}/review");
        await Expect(owner.Page.GetByTestId("review-text")).ToHaveCountAsync(6);
        await owner.Page.GetByTestId("row-approve").First.ClickAsync();
        await Expect(owner.Page.Locator("[data-testid=review-status][data-status=Approved]")).ToHaveCountAsync(1);
        await owner.Page.GetByTestId("row-reject").Nth(1).ClickAsync();
        await owner.Page.Locator(".mud-popover-open").GetByText("Off task", new() { Exact = true }).First.ClickAsync();
        await Expect(owner.Page.Locator("[data-testid=review-status][data-status=Rejected]")).ToHaveCountAsync(1);
        await owner.Page.GetByRole(AriaRole.Button, new() { Name = "Edit the text" }).Nth(2).ClickAsync();
        // The dialog moves the cursor to the end of its text once it has rendered; filling before that lets the move land
        // between the fill's select-all and its typing, which appended the new text to the old one.
        await Expect(owner.Page.Locator(".mud-dialog textarea")).ToBeFocusedAsync();
        await owner.FillAsync("prompt-text", "An edited sample about order 702.");
        await owner.ClickAsync("prompt-ok");
        await Expect(owner.Page.GetByText("An edited sample about order 702.")).ToBeVisibleAsync();
        await owner.ClickAsync("bulk-approve");
        await owner.Page.Locator(".mud-dialog .mud-dialog-actions button").Last.ClickAsync();
        await Expect(owner.Page.Locator("[data-testid=review-status][data-status=Pending]")).ToHaveCountAsync(0);
        // The bulk approve covers the whole queue, the rejected row included (its confirmation said so); the audit trail
        // keeps every step.
        var statuses = await portal.QueryAsync(db => db.Candidates.Where(c => c.TaskId == taskId).Select(c => c.Status).ToListAsync());
        Assert.All(statuses, s => Assert.Equal(CandidateStatus.Approved, s));
        var kinds = await portal.QueryAsync(db => db.ReviewEvents.Where(e => e.TaskId == taskId).Select(e => e.Kind).ToListAsync());
        Assert.Equal((1, 1), (kinds.Count(k => k == DecisionKind.Reject), kinds.Count(k => k == DecisionKind.Edit)));
        Assert.Equal("An edited sample about order 702.", await portal.QueryAsync(db => db.Candidates.Where(c => c.TaskId == taskId && c.EditedText != null)
            .Select(c => c.EditedText).SingleAsync()));

        // More rows than the (lowered) threshold: the export runs as a job; its link says until when it is available.
        await owner.ClickAsync("export-menu");
        await owner.ClickAsync("export-tsv");
        await Expect(owner.Page.GetByTestId("export-download")).ToBeVisibleAsync(new() { Timeout = 60_000 });
        await Expect(owner.Page.GetByTestId("export-expires")).ToBeVisibleAsync();

        // The colleague reviews by keys in focus mode, through the same cross-origin checks on the circuit.
        await portal.SeedCandidatesAsync(projectId, taskId, ["One more for the colleague about order 900."], label: labels[0]);
        await colleague.GotoAsync($"/projects/{projectId}/tasks/{taskId}/review/focus");
        await Expect(colleague.Page.GetByTestId("focus-text")).ToContainTextAsync("order 900");
        await colleague.Page.Keyboard.PressAsync("a");
        await Expect(colleague.Page.GetByTestId("focus-done")).ToBeVisibleAsync();
        Assert.Equal(0, await portal.QueryAsync(db => db.Candidates.CountAsync(c => c.TaskId == taskId && c.Status == CandidateStatus.Pending)));

        Assert.True(violations.IsEmpty, "Content-Security-Policy violations:\n" + string.Join("\n", violations));
        foreach (var b in new[] { owner, stranger, colleague }) await b.Page.Context.CloseAsync();
    }
}
