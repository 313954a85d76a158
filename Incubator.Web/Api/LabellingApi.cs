using System.Security.Claims;
using Incubator.Domain.Labelling;
using static Incubator.Web.Accounts.UserClaims;

namespace Incubator.Web.Api;

/// <summary>LLM labelling of a corpus over HTTP (docs/decisions/0037-llm-labels-a-corpus.md): estimate and start (Author,
/// as a generation run), list a task's runs and read one (Viewer). <see cref="LabellingService"/> checks the role in the
/// task's project on every call.</summary>
public static class LabellingApi
{
    public static RouteGroupBuilder MapLabellingApi(this RouteGroupBuilder api)
    {
        var task = api.MapGroup("/tasks/{taskId:guid}/labelling").RequireAuthorization();
        task.MapGet("/runs", (Guid taskId, ClaimsPrincipal user, LabellingService svc, CancellationToken ct) => svc.ListRunsAsync(UserId(user), taskId, ct));
        task.MapPost("/estimate", (Guid taskId, StartLabellingRequest body, ClaimsPrincipal user, LabellingService svc, CancellationToken ct) =>
            svc.EstimateAsync(UserId(user), taskId, body, ct));
        task.MapPost("/runs", async (Guid taskId, StartLabellingRequest body, ClaimsPrincipal user, LabellingService svc, CancellationToken ct) =>
        {
            var run = await svc.StartAsync(UserId(user), taskId, body, ct);
            return Results.Accepted($"/api/labelling-runs/{run.Id}", run);
        });
        api.MapGet("/labelling-runs/{runId:guid}", (Guid runId, ClaimsPrincipal user, LabellingService svc, CancellationToken ct) =>
            svc.GetRunAsync(UserId(user), runId, ct)).RequireAuthorization();
        return api;
    }
}
