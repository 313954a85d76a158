using System.IO.Compression;
using Incubator.Domain.Projects;
using Incubator.Domain.Training;
using Incubator.Tests.Infrastructure;
using Incubator.Tests.TrainingFlow;
using Incubator.Tests.Training;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static Microsoft.Playwright.Assertions;

namespace Incubator.Tests.Browser;

/// <summary>Issue 6's browser test: an Author trains from approved data, sees the metrics and the confusion matrix,
/// publishes; a Viewer downloads the bundle and gets a prediction in the playground.</summary>
[Collection(BrowserCollection.Name)]
public sealed class TrainingBrowserTests(BrowserFixture browser)
{
    /// <summary>Starts the training the models page's form is set to, follows it to its model page and waits until it
    /// is no longer training; the task's one model version must have become a draft.</summary>
    private static async Task<ModelVersion> StartTrainingAsync(PortalFactory portal, PortalBrowser author, Guid taskId)
    {
        await author.ClickAsync("train-start");
        await author.WaitForUrlAsync(new System.Text.RegularExpressions.Regex("/models/[0-9a-f-]{36}$"));
        await author.WaitInteractiveAsync();
        await Expect(author.Page.GetByTestId("model-state")).Not.ToHaveAttributeAsync("data-state", "Training", new() { Timeout = 180_000 });
        var model = await portal.QueryAsync(db => db.ModelVersions.AsNoTracking().SingleAsync(m => m.TaskId == taskId));
        Assert.True(model.State == ModelVersionState.Draft, $"{model.State} ({model.RequestedFamily}): {model.Error}");
        return model;
    }

    [Fact]
    public async Task Author_trains_and_publishes_and_a_viewer_downloads_and_predicts()
    {
        using var portal = new PortalFactory(realServer: true);
        var url = portal.ServerAddress;
        var author = await PortalBrowser.OpenAsync(browser.Browser, url);
        await author.RegisterAsync("train-author@example.com", "Incub8tor-pass");
        var projectId = await author.CreateProjectAsync("Training project");
        await portal.RegisterAsync("train-viewer@example.com");
        var taskId = await portal.CreateTaskAsync("train-author@example.com", projectId, TrainingFlowTests.SupportTask, ("train-viewer@example.com", ProjectRole.Viewer));
        var authorId = await portal.UserIdAsync("train-author@example.com");
        var rows = TrainingFixtures.English();
        await portal.SeedApprovedAsync(projectId, taskId, rows.Select(r => (r.Label, r.Text)), authorId);

        await author.GotoAsync($"/projects/{projectId}/models");
        await Expect(author.Page.GetByTestId("dense-english-only")).ToContainTextAsync("English only");
        // The encoder choice belongs to the families that have one: offered for auto, gone for sparse.
        await Expect(author.Page.GetByTestId("train-encoder")).ToBeVisibleAsync();
        await author.SelectAsync("train-encoder", "8-bit");
        await Expect(author.Page.GetByTestId("encoder-int8-note")).ToContainTextAsync("within 0.5 points");
        await author.SelectAsync("train-family", "sparse");
        await Expect(author.Page.GetByTestId("train-start")).ToHaveAttributeAsync("data-family", "sparse");
        await Expect(author.Page.GetByTestId("train-encoder")).ToHaveCountAsync(0);
        await Expect(author.Page.GetByTestId("encoder-int8-note")).ToHaveCountAsync(0);
        var model = await StartTrainingAsync(portal, author, taskId);
        await Expect(author.Page.GetByTestId("model-state")).ToHaveAttributeAsync("data-state", "Draft");
        var accuracy = author.Page.GetByTestId("metrics-validation").GetByTestId("metric-accuracy");
        await Expect(accuracy).ToHaveAttributeAsync("data-value", model.Accuracy!.Value.ToString("0.0000", System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(model.Accuracy >= 0.85);
        var cells = author.Page.GetByTestId("metrics-validation").GetByTestId("confusion-cell");
        await Expect(cells).ToHaveCountAsync(9);
        var counts = await cells.EvaluateAllAsync<int[]>("cs => cs.map(c => parseInt(c.dataset.count))");
        var validationCount = await portal.QueryAsync(db => db.DatasetItems.CountAsync(i => i.DatasetVersionId == model.DatasetVersionId && i.Split == Incubator.Domain.Datasets.DatasetSplit.Validation));
        Assert.Equal(validationCount, counts.Sum());
        await Expect(author.Page.GetByTestId("metrics-validation").GetByTestId("per-class-row")).ToHaveCountAsync(3);

        await author.ClickAsync("model-publish");
        await Expect(author.Page.GetByTestId("model-state")).ToHaveAttributeAsync("data-state", "Published");

        // A hybrid model on the 8-bit encoder, asked for in the form: the trained model carries that encoder.
        await author.GotoAsync($"/projects/{projectId}/models");
        await author.SelectAsync("train-family", "hybrid");
        await author.SelectAsync("train-encoder", "8-bit");
        await author.ClickAsync("train-start");
        await author.WaitForUrlAsync(new System.Text.RegularExpressions.Regex("/models/[0-9a-f-]{36}$"));
        await author.WaitInteractiveAsync();
        var int8Id = Guid.Parse(author.Page.Url[^36..]);
        await Expect(author.Page.GetByTestId("model-state")).ToHaveAttributeAsync("data-state", "Draft", new() { Timeout = 180_000 });
        var int8 = await portal.QueryAsync(db => db.ModelVersions.AsNoTracking().SingleAsync(m => m.Id == int8Id));
        Assert.Equal("hybrid", int8.Family);
        Assert.Contains("all-MiniLM-L6-v2 (8-bit quantised)", int8.ModelCard);
        await author.Page.Context.CloseAsync();

        var viewer = await PortalBrowser.OpenAsync(browser.Browser, url);
        await viewer.SignInAsync("train-viewer@example.com", PortalExtensions.GoodPassword);
        await viewer.GotoAsync($"/projects/{projectId}/models/{model.Id}");
        await Expect(viewer.Page.GetByTestId("model-publish")).ToHaveCountAsync(0);
        var download = await viewer.Page.RunAndWaitForDownloadAsync(() => viewer.ClickAsync("model-download"));
        var path = await download.PathAsync();
        using (var zip = ZipFile.OpenRead(path!))
        {
            Assert.NotNull(zip.GetEntry("model.onnx"));
            Assert.NotNull(zip.GetEntry("labels.json"));
        }
        using (var bundle = ModelBundle.Read(File.OpenRead(path!)))
            Assert.Equal(["billing", "technical", "shipping"], bundle.Labels);

        await viewer.GotoAsync($"/projects/{projectId}/playground");
        await viewer.FillAsync("play-text", "My parcel never arrived and the tracking number does not work");
        await viewer.ClickAsync("play-predict");
        await Expect(viewer.Page.GetByTestId("play-label")).ToHaveTextAsync("shipping");
        await Expect(viewer.Page.GetByTestId("play-prob")).ToHaveCountAsync(3);
        await Expect(viewer.Page.GetByTestId("play-term").First).ToBeVisibleAsync();

        await viewer.ClickAsync("play-batch");
        await viewer.FillAsync("play-text", "I want a refund for the double charge\nThe app crashes when I log in");
        await viewer.ClickAsync("play-predict");
        await Expect(viewer.Page.GetByTestId("play-row")).ToHaveCountAsync(2);
        await Expect(viewer.Page.GetByTestId("play-row-label").Nth(0)).ToHaveTextAsync("billing");
        await Expect(viewer.Page.GetByTestId("play-row-label").Nth(1)).ToHaveTextAsync("technical");

        // A personal token from the account page works for the API once, and is shown only once.
        await viewer.GotoAsync("/account/tokens");
        await viewer.FillAsync("token-name", "deploy script");
        await viewer.ClickAsync("token-create");
        var secret = (await viewer.Page.GetByTestId("token-secret").TextContentAsync())!.Trim();
        Assert.StartsWith("inc_", secret);
        await Expect(viewer.Page.GetByTestId("token-row")).ToHaveCountAsync(1);
        using (var http = new HttpClient { BaseAddress = new Uri(url) })
        {
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", secret);
            using var response = await http.PostAsync($"/api/models/{model.Id}/predict",
                new StringContent("{\"texts\":[\"Where is my parcel?\"]}", System.Text.Encoding.UTF8, "application/json"));
            Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
            Assert.Contains("\"label\":\"shipping\"", await response.Content.ReadAsStringAsync());
            await viewer.GotoAsync("/account/tokens");
            await Expect(viewer.Page.GetByTestId("token-secret")).ToHaveCountAsync(0);
            await viewer.ClickAsync("token-revoke");
            await Expect(viewer.Page.GetByTestId("token-revoke")).ToHaveCountAsync(0);
            using var revoked = await http.GetAsync($"/api/projects/{projectId}/models");
            Assert.Equal(System.Net.HttpStatusCode.Unauthorized, revoked.StatusCode);
        }
        await viewer.Page.Context.CloseAsync();
    }
    /// <summary>Decision 0019, amendment pool: on 8 approved rows per label auto pools sparse, dense and hybrid; the model
    /// page, the model list and the playground name it "pooled", and the comparison's check mark is on the pool's row,
    /// whose figures are the model's.</summary>
    [Fact]
    public async Task Auto_on_eight_rows_per_label_shows_the_pooled_model_as_pooled()
    {
        using var portal = new PortalFactory(realServer: true);
        var (author, projectId, taskId, _) = await AuthorWithApprovedAsync(portal, "pool", perLabel: 8);

        await author.GotoAsync($"/projects/{projectId}/models");
        await Expect(author.Page.GetByTestId("train-start")).ToHaveAttributeAsync("data-family", "auto");
        var model = await StartTrainingAsync(portal, author, taskId);
        Assert.Equal("pooled", model.Family);

        await Expect(author.Page.GetByTestId("model-facts")).ToContainTextAsync("pooled (sparse + dense + hybrid, one hybrid bundle)");
        var rows = author.Page.GetByTestId("families-compared").GetByTestId("compared-row");
        await Expect(rows).ToHaveCountAsync(4);
        Assert.Equal(["sparse", "dense", "hybrid", "pooled"], await rows.EvaluateAllAsync<string[]>("rs => rs.map(r => r.dataset.family)"));
        Assert.Equal(["false", "false", "false", "true"], await rows.EvaluateAllAsync<string[]>("rs => rs.map(r => r.dataset.chosen)"));
        await Expect(rows.Nth(3)).ToContainTextAsync("✓");
        await Expect(rows.Nth(2)).Not.ToContainTextAsync("✓");
        // The pool's row carries the model's own validation figures (macro-F1 as the page prints it, 0.000).
        await Expect(rows.Nth(3)).ToContainTextAsync(model.MacroF1!.Value.ToString("0.000", System.Globalization.CultureInfo.InvariantCulture));
        await Expect(author.Page.GetByTestId("metrics-validation").GetByTestId("metric-accuracy"))
            .ToHaveAttributeAsync("data-value", model.Accuracy!.Value.ToString("0.0000", System.Globalization.CultureInfo.InvariantCulture));

        await author.GotoAsync($"/projects/{projectId}/models");
        await Expect(author.Page.Locator("table").GetByText("pooled (sparse + dense + hybrid, one hybrid bundle)")).ToHaveCountAsync(1);
        await author.Page.Context.CloseAsync();
    }

    /// <summary>The compare page shows each model's download size, as the registry stored it (the encoder row is
    /// <see cref="Compare_and_model_pages_show_the_stored_encoder_and_not_recorded_for_older_versions"/>).</summary>
    [Fact]
    public async Task Compare_shows_each_models_download_size()
    {
        using var portal = new PortalFactory(realServer: true);
        var (author, projectId, taskId, userId) = await AuthorWithApprovedAsync(portal, "compare", perLabel: 20);
        var service = portal.Services.GetRequiredService<TrainingService>();
        foreach (var seed in new[] { 1, 2 })
        {
            var started = await service.StartTrainingAsync(userId, new StartTrainingRequest(taskId, "sparse", seed));
            await WaitAsync(async () => (await service.GetAsync(userId, started.Id)).Summary.State != ModelVersionState.Training);
        }
        var models = await portal.QueryAsync(db => db.ModelVersions.AsNoTracking().Where(m => m.TaskId == taskId).OrderBy(m => m.Number).ToListAsync());
        Assert.Equal(2, models.Count);
        Assert.All(models, m => Assert.True(m.State == ModelVersionState.Draft && m.BundleBytes > 0, $"{m.State}: {m.Error}"));

        await author.GotoAsync($"/projects/{projectId}/models/compare?a={models[0].Id}&b={models[1].Id}");
        var cells = author.Page.GetByTestId("compare-size").Locator("td");
        await Expect(cells).ToHaveCountAsync(3);
        await Expect(cells.Nth(1)).ToHaveTextAsync(BundleSpeed.Size(models[0].BundleBytes!.Value));
        await Expect(cells.Nth(2)).ToHaveTextAsync(BundleSpeed.Size(models[1].BundleBytes!.Value));
        await author.Page.Context.CloseAsync();
    }

    /// <summary>Two dense models of one family that differ only in their encoder read alike on the compare page except for
    /// the size: the encoder row says which is which, from the registry's stored fact; a version trained before the fact
    /// was stored says "not recorded" (no guess from the size or the card); a sparse one says it has none. The model
    /// page says it too, and a Japanese reader reads it in Japanese.</summary>
    [Fact]
    public async Task Compare_and_model_pages_show_the_stored_encoder_and_not_recorded_for_older_versions()
    {
        using var portal = new PortalFactory(realServer: true);
        var (author, projectId, taskId, userId) = await AuthorWithApprovedAsync(portal, "encoder", perLabel: 4);
        var dataset = await portal.Services.GetRequiredService<Incubator.Domain.Datasets.DatasetService>().FreezeAsync(userId, taskId);
        // Rows as the registry holds them after training (and, for v3, as a version trained before the column has it):
        // the pages read the stored fact and nothing else, so no training is needed here.
        var ids = await portal.QueryAsync(async db =>
        {
            ModelVersion Row(int number, string family, string? encoder, long bytes) => new()
            {
                Id = Guid.NewGuid(), ProjectId = projectId, TaskId = taskId, Number = number, DatasetVersionId = dataset.Id,
                RequestedFamily = family, Family = family, Seed = 1, State = ModelVersionState.Draft, Accuracy = 0.9, MacroF1 = 0.9,
                BundleBytes = bytes, CreatedAt = DateTimeOffset.UtcNow, CreatedById = userId, Encoder = encoder,
            };
            ModelVersion[] rows = [Row(1, "dense", "float", 90L << 20), Row(2, "dense", "int8", 24L << 20), Row(3, "dense", null, 90L << 20), Row(4, "sparse", "none", 1L << 20)];
            db.ModelVersions.AddRange(rows);
            await db.SaveChangesAsync();
            return rows.Select(r => r.Id).ToArray();
        });
        var en = Incubator.Tests.Unit.LocalizationTests.En;
        var ja = Incubator.Tests.Unit.LocalizationTests.Ja;

        async Task ExpectEncodersAsync(PortalBrowser reader, int a, int b, string first, string second)
        {
            await reader.GotoAsync($"/projects/{projectId}/models/compare?a={ids[a]}&b={ids[b]}");
            var cells = reader.Page.GetByTestId("compare-encoder").Locator("td");
            await Expect(cells).ToHaveCountAsync(3);
            await Expect(cells.Nth(1)).ToHaveTextAsync(first);
            await Expect(cells.Nth(2)).ToHaveTextAsync(second);
        }

        await ExpectEncodersAsync(author, 0, 1, en["ModelEncoder.float"], en["ModelEncoder.int8"]);
        Assert.Equal("all-MiniLM-L6-v2, int8 (8-bit quantised)", en["ModelEncoder.int8"]);
        await ExpectEncodersAsync(author, 2, 3, en["ModelEncoder.NotRecorded"], en["ModelEncoder.none"]);
        await author.GotoAsync($"/projects/{projectId}/models/{ids[1]}");
        await Expect(author.Page.GetByTestId("model-encoder")).ToContainTextAsync(en["ModelEncoder.int8"]);
        await author.Page.Context.CloseAsync();

        const string email = "encoder-reader@example.com";
        var reader = await PortalBrowser.OpenAsync(browser.Browser, portal.ServerAddress, locale: "ja-JP");
        await reader.RegisterAsync(email, "Incub8tor-pass");
        await portal.InScopeAsync(sp => sp.GetRequiredService<ProjectService>().AddMemberAsync(userId, projectId, email, ProjectRole.Viewer));
        await ExpectEncodersAsync(reader, 1, 2, ja["ModelEncoder.int8"], ja["ModelEncoder.NotRecorded"]);
        await reader.GotoAsync($"/projects/{projectId}/models/{ids[3]}");
        await Expect(reader.Page.GetByTestId("model-encoder")).ToContainTextAsync(ja["ModelEncoder.none"]);
        await reader.Page.Context.CloseAsync();
    }

    /// <summary>A dataset version without a sample of some label has no fine-tuning pairs and the API refuses its download:
    /// the models page says which labels are missing instead of offering a link that fails (before, the link was there and
    /// the browser got the refusal as a failed download); a version with every label offers it and it downloads.</summary>
    [Fact]
    public async Task A_dataset_version_without_every_label_says_it_has_no_pairs_instead_of_a_failing_download()
    {
        using var portal = new PortalFactory(realServer: true);
        const string email = "pairs-author@example.com";
        var author = await PortalBrowser.OpenAsync(browser.Browser, portal.ServerAddress);
        await author.RegisterAsync(email, "Incub8tor-pass");
        var projectId = await author.CreateProjectAsync("Pairs project");
        var taskId = await portal.CreateTaskAsync(email, projectId, TrainingFlowTests.SupportTask);
        var authorId = await portal.UserIdAsync(email);
        var byLabel = TrainingFixtures.English().GroupBy(r => r.Label).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => g.Take(3).Select(r => (r.Label, r.Text)).ToList()).ToList();
        Assert.Equal(3, byLabel.Count);
        var datasets = portal.Services.GetRequiredService<Incubator.Domain.Datasets.DatasetService>();
        await portal.SeedApprovedAsync(projectId, taskId, byLabel[0].Concat(byLabel[1]), authorId);
        var partial = await datasets.FreezeAsync(authorId, taskId);
        await portal.SeedApprovedAsync(projectId, taskId, byLabel[2], authorId);
        var whole = await datasets.FreezeAsync(authorId, taskId);
        var missing = byLabel[2][0].Label;

        var refused = await author.Page.APIRequest.GetAsync(new Uri(new Uri(portal.ServerAddress), $"api/datasets/{partial.Id}/fine-tuning-pairs").ToString());
        Assert.Equal(400, refused.Status);

        await author.GotoAsync($"/projects/{projectId}/models?task={taskId}");
        var first = author.Page.Locator($"[data-testid=dataset-row][data-number='{partial.Number}']");
        await Expect(first.GetByTestId("dataset-no-pairs")).ToContainTextAsync(missing);
        await Expect(first.GetByTestId("dataset-pairs")).ToHaveCountAsync(0);
        var second = author.Page.Locator($"[data-testid=dataset-row][data-number='{whole.Number}']");
        await Expect(second.GetByTestId("dataset-no-pairs")).ToHaveCountAsync(0);
        var apiRequests = 0;
        author.Page.Request += (_, r) => { if (r.Url.Contains("fine-tuning-pairs", StringComparison.Ordinal)) Interlocked.Increment(ref apiRequests); };
        var download = await author.Page.RunAndWaitForDownloadAsync(() => second.GetByTestId("dataset-pairs").ClickAsync());
        Assert.EndsWith($"-dataset-v{whole.Number}-pairs.zip", download.SuggestedFilename);
        Assert.Equal(0, apiRequests); // the zip the page built to check it, not a second build through the API
        using (var zip = ZipFile.OpenRead((await download.PathAsync())!))
            Assert.NotNull(zip.GetEntry("openai-chat/train.jsonl"));
        await author.Page.Context.CloseAsync();
    }

    /// <summary>A version whose only samples of a label are texts also approved under another label: its counts show every
    /// label, so the download is offered, but a pair leaves those texts out. Before: the click downloaded the API's refusal
    /// (a failed download); now the row says why, with the counts, and nothing is downloaded.</summary>
    [Fact]
    public async Task A_dataset_version_whose_label_samples_all_conflict_says_so_on_the_page_instead_of_a_broken_download()
    {
        using var portal = new PortalFactory(realServer: true);
        const string email = "pairs-conflict@example.com";
        var author = await PortalBrowser.OpenAsync(browser.Browser, portal.ServerAddress);
        await author.RegisterAsync(email, "Incub8tor-pass");
        var projectId = await author.CreateProjectAsync("Conflicting pairs");
        var taskId = await portal.CreateTaskAsync(email, projectId, TrainingFlowTests.SupportTask);
        var authorId = await portal.UserIdAsync(email);
        var byLabel = TrainingFixtures.English().GroupBy(r => r.Label).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => g.Take(3).Select(r => (r.Label, r.Text)).ToList()).ToList();
        // The last label's samples are the first label's texts.
        var conflicted = byLabel[2][0].Label;
        await portal.SeedApprovedAsync(projectId, taskId, byLabel[0].Concat(byLabel[1]).Concat(byLabel[0].Select(r => (conflicted, r.Text))), authorId);
        var version = await portal.Services.GetRequiredService<Incubator.Domain.Datasets.DatasetService>().FreezeAsync(authorId, taskId);

        await author.GotoAsync($"/projects/{projectId}/models?task={taskId}");
        var row = author.Page.Locator($"[data-testid=dataset-row][data-number='{version.Number}']");
        await Expect(row.GetByTestId("dataset-no-pairs")).ToHaveCountAsync(0);
        var downloads = 0;
        author.Page.Download += (_, _) => Interlocked.Increment(ref downloads);
        await row.GetByTestId("dataset-pairs").ClickAsync();
        // A conflicting text is left out of both its labels: the first label loses its three samples too.
        var error = row.GetByTestId("dataset-pairs-error");
        await Expect(error).ToContainTextAsync("3 texts of this dataset version are approved under more than one label");
        foreach (var count in new[] { $"{byLabel[0][0].Label} 0", $"{byLabel[1][0].Label} 3", $"{conflicted} 0" }) await Expect(error).ToContainTextAsync(count);
        Assert.Equal(0, downloads);
        await author.Page.Context.CloseAsync();
    }

    /// <summary>The project-wide export (the newest dataset version of every task) from the project's overview, built
    /// first like the per-version one: with one task that has pairs and one whose version lacks a label, the zip still
    /// downloads and the note beside the button names the second task with why; in a project where no task has pairs the
    /// refusal is said in place with each task's reason and nothing is downloaded; a Viewer is not offered the button.</summary>
    [Fact]
    public async Task The_overview_downloads_the_projects_fine_tuning_pairs_naming_the_tasks_left_out_or_says_why_there_are_none()
    {
        using var portal = new PortalFactory(realServer: true);
        const string email = "project-pairs@example.com";
        var author = await PortalBrowser.OpenAsync(browser.Browser, portal.ServerAddress);
        await author.RegisterAsync(email, "Incub8tor-pass");
        var projectId = await author.CreateProjectAsync("Project pairs");
        var withPairs = await portal.CreateTaskAsync(email, projectId, TrainingFlowTests.SupportTask);
        var withoutPairs = await portal.CreateTaskAsync(email, projectId, TrainingFlowTests.SupportTask with { Name = "Returns desk" });
        var authorId = await portal.UserIdAsync(email);
        var byLabel = TrainingFixtures.English().GroupBy(r => r.Label).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => g.Take(3).Select(r => (r.Label, r.Text)).ToList()).ToList();
        var datasets = portal.Services.GetRequiredService<Incubator.Domain.Datasets.DatasetService>();
        await portal.SeedApprovedAsync(projectId, withPairs, byLabel.SelectMany(l => l), authorId);
        await datasets.FreezeAsync(authorId, withPairs);
        // The second task's only version has no sample of the last label.
        await portal.SeedApprovedAsync(projectId, withoutPairs, byLabel[0].Concat(byLabel[1]), authorId);
        await datasets.FreezeAsync(authorId, withoutPairs);
        var missing = byLabel[2][0].Label;

        await author.GotoAsync($"/projects/{projectId}");
        await Expect(author.Page.GetByTestId("project-pairs")).ToContainTextAsync("Fine-tuning pairs (all tasks)");
        await Expect(author.Page.GetByTestId("project-pairs-note")).ToHaveCountAsync(0);
        // The zip the page built to check the export is the one saved: no second build through the API.
        var apiRequests = 0;
        author.Page.Request += (_, r) => { if (r.Url.Contains("fine-tuning-pairs", StringComparison.Ordinal)) Interlocked.Increment(ref apiRequests); };
        var download = await author.Page.RunAndWaitForDownloadAsync(() => author.ClickAsync("project-pairs"));
        Assert.Equal("project-pairs-pairs.zip", download.SuggestedFilename);
        Assert.Equal(0, apiRequests);
        var omitted = author.Page.GetByTestId("project-pairs-omitted");
        await Expect(omitted).ToHaveCountAsync(1);
        await Expect(omitted).ToContainTextAsync($"Returns desk (dataset v1) contributed no pairs: a pair needs a sample of every label, and it has none of {missing}");
        await Expect(author.Page.GetByTestId("project-pairs-error")).ToHaveCountAsync(0);
        using (var zip = ZipFile.OpenRead((await download.PathAsync())!))
        {
            Assert.NotNull(zip.GetEntry("openai-chat/train.jsonl"));
            using var card = new StreamReader(zip.GetEntry("data-card.md")!.Open());
            Assert.Contains("Returns desk (dataset v1) contributed no pairs", await card.ReadToEndAsync());
        }
        // The API's project export (for scripts) answers the same, with the page's cookies.
        var response = await author.Page.APIRequest.GetAsync(new Uri(new Uri(portal.ServerAddress), $"api/projects/{projectId}/fine-tuning-pairs").ToString());
        Assert.Equal(200, response.Status);
        Assert.Equal("application/zip", response.Headers["content-type"]);
        Assert.Equal("1", response.Headers["x-pairs-omitted-count"]);

        // A project where no task has pairs: the refusal with each task's reason, and no download.
        var emptyId = await author.CreateProjectAsync("No pairs yet");
        var partial = await portal.CreateTaskAsync(email, emptyId, TrainingFlowTests.SupportTask);
        await portal.CreateTaskAsync(email, emptyId, TrainingFlowTests.SupportTask with { Name = "Never frozen" });
        await portal.SeedApprovedAsync(emptyId, partial, byLabel[0].Concat(byLabel[1]), authorId);
        await datasets.FreezeAsync(authorId, partial);
        await author.GotoAsync($"/projects/{emptyId}");
        var downloads = 0;
        author.Page.Download += (_, _) => Interlocked.Increment(ref downloads);
        await author.ClickAsync("project-pairs");
        var error = author.Page.GetByTestId("project-pairs-error");
        await Expect(error).ToContainTextAsync("There are no pairs to export");
        var reasons = author.Page.GetByTestId("project-pairs-reason");
        await Expect(reasons).ToHaveCountAsync(2);
        await Expect(reasons.Nth(0)).ToContainTextAsync($"Support (dataset v1) contributed no pairs: a pair needs a sample of every label, and it has none of {missing}");
        await Expect(reasons.Nth(1)).ToContainTextAsync("Never frozen contributed no pairs: it has no dataset version");
        await Expect(author.Page.GetByTestId("project-pairs-note")).ToHaveCountAsync(0);
        Assert.Equal(0, downloads);
        await author.Page.Context.CloseAsync();

        // In Japanese, the button and the note are Japanese (the reason localised as the API's header is), and it downloads.
        var ja = Incubator.Tests.Unit.LocalizationTests.Ja;
        var reader = await PortalBrowser.OpenAsync(browser.Browser, portal.ServerAddress, locale: "ja-JP");
        await reader.SignInAsync(email, "Incub8tor-pass");
        await reader.GotoAsync($"/projects/{projectId}");
        await Expect(reader.Page.GetByTestId("project-pairs")).ToContainTextAsync(ja["Overview.FineTuningPairs"]);
        var jaDownload = await reader.Page.RunAndWaitForDownloadAsync(() => reader.ClickAsync("project-pairs"));
        Assert.Equal("project-pairs-pairs.zip", jaDownload.SuggestedFilename);
        await Expect(reader.Page.GetByTestId("project-pairs-omitted")).ToHaveTextAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture,
            ja["Error.PairsOmittedNoneFor"], "Returns desk", "1", missing, string.Join(", ", TrainingFlowTests.SupportTask.Labels.Select(l => $"{l.Name} {(l.Name == missing ? 0 : 3)}"))));
        await reader.Page.Context.CloseAsync();

        // A Viewer sees the overview without the button.
        const string viewerEmail = "project-pairs-viewer@example.com";
        await portal.RegisterAsync(viewerEmail);
        await portal.InScopeAsync(sp => sp.GetRequiredService<ProjectService>().AddMemberAsync(authorId, projectId, viewerEmail, ProjectRole.Viewer));
        var viewer = await PortalBrowser.OpenAsync(browser.Browser, portal.ServerAddress);
        await viewer.SignInAsync(viewerEmail, PortalExtensions.GoodPassword);
        await viewer.GotoAsync($"/projects/{projectId}");
        await Expect(viewer.Page.GetByTestId("stat-members")).ToHaveTextAsync("2");
        await Expect(viewer.Page.GetByTestId("project-pairs-panel")).ToHaveCountAsync(0);
        await Expect(viewer.Page.GetByTestId("project-pairs")).ToHaveCountAsync(0);
        await viewer.Page.Context.CloseAsync();
    }

    /// <summary>A fresh author in Chromium with a project, the support task and <paramref name="perLabel"/> approved
    /// samples of every label.</summary>
    /// <summary>A Japanese reader's model page (decision 0012, amendment card21): the family in Japanese with its id in
    /// the facts line and the families-tried table, the stored Japanese card with Japanese headings; a version trained
    /// before cards had a language shows its stored English card unchanged.</summary>
    [Fact]
    public async Task A_japanese_readers_model_page_shows_the_japanese_card_and_family_names_and_old_english_cards_still_show()
    {
        using var portal = new PortalFactory(realServer: true);
        var (author, projectId, taskId, userId) = await AuthorWithApprovedAsync(portal, "card-ja", perLabel: 4);
        await author.Page.Context.CloseAsync();
        var dataset = await portal.Services.GetRequiredService<Incubator.Domain.Datasets.DatasetService>().FreezeAsync(userId, taskId);
        var rows = TrainingFixtures.English();
        var (train, validation) = StratifiedSplit.Split(rows, 0.2, 5);
        var options = new TrainingOptions(ModelFamily.Sparse, 5);
        var result = new ClassifierTrainer().Train(TrainingFixtures.LabelsOf(rows), train, validation, null, options, null, default);
        var input = ModelCardInput.For("Support — v1", result, options, null, DateTimeOffset.UnixEpoch, new FileCardSource("support-en.tsv",
            new Dictionary<string, int> { ["billing"] = 110, ["shipping"] = 110, ["technical"] = 110 }, 264, 66));
        var ids = await portal.QueryAsync(async db =>
        {
            ModelVersion Row(int number, string card) => new()
            {
                Id = Guid.NewGuid(), ProjectId = projectId, TaskId = taskId, Number = number, DatasetVersionId = dataset.Id, RequestedFamily = "sparse",
                Family = "sparse", Seed = 5, State = ModelVersionState.Draft, Accuracy = 0.9, MacroF1 = 0.9, CreatedAt = DateTimeOffset.UtcNow,
                CreatedById = userId, Encoder = "none", ModelCard = card,
                ComparedJson = System.Text.Json.JsonSerializer.Serialize(new[] { input.Compared[0], input.Compared[0] with { Family = "dense" } }, new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web)),
            };
            ModelVersion[] versions = [Row(1, ModelCardBuilder.Write(input, CardLanguage.Ja)), Row(2, ModelCardBuilder.Write(input))];
            db.ModelVersions.AddRange(versions);
            await db.SaveChangesAsync();
            return versions.Select(v => v.Id).ToArray();
        });
        var ja = Incubator.Tests.Unit.LocalizationTests.Ja;

        const string email = "card-ja-reader@example.com";
        var reader = await PortalBrowser.OpenAsync(browser.Browser, portal.ServerAddress, locale: "ja-JP");
        await reader.RegisterAsync(email, "Incub8tor-pass");
        await portal.InScopeAsync(sp => sp.GetRequiredService<ProjectService>().AddMemberAsync(userId, projectId, email, ProjectRole.Viewer));
        await reader.GotoAsync($"/projects/{projectId}/models/{ids[0]}");
        await Expect(reader.Page.GetByTestId("model-facts")).ToContainTextAsync(ja["Family.sparse"]);
        var compared = reader.Page.GetByTestId("families-compared").GetByTestId("compared-row");
        await Expect(compared.Nth(0)).ToContainTextAsync(ja["Family.sparse"]);
        await Expect(compared.Nth(1)).ToContainTextAsync(ja["Family.dense"]);
        Assert.StartsWith("文埋め込み（dense", ja["Family.dense"]);
        await reader.Page.GetByTestId("model-card").GetByText(ja["Model.Card"], new() { Exact = true }).First.ClickAsync();
        var card = reader.Page.GetByTestId("model-card");
        await Expect(card.Locator("h4").First).ToHaveTextAsync("ラベル");
        await Expect(card.Locator("h4")).ToHaveTextAsync(["ラベル", "モデル", "データの来歴", "評価指標", "既知の限界"]);
        await Expect(card.Locator("strong").First).ToHaveTextAsync("n-gram 特徴（sparse）");

        await reader.GotoAsync($"/projects/{projectId}/models/{ids[1]}");
        await reader.Page.GetByTestId("model-card").GetByText(ja["Model.Card"], new() { Exact = true }).First.ClickAsync();
        await Expect(reader.Page.GetByTestId("model-card").Locator("h4")).ToHaveTextAsync(["Labels", "Model", "Data provenance", "Metrics", "Known limits"]);
        // It has no Japanese card (trained before cards were written in both languages): the page says so in Japanese.
        await Expect(reader.Page.GetByTestId("model-card-only-in")).ToHaveTextAsync(ja["Model.CardOnlyInEnglish"]);
        await reader.Page.Context.CloseAsync();
    }

    private async Task<(PortalBrowser Author, Guid ProjectId, Guid TaskId, string AuthorId)> AuthorWithApprovedAsync(PortalFactory portal, string who, int perLabel)
    {
        var email = $"{who}-author@example.com";
        var author = await PortalBrowser.OpenAsync(browser.Browser, portal.ServerAddress);
        await author.RegisterAsync(email, "Incub8tor-pass");
        var projectId = await author.CreateProjectAsync($"{who} project");
        var taskId = await portal.CreateTaskAsync(email, projectId, TrainingFlowTests.SupportTask);
        var authorId = await portal.UserIdAsync(email);
        var rows = TrainingFixtures.English().GroupBy(r => r.Label).SelectMany(g => g.Take(perLabel)).ToList();
        await portal.SeedApprovedAsync(projectId, taskId, rows.Select(r => (r.Label, r.Text)), authorId);
        return (author, projectId, taskId, authorId);
    }

    private static async Task WaitAsync(Func<Task<bool>> done)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!await done())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromMinutes(3), "the training did not finish");
            await Task.Delay(200);
        }
    }
}
