using Incubator.Domain.Review;
using Incubator.Domain.Projects;
using Incubator.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static Microsoft.Playwright.Assertions;

namespace Incubator.Tests.Browser;

/// <summary>A stale tab: the review queue and the Settings page are open with their write buttons when the project is
/// archived elsewhere (set in the database, so no live event hides the buttons first — another instance, a dropped
/// circuit). Clicking a write button shows the localised "archived" message in the snackbar, and nothing is written
/// (decision 0024, amendment arch21).</summary>
[Collection(BrowserCollection.Name)]
public sealed class ArchivedStaleTabBrowserTests(BrowserFixture browser)
{
    private const string Password = "Incub8tor-pass";

    private const string Message = "This project is archived: it is read-only until an Owner restores it in Settings.";

    [Fact]
    public async Task A_stale_tabs_write_in_a_project_archived_meanwhile_shows_the_archived_message_and_writes_nothing()
    {
        using var portal = new PortalFactory(realServer: true);
        var owner = await PortalBrowser.OpenAsync(browser.Browser, portal.ServerAddress);
        await owner.RegisterAsync("arch-owner@example.com", Password);
        var projectId = await owner.CreateProjectAsync("Stale tab");
        var taskId = await portal.CreateTaskAsync("arch-owner@example.com", projectId);
        await portal.SeedCandidatesAsync(projectId, taskId, ["Stale sample one about an invoice.", "Stale sample two about a parcel."]);

        await owner.GotoAsync($"/projects/{projectId}/tasks/{taskId}/review");
        await Expect(owner.Page.GetByTestId("row-approve")).ToHaveCountAsync(2);
        await portal.QueryAsync(db => db.Projects.Where(p => p.Id == projectId).ExecuteUpdateAsync(s => s.SetProperty(p => p.IsArchived, true)));

        await owner.Page.GetByTestId("row-approve").First.ClickAsync();
        await Expect(owner.Page.Locator(".mud-snackbar")).ToContainTextAsync(Message);
        Assert.Equal(0, await portal.QueryAsync(db => db.Candidates.CountAsync(c => c.TaskId == taskId && c.Status != CandidateStatus.Pending)));
        Assert.Equal(0, await portal.QueryAsync(db => db.ReviewEvents.CountAsync(e => e.TaskId == taskId)));

        // Another page: Settings, open from before the archive (restored to open it, archived again behind its back).
        await portal.QueryAsync(db => db.Projects.Where(p => p.Id == projectId).ExecuteUpdateAsync(s => s.SetProperty(p => p.IsArchived, false)));
        await owner.GotoAsync($"/projects/{projectId}/settings");
        await Expect(owner.Page.GetByTestId("settings-save")).ToBeVisibleAsync();
        await portal.QueryAsync(db => db.Projects.Where(p => p.Id == projectId).ExecuteUpdateAsync(s => s.SetProperty(p => p.IsArchived, true)));
        await owner.FillAsync("settings-name", "Renamed while archived");
        await Expect(owner.Page.Locator(".mud-snackbar")).ToHaveCountAsync(0);
        await owner.ClickAsync("settings-save");
        await Expect(owner.Page.Locator(".mud-snackbar")).ToContainTextAsync(Message);
        Assert.Equal("Stale tab", await portal.QueryAsync(db => db.Projects.Where(p => p.Id == projectId).Select(p => p.Name).SingleAsync()));

        await owner.Page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_corpus_upload_in_a_project_archived_meanwhile_shows_the_archived_message_and_stores_nothing()
    {
        // The upload page sends the file over HTTP itself (not the circuit): the API's 409 ProjectArchived must reach
        // the page as the domain's message, not as "The upload failed (409).".
        using var portal = new PortalFactory(realServer: true);
        using var folder = new TempFolder("incubator-archived-upload");
        var owner = await PortalBrowser.OpenAsync(browser.Browser, portal.ServerAddress);
        await owner.RegisterAsync("arch-upload@example.com", Password);
        var projectId = await owner.CreateProjectAsync("Stale upload");

        await owner.GotoAsync($"/projects/{projectId}/corpora");
        await owner.WaitInteractiveAsync();
        var file = Path.Combine(folder.Path, "tickets.txt");
        await File.WriteAllLinesAsync(file, ["Where is my parcel?", "My invoice is wrong.", "Please cancel my order."]);
        await owner.Page.GetByTestId("corpus-file").SetInputFilesAsync(file);
        await Expect(owner.Page.GetByTestId("corpus-preview")).ToContainTextAsync("Where is my parcel?");
        // Archived in another tab (or by another Owner): this page still shows its upload button.
        await portal.QueryAsync(db => db.Projects.Where(p => p.Id == projectId).ExecuteUpdateAsync(s => s.SetProperty(p => p.IsArchived, true)));

        await owner.ClickAsync("corpus-upload");
        await Expect(owner.Page.GetByTestId("corpus-error")).ToHaveTextAsync(Message);
        Assert.Equal(0, await portal.QueryAsync(db => db.Corpora.CountAsync(c => c.ProjectId == projectId)));
        var shared = portal.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Incubator.Domain.Data.IncubatorOptions>>().Value.ResolveSharedDirectory();
        var uploads = Path.Combine(shared, "uploads", projectId.ToString("N"));
        Assert.Empty(Directory.Exists(uploads) ? Directory.GetFiles(uploads) : []);

        await owner.Page.Context.CloseAsync();
    }
}
