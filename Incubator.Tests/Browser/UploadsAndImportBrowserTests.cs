using Incubator.Domain.Tasks;
using Incubator.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using static Microsoft.Playwright.Assertions;

namespace Incubator.Tests.Browser;

/// <summary>Issue 18's upload control and import warning: the task import and the gold set upload are drop zones that
/// light up while a file is dragged over them; importing a task JSON whose name the project already has asks first and
/// imports under the next free name, or keeps both, or nothing.</summary>
[Collection(BrowserCollection.Name)]
public sealed class UploadsAndImportBrowserTests(BrowserFixture browser)
{
    private const string Email = "uploads@example.com";

    [Fact]
    public async Task Importing_a_task_with_a_taken_name_offers_rename_or_keep_both_and_drop_zones_take_files()
    {
        using var folder = new TempFolder();
        using var portal = new PortalFactory(realServer: true);
        var owner = await PortalBrowser.OpenAsync(browser.Browser, portal.ServerAddress);
        await owner.RegisterAsync(Email, PortalExtensions.GoodPassword);
        var projectId = await owner.CreateProjectAsync("Uploads");
        var taskId = await portal.CreateTaskAsync(Email, projectId);
        var file = Path.Combine(folder.Path, "mail.json");
        await File.WriteAllTextAsync(file, TaskJson.Serialize(ReviewSeed.MailTask));
        Task<string[]> NamesAsync() => portal.QueryAsync(db => db.Tasks.Where(t => t.ProjectId == projectId).OrderBy(t => t.Name).Select(t => t.Name).ToArrayAsync());

        await owner.GotoAsync($"/projects/{projectId}/tasks");
        var zone = owner.Page.GetByTestId("import-task");
        await Expect(zone).ToHaveAttributeAsync("data-dragging", "false");
        // A file dragged over the zone lights it up (the browser's own drop then lands the file in its input).
        await owner.Page.Locator("[data-testid=import-task] input[type=file]:not(.d-none)").EvaluateAsync("""
            z => { const dt = new DataTransfer(); dt.items.add(new File(['{}'], 'x.json', { type: 'application/json' }));
                   z.dispatchEvent(new DragEvent('dragenter', { dataTransfer: dt, bubbles: true })); }
            """);
        await Expect(zone).ToHaveAttributeAsync("data-dragging", "true");
        await owner.Page.ReloadAsync();
        await owner.WaitInteractiveAsync();

        const string input = "[data-testid=import-task] input[type=file]:not(.d-none)";
        // Cancel: nothing is imported.
        await owner.ChooseFileAsync(input, file);
        await Expect(owner.Page.GetByTestId("import-clash")).ToContainTextAsync("“Mail”");
        await owner.ClickAsync("import-cancel");
        await Expect(owner.Page.GetByTestId("import-clash")).ToHaveCountAsync(0);
        Assert.Equal(["Mail"], await NamesAsync());

        // Rename: the next free name is offered and used.
        await owner.ChooseFileAsync(input, file);
        await Expect(owner.Page.Locator("input[data-testid=import-new-name], [data-testid=import-new-name] input").First).ToHaveValueAsync("Mail (2)");
        await owner.ClickAsync("import-rename");
        await owner.WaitForUrlAsync(new System.Text.RegularExpressions.Regex("/tasks/[0-9a-f-]{36}$"));
        Assert.Equal(["Mail", "Mail (2)"], await NamesAsync());

        // Keep both: a second "Mail", on purpose; the dialog offered "Mail (3)".
        await owner.GotoAsync($"/projects/{projectId}/tasks");
        await owner.ChooseFileAsync(input, file);
        await Expect(owner.Page.Locator("input[data-testid=import-new-name], [data-testid=import-new-name] input").First).ToHaveValueAsync("Mail (3)");
        await owner.ClickAsync("import-keep-both");
        await owner.WaitForUrlAsync(new System.Text.RegularExpressions.Regex("/tasks/[0-9a-f-]{36}$"));
        Assert.Equal(["Mail", "Mail", "Mail (2)"], await NamesAsync());

        // A cleared name is refused beside the field; nothing is imported.
        await owner.GotoAsync($"/projects/{projectId}/tasks");
        await owner.ChooseFileAsync(input, file);
        await owner.FillAsync("import-new-name", " ");
        await owner.ClickAsync("import-rename");
        await Expect(owner.Page.Locator(".mud-dialog")).ToContainTextAsync("Give the task a name.");
        Assert.Equal(3, (await NamesAsync()).Length);
        await owner.ClickAsync("import-cancel");

        // The gold set upload is the same drop zone.
        var gold = Path.Combine(folder.Path, "gold.tsv");
        await File.WriteAllLinesAsync(gold, ["billing\tPlease refund the double charge on my invoice.", "shipping\tMy parcel has not arrived yet."]);
        await owner.GotoAsync($"/projects/{projectId}/models?task={taskId}");
        await Expect(owner.Page.GetByTestId("gold-upload-zone")).ToContainTextAsync(".tsv");
        await owner.ChooseFileAsync("[data-testid=gold-upload] input[type=file]:not(.d-none)", gold);
        await Expect(owner.Page.GetByTestId("gold-current")).ToContainTextAsync("gold.tsv");
        await owner.Page.Context.CloseAsync();
    }
}
