using System.IO.Compression;
using System.Text.RegularExpressions;
using Incubator.Domain.Datasets;
using Incubator.Domain.Generation;
using Incubator.Domain.Review;
using Incubator.Domain.Training;
using Incubator.Tests.Fakes;
using Incubator.Tests.Generation;
using Incubator.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Incubator.Tests.Browser;

/// <summary>Issue 18's guided path, as a person walks it: a template task, a generation run against the fake
/// OpenAI-compatible server, "Review these samples" into the queue filtered to the run, approve, "Freeze and train",
/// publish and download — the stepper's states and counts (read from the database) and each page's next action checked
/// on the way; then the same stepper in the Japanese UI.</summary>
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

    [Fact]
    public async Task The_stepper_and_next_actions_lead_from_a_template_task_to_a_published_model()
    {
        await using var fake = await FakeOpenAiServer.StartAsync();
        fake.DefaultResponder = FakeOpenAiServer.LabelWriter(Labels, FakeSamples.Sentence, delay: TimeSpan.FromMilliseconds(30));
        using var portal = new PortalFactory(realServer: true)
            .With("Llm:Provider", "OpenAICompatible")
            .With("Llm:Endpoint", fake.OpenAIEndpoint)
            .With("Llm:Model", "fake-model")
            .With("Llm:MaxConcurrency", "2");
        var author = await PortalBrowser.OpenAsync(browser.Browser, portal.ServerAddress);
        await author.RegisterAsync("guided@example.com", Password, "Guide Person");
        // The user menu greets by display name, not by address.
        await Expect(author.Page.GetByTestId("user-menu")).ToContainTextAsync("Guide Person");
        var projectId = await author.CreateProjectAsync("Guided path");

        // Define: from a template.
        await author.GotoAsync($"/projects/{projectId}/tasks/new");
        await author.Page.GetByTestId("template-language").GetByText("Japanese").ClickAsync();
        await author.Page.Locator($"[data-testid=template-card][data-template='{Template}']").GetByTestId("use-template").ClickAsync();
        await Expect(author.Page.Locator("input[data-testid=label-name-0], [data-testid=label-name-0] input").First).ToHaveValueAsync(Labels[0]);
        await author.ClickAsync("save-task");
        await author.Page.WaitForURLAsync(new Regex("/tasks/[0-9a-f-]{36}$"), PortalBrowser.UrlCommitted);
        await author.WaitInteractiveAsync();
        var taskId = Guid.Parse(author.Page.Url[^36..]);

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
        await Step(author, "Collect").GetByTestId("step-link").ClickAsync();
        await author.Page.WaitForURLAsync(new Regex("/generate$"), PortalBrowser.UrlCommitted);
        await author.WaitInteractiveAsync();
        await Expect(author.Page.GetByTestId("stepper")).ToHaveAttributeAsync("data-current", "Collect");
        await author.FillAsync("gen-per-label", PerLabel.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await author.ClickAsync("gen-start");
        await author.Page.WaitForURLAsync(new Regex("/runs/[0-9a-f-]{36}$"), PortalBrowser.UrlCommitted);
        await author.WaitInteractiveAsync();
        var runId = Guid.Parse(author.Page.Url[^36..]);
        await Expect(author.Page.GetByTestId("run-state")).ToHaveAttributeAsync("data-state", "Succeeded", new() { Timeout = 90_000 });

        // The run page: collected, review is next, and the run ends with "Review these samples" filtered to it.
        await ExpectStatesAsync(author, ("Collect", "Done"), ("Review", "Active"));
        await Expect(author.Page.GetByTestId("stepper")).ToHaveAttributeAsync("data-current", "Review");
        var selected = 2 * PerLabel;
        Assert.Equal(selected, await portal.QueryAsync(db => db.Candidates.CountAsync(c => c.TaskId == taskId && c.Stage == CandidateStage.Selected)));
        await Expect(Step(author, "Collect").GetByTestId("step-count")).ToHaveTextAsync($"{selected} samples · 1 run(s)");
        // Money with its currency (the site's, USD unless configured).
        await Expect(author.Page.GetByTestId("run-cost")).ToContainTextAsync("≈ $");
        await Expect(Step(author, "Review").GetByTestId("step-count")).ToHaveTextAsync($"0 of {selected} approved");
        var reviewThese = author.Page.GetByTestId("next-review-run");
        await Expect(reviewThese).ToHaveAttributeAsync("href", $"projects/{projectId}/tasks/{taskId}/review?run={runId}");
        await reviewThese.ClickAsync();
        await author.Page.WaitForURLAsync(new Regex($"/review\\?run={runId}$"), PortalBrowser.UrlCommitted);
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
        await author.Page.WaitForURLAsync(new Regex("/models/[0-9a-f-]{36}$"), PortalBrowser.UrlCommitted);
        await author.WaitInteractiveAsync();
        var modelId = Guid.Parse(author.Page.Url[^36..]);
        await Expect(author.Page.GetByTestId("model-state")).ToHaveAttributeAsync("data-state", "Draft", new() { Timeout = 120_000 });
        var dataset = await portal.QueryAsync(db => db.DatasetVersions.AsNoTracking().SingleAsync(d => d.TaskId == taskId));
        Assert.Equal(selected, dataset.Count);
        await ExpectStatesAsync(author, ("Train", "Done"), ("Publish", "NotStarted"));
        await Expect(author.Page.GetByTestId("stepper")).ToHaveAttributeAsync("data-current", "Publish");
        await Expect(Step(author, "Train").GetByTestId("step-count")).ToHaveTextAsync("1 model(s) trained");

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

    [Fact]
    public async Task The_stepper_speaks_japanese_in_the_japanese_ui()
    {
        using var portal = new PortalFactory(realServer: true);
        var user = await PortalBrowser.OpenAsync(browser.Browser, portal.ServerAddress, locale: "ja-JP");
        await user.RegisterAsync("guided-ja@example.com", Password);
        var projectId = await user.CreateProjectAsync("日本語の道");
        var userId = await portal.UserIdAsync("guided-ja@example.com");
        var taskId = await portal.CreateTaskAsync("guided-ja@example.com", projectId);
        // The same path's end state, written as the run, the review and training leave it.
        var runId = Guid.NewGuid();
        await portal.QueryAsync(db =>
        {
            db.GenerationRuns.Add(new GenerationRun
            {
                Id = runId, ProjectId = projectId, TaskId = taskId, TaskVersionId = db.TaskVersions.Single(v => v.TaskId == taskId).Id, TaskVersionNumber = 1,
                ConnectionName = "fake", Model = "m", PerLabelTarget = PerLabel, Outcome = RunOutcome.Completed, CreatedAt = DateTimeOffset.UtcNow,
            });
            return db.SaveChangesAsync();
        });
        await portal.SeedApprovedAsync(projectId, taskId, TrainingSeed.MailSamples(PerLabel), userId, runId: runId);
        var dataset = await portal.InScopeAsync(sp => sp.GetRequiredService<DatasetService>().FreezeAsync(userId, taskId));
        await portal.QueryAsync(db =>
        {
            db.ModelVersions.Add(new ModelVersion
            {
                Id = Guid.NewGuid(), ProjectId = projectId, TaskId = taskId, Number = 1, DatasetVersionId = dataset.Id, State = ModelVersionState.Published,
                CreatedAt = DateTimeOffset.UtcNow, PublishedAt = DateTimeOffset.UtcNow,
            });
            return db.SaveChangesAsync();
        });

        await user.GotoAsync($"/projects/{projectId}/tasks/{taskId}");
        string[] titles = ["定義", "生成またはマイニング", "レビュー", "学習", "公開"];
        await Expect(user.Page.GetByTestId("stepper").GetByTestId("step-title")).ToHaveTextAsync(titles);
        await ExpectStatesAsync(user, ("Define", "Done"), ("Collect", "Done"), ("Review", "Done"), ("Train", "Done"), ("Publish", "Done"));
        await Expect(Step(user, "Define").GetByTestId("step-count")).ToHaveTextAsync("ラベル 2 個 · バージョン 1");
        await Expect(Step(user, "Collect").GetByTestId("step-count")).ToHaveTextAsync($"1 回の実行で {2 * PerLabel} 件のサンプル");
        await Expect(Step(user, "Review").GetByTestId("step-count")).ToHaveTextAsync($"{2 * PerLabel} 件中 {2 * PerLabel} 件承認済み");
        await Expect(Step(user, "Train").GetByTestId("step-count")).ToHaveTextAsync("学習済みモデル 1 個");
        await Expect(Step(user, "Publish").GetByTestId("step-count")).ToHaveTextAsync("v1 を公開中");
        await Expect(user.Page.GetByTestId("task-models")).ToHaveTextAsync("モデル");

        // The slim bar and the next action on the run page.
        await user.GotoAsync($"/projects/{projectId}/runs/{runId}");
        await Expect(user.Page.GetByTestId("stepper").GetByTestId("step-title")).ToHaveTextAsync(titles);
        await Expect(user.Page.GetByTestId("next-review-run")).ToContainTextAsync("これらのサンプルをレビュー");
        await user.Page.Context.CloseAsync();
    }
}
