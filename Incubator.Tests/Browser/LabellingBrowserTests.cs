using System.Text;
using Incubator.Domain.Common.TextFiles;
using Incubator.Domain.Mining;
using Incubator.Domain.Review;
using Incubator.Tests.Fakes;
using Incubator.Tests.Infrastructure;
using Incubator.Tests.Labelling;
using Incubator.Tests.Mining;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static Microsoft.Playwright.Assertions;

namespace Incubator.Tests.Browser;

/// <summary>From the mining page to the LLM labelling page: the estimate, a start, the run's counters moving while it
/// works (a batch held at the fake server), the end in the database's numbers, and the queue with the miner's label
/// beside each LLM label, disagreements first.</summary>
[Collection(BrowserCollection.Name)]
public sealed class LabellingBrowserTests(BrowserFixture browser)
{
    [Fact]
    public async Task Label_a_corpus_watch_it_live_and_review_disagreements_first()
    {
        await using var llm = await FakeOpenAiServer.StartAsync();
        using var hold = new ManualResetEventSlim(false);
        var calls = 0;
        llm.DefaultResponder = r =>
        {
            if (Interlocked.Increment(ref calls) == 2) hold.Wait(TimeSpan.FromSeconds(60));
            return LabellingFixture.Answer(r);
        };
        using var portal = new PortalFactory(realServer: true)
            .With("Llm:Provider", "OpenAICompatible").With("Llm:Endpoint", llm.OpenAIEndpoint).With("Llm:Model", "fake").With("Llm:MaxConcurrency", "1");
        var owner = await PortalBrowser.OpenAsync(browser.Browser, portal.ServerAddress);
        await owner.RegisterAsync("l-owner@example.com", "Incub8tor-pass");
        var projectId = await owner.CreateProjectAsync("Labelling");
        var taskId = await portal.CreateTaskAsync("l-owner@example.com", projectId, MiningFixtures.EnglishTask);
        using (var stream = new MemoryStream(new UTF8Encoding(false).GetBytes(string.Join("\n", LabellingFixture.Texts))))
            await portal.Services.GetRequiredService<CorpusService>().ImportAsync(await portal.UserIdAsync("l-owner@example.com"), projectId, null,
                "support.txt", stream, new TextFileOptions(TextFileFormat.Txt));

        // Reviewed samples of two labels: the mining page's active-learning line counts the queue's pending texts. A second
        // tab keeps the mining page open while the labelling runs, and its line must follow the run's new pending texts.
        await portal.SeedApprovedAsync(projectId, taskId, TrainingSeed.MailSamples(QuickModel.MinPerLabel));
        var mine = new PortalBrowser(await owner.Page.Context.NewPageAsync(), portal.ServerAddress);
        await mine.GotoAsync($"/projects/{projectId}/tasks/{taskId}/mine");
        await Expect(mine.Page.GetByTestId("al-queue")).ToContainTextAsync("(0 of 0 pending scored)");
        // And a third keeps the task's review queue open: its counters and rows must follow the run too.
        var queue = new PortalBrowser(await owner.Page.Context.NewPageAsync(), portal.ServerAddress);
        await queue.GotoAsync($"/projects/{projectId}/tasks/{taskId}/review");
        await Expect(queue.Page.GetByTestId("review-counts")).ToHaveAttributeAsync("data-pending", "0");

        await owner.GotoAsync($"/projects/{projectId}/tasks/{taskId}/mine");
        await owner.ClickAsync("mine-label-llm");
        await owner.WaitForUrlAsync(new System.Text.RegularExpressions.Regex($"/projects/{projectId}/tasks/{taskId}/label$"));
        await owner.WaitInteractiveAsync();
        await owner.FillAsync("label-limit", "12");
        await owner.FillAsync("label-batch", "5");
        await owner.Page.Keyboard.PressAsync("Tab");
        await Expect(owner.Page.Locator("[data-testid=label-estimate-calls][data-calls='3']")).ToHaveCountAsync(1);
        await owner.ClickAsync("label-start");

        // Live: the first batch's counts arrive while the second batch is still with the model.
        var row = owner.Page.GetByTestId("label-run-state");
        await Expect(owner.Page.Locator("[data-testid=label-run-state][data-done='5'][data-total='12']")).ToHaveCountAsync(1, new() { Timeout = 120_000 });
        await Expect(row.Locator("[data-testid=job-state]")).ToHaveAttributeAsync("data-state", "Running");
        // The mining tab's stepper counts the first batch's texts among the task's samples while the second is held.
        var heldSamples = await portal.QueryAsync(db => db.Candidates.CountAsync(c => c.TaskId == taskId && c.Stage == CandidateStage.Selected));
        Assert.True(heldSamples > 2 * QuickModel.MinPerLabel);
        await Expect(mine.Page.GetByTestId("step-Collect").GetByTestId("step-count")).ToContainTextAsync($"{heldSamples} samples · ");
        hold.Set();
        await Expect(owner.Page.Locator("[data-testid=label-run-state][data-state=Succeeded]")).ToHaveCountAsync(1, new() { Timeout = 120_000 });

        var candidates = await portal.QueryAsync(db => db.Candidates.Where(c => c.TaskId == taskId && c.Source == CandidateSource.LlmLabelled).ToListAsync());
        Assert.Equal(LabellingFixture.Labelled, candidates.Count);
        var pending = await portal.QueryAsync(db => db.Candidates.CountAsync(c => c.TaskId == taskId && c.Status == CandidateStatus.Pending && c.Stage == CandidateStage.Selected));
        Assert.Equal(candidates.Count, pending);
        await Expect(mine.Page.GetByTestId("al-queue")).ToContainTextAsync($"of {pending} pending scored)");
        await mine.Page.CloseAsync();
        await Expect(queue.Page.GetByTestId("review-counts")).ToHaveAttributeAsync("data-pending", pending.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await Expect(queue.Page.Locator("[data-testid=review-status][data-status=Pending]")).ToHaveCountAsync(pending);
        await queue.Page.CloseAsync();
        var counts = owner.Page.GetByTestId("label-run-counts");
        await Expect(counts).ToHaveAttributeAsync("data-labelled", candidates.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await Expect(counts).ToHaveAttributeAsync("data-none", "1");
        await Expect(counts).ToHaveAttributeAsync("data-rejected", "5");

        await owner.ClickAsync("label-run-review");
        await owner.WaitForUrlAsync(new System.Text.RegularExpressions.Regex($"/tasks/{taskId}/review\\?source=LlmLabelled"));
        await owner.WaitInteractiveAsync();
        var miner = owner.Page.GetByTestId("review-miner-label");
        await Expect(miner).ToHaveCountAsync(candidates.Count);
        var agrees = new List<string?>();
        for (var i = 0; i < candidates.Count; i++) agrees.Add(await miner.Nth(i).GetAttributeAsync("data-agrees"));
        var disagreed = candidates.Count(c => c.MinerLabel != c.Label);
        Assert.Equal(Enumerable.Repeat("false", disagreed).Concat(Enumerable.Repeat("true", candidates.Count - disagreed)), agrees);

        // Focus mode shows the miner's label under the LLM's too.
        await owner.ClickAsync("focus-mode");
        await Expect(owner.Page.GetByTestId("focus-miner-label")).ToBeVisibleAsync(new() { Timeout = 30_000 });
        var shown = await owner.Page.GetByTestId("focus-text").InnerTextAsync();
        var current = candidates.Single(c => c.Text == shown.Trim());
        await Expect(owner.Page.GetByTestId("focus-miner-label")).ToContainTextAsync(current.MinerLabel!);

        await owner.Page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_refusal_that_belongs_to_no_field_is_said_on_the_form_not_swallowed()
    {
        await using var llm = await FakeOpenAiServer.StartAsync();
        llm.DefaultResponder = LabellingFixture.Answer;
        using var portal = new PortalFactory(realServer: true)
            .With("Llm:Provider", "OpenAICompatible").With("Llm:Endpoint", llm.OpenAIEndpoint).With("Llm:Model", "fake");
        var owner = await PortalBrowser.OpenAsync(browser.Browser, portal.ServerAddress);
        await owner.RegisterAsync("l-cap@example.com", "Incub8tor-pass");
        var projectId = await owner.CreateProjectAsync("Capped labelling");
        var taskId = await portal.CreateTaskAsync("l-cap@example.com", projectId, MiningFixtures.EnglishTask);
        var ownerId = await portal.UserIdAsync("l-cap@example.com");
        using (var stream = new MemoryStream(new UTF8Encoding(false).GetBytes(string.Join("\n", LabellingFixture.Texts))))
            await portal.Services.GetRequiredService<CorpusService>().ImportAsync(ownerId, projectId, null, "support.txt", stream, new TextFileOptions(TextFileFormat.Txt));
        // The project has spent its day's tokens on the site's connection: the service refuses the estimate and the
        // start with the cap (a refusal about the connection, not about any field of the form).
        await portal.QueryAsync(async db =>
        {
            db.SiteSettings.Add(new Incubator.Domain.Accounts.SiteSettings { DailyTokensPerProject = 1000 });
            db.LlmSpend.Add(new Incubator.Domain.Llm.LlmSpend { At = DateTimeOffset.UtcNow, UserId = ownerId, ProjectId = projectId, Tokens = 1000 });
            return await db.SaveChangesAsync();
        });

        await owner.GotoAsync($"/projects/{projectId}/tasks/{taskId}/label");
        await Expect(owner.Page.GetByTestId("label-start")).ToBeEnabledAsync();
        await owner.ClickAsync("label-start");
        // Before: the refusal went to a field list that shows only the form's four fields, and Start seemed to do nothing.
        await Expect(owner.Page.GetByTestId("label-error")).ToContainTextAsync("1,000 of 1,000 tokens used today");
        Assert.Equal(0, await portal.QueryAsync(db => db.LabellingRuns.CountAsync()));
        Assert.Empty(llm.ChatRequests);

        await owner.Page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_failed_run_without_a_note_shows_its_error_as_the_reason()
    {
        using var portal = new PortalFactory(realServer: true);
        var owner = await PortalBrowser.OpenAsync(browser.Browser, portal.ServerAddress);
        await owner.RegisterAsync("l-fail@example.com", "Incub8tor-pass");
        var projectId = await owner.CreateProjectAsync("Failed labelling");
        var taskId = await portal.CreateTaskAsync("l-fail@example.com", projectId, MiningFixtures.EnglishTask);
        // A run its job ended without a note: the worker gave up on it (or a version before every failure had one).
        const string error = "Gave up after 5 attempts: the job was interrupted every time.";
        await portal.QueryAsync(async db =>
        {
            var jobId = Guid.NewGuid();
            db.Jobs.Add(new Incubator.Domain.Jobs.Job
            {
                Id = jobId, ProjectId = projectId, Kind = Incubator.Domain.Labelling.LabellingRunJob.KindName, Title = "Label", State = Incubator.Domain.Jobs.JobState.Failed,
                Error = error, CreatedAt = DateTimeOffset.UtcNow, FinishedAt = DateTimeOffset.UtcNow,
            });
            db.LabellingRuns.Add(new Incubator.Domain.Labelling.LabellingRun
            {
                Id = Guid.NewGuid(), ProjectId = projectId, TaskId = taskId, TaskVersionNumber = 1, CorpusName = "support.txt", ConnectionName = "c", Model = "m",
                BatchSize = 5, JobId = jobId, CreatedAt = DateTimeOffset.UtcNow,
            });
            return await db.SaveChangesAsync();
        });

        await owner.GotoAsync($"/projects/{projectId}/tasks/{taskId}/label");
        await Expect(owner.Page.Locator("[data-testid=label-run-state][data-state=Failed]")).ToHaveCountAsync(1);
        // Before: the state chip said "Failed" and nothing said why.
        await Expect(owner.Page.GetByTestId("label-run-note")).ToHaveTextAsync($"Failed: {error}");

        await owner.Page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_corpus_imported_while_the_page_is_open_can_be_chosen_without_a_reload()
    {
        await using var llm = await FakeOpenAiServer.StartAsync();
        llm.DefaultResponder = LabellingFixture.Answer;
        using var portal = new PortalFactory(realServer: true)
            .With("Llm:Provider", "OpenAICompatible").With("Llm:Endpoint", llm.OpenAIEndpoint).With("Llm:Model", "fake");
        var owner = await PortalBrowser.OpenAsync(browser.Browser, portal.ServerAddress);
        await owner.RegisterAsync("l-live@example.com", "Incub8tor-pass");
        var projectId = await owner.CreateProjectAsync("Live corpora");
        var taskId = await portal.CreateTaskAsync("l-live@example.com", projectId, MiningFixtures.EnglishTask);
        await owner.GotoAsync($"/projects/{projectId}/tasks/{taskId}/label");
        await Expect(owner.Page.GetByTestId("label-missing")).ToBeVisibleAsync();

        // The corpus is uploaded in another tab (here: the service) and its import finishes.
        using (var stream = new MemoryStream(new UTF8Encoding(false).GetBytes(string.Join("\n", LabellingFixture.Texts))))
            await portal.Services.GetRequiredService<CorpusService>().ImportAsync(await portal.UserIdAsync("l-live@example.com"), projectId, null,
                "support.txt", stream, new TextFileOptions(TextFileFormat.Txt));
        // Before: the page kept saying there is no corpus until it was reloaded.
        await Expect(owner.Page.GetByTestId("label-missing")).ToHaveCountAsync(0);
        await Expect(owner.Page.Locator("[data-testid=label-estimate-calls][data-calls='1']")).ToHaveCountAsync(1);
        await Expect(owner.Page.GetByTestId("label-start")).ToBeEnabledAsync();

        await owner.Page.Context.CloseAsync();
    }
}
