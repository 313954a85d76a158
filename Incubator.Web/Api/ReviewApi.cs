using System.Security.Claims;
using System.Text;
using Incubator.Domain.Common;
using Incubator.Domain.Generation;
using Incubator.Domain.Jobs;
using Incubator.Domain.Review;
using Incubator.Web.Accounts;
using static Incubator.Web.Accounts.UserClaims;

namespace Incubator.Web.Api;

public sealed record PolicyRequest(int OverlapK, double SpotCheckThreshold);

/// <summary>Skip: items to pass over (their leases are released). RunId/Label/Source/Sort: the queue's scope and order
/// (default: every pending item, oldest first; Sort=MostUncertain for active learning).</summary>
public sealed record NextRequest(IReadOnlyList<Guid>? Skip, Guid? RunId = null, string? Label = null, CandidateSource? Source = null, CandidateSort? Sort = null);

public sealed record SettleRequest(DecisionKind Kind, RejectionReason? Reason = null, string? Comment = null, string? NewLabel = null);

public sealed record DecisionRequest(DecisionKind Kind, long ExpectedVersion, RejectionReason? Reason = null, string? Comment = null, string? NewText = null, string? NewLabel = null);

/// <summary>The review queue over HTTP: list with filters, decide, export (CSV, TSV `label&lt;TAB&gt;text`, JSONL), audit trail.
/// Every call goes through one review use case or <see cref="ReviewQueries"/>, each of which checks the caller's role in the
/// task's project.</summary>
public static class ReviewApi
{
    public static RouteGroupBuilder MapReviewApi(this RouteGroupBuilder api)
    {
        var tasks = api.MapGroup("/tasks/{taskId:guid}/candidates").RequireAuthorization();
        tasks.MapGet("/", (Guid taskId, [AsParameters] FilterQuery q, int? page, int? pageSize, CandidateSort? sort, ClaimsPrincipal user, ReviewQueries review, CancellationToken ct) =>
            review.QueryAsync(UserId(user), taskId, q.ToFilter(), page ?? 0, pageSize ?? 50, sort ?? CandidateSort.Spread, ct));
        tasks.MapGet("/export", async (Guid taskId, [AsParameters] FilterQuery q, string? format, ClaimsPrincipal user, ReviewQueries review,
            ReviewExports exports, CancellationToken ct) =>
        {
            var f = ReviewExport.ParseFormat(format);
            var filter = q.ToFilter();
            var userId = UserId(user);
            // Check access before the response starts: once streaming, a refusal could no longer be a 403.
            var total = await exports.CountAsync(userId, taskId, filter, ct);
            if (total > exports.Threshold)
            {
                // Too large to stream in one request: a durable job writes the file; poll the job, then download it.
                var job = await exports.StartAsync(userId, taskId, filter, f, ct);
                return Results.Accepted($"/api/exports/{job.Id}/download", new { job, rows = total, download = $"/api/exports/{job.Id}/download" });
            }
            return Results.Stream(async stream =>
            {
                await using var writer = new StreamWriter(stream, new UTF8Encoding(false));
                await ReviewExport.WriteCandidatesAsync(review, userId, taskId, filter, f, writer, ct);
            }, ReviewExport.ContentType(f), $"candidates.{ReviewExport.Extension(f)}");
        });
        tasks.MapPost("/export-jobs", async (Guid taskId, [AsParameters] FilterQuery q, string? format, ClaimsPrincipal user, ReviewExports exports, CancellationToken ct) =>
        {
            var job = await exports.StartAsync(UserId(user), taskId, q.ToFilter(), ReviewExport.ParseFormat(format), ct);
            return Results.Accepted($"/api/exports/{job.Id}/download", new { job, download = $"/api/exports/{job.Id}/download" });
        });
        api.MapGet("/exports/{jobId:guid}/download", async (Guid jobId, ClaimsPrincipal user, ReviewExports exports, JobQueue jobs, HttpResponse response,
            CancellationToken ct) =>
        {
            var (path, contentType, name) = await exports.FileAsync(UserId(user), jobId, ct);
            // The file is deleted when its retention ends; the link says when.
            if (exports.ExpiresAt(await jobs.GetAsync(UserId(user), jobId, ct)) is { } expires) response.Headers.Expires = expires.ToString("R");
            return Results.File(path, contentType, name);
        }).RequireAuthorization();

        // Assignment, policies, conflicts and agreement (each use case checks the role in the task's project).
        var task = api.MapGroup("/tasks/{taskId:guid}").RequireAuthorization();
        task.MapGet("/review-policy", (Guid taskId, ClaimsPrincipal user, SetReviewPolicy policy, CancellationToken ct) =>
            policy.GetAsync(UserId(user), taskId, ct));
        task.MapPut("/review-policy", (Guid taskId, PolicyRequest body, ClaimsPrincipal user, SetReviewPolicy policy, CancellationToken ct) =>
            policy.SetAsync(UserId(user), taskId, body.OverlapK, body.SpotCheckThreshold, ct));
        task.MapPost("/assignments/next", async (Guid taskId, NextRequest? body, ClaimsPrincipal user, ClaimNextCandidate claim, CancellationToken ct) =>
            await claim.ClaimNextAsync(UserId(user), taskId, body?.Skip,
                new ClaimScope(body?.RunId, body?.Label, body?.Source, body?.Sort ?? CandidateSort.Oldest), ct) is { } row ? Results.Ok(row) : Results.NoContent());
        task.MapDelete("/assignments", async (Guid taskId, ClaimsPrincipal user, ClaimNextCandidate claim, CancellationToken ct) =>
            Results.Ok(new { released = await claim.ReleaseAsync(UserId(user), taskId, ct) }));
        task.MapGet("/assignments", (Guid taskId, ClaimsPrincipal user, ReviewQueries review, CancellationToken ct) =>
            review.ProgressAsync(UserId(user), taskId, ct));
        task.MapGet("/short-labels", (Guid taskId, ClaimsPrincipal user, ReviewQueries review, CancellationToken ct) =>
            review.ShortLabelsAsync(UserId(user), taskId, ct));
        task.MapPost("/short-labels/{label}/top-up", async (Guid taskId, string label, ClaimsPrincipal user, TopUpFromReserve topUp, CancellationToken ct) =>
            Results.Ok(new { label, moved = await topUp.TopUpAsync(UserId(user), taskId, label, ct) }));
        task.MapGet("/conflicts", (Guid taskId, ClaimsPrincipal user, ReviewQueries review, CancellationToken ct) =>
            review.ConflictsAsync(UserId(user), taskId, 100, ct));
        task.MapGet("/agreement", async (Guid taskId, ClaimsPrincipal user, ReviewQueries review, CancellationToken ct) =>
            await review.AgreementAsync(UserId(user), taskId, ct) is { } a
                ? Results.Ok(a)
                : Results.Ok(new { method = (string?)null, message = "Not enough overlapping reviews yet." }));

        var one = api.MapGroup("/candidates/{candidateId:guid}").RequireAuthorization();
        one.MapPost("/decisions", (Guid candidateId, DecisionRequest body, ClaimsPrincipal user, DecideCandidate decide, CancellationToken ct) =>
            decide.DecideAsync(UserId(user), candidateId, new Decision(body.Kind, body.Reason, body.Comment, body.NewText, body.NewLabel), body.ExpectedVersion, ct));
        one.MapPost("/lease", async (Guid candidateId, ClaimsPrincipal user, ClaimNextCandidate claim, CancellationToken ct) =>
            Results.Ok(new { renewed = await claim.RenewAsync(UserId(user), candidateId, ct) }));
        one.MapPost("/settle", (Guid candidateId, SettleRequest body, ClaimsPrincipal user, SettleConflict settle, CancellationToken ct) =>
            settle.SettleAsync(UserId(user), candidateId, new Decision(body.Kind, body.Reason, body.Comment, NewLabel: body.NewLabel), ct));
        one.MapGet("/audit", (Guid candidateId, ClaimsPrincipal user, ReviewQueries review, CancellationToken ct) =>
            review.AuditAsync(UserId(user), candidateId, ct));

        var project = api.MapGroup("/projects/{ProjectId:guid}/audit").RequireAuthorization(ProjectPolicies.Viewer);
        project.MapGet("/", (Guid projectId, int? page, int? pageSize, ClaimsPrincipal user, ReviewQueries review, CancellationToken ct) =>
            review.ProjectAuditAsync(UserId(user), projectId, page ?? 0, pageSize ?? 50, ct));
        project.MapGet("/export", (Guid projectId, ClaimsPrincipal user, ReviewQueries review, CancellationToken ct) =>
            Results.Stream(async stream =>
            {
                await using var writer = new StreamWriter(stream, new UTF8Encoding(false));
                await ReviewExport.WriteProjectAuditAsync(review, UserId(user), projectId, writer, ct);
            }, "text/csv; charset=utf-8", "audit.csv"));
        return api;
    }

    /// <summary>View: main (default: selected and mined samples), reserve or all; an explicit Stage overrides it.</summary>
    public sealed record FilterQuery(string? Label, CandidateStatus? Status, CandidateStage? Stage, CandidateSource? Source, Guid? RunId, bool? Ambiguous, string? Search,
        CandidateView? View)
    {
        public CandidateFilter ToFilter() => new(Label, Status, Stage ?? View switch
        {
            CandidateView.Reserve => CandidateStage.Reserve,
            CandidateView.All => null,
            _ => CandidateStage.Selected,
        }, Source, RunId, Ambiguous, Search);
    }
}
