using Incubator.Domain.Generation;
using Incubator.Tests.Infrastructure;
using Incubator.Tests.Mining;
using Microsoft.EntityFrameworkCore;
using static Microsoft.Playwright.Assertions;

namespace Incubator.Tests.Browser;

/// <summary>The offline path end to end: the generation page without an LLM connection leads to mining; a corpus file
/// is uploaded (import report with the bad row's line number), embedded, mined for the task, and the mined candidates
/// are in the review queue filtered to the run.</summary>
[Collection(BrowserCollection.Name)]
public sealed class MiningBrowserTests(BrowserFixture browser)
{
    private const string Password = "Incub8tor-pass";

    [Fact]
    public async Task Upload_a_corpus_mine_candidates_for_a_task_and_review_them()
    {
        using var portal = new PortalFactory(realServer: true);
        using var folder = new TempFolder("incubator-mining-browser");
        var owner = await PortalBrowser.OpenAsync(browser.Browser, portal.ServerAddress);
        await owner.RegisterAsync("m-owner@example.com", Password);
        var projectId = await owner.CreateProjectAsync("Mining");
        var taskId = await portal.CreateTaskAsync("m-owner@example.com", projectId, MiningFixtures.EnglishTask);

        // No LLM connection: the generation page offers offline mining.
        await owner.GotoAsync($"/projects/{projectId}/tasks/{taskId}/generate");
        await Expect(owner.Page.GetByTestId("no-connection")).ToBeVisibleAsync();
        await owner.ClickAsync("go-mining");
        await owner.Page.WaitForURLAsync($"**/projects/{projectId}/tasks/{taskId}/mine");
        await owner.WaitInteractiveAsync();
        await Expect(owner.Page.GetByTestId("mining-no-corpus")).ToBeVisibleAsync();
        await owner.ClickAsync("mining-go-corpora");
        await owner.Page.WaitForURLAsync($"**/projects/{projectId}/corpora");
        await owner.WaitInteractiveAsync();

        var texts = MiningFixtures.Labelled().Select(l => l.Text).ToList();
        var file = Path.Combine(folder.Path, "tickets.txt");
        // Line 3 is empty (a bad row); the last line repeats the first text (a duplicate).
        await File.WriteAllLinesAsync(file, texts.Take(2).Append("").Concat(texts.Skip(2)).Append(texts[0]));
        await owner.Page.GetByTestId("corpus-file").SetInputFilesAsync(file);
        await Expect(owner.Page.GetByTestId("corpus-preview")).ToContainTextAsync(texts[0]);
        await owner.ClickAsync("corpus-upload");
        await Expect(owner.Page.GetByTestId("import-report")).ToBeVisibleAsync(new() { Timeout = 60_000 });
        await Expect(owner.Page.GetByTestId("report-kept")).ToContainTextAsync(texts.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await Expect(owner.Page.GetByTestId("report-duplicates")).ToContainTextAsync("1");
        await Expect(owner.Page.Locator("[data-testid=bad-row][data-line='3']")).ToHaveCountAsync(1);
        await Expect(owner.Page.GetByTestId("corpus-row-embedder")).ToContainTextAsync("MiniLM");
        await Expect(owner.Page.Locator("[data-testid=corpus-row-embeddings][data-ready=true]")).ToHaveCountAsync(1, new() { Timeout = 120_000 });

        await owner.GotoAsync($"/projects/{projectId}/tasks/{taskId}/mine");
        await Expect(owner.Page.GetByTestId("mine-minilm-note")).ToBeVisibleAsync();
        await owner.FillAsync("mine-per-label", "3");
        await owner.ClickAsync("mine-start");
        await Expect(owner.Page.Locator("[data-testid=mining-run-state][data-state=Succeeded]")).ToHaveCountAsync(1, new() { Timeout = 120_000 });
        var created = await portal.QueryAsync(db => db.Candidates.CountAsync(c => c.TaskId == taskId && c.Source == CandidateSource.Mining));
        Assert.InRange(created, 10, 12); // 3 for each of the three labels, and up to 3 for the other label
        await Expect(owner.Page.GetByTestId("mining-run-count")).ToHaveTextAsync(created.ToString(System.Globalization.CultureInfo.InvariantCulture));

        await owner.ClickAsync("mining-run-review");
        await owner.Page.WaitForURLAsync(new System.Text.RegularExpressions.Regex($"/tasks/{taskId}/review\\?run="));
        await owner.WaitInteractiveAsync();
        await Expect(owner.Page.GetByTestId("filter-run")).ToBeVisibleAsync();
        await Expect(owner.Page.GetByTestId("review-text")).ToHaveCountAsync(created);
        await Expect(owner.Page.GetByTestId("review-source-mining")).ToHaveCountAsync(created);
        var shown = await owner.Page.GetByTestId("review-text").AllInnerTextsAsync();
        Assert.All(shown, t => Assert.Contains(t.Trim(), texts));

        await owner.Page.Context.CloseAsync();
    }
}
