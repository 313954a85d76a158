using System.Security.Claims;
using Incubator.Domain.Generation;
using Incubator.Domain.Jobs;
using Incubator.Web.Accounts;
using static Incubator.Web.Accounts.UserClaims;

namespace Incubator.Web.Api;

/// <summary>A generation run as the API shows it: the same state as its job (Waiting while it waits for its endpoint),
/// how it ended, the note saying why (code, English message, arguments) and the labels that ended short.</summary>
public sealed record RunStatus(
    Guid Id, Guid TaskId, Guid? JobId, JobState? State, bool Waiting, RunOutcome? Outcome, JobNote? Note, IReadOnlyList<LabelShortfall> Shortfalls,
    int PerLabel, int Selected, int Reserve, int Pool, int Calls, int FailedCalls, int Surplus, long Tokens, decimal Cost, long? BudgetTokens);

/// <summary>Generation runs over HTTP: start one (Author), list a task's runs and read one (Viewer). Each call goes
/// through <see cref="GenerationService"/>, which checks the role in the run's project.</summary>
public static class GenerationApi
{
    public static RouteGroupBuilder MapGenerationApi(this RouteGroupBuilder api)
    {
        var project = api.MapGroup("/projects/{ProjectId:guid}/runs").RequireAuthorization();
        project.MapGet("/", (Guid projectId, Guid? taskId, ClaimsPrincipal user, GenerationService runs, CancellationToken ct) =>
            runs.ListRunsAsync(UserId(user), projectId, taskId, ct)).RequireAuthorization(ProjectPolicies.Viewer);
        project.MapPost("/", async (Guid projectId, StartRunRequest body, ClaimsPrincipal user, GenerationService runs, CancellationToken ct) =>
        {
            var run = await runs.StartAsync(UserId(user), projectId, body, ct);
            return Results.Accepted($"/api/runs/{run.Id}", run);
        }).RequireAuthorization(ProjectPolicies.Author);
        api.MapGet("/runs/{runId:guid}", async (Guid runId, ClaimsPrincipal user, GenerationService runs, CancellationToken ct) =>
        {
            var v = await runs.GetRunAsync(UserId(user), runId, 1, ct);
            var r = v.Run;
            return new RunStatus(r.Id, r.TaskId, r.JobId, v.Job?.State, v.Job?.Waiting == true, r.Outcome, v.Job?.Note, v.Shortfalls, r.PerLabelTarget,
                v.Labels.Sum(l => l.Selected), v.Labels.Sum(l => l.Reserve), v.Labels.Sum(l => l.Pool), r.Calls, r.FailedCalls, r.Surplus,
                r.InputTokens + r.OutputTokens, r.Cost, r.BudgetTokens);
        }).RequireAuthorization();
        return api;
    }
}
