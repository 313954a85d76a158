using System.Security.Claims;
using System.Text;
using Incubator.Domain.Common;
using Incubator.Domain.Mining.Query;
using Incubator.Web.Accounts;
using static Incubator.Web.Accounts.UserClaims;

namespace Incubator.Web.Api;

public sealed record QueryCheckRequest(string? Expression);

public sealed record StartQueryRequest(Guid CorpusId, string? Expression);

public sealed record StartApplyRequest(Guid CorpusId, Guid ModelVersionId);

/// <summary>Logical text mining over HTTP: published models, checking a query (errors with positions), starting a
/// query or a model application (Author), reading runs, paging results and exporting them as CSV (Viewer).</summary>
public static class QueryApi
{
    public static RouteGroupBuilder MapQueryApi(this RouteGroupBuilder api)
    {
        var g = api.MapGroup("/projects/{ProjectId:guid}").RequireAuthorization(ProjectPolicies.Viewer);
        g.MapGet("/query-models", (Guid projectId, ClaimsPrincipal user, QueryRunService svc, CancellationToken ct) =>
            svc.ModelsAsync(UserId(user), projectId, ct));
        g.MapPost("/queries/check", async (Guid projectId, QueryCheckRequest body, ClaimsPrincipal user, QueryRunService svc, CancellationToken ct) =>
            QueryRunService.Check(body.Expression ?? "", await svc.ModelsAsync(UserId(user), projectId, ct)));
        g.MapPost("/queries", (Guid projectId, StartQueryRequest body, ClaimsPrincipal user, QueryRunService svc, CancellationToken ct) =>
            svc.StartQueryAsync(UserId(user), projectId, body.CorpusId, body.Expression ?? "", ct)).RequireAuthorization(ProjectPolicies.Author);
        g.MapPost("/applications", (Guid projectId, StartApplyRequest body, ClaimsPrincipal user, QueryRunService svc, CancellationToken ct) =>
            svc.StartApplyAsync(UserId(user), projectId, body.CorpusId, body.ModelVersionId, ct)).RequireAuthorization(ProjectPolicies.Author);
        g.MapGet("/query-runs", (Guid projectId, ClaimsPrincipal user, QueryRunService svc, CancellationToken ct) =>
            svc.ListAsync(UserId(user), projectId, null, ct));
        g.MapGet("/query-runs/{runId:guid}", async (Guid projectId, Guid runId, ClaimsPrincipal user, QueryRunService svc, CancellationToken ct) =>
            await InProject(projectId, await svc.GetAsync(UserId(user), runId, ct)));
        g.MapGet("/query-runs/{runId:guid}/hits", async (Guid projectId, Guid runId, int? page, int? pageSize, string? label, ClaimsPrincipal user,
            QueryRunService svc, CancellationToken ct) =>
        {
            await InProject(projectId, await svc.GetAsync(UserId(user), runId, ct));
            return await svc.HitsAsync(UserId(user), runId, page ?? 0, pageSize ?? 50, label, ct);
        });
        g.MapGet("/query-runs/{runId:guid}/export", async (Guid projectId, Guid runId, ClaimsPrincipal user, QueryRunService svc, CancellationToken ct) =>
        {
            var userId = UserId(user);
            // Check access before the response starts: once streaming, a refusal could no longer be a 403.
            var run = await InProject(projectId, await svc.GetAsync(userId, runId, ct));
            return Results.Stream(async stream =>
            {
                await using var writer = new StreamWriter(stream, new UTF8Encoding(false));
                await svc.WriteCsvAsync(userId, runId, writer, ct);
            }, "text/csv; charset=utf-8", $"{(run.Run.Kind == QueryRunKind.Query ? "query-hits" : "predictions")}-{runId.ToString("N")[..8]}.csv");
        });
        return api;
    }

    private static Task<QueryRunView> InProject(Guid projectId, QueryRunView view) =>
        view.Run.ProjectId == projectId ? Task.FromResult(view) : throw new NotFoundException("Run not found.");
}
