using System.Security.Claims;
using System.Text;
using Incubator.Domain.Common;
using Incubator.Domain.Generation;
using Incubator.Domain.Review;
using Incubator.Web.Accounts;

namespace Incubator.Web.Api;

public sealed record DecisionRequest(DecisionKind Kind, long ExpectedVersion, RejectionReason? Reason = null, string? Comment = null, string? NewText = null, string? NewLabel = null);

/// <summary>The review queue over HTTP: list with filters, decide, export (CSV, TSV `label&lt;TAB&gt;text`, JSONL), audit trail.
/// Every call goes through ReviewService, which checks the caller's role in the task's project.</summary>
public static class ReviewApi
{
    public static RouteGroupBuilder MapReviewApi(this RouteGroupBuilder api)
    {
        var tasks = api.MapGroup("/tasks/{taskId:guid}/candidates").RequireAuthorization();
        tasks.MapGet("/", (Guid taskId, [AsParameters] FilterQuery q, int? page, int? pageSize, CandidateSort? sort, ClaimsPrincipal user, ReviewService review, CancellationToken ct) =>
            review.QueryAsync(UserId(user), taskId, q.ToFilter(), page ?? 0, pageSize ?? 50, sort ?? CandidateSort.Newest, ct));
        tasks.MapGet("/export", async (Guid taskId, [AsParameters] FilterQuery q, string? format, ClaimsPrincipal user, ReviewService review, CancellationToken ct) =>
        {
            var f = ReviewExport.ParseFormat(format);
            var filter = q.ToFilter();
            var userId = UserId(user);
            // Check access before the response starts: once streaming, a refusal could no longer be a 403.
            await review.QueryAsync(userId, taskId, filter, 0, 1, CandidateSort.Oldest, ct);
            return Results.Stream(async stream =>
            {
                await using var writer = new StreamWriter(stream, new UTF8Encoding(false));
                await ReviewExport.WriteCandidatesAsync(review, userId, taskId, filter, f, writer, ct);
            }, ReviewExport.ContentType(f), $"candidates.{ReviewExport.Extension(f)}");
        });

        var one = api.MapGroup("/candidates/{candidateId:guid}").RequireAuthorization();
        one.MapPost("/decisions", (Guid candidateId, DecisionRequest body, ClaimsPrincipal user, ReviewService review, CancellationToken ct) =>
            review.DecideAsync(UserId(user), candidateId, new Decision(body.Kind, body.Reason, body.Comment, body.NewText, body.NewLabel), body.ExpectedVersion, ct));
        one.MapGet("/audit", (Guid candidateId, ClaimsPrincipal user, ReviewService review, CancellationToken ct) =>
            review.AuditAsync(UserId(user), candidateId, ct));

        var project = api.MapGroup("/projects/{ProjectId:guid}/audit").RequireAuthorization(ProjectPolicies.Viewer);
        project.MapGet("/", (Guid projectId, int? page, int? pageSize, ClaimsPrincipal user, ReviewService review, CancellationToken ct) =>
            review.ProjectAuditAsync(UserId(user), projectId, page ?? 0, pageSize ?? 50, ct));
        project.MapGet("/export", (Guid projectId, ClaimsPrincipal user, ReviewService review, CancellationToken ct) =>
            Results.Stream(async stream =>
            {
                await using var writer = new StreamWriter(stream, new UTF8Encoding(false));
                await ReviewExport.WriteProjectAuditAsync(review, UserId(user), projectId, writer, ct);
            }, "text/csv; charset=utf-8", "audit.csv"));
        return api;
    }

    public sealed record FilterQuery(string? Label, CandidateStatus? Status, CandidateStage? Stage, CandidateSource? Source, Guid? RunId, bool? Ambiguous, string? Search)
    {
        public CandidateFilter ToFilter() => new(Label, Status, Stage, Source, RunId, Ambiguous, Search);
    }

    private static string UserId(ClaimsPrincipal user) =>
        user.FindFirstValue(ClaimTypes.NameIdentifier) ?? throw new ForbiddenException("Sign in first.");
}
