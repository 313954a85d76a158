using System.Security.Claims;
using Incubator.Domain.Jobs;
using Incubator.Domain.Projects;
using Incubator.Web.Accounts;
using static Incubator.Web.Accounts.UserClaims;

namespace Incubator.Web.Api;

public sealed record CreateProjectRequest(string? Name, string? Description);

public sealed record AddMemberRequest(string? Email, ProjectRole Role);

public sealed record DiagnosticsJobRequest(int Steps = 10, int DelayMs = 500);

public sealed record CreateInvitationRequest(string? Email, ProjectRole Role);

/// <summary>REST endpoints for projects, members and jobs. Every route that names a project carries a project
/// policy (checked before the handler runs) and the use case checks the role again.</summary>
public static class ProjectsApi
{
    public static RouteGroupBuilder MapProjectsApi(this RouteGroupBuilder api)
    {
        var projects = api.MapGroup("/projects").RequireAuthorization();
        projects.MapGet("/", (ClaimsPrincipal user, ProjectService svc, bool? includeArchived, CancellationToken ct) =>
            svc.ListProjectsAsync(UserId(user), includeArchived ?? false, ct));
        projects.MapPost("/", async (CreateProjectRequest body, ClaimsPrincipal user, ProjectService svc, CancellationToken ct) =>
        {
            var p = await svc.CreateProjectAsync(UserId(user), body.Name, body.Description, ct);
            return Results.Created($"/api/projects/{p.Id}", p);
        });

        var one = projects.MapGroup("/{ProjectId:guid}");
        one.MapGet("/", (Guid projectId, ClaimsPrincipal user, ProjectService svc, CancellationToken ct) =>
            svc.GetOverviewAsync(UserId(user), projectId, 20, ct)).RequireAuthorization(ProjectPolicies.Viewer);
        one.MapGet("/members", (Guid projectId, ClaimsPrincipal user, ProjectService svc, CancellationToken ct) =>
            svc.ListMembersAsync(UserId(user), projectId, ct)).RequireAuthorization(ProjectPolicies.Viewer);
        one.MapPost("/members", async (Guid projectId, AddMemberRequest body, ClaimsPrincipal user, ProjectService svc, CancellationToken ct) =>
            Results.Ok(await svc.AddMemberAsync(UserId(user), projectId, body.Email, body.Role, ct))).RequireAuthorization(ProjectPolicies.Owner);
        one.MapGet("/invitations", (Guid projectId, ClaimsPrincipal user, InvitationService invitations, CancellationToken ct) =>
            invitations.ListAsync(UserId(user), projectId, ct)).RequireAuthorization(ProjectPolicies.Owner);
        one.MapPost("/invitations", async (Guid projectId, CreateInvitationRequest body, ClaimsPrincipal user, InvitationService invitations, CancellationToken ct) =>
        {
            var created = await invitations.CreateAsync(UserId(user), projectId, body.Role, body.Email, ct);
            // The link is shown once: only its hash is stored.
            return Results.Created($"/api/projects/{projectId}/invitations", new { invitation = created.Invitation, link = $"/invite/{created.Token}" });
        }).RequireAuthorization(ProjectPolicies.Owner);
        api.MapDelete("/invitations/{invitationId:guid}", async (Guid invitationId, ClaimsPrincipal user, InvitationService invitations, CancellationToken ct) =>
        {
            await invitations.RevokeAsync(UserId(user), invitationId, ct);
            return Results.NoContent();
        }).RequireAuthorization();
        one.MapGet("/jobs", (Guid projectId, int? page, int? pageSize, ClaimsPrincipal user, JobQueue jobs, CancellationToken ct) =>
            jobs.ListAsync(UserId(user), projectId, page ?? 0, pageSize ?? 25, false, ct)).RequireAuthorization(ProjectPolicies.Viewer);
        one.MapPost("/jobs/diagnostics", async (Guid projectId, DiagnosticsJobRequest body, ClaimsPrincipal user, JobQueue jobs, CancellationToken ct) =>
        {
            if (body.Steps is < 1 or > 10_000 || body.DelayMs is < 0 or > 10_000)
                return Results.ValidationProblem(new Dictionary<string, string[]> { ["steps"] = ["Steps must be 1..10000 and delayMs 0..10000."] });
            var job = await jobs.EnqueueAsync(UserId(user), projectId, DiagnosticsJob.KindName, JobTitles.WorkerCheck(), new DiagnosticsJob.Payload(body.Steps, body.DelayMs), ct);
            return Results.Accepted($"/api/jobs/{job.Id}", job);
        }).RequireAuthorization(ProjectPolicies.Author);

        var jobsGroup = api.MapGroup("/jobs/{jobId:guid}").RequireAuthorization();
        jobsGroup.MapGet("/", (Guid jobId, ClaimsPrincipal user, JobQueue jobs, CancellationToken ct) => jobs.GetAsync(UserId(user), jobId, ct));
        jobsGroup.MapGet("/log", (Guid jobId, ClaimsPrincipal user, JobQueue jobs, CancellationToken ct) => jobs.GetLogAsync(UserId(user), jobId, 500, ct));
        jobsGroup.MapPost("/cancel", (Guid jobId, ClaimsPrincipal user, JobQueue jobs, CancellationToken ct) => jobs.CancelAsync(UserId(user), jobId, ct));
        return api;
    }
}
