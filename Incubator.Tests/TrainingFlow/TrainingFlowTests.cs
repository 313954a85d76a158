using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Incubator.Domain.Accounts;
using Incubator.Domain.Jobs;
using Incubator.Domain.Projects;
using Incubator.Domain.Tasks;
using Incubator.Domain.Training;
using Incubator.Tests.Infrastructure;
using Incubator.Tests.Training;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.TrainingFlow;

/// <summary>Training as a job end to end over HTTP: approved samples → dataset → sparse model with real metrics, the
/// bundle and in-app model in the store, the model card, publish/retire roles, bundle download roles (cookie and
/// token), and the predict API with its input validation.</summary>
public sealed class TrainingFlowTests : IClassFixture<TrainingFlowTests.Portal>
{
    public sealed class Portal : PortalFactory;

    private readonly Portal _portal;

    public TrainingFlowTests(Portal portal) => _portal = portal;

    public static readonly TaskSpec SupportTask = new()
    {
        Name = "Support",
        Instruction = "Route support messages.",
        Labels =
        [
            new LabelSpec { Name = "billing", Description = "Charges, invoices, refunds." },
            new LabelSpec { Name = "technical", Description = "Bugs, crashes, log-in problems." },
            new LabelSpec { Name = "shipping", Description = "Parcels and deliveries." },
        ],
    };

    internal static async Task<(Guid ProjectId, Guid TaskId)> ArrangeAsync(PortalFactory portal, string ownerEmail, params (string Email, ProjectRole Role)[] members)
    {
        var owner = await portal.RegisterAsync(ownerEmail);
        foreach (var (email, _) in members) await portal.RegisterAsync(email);
        var projectId = await portal.InScopeAsync(async sp =>
            (await sp.GetRequiredService<ProjectService>().CreateProjectAsync(owner.Id, "Train " + Guid.NewGuid().ToString("N")[..6], null)).Id);
        var taskId = await portal.CreateTaskAsync(ownerEmail, projectId, SupportTask, members);
        await portal.SeedApprovedAsync(projectId, taskId, TrainingFixtures.English().Select(r => (r.Label, r.Text)), owner.Id);
        return (projectId, taskId);
    }

    internal static async Task<ModelVersionDetail> WaitForModelAsync(PortalFactory portal, AuthenticatedClient client, Guid modelId, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var detail = JsonSerializer.Deserialize<ModelVersionDetail>(await client.Http.GetStringAsync($"/api/models/{modelId}"), PortalExtensions.Json)!;
            if (detail.Summary.State != ModelVersionState.Training) return detail;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Model {modelId} still training after {timeout}.");
            await Task.Delay(200);
        }
    }

    [Fact]
    public async Task Author_trains_publishes_and_viewers_and_tokens_download_and_predict()
    {
        var ownerEmail = PortalExtensions.UniqueEmail("tr-owner");
        var viewerEmail = PortalExtensions.UniqueEmail("tr-viewer");
        var outsiderEmail = PortalExtensions.UniqueEmail("tr-outsider");
        var (projectId, taskId) = await ArrangeAsync(_portal, ownerEmail, (viewerEmail, ProjectRole.Viewer));
        await _portal.RegisterAsync(outsiderEmail);
        using var author = await AuthenticatedClient.SignInAsync(_portal, ownerEmail);
        using var viewer = await AuthenticatedClient.SignInAsync(_portal, viewerEmail);
        using var outsider = await AuthenticatedClient.SignInAsync(_portal, outsiderEmail);

        using var denied = await viewer.Http.PostJsonAsync($"/api/tasks/{taskId}/training", new { family = "sparse", seed = 3 });
        Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
        using var badFamily = await author.Http.PostJsonAsync($"/api/tasks/{taskId}/training", new { family = "forest", seed = 3 });
        Assert.Equal(HttpStatusCode.BadRequest, badFamily.StatusCode);
        Assert.Contains("TrainingFamilyUnknown", await badFamily.Content.ReadAsStringAsync());
        // An encoder the trainer does not have, and the 8-bit encoder for the one family without an encoder: 400, field named.
        using var badEncoder = await author.Http.PostJsonAsync($"/api/tasks/{taskId}/training", new { family = "hybrid", seed = 3, encoder = "fp16" });
        Assert.Equal(HttpStatusCode.BadRequest, badEncoder.StatusCode);
        Assert.Contains("TrainingEncoderUnknown", await badEncoder.Content.ReadAsStringAsync());
        using var sparseInt8 = await author.Http.PostJsonAsync($"/api/tasks/{taskId}/training", new { family = "sparse", seed = 3, encoder = "int8" });
        Assert.Equal(HttpStatusCode.BadRequest, sparseInt8.StatusCode);
        Assert.Contains("TrainingEncoderSparse", await sparseInt8.Content.ReadAsStringAsync());
        Assert.Contains("\"encoder\"", await sparseInt8.Content.ReadAsStringAsync());

        using var start = await author.Http.PostJsonAsync($"/api/tasks/{taskId}/training", new { family = "sparse", seed = 3 });
        Assert.Equal(HttpStatusCode.OK, start.StatusCode);
        var started = await start.ReadJsonAsync<ModelVersionSummary>();
        Assert.Equal(1, started.Number);
        var model = await WaitForModelAsync(_portal, author, started.Id, TimeSpan.FromMinutes(3));
        Assert.Equal(ModelVersionState.Draft, model.Summary.State);
        Assert.Equal("sparse", model.Summary.Family);
        // The fixture is three clearly separated topics; the sparse family is expected to get at least 85% right.
        Assert.True(model.Validation!.Accuracy >= 0.85, $"validation accuracy {model.Validation.Accuracy}");
        Assert.Equal(["billing", "technical", "shipping"], model.Validation.Labels);
        Assert.Equal(model.Validation.Count, model.Validation.Confusion.Sum(r => r.Sum()));
        Assert.Equal(model.Validation.Count, model.Validation.PerClass.Sum(p => p.Support));
        Assert.Null(model.Gold);
        Assert.Contains("## Data provenance", model.ModelCard);
        Assert.Contains("Synthetic (written by an LLM): 100%", model.ModelCard);
        Assert.Contains("No human-labelled gold set", model.ModelCard);
        // The published model is the chosen one refit on training + validation; size and speed of its model.onnx.
        Assert.Contains("- Refit on training + validation:", model.ModelCard);
        Assert.Matches(@"- Size and speed: model\.onnx (\d+ KiB|\d+\.\d MiB); \d+ texts/s with plain ONNX Runtime \(batch 64, one thread", model.ModelCard);

        // The store holds both artefacts; the recorded checksum is the bundle's.
        var store = _portal.Services.GetRequiredService<ModelStore>();
        var bundlePath = store.BundlePath(projectId, model.Summary.Id);
        Assert.True(File.Exists(store.ModelPath(projectId, model.Summary.Id)));
        Assert.Equal(model.BundleSha256, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(await File.ReadAllBytesAsync(bundlePath))));

        // Draft: the author downloads, the viewer may not yet, the outsider never.
        Assert.Equal(HttpStatusCode.OK, (await author.Http.GetAsync($"/api/models/{model.Summary.Id}/bundle")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.Http.GetAsync($"/api/models/{model.Summary.Id}/bundle")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.Http.PostAsync($"/api/models/{model.Summary.Id}/publish", null)).StatusCode);

        using var publish = await author.Http.PostAsync($"/api/models/{model.Summary.Id}/publish", null);
        Assert.Equal(HttpStatusCode.OK, publish.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await author.Http.PostAsync($"/api/models/{model.Summary.Id}/publish", null)).StatusCode);

        using var download = await viewer.Http.GetAsync($"/api/models/{model.Summary.Id}/bundle");
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal("application/zip", download.Content.Headers.ContentType?.MediaType);
        Assert.Equal("support-v1.zip", download.Content.Headers.ContentDisposition?.FileNameStar ?? download.Content.Headers.ContentDisposition?.FileName);
        var zipBytes = await download.Content.ReadAsByteArrayAsync();
        using (var zip = new ZipArchive(new MemoryStream(zipBytes)))
        {
            Assert.NotNull(zip.GetEntry("model.onnx"));
            using var card = new StreamReader(zip.GetEntry("model-card.md")!.Open());
            Assert.Equal(model.ModelCard, await card.ReadToEndAsync());
        }
        using (var loaded = ModelBundle.Read(new MemoryStream(zipBytes)))
            Assert.Equal(["billing", "technical", "shipping"], loaded.Labels);
        Assert.Equal(HttpStatusCode.Forbidden, (await outsider.Http.GetAsync($"/api/models/{model.Summary.Id}/bundle")).StatusCode);

        // A Viewer's personal token lists, downloads and predicts.
        var viewerId = await _portal.UserIdAsync(viewerEmail);
        var token = await _portal.InScopeAsync(sp => sp.GetRequiredService<ApiTokenService>().CreateAsync(viewerId, "script"));
        using var bearer = _portal.CreateClient();
        bearer.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token.Secret);
        var listed = JsonSerializer.Deserialize<List<ModelVersionSummary>>(await bearer.GetStringAsync($"/api/projects/{projectId}/models?published=true"), PortalExtensions.Json)!;
        Assert.Equal(model.Summary.Id, Assert.Single(listed).Id);
        Assert.Equal(zipBytes, await bearer.GetByteArrayAsync($"/api/models/{model.Summary.Id}/bundle"));

        string[] texts = ["I was charged twice for my subscription, please refund me", "The app crashes every time I log in", "My parcel has not arrived yet"];
        using var predict = await bearer.PostJsonAsync($"/api/models/{model.Summary.Id}/predict?explain=true", new { texts });
        Assert.Equal(HttpStatusCode.OK, predict.StatusCode);
        var result = await predict.ReadJsonAsync<PredictionResult>();
        Assert.Equal(3, result.Predictions.Count);
        // Same answers as the in-app model loaded straight from the store.
        TrainedClassifier direct;
        await using (var f = File.OpenRead(store.ModelPath(projectId, model.Summary.Id))) direct = TrainedClassifier.Load(f);
        var expected = direct.Predict(texts);
        for (var i = 0; i < texts.Length; i++)
        {
            Assert.Equal(expected[i].Label, result.Predictions[i].Label);
            Assert.Equal(expected[i].Probability, result.Predictions[i].Probability, 5);
            Assert.Equal(1.0, result.Predictions[i].Probabilities.Values.Sum(), 3);
        }
        Assert.Equal(["billing", "technical", "shipping"], result.Predictions.Select(p => p.Label));
        Assert.NotEmpty(result.Predictions[0].Terms);

        // Retired models are no longer served to Viewers.
        Assert.Equal(HttpStatusCode.OK, (await author.Http.PostAsync($"/api/models/{model.Summary.Id}/retire", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await bearer.GetAsync($"/api/models/{model.Summary.Id}/bundle")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await author.Http.GetAsync($"/api/models/{model.Summary.Id}/bundle")).StatusCode);
    }

    [Fact]
    public async Task Predict_rejects_empty_too_many_and_too_long_input_with_problems()
    {
        var ownerEmail = PortalExtensions.UniqueEmail("pv-owner");
        var (_, taskId) = await ArrangeAsync(_portal, ownerEmail);
        using var author = await AuthenticatedClient.SignInAsync(_portal, ownerEmail);
        var started = await (await author.Http.PostJsonAsync($"/api/tasks/{taskId}/training", new { family = "sparse", seed = 1 })).ReadJsonAsync<ModelVersionSummary>();
        var model = await WaitForModelAsync(_portal, author, started.Id, TimeSpan.FromMinutes(3));
        var url = $"/api/models/{model.Summary.Id}/predict";

        async Task<string> BadAsync(object body)
        {
            using var r = await author.Http.PostJsonAsync(url, body);
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
            return await r.Content.ReadAsStringAsync();
        }

        Assert.Contains("PredictNoTexts", await BadAsync(new { texts = Array.Empty<string>() }));
        Assert.Contains("PredictNoTexts", await BadAsync(new { }));
        var many = await BadAsync(new { texts = Enumerable.Repeat("hello", ModelPredictor.MaxTexts + 1).ToArray() });
        Assert.Contains("PredictTooManyTexts", many);
        Assert.Contains($"this one has {ModelPredictor.MaxTexts + 1}", many);
        var tooLong = await BadAsync(new { texts = new[] { "fine", new string('a', ModelPredictor.MaxTextLength + 1) } });
        Assert.Contains("PredictTextTooLong", tooLong);
        Assert.Contains("texts[1]", tooLong);
        Assert.Contains("PredictTextMissing", await BadAsync(new { texts = new string?[] { "ok", null } }));

        // The boundary itself is accepted, and an empty string is a text like any other.
        using var ok = await author.Http.PostJsonAsync(url, new { texts = new[] { new string('a', ModelPredictor.MaxTextLength), "" } });
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal(2, (await ok.ReadJsonAsync<PredictionResult>()).Predictions.Count);
    }

    [Fact]
    public async Task Gold_results_are_reported_separately_and_preferred()
    {
        var ownerEmail = PortalExtensions.UniqueEmail("gold-owner");
        var (projectId, taskId) = await ArrangeAsync(_portal, ownerEmail);
        using var author = await AuthenticatedClient.SignInAsync(_portal, ownerEmail);
        // Human-written texts that are not in the training data.
        const string gold = "label\ttext\nbilling\tYou billed my card twice this month, I need the money back\n"
            + "technical\tThe login page shows an error and the app freezes\nshipping\tThe courier lost my package\n"
            + "billing\tWhy is the invoice amount higher than the price?\ntechnical\tPassword reset email never works, app keeps crashing\n";
        using var form = new MultipartFormDataContent { { new StringContent(gold), "file", "gold.tsv" } };
        Assert.Equal(HttpStatusCode.OK, (await author.Http.PostAsync($"/api/tasks/{taskId}/gold", form)).StatusCode);

        var started = await (await author.Http.PostJsonAsync($"/api/tasks/{taskId}/training", new { family = "sparse", seed = 2 })).ReadJsonAsync<ModelVersionSummary>();
        var model = await WaitForModelAsync(_portal, author, started.Id, TimeSpan.FromMinutes(3));
        Assert.Equal(ModelVersionState.Draft, model.Summary.State);
        var log = string.Join("\n", JsonSerializer.Deserialize<List<Incubator.Domain.Jobs.JobLogView>>(
            await author.Http.GetStringAsync($"/api/jobs/{model.Summary.JobId}/log"), PortalExtensions.Json)!.Select(l => l.Message));
        Assert.True(model.Gold is not null, $"gold set {model.GoldSetId}; log:\n{log}");
        Assert.Equal(5, model.Gold!.Count);
        Assert.Equal(model.Gold.Accuracy, model.Summary.GoldAccuracy);
        Assert.Equal(model.Gold.Accuracy, model.Summary.PreferredAccuracy);
        Assert.NotEqual(model.Validation!.Count, model.Gold.Count);
        Assert.Contains("On the human-labelled gold set (gold.tsv, 5 texts) — **preferred**", model.ModelCard);
        Assert.DoesNotContain("No human-labelled gold set", model.ModelCard);
        var listed = JsonSerializer.Deserialize<List<ModelVersionSummary>>(await author.Http.GetStringAsync($"/api/projects/{projectId}/models?taskId={taskId}"), PortalExtensions.Json)!;
        Assert.Equal(model.Gold.MacroF1, Assert.Single(listed).GoldMacroF1);
    }
}
