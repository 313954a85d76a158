using System.Security.Claims;
using Incubator.Domain.Common;
using Incubator.Domain.Data;
using Incubator.Domain.Mining;
using Incubator.Domain.Projects;
using Incubator.Web.Accounts;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

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
        corpora.MapPost("/", async (Guid projectId, string? name, string? fileName, CorpusFormat? format, string? column, bool? header, string? field,
            HttpContext http, ClaimsPrincipal user, CorpusService svc, CorpusUploads uploads, CancellationToken ct) =>
        {
            var userId = UserId(user);
            var fmt = format ?? CorpusParser.FormatFromFileName(fileName) ?? CorpusFormat.Txt;
            var path = await uploads.ReceiveAsync(http, projectId, userId, ct);
            try
            {
                await using var stream = File.OpenRead(path);
                var result = await svc.ImportAsync(userId, projectId, name, fileName ?? name ?? "corpus.txt", stream,
                    new CorpusParseOptions(fmt, column, header, field), ct);
                return Results.Created($"/api/projects/{projectId}/corpora/{result.Corpus.Id}", result);
            }
            finally
            {
                uploads.Delete(path);
            }
        }).RequireAuthorization(ProjectPolicies.Author);

        // Two steps (the portal's page): spool the file, then import it in the circuit with the chosen column.
        corpora.MapPost("/uploads", async (Guid projectId, HttpContext http, ClaimsPrincipal user, CorpusUploads uploads, CancellationToken ct) =>
        {
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

    private static string UserId(ClaimsPrincipal user) =>
        user.FindFirstValue(ClaimTypes.NameIdentifier) ?? throw new ForbiddenException("Sign in first.");
}

/// <summary>Spools upload bodies to files under {data}/uploads/{project}/ named for the uploader, so only the user who
/// sent a file can import it. Files older than a day are swept on the next upload.</summary>
public sealed class CorpusUploads(IOptions<IncubatorOptions> options)
{
    private string Folder(Guid projectId) => Path.Combine(options.Value.ResolveDataDirectory(), "uploads", projectId.ToString("N"));

    public async Task<string> ReceiveAsync(HttpContext http, Guid projectId, string userId, CancellationToken ct)
    {
        // Kestrel's default 30 MB body limit is for ordinary requests; corpus uploads may be larger.
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = CorpusService.MaxUploadBytes;
        if (http.Request.ContentLength > CorpusService.MaxUploadBytes)
            throw new DomainValidationException("file", "CorpusTooLarge", $"The file is larger than {CorpusService.MaxUploadBytes / (1024 * 1024)} MB.", CorpusService.MaxUploadBytes / (1024 * 1024));
        var folder = Folder(projectId);
        Directory.CreateDirectory(folder);
        Sweep(folder);
        var path = Path.Combine(folder, $"{Owner(userId)}-{Guid.NewGuid():N}.upload");
        try
        {
            await using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);
            await http.Request.Body.CopyToAsync(file, 1 << 16, ct);
        }
        catch
        {
            Delete(path);
            throw;
        }
        return path;
    }

    /// <summary>The spooled file of this user's upload, or null (unknown id, someone else's, or swept).</summary>
    public string? Find(Guid projectId, string userId, string uploadId)
    {
        if (uploadId.Length > 100 || uploadId.Any(c => !char.IsAsciiLetterOrDigit(c) && c != '-')) return null;
        if (!uploadId.StartsWith(Owner(userId) + "-", StringComparison.Ordinal)) return null;
        var path = Path.Combine(Folder(projectId), uploadId + ".upload");
        return File.Exists(path) ? path : null;
    }

    public void Delete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
    }

    private static string Owner(string userId) =>
        Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(userId)))[..16].ToLowerInvariant();

    private void Sweep(string folder)
    {
        foreach (var f in Directory.EnumerateFiles(folder, "*.upload"))
            if (File.GetLastWriteTimeUtc(f) < DateTime.UtcNow.AddDays(-1)) Delete(f);
    }
}
