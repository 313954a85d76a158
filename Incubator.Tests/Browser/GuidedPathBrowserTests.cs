using System.IO.Compression;
using System.Text.RegularExpressions;
using Incubator.Domain.Datasets;
using Incubator.Domain.Generation;
using Incubator.Domain.Review;
using Incubator.Domain.Training;
using Incubator.Tests.Fakes;
using Incubator.Tests.Generation;
using Incubator.Tests.Infrastructure;
using Incubator.Web.Components.Pages.Shared;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Incubator.Tests.Browser;

/// <summary>Issue 18's guided path, as a person walks it: a template task, a generation run against the fake
/// OpenAI-compatible server, "Review these samples" into the queue filtered to the run, approve, "Freeze and train",
/// publish and download — the stepper's states and counts (read from the database) and each page's next action checked
/// on the way; then the same walk in the Japanese UI.</summary>
[Collection(BrowserCollection.Name)]
public sealed class GuidedPathBrowserTests(BrowserFixture browser)
{
    private const string Password = "Incub8tor-pass";
    private const int PerLabel = 6;
    // The Japanese "food or movies" template: character n-grams everywhere, so no encoder is loaded on the way.
    private const string Template = "builtin:food-or-movies:ja";
    private static readonly string[] Labels = ["食べ物の話", "映画の話"];

    private static ILocator Step(PortalBrowser b, string step) => b.Page.GetByTestId($"step-{step}");

    private static async Task ExpectStatesAsync(PortalBrowser b, params (string Step, string State)[] states)
    {
        foreach (var (step, state) in states)
            await Expect(Step(b, step)).ToHaveAttributeAsync("data-state", state, new() { Timeout = 30_000 });
    }

    /// <summary>A portal whose site connection is the fake server, answering with a sample per label.</summary>
    private static PortalFactory PortalAnswering(FakeOpenAiServer fake)
    {
        fake.DefaultResponder = FakeOpenAiServer.LabelWriter(Labels, FakeSamples.Sentence, delay: TimeSpan.FromMilliseconds(30));
        return new PortalFactory(realServer: true)
            .With("Llm:Provider", "OpenAICompatible")
            .With("Llm:Endpoint", fake.OpenAIEndpoint)
            .With("Llm:Model", "fake-model")
            .With("Llm:MaxConcurrency", "2");
    }

    /// <summary>Defines the task from the template (<paramref name="language"/>: the toggle's text) and returns its id,
    /// on the task page.</summary>
    private static async Task<Guid> DefineFromTemplateAsync(PortalBrowser b, Guid projectId, string language)
    {
        await b.GotoAsync($"/projects/{projectId}/tasks/new");
        await b.Page.GetByTestId("template-language").GetByText(language).ClickAsync();
        await b.Page.Locator($"[data-testid=template-card][data-template='{Template}']").GetByTestId("use-template").ClickAsync();
        await Expect(b.Page.Locator("input[data-testid=label-name-0], [data-testid=label-name-0] input").First).ToHaveValueAsync(Labels[0]);
        await b.ClickAsync("save-task");
        await b.WaitForUrlAsync(new System.Text.RegularExpressions.Regex("/tasks/[0-9a-f-]{36}$"));
        await b.WaitInteractiveAsync();
        return Guid.Parse(b.Page.Url[^36..]);
    }

    /// <summary>From the task page's Collect step to a finished run against the fake server (the slim bar still says
    /// Collect on the generate page); returns the run's id, on its page.</summary>
    private static async Task<Guid> GenerateFromStepperAsync(PortalBrowser b)
    {
        await Step(b, "Collect").GetByTestId("step-link").ClickAsync();
        await b.WaitForUrlAsync(new System.Text.RegularExpressions.Regex("/generate$"));
        await b.WaitInteractiveAsync();
        await Expect(b.Page.GetByTestId("stepper")).ToHaveAttributeAsync("data-current", "Collect");
        await b.FillAsync("gen-per-label", PerLabel.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await b.ClickAsync("gen-start");
        await b.WaitForUrlAsync(new System.Text.RegularExpressions.Regex("/runs/[0-9a-f-]{36}$"));
        await b.WaitInteractiveAsync();
        var runId = Guid.Parse(b.Page.Url[^36..]);
        await Expect(b.Page.GetByTestId("run-state")).ToHaveAttributeAsync("data-state", "Succeeded", new() { Timeout = 90_000 });
        return runId;
    }

    [Fact]
    public async Task The_stepper_and_next_actions_lead_from_a_template_task_to_a_published_model()
    {
        await using var fake = await FakeOpenAiServer.StartAsync();
        using var portal = PortalAnswering(fake);
        var author = await PortalBrowser.OpenAsync(browser.Browser, portal.ServerAddress);
        await author.RegisterAsync("guided@example.com", Password, "Guide Person");
        // The user menu greets by display name, not by address.
        await Expect(author.Page.GetByTestId("user-menu")).ToContainTextAsync("Guide Person");
        var projectId = await author.CreateProjectAsync("Guided path");

        // Define: from a template.
        var taskId = await DefineFromTemplateAsync(author, projectId, "Japanese");

        // The task page: the full stepper, the next step is to collect samples; mining and models are one click away.
        var stepper = author.Page.GetByTestId("stepper");
        await Expect(stepper).ToHaveAttributeAsync("data-current", "Collect");
        await ExpectStatesAsync(author, ("Define", "Done"), ("Collect", "NotStarted"), ("Review", "NotStarted"), ("Train", "NotStarted"), ("Publish", "NotStarted"));
        await Expect(Step(author, "Define").GetByTestId("step-count")).ToHaveTextAsync("2 labels · version 1");
        await Expect(Step(author, "Review").GetByTestId("step-count")).ToHaveTextAsync($"0 of {2 * Incubator.Domain.Tasks.GetTaskProgress.MinimumApprovedPerLabel} approved");
        await Expect(author.Page.GetByTestId("task-mine")).ToHaveAttributeAsync("href", $"projects/{projectId}/tasks/{taskId}/mine");
        await Expect(author.Page.GetByTestId("task-models")).ToHaveAttributeAsync("href", $"projects/{projectId}/models?task={taskId}");
        await Expect(Step(author, "Collect").GetByTestId("step-mine")).ToHaveAttributeAsync("href", $"projects/{projectId}/tasks/{taskId}/mine");

        // Generate: the slim bar is there too.
        var runId = await GenerateFromStepperAsync(author);

        // The run page: collected, review is next, and the run ends with "Review these samples" filtered to it.
        await ExpectStatesAsync(author, ("Collect", "Done"), ("Review", "Active"));
        await Expect(author.Page.GetByTestId("stepper")).ToHaveAttributeAsync("data-current", "Review");
        var selected = 2 * PerLabel;
        Assert.Equal(selected, await portal.QueryAsync(db => db.Candidates.CountAsync(c => c.TaskId == taskId && c.Stage == CandidateStage.Selected)));
        await Expect(Step(author, "Collect").GetByTestId("step-count")).ToHaveTextAsync($"{selected} samples · 1 run");
        // Money with its currency (the site's, USD unless configured).
        await Expect(author.Page.GetByTestId("run-cost")).ToContainTextAsync("≈ $");
        await Expect(Step(author, "Review").GetByTestId("step-count")).ToHaveTextAsync($"0 of {selected} approved");
        var reviewThese = author.Page.GetByTestId("next-review-run");
        await Expect(reviewThese).ToHaveAttributeAsync("href", $"projects/{projectId}/tasks/{taskId}/review?run={runId}");
        await reviewThese.ClickAsync();
        await author.WaitForUrlAsync(new System.Text.RegularExpressions.Regex($"/review\\?run={runId}$"));
        await author.WaitInteractiveAsync();
        await Expect(author.Page.GetByTestId("filter-run")).ToBeVisibleAsync();
        await Expect(author.Page.GetByTestId("review-text")).ToHaveCountAsync(selected);

        // The queue: nothing approved yet, so no "Freeze and train"; it says what is short.
        await Expect(author.Page.GetByTestId("next-not-ready")).ToContainTextAsync($"{Labels[0]} 0/{PerLabel}");
        await Expect(author.Page.GetByTestId("next-freeze-train")).ToHaveCountAsync(0);
        await author.ClickAsync("bulk-approve");
        await author.Page.Locator(".mud-dialog .mud-dialog-actions button").Last.ClickAsync();
        await Expect(author.Page.GetByTestId("review-counts")).ToHaveAttributeAsync("data-approved", selected.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await ExpectStatesAsync(author, ("Review", "Done"));
        await Expect(Step(author, "Review").GetByTestId("step-count")).ToHaveTextAsync($"{selected} of {selected} approved");
        await Expect(author.Page.GetByTestId("stepper")).ToHaveAttributeAsync("data-current", "Train");

        // Freeze and train: one click freezes the approved samples and opens the model while it trains.
        await author.ClickAsync("next-freeze-train");
        await author.WaitForUrlAsync(new System.Text.RegularExpressions.Regex("/models/[0-9a-f-]{36}$"));
        await author.WaitInteractiveAsync();
        var modelId = Guid.Parse(author.Page.Url[^36..]);
        await Expect(author.Page.GetByTestId("model-state")).ToHaveAttributeAsync("data-state", "Draft", new() { Timeout = 120_000 });
        var dataset = await portal.QueryAsync(db => db.DatasetVersions.AsNoTracking().SingleAsync(d => d.TaskId == taskId));
        Assert.Equal(selected, dataset.Count);
        await ExpectStatesAsync(author, ("Train", "Done"), ("Publish", "NotStarted"));
        await Expect(author.Page.GetByTestId("stepper")).ToHaveAttributeAsync("data-current", "Publish");
        await Expect(Step(author, "Train").GetByTestId("step-count")).ToHaveTextAsync("1 model trained");

        // The model page ends with Publish, Try in Playground and Download.
        await Expect(author.Page.GetByTestId("next-playground")).ToHaveAttributeAsync("href", $"projects/{projectId}/playground?model={modelId}");
        await Expect(author.Page.GetByTestId("next-download")).ToHaveAttributeAsync("href", $"api/models/{modelId}/bundle");
        await author.ClickAsync("next-publish");
        await Expect(author.Page.GetByTestId("model-state")).ToHaveAttributeAsync("data-state", "Published");
        await ExpectStatesAsync(author, ("Publish", "Done"));
        await Expect(Step(author, "Publish").GetByTestId("step-count")).ToHaveTextAsync("v1 published");
        await Expect(author.Page.GetByTestId("next-publish")).ToHaveCountAsync(0);
        var download = await author.Page.RunAndWaitForDownloadAsync(() => author.ClickAsync("next-download"));
        using (var zip = ZipFile.OpenRead((await download.PathAsync())!))
            Assert.NotNull(zip.GetEntry("model.onnx"));

        // Back on the task page every step is done and links to where it happened.
        await author.GotoAsync($"/projects/{projectId}/tasks/{taskId}");
        await ExpectStatesAsync(author, ("Define", "Done"), ("Collect", "Done"), ("Review", "Done"), ("Train", "Done"), ("Publish", "Done"));
        await Expect(Step(author, "Publish").GetByTestId("step-link")).ToHaveAttributeAsync("href", $"projects/{projectId}/models/{modelId}");
        // The review charts: per label from the same counts, and the day's decisions.
        await Expect(author.Page.GetByTestId("review-chart-labels")).ToHaveAttributeAsync("data-approved", $"{PerLabel},{PerLabel}");
        await Expect(author.Page.GetByTestId("review-chart-days")).ToHaveAttributeAsync("data-approved", selected.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await Expect(author.Page.GetByTestId("review-chart-labels").Locator("svg").First).ToBeVisibleAsync();
        await author.Page.Context.CloseAsync();
    }

    /// <summary>Texts with letters but no Japanese: sentences the Japanese UI shows in English. The labels and samples
    /// here are Japanese, so data cannot pass for a translated sentence; bare numbers and codes have no letters.</summary>
    private static List<string> EnglishAmong(IEnumerable<string> texts) =>
        texts.Where(t => t.Any(char.IsAsciiLetter) && !Regex.IsMatch(t, @"[\p{IsHiragana}\p{IsKatakana}\p{IsCJKUnifiedIdeographs}]")).ToList();

    private static async Task<List<string>> TextsAsync(PortalBrowser b, params string[] testIds)
    {
        var texts = new List<string>();
        foreach (var id in testIds) texts.AddRange((await b.Page.GetByTestId(id).AllInnerTextsAsync()).Select(t => t.Trim()).Where(t => t.Length > 0));
        return texts;
    }

    /// <summary>The same path walked in the Japanese UI, in a browser in Tokyo: the stepper's states, counts and next
    /// actions in Japanese at each step, and no English sentence among the run page's, the model page's and the Jobs
    /// page's messages (run outcome, counts, job states, progress lines, the training log); the log's times are
    /// Tokyo's, not the server's.</summary>
    [Fact]
    public async Task The_whole_path_in_the_japanese_ui_speaks_japanese_in_the_readers_time_zone()
    {
        await using var fake = await FakeOpenAiServer.StartAsync();
        using var portal = PortalAnswering(fake);
        var user = await PortalBrowser.OpenAsync(browser.Browser, portal.ServerAddress, locale: "ja-JP", timezoneId: "Asia/Tokyo");
        await user.RegisterAsync("guided-ja@example.com", Password, "案内 花子");
        var projectId = await user.CreateProjectAsync("日本語の道");
        string[] titles = ["定義", "生成またはマイニング", "レビュー", "学習", "公開"];

        // Define, from the Japanese template.
        var taskId = await DefineFromTemplateAsync(user, projectId, "日本語");
        await Expect(user.Page.GetByTestId("stepper").GetByTestId("step-title")).ToHaveTextAsync(titles);
        await Expect(user.Page.GetByTestId("stepper")).ToHaveAttributeAsync("data-current", "Collect");
        await ExpectStatesAsync(user, ("Define", "Done"), ("Collect", "NotStarted"), ("Review", "NotStarted"), ("Train", "NotStarted"), ("Publish", "NotStarted"));
        await Expect(Step(user, "Define").GetByTestId("step-count")).ToHaveTextAsync("ラベル 2 個 · バージョン 1");
        var minimum = 2 * Incubator.Domain.Tasks.GetTaskProgress.MinimumApprovedPerLabel;
        await Expect(Step(user, "Review").GetByTestId("step-count")).ToHaveTextAsync($"{minimum} 件中 0 件承認済み");
        await Expect(Step(user, "Collect").GetByTestId("step-link")).ToHaveTextAsync("生成する");

        // Generate against the fake server.
        var runId = await GenerateFromStepperAsync(user);

        // The run page: the slim stepper, the outcome and counts, the next action — all Japanese.
        var selected = 2 * PerLabel;
        await ExpectStatesAsync(user, ("Collect", "Done"), ("Review", "Active"));
        await Expect(Step(user, "Collect").GetByTestId("step-count")).ToHaveTextAsync($"1 回の実行で {selected} 件のサンプル");
        await Expect(Step(user, "Review").GetByTestId("step-count")).ToHaveTextAsync($"{selected} 件中 0 件承認済み");
        await Expect(user.Page.GetByTestId("next-review-run")).ToContainTextAsync("これらのサンプルをレビュー");
        var runTexts = await TextsAsync(user, "run-state", "run-outcome", "run-shortfall", "run-selected-total", "run-label-counts", "run-rejected-item",
            "run-rejected-detail", "run-surplus", "step-title", "step-count", "next-review-run");
        Assert.True(runTexts.Count >= 10, string.Join(" | ", runTexts));
        var english = EnglishAmong(runTexts);
        Assert.True(english.Count == 0, "English on the Japanese run page: " + string.Join(" | ", english));

        // Review: the queue says what is short, then offers "freeze and train" once everything is approved.
        await user.ClickAsync("next-review-run");
        await user.WaitForUrlAsync(new System.Text.RegularExpressions.Regex($"/review\\?run={runId}$"));
        await user.WaitInteractiveAsync();
        await Expect(user.Page.GetByTestId("review-text")).ToHaveCountAsync(selected);
        await Expect(user.Page.GetByTestId("next-not-ready")).ToContainTextAsync($"{Labels[0]} 0/{PerLabel}");
        await Expect(user.Page.GetByTestId("next-not-ready")).ToContainTextAsync("固定して学習");
        // The table's pager says where the page is in Japanese too (MudBlazor's own caption is English: "1-25 of 40").
        await Expect(user.Page.GetByText(new System.Text.RegularExpressions.Regex($@"^{selected} 件中 1-\d+ 件$"))).ToHaveCountAsync(1);
        await Expect(user.Page.GetByText(new System.Text.RegularExpressions.Regex(@"^\d+-\d+ of \d+$"))).ToHaveCountAsync(0);
        // The bulk buttons say how many they change: all the filters match, beyond the page of rows in view.
        await Expect(user.Page.GetByTestId("bulk-approve")).ToHaveTextAsync($"該当する {selected} 件をすべて承認");
        await Expect(user.Page.GetByTestId("bulk-reject")).ToHaveTextAsync($"該当する {selected} 件をすべて却下");
        await user.ClickAsync("bulk-approve");
        await user.Page.Locator(".mud-dialog .mud-dialog-actions button").Last.ClickAsync();
        await Expect(user.Page.GetByTestId("review-counts")).ToHaveAttributeAsync("data-approved", selected.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await ExpectStatesAsync(user, ("Review", "Done"));
        await Expect(Step(user, "Review").GetByTestId("step-count")).ToHaveTextAsync($"{selected} 件中 {selected} 件承認済み");
        await Expect(user.Page.GetByTestId("next-freeze-train")).ToHaveTextAsync("固定して学習");

        // Freeze and train: the model page, its training log and states in Japanese.
        await user.ClickAsync("next-freeze-train");
        await user.WaitForUrlAsync(new System.Text.RegularExpressions.Regex("/models/[0-9a-f-]{36}$"));
        await user.WaitInteractiveAsync();
        var modelId = Guid.Parse(user.Page.Url[^36..]);
        await Expect(user.Page.GetByTestId("model-state")).ToHaveAttributeAsync("data-state", "Draft", new() { Timeout = 120_000 });
        await ExpectStatesAsync(user, ("Train", "Done"), ("Publish", "NotStarted"));
        await Expect(Step(user, "Train").GetByTestId("step-count")).ToHaveTextAsync("学習済みモデル 1 個");
        await Expect(user.Page.GetByTestId("next-publish")).ToHaveTextAsync("公開");
        await Expect(user.Page.GetByTestId("next-playground")).ToHaveTextAsync("プレイグラウンドで試す");
        // The log as the database holds it: every line has a note, and the page says each in Japanese.
        var jobId = await portal.QueryAsync(db => db.ModelVersions.Where(m => m.Id == modelId).Select(m => m.JobId!.Value).SingleAsync());
        var stored = await portal.QueryAsync(db => db.JobLog.AsNoTracking().Where(l => l.JobId == jobId).OrderBy(l => l.Id).ToListAsync());
        Assert.All(stored, l => Assert.NotNull(l.NoteJson));
        var lines = user.Page.GetByTestId("model-log-line");
        await Expect(lines).ToHaveCountAsync(stored.Count);
        var logTexts = await lines.AllInnerTextsAsync();
        Assert.Contains(logTexts, t => t.Contains("を学習します", StringComparison.Ordinal));
        Assert.DoesNotContain(logTexts, t => t.Contains("Training ", StringComparison.Ordinal) || t.Contains("Job succeeded", StringComparison.Ordinal));
        // Times are the reader's (Tokyo, UTC+9), not the server's.
        var tokyo = TimeZoneInfo.FindSystemTimeZoneById("Asia/Tokyo");
        var firstClock = TimeZoneInfo.ConvertTime(stored[0].At, tokyo).ToString("T", new System.Globalization.CultureInfo("ja-JP"));
        Assert.StartsWith(firstClock + " · ", logTexts[0]);
        // A page opened without the zone cookie (first visit, cookie cleared): prerendered in UTC, then in the browser's
        // zone once the circuit has asked it.
        await user.Page.Context.ClearCookiesAsync(new() { Name = BrowserTimeZone.CookieName });
        await user.GotoAsync($"/projects/{projectId}/models/{modelId}");
        await Expect(lines.First).ToHaveTextAsync(new Regex("^" + Regex.Escape(firstClock + " · ")));
        Assert.Contains(await user.Page.Context.CookiesAsync(), c => c.Name == BrowserTimeZone.CookieName && c.Value == "Asia%2FTokyo");
        var modelTexts = await TextsAsync(user, "model-state", "model-log-line", "step-title", "step-count", "next-actions");
        english = EnglishAmong(modelTexts.Select(t => Regex.Replace(t, @"^[\d:]+ · ", "")));
        Assert.True(english.Count == 0, "English on the Japanese model page: " + string.Join(" | ", english));

        // Publish and download.
        await user.ClickAsync("next-publish");
        await Expect(user.Page.GetByTestId("model-state")).ToHaveAttributeAsync("data-state", "Published");
        await ExpectStatesAsync(user, ("Publish", "Done"));
        await Expect(Step(user, "Publish").GetByTestId("step-count")).ToHaveTextAsync("v1 を公開中");
        await Expect(user.Page.GetByTestId("next-download")).ToHaveTextAsync("バンドルをダウンロード");
        var download = await user.Page.RunAndWaitForDownloadAsync(() => user.ClickAsync("next-download"));
        using (var zip = ZipFile.OpenRead((await download.PathAsync())!))
            Assert.NotNull(zip.GetEntry("model.onnx"));

        // The Jobs page: both jobs' titles, states and last progress lines, in Japanese, from their stored notes.
        var taskName = await portal.QueryAsync(db => db.Tasks.Where(t => t.Id == taskId).Select(t => t.Name).SingleAsync());
        await user.GotoAsync($"/projects/{projectId}/jobs");
        await Expect(user.Page.GetByTestId("job-progress-line")).ToHaveCountAsync(2);
        await Expect(user.Page.Locator("[data-testid=job-title-text][data-code='Title.Train']")).ToHaveTextAsync(new Regex($"^学習 · {Regex.Escape(taskName)} · v1 · 自動選択（auto）"));
        await Expect(user.Page.Locator("[data-testid=job-progress-line][data-code='Progress.TrainingDone']")).ToContainTextAsync("完了");
        await Expect(user.Page.Locator("[data-testid=job-progress-line][data-code='Progress.GenerationDone']")).ToContainTextAsync($"{selected} 件を選定");
        var jobTexts = await TextsAsync(user, "job-title-text", "job-state", "job-progress-line", "job-note");
        english = EnglishAmong(jobTexts);
        Assert.True(english.Count == 0, "English on the Japanese Jobs page: " + string.Join(" | ", english));
        await user.Page.Context.CloseAsync();
    }
}
