using Incubator.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Incubator.Tests.Browser;

/// <summary>The task editor as a person uses it: a template with variables, an edited label, the overlap warning for
/// two deliberately similar definitions, save, edit again, and two versions with a readable diff.</summary>
[Collection(BrowserCollection.Name)]
public sealed class TaskEditorFlowTests(BrowserFixture browser)
{
    private const string Password = "Incub8tor-pass";

    [Fact]
    public async Task Author_starts_from_the_support_template_sees_the_overlap_warning_saves_twice_and_compares_versions()
    {
        using var portal = new PortalFactory(realServer: true);
        var url = portal.ServerAddress;
        var author = await PortalBrowser.OpenAsync(browser.Browser, url);
        await author.RegisterAsync("author@example.com", Password);
        var projectId = await author.CreateProjectAsync("Helpdesk");

        await author.GotoAsync($"/projects/{projectId}/tasks");
        await Expect(author.Page.GetByTestId("next-step")).ToBeVisibleAsync();
        await author.ClickAsync("new-task");
        await author.WaitInteractiveAsync();
        var card = author.Page.Locator("[data-testid=template-card][data-template='builtin:support-intent:en']");
        await card.GetByTestId("use-template").ClickAsync();
        await author.FillAsync("variable-product", "Acme Router X2");
        await author.FillAsync("variable-audience", "home users");
        await author.ClickAsync("apply-template");

        var instruction = author.Page.Locator("textarea[data-testid=task-instruction], [data-testid=task-instruction] textarea").First;
        await Expect(instruction).ToHaveValueAsync(new System.Text.RegularExpressions.Regex("Acme Router X2"));

        // Edit a label: rename it and give it a definition that nearly repeats the next one.
        // The template's labels are rendered first; renaming before that render settles would be overwritten by it.
        var firstName = author.Page.Locator("input[data-testid=label-name-0], [data-testid=label-name-0] input").First;
        await Expect(firstName).ToHaveValueAsync("billing");
        await author.FillAsync("label-name-0", "billing questions");
        await firstName.PressAsync("Tab");
        await Expect(firstName).ToHaveValueAsync("billing questions");
        await author.FillAsync("label-desc-0", "Questions about invoices, charges and refunds.");
        await author.FillAsync("label-desc-1", "Questions about charges, invoices and getting refunds.");
        var warning = author.Page.Locator("[data-testid=hint-warning][data-code=DefinitionsSimilar]");
        await Expect(warning).ToBeVisibleAsync();
        await Expect(warning).ToContainTextAsync("billing questions");
        await Expect(author.Page.GetByTestId("overlap-matrix")).ToBeVisibleAsync();

        // Leaving with unsaved changes asks first; staying keeps the edits.
        await author.Page.Locator("a[href$='/members']").First.ClickAsync();
        await Expect(author.Page.GetByText("Unsaved changes")).ToBeVisibleAsync();
        await author.Page.Locator(".mud-dialog .mud-dialog-actions button").First.ClickAsync();
        await Expect(instruction).ToHaveValueAsync(new System.Text.RegularExpressions.Regex("Acme Router X2"));

        await author.ClickAsync("save-task");
        await author.WaitForUrlAsync(new System.Text.RegularExpressions.Regex("/tasks/[0-9a-f-]{36}$"));
        await author.WaitInteractiveAsync();
        await Expect(author.Page.GetByText("Task · version 1")).ToBeVisibleAsync();

        // Edit again and save: version 2.
        await author.FillAsync("task-instruction", "Sort e-mails from home users of the Acme Router X2 by what they need, urgently.");
        await Expect(author.Page.GetByTestId("unsaved")).ToBeVisibleAsync();
        await author.ClickAsync("save-task");
        await Expect(author.Page.GetByText("Saved as version 2.")).ToBeVisibleAsync();

        await author.ClickAsync("task-history");
        await author.WaitInteractiveAsync();
        var versions = author.Page.GetByTestId("version-number");
        await Expect(versions).ToHaveCountAsync(2);
        await Expect(versions.First).ToHaveTextAsync("v2");
        var diff = author.Page.GetByTestId("diff-table");
        // What changed is named as the editor names the field ("Instruction"), not by its JSON path ("instruction").
        await Expect(diff.Locator("[data-testid=diff-path][data-path=instruction]")).ToHaveTextAsync("Instruction");
        await Expect(diff).ToContainTextAsync("urgently");

        await author.Page.Context.CloseAsync();
    }
}
