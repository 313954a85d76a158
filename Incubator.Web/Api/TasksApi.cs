using System.Security.Claims;
using System.Text;
using Incubator.Domain.Common;
using Incubator.Domain.Tasks;
using Incubator.Web.Accounts;
using static Incubator.Web.Accounts.UserClaims;

namespace Incubator.Web.Api;

/// <summary>Tasks over HTTP in the same JSON shape as the editor's import/export and the CLI. Bodies are read raw and
/// parsed strictly (unknown fields are errors), with the 1 MB limit enforced while reading.</summary>
public static class TasksApi
{
    public static RouteGroupBuilder MapTasksApi(this RouteGroupBuilder api)
    {
        var inProject = api.MapGroup("/projects/{ProjectId:guid}/tasks").RequireAuthorization();
        inProject.MapGet("/", (Guid projectId, ClaimsPrincipal user, TaskService tasks, CancellationToken ct) =>
            tasks.ListTasksAsync(UserId(user), projectId, ct)).RequireAuthorization(ProjectPolicies.Viewer);
        inProject.MapPost("/", async (Guid projectId, HttpRequest request, ClaimsPrincipal user, TaskService tasks, CancellationToken ct) =>
        {
            var spec = TaskJson.Parse(await ReadBodyAsync(request, ct));
            var view = await tasks.CreateTaskAsync(UserId(user), projectId, spec, "api", ct);
            return Results.Created($"/api/tasks/{view.Id}", Summary(view));
        }).RequireAuthorization(ProjectPolicies.Author);

        var one = api.MapGroup("/tasks/{taskId:guid}").RequireAuthorization();
        one.MapGet("/", async (Guid taskId, int? version, ClaimsPrincipal user, TaskService tasks, HttpResponse response, CancellationToken ct) =>
        {
            var view = await tasks.GetTaskAsync(UserId(user), taskId, version, ct);
            response.Headers["X-Task-Version"] = view.Version.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Results.Text(TaskJson.Serialize(view.Spec), "application/json", Encoding.UTF8);
        });
        one.MapPut("/", async (Guid taskId, int? expectedVersion, HttpRequest request, ClaimsPrincipal user, TaskService tasks, CancellationToken ct) =>
        {
            if (expectedVersion is null)
                throw new DomainValidationException("expectedVersion", "ExpectedVersionRequired", "Say which version you edited: ?expectedVersion=N (the X-Task-Version you read).");
            var spec = TaskJson.Parse(await ReadBodyAsync(request, ct));
            var view = await tasks.SaveAsync(UserId(user), taskId, spec, expectedVersion.Value, null, ct);
            return Results.Ok(Summary(view));
        });
        one.MapGet("/versions", (Guid taskId, ClaimsPrincipal user, TaskService tasks, CancellationToken ct) =>
            tasks.ListVersionsAsync(UserId(user), taskId, ct));
        return api;
    }

    private static object Summary(TaskView v) => new { v.Id, v.ProjectId, version = v.CurrentVersion, v.Spec.Name, labels = v.Spec.Labels.Count };

    private static async Task<string> ReadBodyAsync(HttpRequest request, CancellationToken ct)
    {
        var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, ct)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > TaskJson.MaxBytes)
                throw new RequestTooLargeException("JsonTooLarge", $"The task JSON is larger than {TaskJson.MaxBytes:N0} bytes.");
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }
}
