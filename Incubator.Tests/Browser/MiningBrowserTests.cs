using Incubator.Domain.Review;
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
        await owner.WaitForUrlAsync(new System.Text.RegularExpressions.Regex($"/projects/{projectId}/tasks/{taskId}/mine$"));
        await owner.WaitInteractiveAsync();
        await Expect(owner.Page.GetByTestId("mining-no-corpus")).ToBeVisibleAsync();
        await owner.ClickAsync("mining-go-corpora");
        await owner.WaitForUrlAsync(new System.Text.RegularExpressions.Regex($"/projects/{projectId}/corpora$"));
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
        // The row's detail is the reader's code said through the resources (as the upload's error would be).
        await Expect(owner.Page.Locator("[data-testid=bad-row][data-line='3'] [data-testid=bad-row-detail]")).ToHaveTextAsync("Line 3: the text is empty.");
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
        await owner.WaitForUrlAsync(new System.Text.RegularExpressions.Regex($"/tasks/{taskId}/review\\?run="));
        await owner.WaitInteractiveAsync();
        await Expect(owner.Page.GetByTestId("filter-run")).ToBeVisibleAsync();
        await Expect(owner.Page.GetByTestId("review-text")).ToHaveCountAsync(created);
        await Expect(owner.Page.GetByTestId("review-source-mining")).ToHaveCountAsync(created);
        var shown = await owner.Page.GetByTestId("review-text").AllInnerTextsAsync();
        Assert.All(shown, t => Assert.Contains(t.Trim(), texts));

        await owner.Page.Context.CloseAsync();
    }

    [Fact]
    public async Task Upload_and_import_show_their_progress_in_percent()
    {
        using var portal = new PortalFactory(realServer: true);
        using var folder = new TempFolder("incubator-mining-progress");
        var owner = await PortalBrowser.OpenAsync(browser.Browser, portal.ServerAddress);
        await owner.RegisterAsync("p-owner@example.com", Password);
        var projectId = await owner.CreateProjectAsync("Progress");
        await owner.GotoAsync($"/projects/{projectId}/corpora");

        // 9,000 distinct lines: four stored batches of 2,000 rows, each a progress report.
        const int lines = 9000;
        var file = Path.Combine(folder.Path, "messages.txt");
        await File.WriteAllLinesAsync(file, Enumerable.Range(0, lines).Select(i => $"customer message {i} about order {i * 7 % 1000} and its delivery"));
        await owner.Page.GetByTestId("corpus-file").SetInputFilesAsync(file);
        await Expect(owner.Page.GetByTestId("corpus-preview")).ToContainTextAsync("customer message 0");

        // Record every text the progress caption shows. Two renders can reach the page in one task, and the observer
        // then runs once for both, so the texts come from the mutation records (old values of changed text nodes and
        // text of added ones), not from the caption as it stands when the observer runs.
        await owner.Page.EvaluateAsync(@"() => {
            window.__progress = [];
            const push = t => { if (t && window.__progress[window.__progress.length - 1] !== t) window.__progress.push(t); };
            const inCaption = n => { const e = n.nodeType === 1 ? n : n.parentElement; return !!(e && e.closest('[data-testid=corpus-progress-text]')); };
            new MutationObserver(records => {
                for (const r of records) {
                    if (r.type === 'characterData' && inCaption(r.target)) { push(r.oldValue); push(r.target.textContent); }
                    if (r.type === 'childList') for (const n of r.addedNodes) {
                        if (inCaption(n)) push(n.textContent);
                        else if (n.querySelector) { const c = n.querySelector('[data-testid=corpus-progress-text]'); if (c) push(c.textContent); }
                    }
                }
            }).observe(document.body, { subtree: true, childList: true, characterData: true, characterDataOldValue: true });
        }");
        await owner.ClickAsync("corpus-upload");
        await Expect(owner.Page.GetByTestId("import-report")).ToBeVisibleAsync(new() { Timeout = 60_000 });
        await Expect(owner.Page.GetByTestId("report-kept")).ToContainTextAsync(lines.ToString("N0", System.Globalization.CultureInfo.InvariantCulture));
        await Expect(owner.Page.GetByTestId("corpus-progress")).ToHaveCountAsync(0);

        var seen = await owner.Page.EvaluateAsync<string[]>("() => window.__progress");
        var all = string.Join(" | ", seen);
        // The upload's last report is the whole file.
        Assert.Contains(seen, t => t.StartsWith("Uploading ", StringComparison.Ordinal) && t.Contains("(100 %)", StringComparison.Ordinal));
        // The import reported stored batches with their row counts and a percentage below 100 on the way.
        var reading = seen.Where(t => t.StartsWith("Reading the file: ", StringComparison.Ordinal) && t.Contains("rows so far", StringComparison.Ordinal)).ToList();
        Assert.True(reading.Count >= 2, all);
        Assert.Contains(reading, t => t.Contains("2,000 rows so far", StringComparison.Ordinal));
        Assert.Contains(reading, t => System.Text.RegularExpressions.Regex.IsMatch(t, @": ([1-9]|[1-9][0-9]) %"));
        await owner.Page.Context.CloseAsync();
    }

    /// <summary>Failed jobs without a note (the worker gave up, or a version before every failure had one): each page says
    /// "Failed: <the job's error>" in the reader's sentence, never the bare error or the state alone. Before: the mining
    /// and self-training rows showed the bare English error, and the corpora page said only that embedding had "Failed".</summary>
    [Fact]
    public async Task Failed_mining_self_training_and_embedding_jobs_without_a_note_show_their_error_as_the_reason()
    {
        using var portal = new PortalFactory(realServer: true);
        var owner = await PortalBrowser.OpenAsync(browser.Browser, portal.ServerAddress);
        await owner.RegisterAsync("m-fail@example.com", Password);
        var projectId = await owner.CreateProjectAsync("Failed mining");
        var taskId = await portal.CreateTaskAsync("m-fail@example.com", projectId, MiningFixtures.EnglishTask);
        const string error = "Gave up after 5 attempts: the job was interrupted every time.";
        await portal.QueryAsync(async db =>
        {
            Incubator.Domain.Jobs.Job Failed(string kind) => new()
            {
                Id = Guid.NewGuid(), ProjectId = projectId, Kind = kind, Title = kind, State = Incubator.Domain.Jobs.JobState.Failed,
                Error = error, CreatedAt = DateTimeOffset.UtcNow, FinishedAt = DateTimeOffset.UtcNow,
            };
            var embed = Failed(Incubator.Domain.Mining.CorpusEmbeddingJob.KindName);
            var mine = Failed(Incubator.Domain.Mining.MiningRunJob.KindName);
            var selfTrain = Failed(Incubator.Domain.Mining.SelfTrainingJob.KindName);
            db.Jobs.AddRange(embed, mine, selfTrain);
            var corpus = new Incubator.Domain.Mining.Corpus
            {
                Id = Guid.NewGuid(), ProjectId = projectId, State = Incubator.Domain.Mining.CorpusState.Ready, Name = "support.txt", FileName = "support.txt",
                Encoding = "utf-8", TextCount = 3, RowsRead = 3, Embedder = Incubator.Domain.Embeddings.MiniLmEmbedder.ModelName, EmbeddingJobId = embed.Id, CreatedAt = DateTimeOffset.UtcNow,
            };
            db.Corpora.Add(corpus);
            var run = new Incubator.Domain.Mining.MiningRun
            {
                Id = Guid.NewGuid(), ProjectId = projectId, TaskId = taskId, TaskVersionNumber = 1, CorpusId = corpus.Id, CorpusName = corpus.Name,
                Embedder = corpus.Embedder, PerLabel = 5, JobId = mine.Id, CreatedAt = DateTimeOffset.UtcNow,
            };
            db.MiningRuns.Add(run);
            db.MiningRuns.Add(new Incubator.Domain.Mining.MiningRun
            {
                Id = Guid.NewGuid(), ProjectId = projectId, TaskId = taskId, TaskVersionNumber = 1, CorpusId = corpus.Id, CorpusName = corpus.Name,
                Embedder = corpus.Embedder, PerLabel = 5, JobId = selfTrain.Id, SourceRunId = run.Id, CreatedAt = DateTimeOffset.UtcNow.AddSeconds(1),
            });
            return await db.SaveChangesAsync();
        });

        await owner.GotoAsync($"/projects/{projectId}/corpora");
        await Expect(owner.Page.GetByTestId("corpus-embedding-error")).ToHaveTextAsync($"Failed: {error}");
        await owner.GotoAsync($"/projects/{projectId}/tasks/{taskId}/mine");
        await Expect(owner.Page.GetByTestId("mining-run-note")).ToHaveTextAsync($"Failed: {error}");
        await Expect(owner.Page.GetByTestId("st-note")).ToHaveTextAsync($"Failed: {error}");

        await owner.Page.Context.CloseAsync();
    }
}
