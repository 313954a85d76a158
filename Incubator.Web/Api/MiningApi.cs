using System.Security.Claims;
using Incubator.Domain.Common.TextFiles;
using Incubator.Domain.Mining;
using Incubator.Domain.Projects;
using Incubator.Web.Accounts;
using static Incubator.Web.Accounts.UserClaims;

namespace Incubator.Web.Api;

/// <summary>Corpora and mining over HTTP. Uploads are the raw file as the request body (application/octet-stream),
/// streamed to a temporary file under the data folder and parsed from there: never buffered in memory, never through
/// the Blazor circuit. Every route carries a project policy and the use case checks the role again.</summary>
public static class MiningApi
{
    public static RouteGroupBuilder MapMiningApi(this RouteGroupBuilder api)
    {
        var corpora = api.MapGroup("/projects/{ProjectId:guid}/corpora").RequireAuthorization();
        corpora.MapGet("/", (Guid projectId, ClaimsPrincipal user, CorpusService svc, CancellationToken ct) =>
            svc.ListAsync(UserId(user), projectId, ct)).RequireAuthorization(ProjectPolicies.Viewer);

        // One request: upload and import; the answer is the import report.
        corpora.MapPost("/", async (Guid projectId, string? name, string? fileName, TextFileFormat? format, string? column, bool? header, string? field,
            HttpContext http, ClaimsPrincipal user, CorpusService svc, CorpusUploads uploads, CancellationToken ct) =>
        {
            var userId = UserId(user);
            var fmt = format ?? TextFileFormats.FromFileName(fileName) ?? TextFileFormat.Txt;
            var path = await uploads.ReceiveAsync(http, projectId, userId, ct);
            try
            {
                await using var stream = File.OpenRead(path);
                var result = await svc.ImportAsync(userId, projectId, name, fileName ?? name ?? "corpus.txt", stream,
                    new TextFileOptions(fmt, column, header, field), ct);
                return Results.Created($"/api/projects/{projectId}/corpora/{result.Corpus.Id}", result);
            }
            finally
            {
                uploads.Delete(path);
            }
        }).RequireAuthorization(ProjectPolicies.Author);

        // Two steps (the portal's page): spool the file, then import it in the circuit with the chosen column.
        corpora.MapPost("/uploads", async (Guid projectId, HttpContext http, ClaimsPrincipal user, CorpusUploads uploads, ProjectAccess access, CancellationToken ct) =>
        {
            // Spooling is the first half of an import: refused in an archived project before a byte is kept.
            await access.RequireWriteAsync(projectId, UserId(user), ProjectRole.Author, ct);
            var path = await uploads.ReceiveAsync(http, projectId, UserId(user), ct);
            return Results.Ok(new { uploadId = Path.GetFileNameWithoutExtension(path), bytes = new FileInfo(path).Length });
        }).RequireAuthorization(ProjectPolicies.Author);

        var one = api.MapGroup("/corpora/{corpusId:guid}").RequireAuthorization();
        one.MapGet("/", (Guid corpusId, ClaimsPrincipal user, CorpusService svc, CancellationToken ct) => svc.GetAsync(UserId(user), corpusId, ct));
        one.MapGet("/report", (Guid corpusId, ClaimsPrincipal user, CorpusService svc, CancellationToken ct) => svc.GetReportAsync(UserId(user), corpusId, ct));
        one.MapGet("/texts", (Guid corpusId, int? page, int? pageSize, ClaimsPrincipal user, CorpusService svc, CancellationToken ct) =>
            svc.TextsAsync(UserId(user), corpusId, page ?? 0, pageSize ?? 100, ct));
        one.MapDelete("/", async (Guid corpusId, ClaimsPrincipal user, CorpusService svc, CancellationToken ct) =>
        {
            await svc.DeleteAsync(UserId(user), corpusId, ct);
            return Results.NoContent();
        });
        one.MapPost("/embeddings", (Guid corpusId, ClaimsPrincipal user, CorpusService svc, CancellationToken ct) =>
            svc.StartEmbeddingAsync(UserId(user), corpusId, ct));

        var mining = api.MapGroup("/tasks/{taskId:guid}/mining").RequireAuthorization();
        mining.MapGet("/runs", (Guid taskId, ClaimsPrincipal user, MiningService svc, CancellationToken ct) => svc.ListRunsAsync(UserId(user), taskId, ct));
        mining.MapPost("/runs", (Guid taskId, StartMiningRequest body, ClaimsPrincipal user, MiningService svc, CancellationToken ct) =>
            svc.StartAsync(UserId(user), taskId, body, ct));
        mining.MapGet("/active-learning", (Guid taskId, ClaimsPrincipal user, MiningService svc, CancellationToken ct) =>
            svc.ActiveLearningAsync(UserId(user), taskId, ct));
        mining.MapPost("/active-learning", (Guid taskId, ClaimsPrincipal user, MiningService svc, CancellationToken ct) =>
            svc.StartRescoreAsync(UserId(user), taskId, ct));
        return api;
    }
}
