using System.Security.Claims;
using Incubator.Domain.Common;
using Incubator.Domain.Datasets;
using Incubator.Domain.Training;
using Incubator.Web.Accounts;
using Microsoft.Extensions.Localization;
using static Incubator.Web.Accounts.UserClaims;

namespace Incubator.Web.Api;

public sealed record FreezeRequest(int Seed = 1, double ValidationShare = DatasetService.DefaultValidationShare);

/// <summary>Datasets, gold sets, training and the model registry over HTTP. Every call goes through a service that checks
/// the caller's role in the project; with a personal token (Bearer) the caller is the token's owner.</summary>
public static class TrainingApi
{
    public static RouteGroupBuilder MapTrainingApi(this RouteGroupBuilder api)
    {
        var task = api.MapGroup("/tasks/{taskId:guid}").RequireAuthorization().WithTags("Datasets and training");
        task.MapGet("/datasets", (Guid taskId, ClaimsPrincipal user, DatasetService datasets, CancellationToken ct) =>
            datasets.ListAsync(UserId(user), taskId, ct));
        task.MapPost("/datasets", (Guid taskId, FreezeRequest? body, ClaimsPrincipal user, DatasetService datasets, CancellationToken ct) =>
            datasets.FreezeAsync(UserId(user), taskId, body?.Seed ?? 1, body?.ValidationShare ?? DatasetService.DefaultValidationShare, ct));
        task.MapGet("/gold", async (Guid taskId, ClaimsPrincipal user, DatasetService datasets, CancellationToken ct) =>
            await datasets.GetGoldAsync(UserId(user), taskId, ct) is { } gold ? Results.Ok(gold) : Results.NoContent());
        task.MapPost("/gold", async (Guid taskId, IFormFile? file, ClaimsPrincipal user, DatasetService datasets, CancellationToken ct) =>
        {
            if (file is null)
                throw new DomainValidationException("file", "UploadMissingFile", "Send the gold set as a multipart form field named 'file'.");
            await using var stream = file.OpenReadStream();
            return await datasets.ImportGoldAsync(UserId(user), taskId, file.FileName, stream, ct);
        }).DisableAntiforgery();
        task.MapPost("/training", (Guid taskId, StartTrainingBody? body, ClaimsPrincipal user, TrainingService training, CancellationToken ct) =>
            training.StartTrainingAsync(UserId(user), new StartTrainingRequest(taskId, body?.Family ?? "auto", body?.Seed ?? 1, body?.DatasetVersionId, body?.Encoder), ct));

        api.MapGet("/datasets/{datasetId:guid}/fine-tuning-pairs", async (Guid datasetId, int? seed, double? validationShare, ClaimsPrincipal user,
                ExportFineTuningPairs pairs, CancellationToken ct) =>
            PairsZip(await pairs.ForDatasetAsync(UserId(user), datasetId, seed ?? 1, validationShare ?? FineTuningPairs.DefaultValidationShare, ct)))
            .RequireAuthorization().WithTags("Datasets and training")
            .WithSummary("Download a dataset version as fine-tuning pairs for a generator (zip: OpenAI chat JSONL and instruction/input/output JSONL, train and validation, data card). Reviewer or higher.");
        api.MapGet("/projects/{projectId:guid}/fine-tuning-pairs", async (Guid projectId, int? seed, double? validationShare, ClaimsPrincipal user,
                HttpResponse response, IStringLocalizer<SharedResource> localizer, ExportFineTuningPairs pairs, CancellationToken ct) =>
            {
                var export = await pairs.ForProjectAsync(UserId(user), projectId, seed ?? 1, validationShare ?? FineTuningPairs.DefaultValidationShare, ct);
                // Tasks that contributed nothing, each with why, in the caller's language: the data card says it in English.
                response.Headers[OmittedCountHeader] = export.Omitted.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
                if (export.Omitted.Count > 0)
                    response.Headers[OmittedHeader] = new Microsoft.Extensions.Primitives.StringValues(export.Omitted.Select(o => Uri.EscapeDataString(localizer.Error(o))).ToArray());
                return PairsZip(export);
            })
            .RequireAuthorization().WithTags("Datasets and training")
            .WithSummary("Download the newest dataset version of every task of the project as fine-tuning pairs (zip). Reviewer or higher. "
                + $"{OmittedCountHeader} says how many tasks contributed no pair; {OmittedHeader} (one value per task, UTF-8 percent-encoded, in the request's language) says which and why, as the zip's data card does.");

        var projects = api.MapGroup("/projects/{ProjectId:guid}/models").RequireAuthorization(ProjectPolicies.Viewer).WithTags("Models");
        projects.MapGet("/", (Guid projectId, Guid? taskId, bool? published, ClaimsPrincipal user, TrainingService training, CancellationToken ct) =>
            training.ListAsync(UserId(user), projectId, taskId, published ?? false, ct))
            .WithSummary("List the project's model versions (published only with ?published=true).");

        var models = api.MapGroup("/models/{modelId:guid}").RequireAuthorization().WithTags("Models");
        models.MapGet("/", (Guid modelId, ClaimsPrincipal user, TrainingService training, CancellationToken ct) =>
            training.GetAsync(UserId(user), modelId, ct));
        models.MapGet("/bundle", async (Guid modelId, ClaimsPrincipal user, TrainingService training, CancellationToken ct) =>
        {
            var (path, name, _) = await training.OpenBundleAsync(UserId(user), modelId, ct);
            return Results.File(path, "application/zip", name);
        }).WithSummary("Download the model bundle (model.onnx, labels.json, model-card.md and the card in the other language, model-card.en.md or model-card.ja.md, README.md, checksums).");
        models.MapPost("/predict", (Guid modelId, PredictBody? body, bool? explain, ClaimsPrincipal user, ModelPredictor prediction, CancellationToken ct) =>
            prediction.PredictAsync(UserId(user), modelId, body?.Texts, explain ?? false, ct))
            .WithSummary("Classify texts: {\"texts\": [...]} in, label and probabilities per text out (same order). ?explain=true adds, for the sparse family, the words that pushed each decision.");
        models.MapPost("/publish", (Guid modelId, ClaimsPrincipal user, TrainingService training, CancellationToken ct) =>
            training.PublishAsync(UserId(user), modelId, ct));
        models.MapPost("/retire", (Guid modelId, ClaimsPrincipal user, TrainingService training, CancellationToken ct) =>
            training.RetireAsync(UserId(user), modelId, ct));
        return api;
    }

    /// <summary>How many tasks of a project export contributed no pair (0 when all did).</summary>
    public const string OmittedCountHeader = "X-Pairs-Omitted-Count";

    /// <summary>Per task that contributed no pair, which and why (a sentence in the request's language, percent-encoded).</summary>
    public const string OmittedHeader = "X-Pairs-Omitted";

    /// <summary>The zip from a temporary file deleted when the response has been sent.</summary>
    private static IResult PairsZip(FineTuningExport export) => Results.File(export.WriteTempZip(), "application/zip", export.FileName);

    public sealed record PredictBody(IReadOnlyList<string?>? Texts);

    public sealed record StartTrainingBody(string? Family, int? Seed, Guid? DatasetVersionId, string? Encoder = null);
}
