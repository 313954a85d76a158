using Incubator.Domain.Projects;
using Incubator.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Incubator.Tests.Browser;

/// <summary>Geometry the eye catches and no other test does: the review queue's text dialogs fit a phone's screen, the
/// models page's select boxes show their whole chosen value, a review row's decision buttons stand on one line, and the
/// task page's step counts wrap between their parts, never inside one. Measured with the elements' boxes.</summary>
[Collection(BrowserCollection.Name)]
public sealed class LayoutBrowserTests(BrowserFixture browser)
{
    private const string Password = "Incub8tor-pass";

    /// <summary>A signed-in owner of a project with the Mail task and <paramref name="samples"/> pending samples.</summary>
    private async Task<(PortalFactory Portal, PortalBrowser Owner, Guid ProjectId, Guid TaskId)> SeedAsync(string who, int samples)
    {
        var portal = new PortalFactory(realServer: true);
        var owner = await PortalBrowser.OpenAsync(browser.Browser, portal.ServerAddress);
        await owner.RegisterAsync($"{who}@example.com", Password);
        var projectId = await owner.CreateProjectAsync("Layout " + who);
        var taskId = await portal.CreateTaskAsync($"{who}@example.com", projectId);
        await portal.SeedCandidatesAsync(projectId, taskId,
            Enumerable.Range(0, samples).Select(i => $"Layout sample {i}: the invoice for order {1000 + i} was charged twice this month.").ToList(),
            labelOf: i => i % 2 == 0 ? "billing" : "shipping");
        return (portal, owner, projectId, taskId);
    }

    /// <summary>The dialog's right edge and the page's scroll width against the phone's screen.</summary>
    private static async Task AssertDialogFitsAsync(IPage page, string what)
    {
        var dialog = page.Locator(".mud-dialog").First;
        await Expect(dialog).ToBeVisibleAsync();
        // The dialog opens with a short animation: measured once it has settled.
        await page.WaitForTimeoutAsync(400);
        // [dialog left, dialog right, page scroll width, screen width, the rightmost edge of anything in the dialog,
        //  the dialog's scroll width, its client width]
        var m = await page.EvaluateAsync<double[]>(
            """
            () => {
              const dialog = document.querySelector('.mud-dialog');
              const d = dialog.getBoundingClientRect();
              const inner = Math.max(...[...dialog.querySelectorAll('*')].map(e => e.getBoundingClientRect().right));
              return [d.left, d.right, document.scrollingElement.scrollWidth, window.innerWidth, inner, dialog.scrollWidth, dialog.clientWidth];
            }
            """);
        Assert.True(m[0] >= 0 && m[1] <= m[3], $"{what}: the dialog spans {m[0]}–{m[1]} px on a screen {m[3]} px wide");
        Assert.True(m[2] <= m[3], $"{what}: the page scrolls sideways ({m[2]} px wide on a screen {m[3]} px wide)");
        Assert.True(m[4] <= m[1] + 0.5 && m[5] <= m[6], $"{what}: its content reaches {m[4]} px (scroll width {m[5]} px) in a dialog ending at {m[1]} px ({m[6]} px wide)");
    }

    [Fact]
    public async Task The_review_queues_edit_and_comment_dialogs_fit_a_phone()
    {
        var (portal, owner, projectId, taskId) = await SeedAsync("layout-dialog", 2);
        using var _ = portal;
        await owner.Page.SetViewportSizeAsync(390, 844);
        await owner.GotoAsync($"/projects/{projectId}/tasks/{taskId}/review");
        await Expect(owner.Page.GetByTestId("review-text")).ToHaveCountAsync(2);

        await owner.Page.GetByRole(AriaRole.Button, new() { Name = "Edit the text" }).First.ClickAsync();
        await Expect(owner.Page.GetByTestId("prompt-text")).ToBeVisibleAsync();
        await AssertDialogFitsAsync(owner.Page, "edit dialog");
        await owner.ClickAsync("prompt-cancel");
        await Expect(owner.Page.Locator(".mud-dialog")).ToHaveCountAsync(0);

        // Reject with the reason "Other" asks for a comment in the same kind of dialog.
        await owner.Page.Locator("[data-testid=row-reject]").First.ClickAsync();
        await owner.Page.Locator(".mud-popover-open").GetByText("Other", new() { Exact = true }).ClickAsync();
        await Expect(owner.Page.GetByTestId("prompt-text")).ToBeVisibleAsync();
        await AssertDialogFitsAsync(owner.Page, "comment dialog");
        // Still usable: the comment is saved with the rejection.
        await owner.FillAsync("prompt-text", "Not a customer e-mail.");
        await owner.ClickAsync("prompt-ok");
        await Expect(owner.Page.Locator("[data-testid=review-status][data-status=Rejected]")).ToHaveCountAsync(1);
        await owner.Page.Context.CloseAsync();
    }

    /// <summary>Picks each option of a select in turn and checks that the box shows the whole chosen text.</summary>
    private static async Task AssertSelectShowsEachOptionAsync(PortalBrowser me, string testId, string viewport)
    {
        await me.Page.Locator($"[data-testid={testId}]").First.ClickAsync();
        await Expect(me.Page.Locator(".mud-popover-open .mud-list-item").First).ToBeVisibleAsync();
        var options = await me.Page.Locator(".mud-popover-open .mud-list-item").AllInnerTextsAsync();
        await me.Page.Keyboard.PressAsync("Escape");
        // Closed before the first pick: a click on the select while the list is still closing would toggle it again.
        // (The list's items, not any open popover: a tooltip under the pointer is a popover too.)
        await Expect(me.Page.Locator(".mud-popover-open .mud-list-item")).ToHaveCountAsync(0);
        Assert.NotEmpty(options);
        foreach (var option in options.Select(o => o.Trim()))
        {
            await me.SelectAsync(testId, option);
            await Expect(me.Page.Locator(".mud-popover-open .mud-list-item")).ToHaveCountAsync(0);
            // The chosen value is written in the select's value box (MudSelect's .mud-input-slot, the element with the
            // test id), which cuts what does not fit with an ellipsis: its scroll size against its client size.
            var m = await me.Page.EvaluateAsync<double[]>(
                """
                id => {
                  const slot = document.querySelector(`[data-testid=${id}]`);
                  const box = slot.closest('.mud-select').getBoundingClientRect();
                  return [slot.scrollWidth, slot.clientWidth, slot.scrollHeight, slot.clientHeight, box.left, box.right, document.scrollingElement.scrollWidth, window.innerWidth];
                }
                """, testId);
            await Expect(me.Page.Locator($"[data-testid={testId}]").First).ToHaveTextAsync(option);
            Assert.True(m[1] > 0 && m[0] <= m[1] && m[2] <= m[3],
                $"{viewport} {testId}: '{option}' needs {m[0]}×{m[2]} px, the box shows {m[1]}×{m[3]} px of it");
            Assert.True(m[4] >= 0 && m[5] <= m[7], $"{viewport} {testId}: the select spans {m[4]}–{m[5]} px on a screen {m[7]} px wide");
            if (m[6] > m[7])
            {
                // Which elements reach past the screen's edge (the innermost ones), to say what widens the page.
                var wide = await me.Page.EvaluateAsync<string>(
                    """
                    () => [...document.body.querySelectorAll('*')].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1
                            && ![...e.children].some(c => c.getBoundingClientRect().right > window.innerWidth + 1))
                        .slice(0, 6).map(e => { const up = []; for (let a = e.parentElement, i = 0; a && i < 6; a = a.parentElement, i++) up.push(`${a.tagName.toLowerCase()}.${[...a.classList].join('.')}${a.dataset.testid ? '#' + a.dataset.testid : ''}`);
                            return `${e.tagName.toLowerCase()}.${[...e.classList].join('.')} (${Math.round(e.getBoundingClientRect().right)} px) in ${up.join(' < ')}`; }).join('; ')
                    """);
                Assert.Fail($"{viewport} {testId}: the page scrolls sideways ({m[6]} px on a screen {m[7]} px wide): {wide}");
            }
        }
    }

    [Fact]
    public async Task The_models_pages_select_boxes_show_their_whole_value_on_a_desktop_and_a_phone()
    {
        var (portal, owner, projectId, _) = await SeedAsync("layout-models", 0);
        using var _p = portal;
        // The header's task select: a task whose name is long (60 characters) beside the short "Mail".
        const string longName = "Customer questions about invoices, parcels and refunds, 2026";
        Assert.Equal(60, longName.Length);
        await portal.CreateTaskAsync("layout-models@example.com", projectId, ReviewSeed.MailTask with { Name = longName });
        // In Japanese too, whose family descriptions are the longest option texts.
        var japanese = await PortalBrowser.OpenAsync(browser.Browser, portal.ServerAddress, locale: "ja-JP");
        await japanese.SignInAsync("layout-models@example.com", Password);
        foreach (var (me, language, start) in new[] { (owner, "en", "Train"), (japanese, "ja", "学習する") })
        {
            foreach (var (width, height, name) in new[] { (1280, 800, "desktop"), (390, 844, "phone") })
            {
                await me.Page.SetViewportSizeAsync(width, height);
                await me.GotoAsync($"/projects/{projectId}/models");
                await Expect(me.Page.GetByTestId("train-start")).ToHaveTextAsync(start);
                // The encoder first: the family's last option may be one without an encoder.
                await AssertSelectShowsEachOptionAsync(me, "train-encoder", $"{language} {name}");
                await AssertSelectShowsEachOptionAsync(me, "train-dataset", $"{language} {name}");
                await AssertSelectShowsEachOptionAsync(me, "train-family", $"{language} {name}");
                await AssertSelectShowsEachOptionAsync(me, "models-task", $"{language} {name}");
            }
            await me.Page.Context.CloseAsync();
        }
    }

    [Fact]
    public async Task A_review_rows_decision_buttons_stand_on_one_line()
    {
        var (portal, owner, projectId, taskId) = await SeedAsync("layout-row", 2);
        using var _ = portal;
        await owner.GotoAsync($"/projects/{projectId}/tasks/{taskId}/review");
        await Expect(owner.Page.GetByTestId("row-approve")).ToHaveCountAsync(2);
        // History, approve, reject (a menu), edit, relabel (a menu), undo: the buttons of the first row's last cell.
        var centres = await owner.Page.Locator("[data-testid=row-approve]").First.EvaluateAsync<double[]>(
            "b => [...b.closest('td').querySelectorAll('button')].map(x => { const r = x.getBoundingClientRect(); return (r.top + r.bottom) / 2; })");
        Assert.Equal(6, centres.Length);
        Assert.True(centres.Max() - centres.Min() <= 2, $"the row's buttons' vertical centres: {string.Join(", ", centres)}");
        await owner.Page.Context.CloseAsync();
    }

    [Fact]
    public async Task The_task_pages_step_counts_wrap_between_their_parts_on_a_phone()
    {
        var (portal, owner, projectId, taskId) = await SeedAsync("layout-counts", 1234);
        using var _ = portal;
        await owner.Page.SetViewportSizeAsync(390, 844);
        await owner.GotoAsync($"/projects/{projectId}/tasks/{taskId}");
        await Expect(owner.Page.GetByTestId("stepper")).ToBeVisibleAsync();
        await Expect(owner.Page.GetByTestId("step-Collect").GetByTestId("step-count")).ToContainTextAsync("1234 samples");
        // Each part of a count ("1234 samples", "0 runs", between the dots) on one line, and no count wider than its box:
        // per count, the parts that were broken across lines and how far its text reaches past the box.
        var counts = await owner.Page.GetByTestId("step-count").EvaluateAllAsync<string[]>(
            """
            counts => counts.map(count => {
              const walker = document.createTreeWalker(count, NodeFilter.SHOW_TEXT);
              const nodes = [];
              for (let n = walker.nextNode(); n; n = walker.nextNode()) nodes.push(n);
              const text = nodes.map(n => n.data).join('');
              const at = offset => { for (const n of nodes) { if (offset <= n.data.length) return [n, offset]; offset -= n.data.length; } };
              const broken = [];
              let start = 0;
              for (const part of text.split('·')) {
                const trimmed = part.trim();
                if (trimmed.length > 0) {
                  const from = start + part.indexOf(trimmed);
                  const range = document.createRange();
                  range.setStart(...at(from));
                  range.setEnd(...at(from + trimmed.length));
                  const tops = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
                  if (tops.size > 1) broken.push(trimmed);
                }
                start += part.length + 1;
              }
              return `${text.trim()} | broken: ${broken.join(' / ')} | overflow: ${count.scrollWidth - count.clientWidth}`;
            })
            """);
        Assert.Equal(5, counts.Length);
        var bad = counts.Where(c => !c.EndsWith("| broken:  | overflow: 0", StringComparison.Ordinal)).ToList();
        Assert.True(bad.Count == 0, "counts broken inside a part or wider than their box:\n" + string.Join("\n", bad));
        await owner.Page.Context.CloseAsync();
    }
}
