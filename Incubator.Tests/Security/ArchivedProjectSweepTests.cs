using System.Net;
using System.Reflection;
using System.Text.Json;
using Incubator.Domain.Common;
using Incubator.Domain.Jobs;
using Incubator.Domain.Projects;
using Incubator.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Incubator.Tests.Security;

/// <summary>"This project is archived: it is read-only until an Owner restores it" — at the server, for every write.
/// The sweep project (<see cref="SweepPortal"/>, its own instance) is archived; then every service method of the role
/// table (<see cref="ServiceAuthorizationSweepRoleTests.Table"/>) that writes a project's rows is called by the member
/// with its minimum role and must be refused with ProjectArchived, changing nothing, unless it is in
/// <see cref="AllowedWhileArchived"/> with a reason; every read still answers. The API's write routes are called once by
/// the Owner over HTTP: the ProjectArchived problem (409 Conflict, the code in "problems"), nothing changed.
/// Decision 0024, amendment arch21.</summary>
public sealed class ArchivedProjectSweepTests(SweepPortal portal, ITestOutputHelper output) : IClassFixture<SweepPortal>
{
    /// <summary>Project writes allowed in an archived project, each with why. MustAnswer: must succeed outright with the
    /// sweep's rows (not merely "not refused for the archive").</summary>
    private static readonly Dictionary<string, (string Why, bool MustAnswer)> AllowedWhileArchived = new(StringComparer.Ordinal)
    {
        ["ProjectService.SetArchivedAsync(String, Guid, Boolean, CancellationToken)"] = ("restoring the project is how an Owner ends the archive (called last, with false)", true),
        ["ProjectService.AddMemberAsync(String, Guid, String, ProjectRole, CancellationToken)"] = ("membership by the Owner: members keep read access, and who may read is the Owner's to manage", false),
        ["ProjectService.ChangeMemberRoleAsync(String, Guid, String, ProjectRole, CancellationToken)"] = ("membership by the Owner (e.g. hand the project to another Owner who may restore it)", false),
        ["ProjectService.RemoveMemberAsync(String, Guid, String, CancellationToken)"] = ("membership by the Owner: taking read access away from someone who left", false),
        ["InvitationService.CreateAsync(String, Guid, ProjectRole, String, CancellationToken)"] = ("membership by the Owner (an invitation is a membership not yet accepted)", true),
        ["InvitationService.RevokeAsync(String, Guid, CancellationToken)"] = ("membership by the Owner", false),
        ["JobQueue.CancelAsync(String, Guid, CancellationToken)"] = ("stopping work already running: a user must be able to stop spending", true),
        ["JobQueue.PauseAsync(String, Guid, CancellationToken)"] = ("stopping work already running (resuming is refused)", true),
        ["ClaimNextCandidate.ReleaseAsync(String, Guid, CancellationToken)"] = ("gives back the caller's own hand-outs (leaving focus mode); writes no review", true),
        ["ReviewPresence.JoinAsync(String, Guid, Guid, String, CancellationToken)"] = ("being on a review page is reading; the presence row is the page's, not the project's data", true),
        ["ReviewExports.StartAsync(String, Guid, CandidateFilter, ExportFormat, CancellationToken)"] = ("an export is a read: a job row and a file outside the project (JobQueue.ReadOnlyKinds)", true),
        ["TemplateLibrary.InstantiateAsync(String, Guid, String, IReadOnlyDictionary`2, CancellationToken)"] = ("a read (fills a template in, saves nothing); not Read in the role table only because the sweep's template name does not exist", false),
        ["TrainingService.OpenModelAsync(String, Guid, CancellationToken)"] = ("a download (read); the sweep's draft model has no files", false),
        ["TrainingService.OpenBundleAsync(String, Guid, CancellationToken)"] = ("a download (read); the sweep's draft model has no files", false),
        ["ModelPredictor.PredictAsync(String, Guid, IReadOnlyList`1, Boolean, CancellationToken)"] = ("a prediction writes nothing (read); the sweep's draft model has no files", false),
    };

    /// <summary>API write routes allowed in an archived project (not called here: the service sweep above calls what
    /// they wrap), each with why.</summary>
    private static readonly Dictionary<string, string> RoutesAllowedWhileArchived = new(StringComparer.Ordinal)
    {
        ["POST /api/projects/{ProjectId:guid}/members"] = "ProjectService.AddMemberAsync: membership by the Owner",
        ["POST /api/projects/{ProjectId:guid}/invitations"] = "InvitationService.CreateAsync: membership by the Owner",
        ["DELETE /api/invitations/{invitationId:guid}"] = "InvitationService.RevokeAsync: membership by the Owner",
        ["POST /api/jobs/{jobId:guid}/cancel"] = "JobQueue.CancelAsync: stopping work",
        ["POST /api/tasks/{taskId:guid}/candidates/export-jobs"] = "ReviewExports.StartAsync: an export is a read",
        ["DELETE /api/tasks/{taskId:guid}/assignments"] = "ClaimNextCandidate.ReleaseAsync: gives back the caller's own hand-outs",
        ["POST /api/projects/{ProjectId:guid}/queries/check"] = "parses a query expression: a read with a body",
        ["POST /api/models/{modelId:guid}/predict"] = "a prediction: a read with a body",
    };

    private static readonly string ArchivedMessage = ProjectAccess.Archived().Details.Single().Message;

    private static bool IsArchivedRefusal(Exception? e) =>
        e is DomainValidationException v && v.Details.Any(d => d.Code == "ProjectArchived");

    private static string Describe(Exception? e) => ServiceAuthorizationSweepRoleTests.Describe(e);

    private Task<Exception?> CallAsync(IServiceProvider services, Type type, MethodInfo method, ProjectRole role) =>
        ServiceAuthorizationSweepRoleTests.CallAsync(portal, services, type, method, role);

    private Task ArchiveAsync(bool archived) =>
        portal.Services.GetRequiredService<ProjectService>().SetArchivedAsync(portal.VictimOwnerId, portal.Victim.ProjectId, archived);

    private Task<bool> IsArchivedAsync() =>
        portal.QueryAsync(db => db.Projects.Where(p => p.Id == portal.Victim.ProjectId).Select(p => p.IsArchived).SingleAsync());

    [Fact]
    public void The_allowed_lists_name_only_project_writes_and_routes_that_exist()
    {
        var problems = new List<string>();
        foreach (var key in AllowedWhileArchived.Keys)
            if (!ServiceAuthorizationSweepRoleTests.Table.TryGetValue(key, out var need)) problems.Add($"{key}: not a service method of the role table");
            else if (need.Read || need.Min > ServiceMin.Owner) problems.Add($"{key}: not a project write (Read or not a project's method): no need to allow it");
        foreach (var key in RoutesAllowedWhileArchived.Keys)
            if (!AuthorizationSweepTests.Routes.TryGetValue(key, out var route) || route.Min < Access.Viewer || key.StartsWith("GET ", StringComparison.Ordinal))
                problems.Add($"{key}: not a project write route of AuthorizationSweepTests.Routes");
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public async Task Every_service_write_in_an_archived_project_is_refused_and_changes_nothing_reads_answer_and_the_allowed_work()
    {
        var table = ServiceAuthorizationSweepRoleTests.Table;
        var methods = ServiceAuthorizationSweepTests.Methods()
            .Select(x => (x.Service, x.Method, Key: ServiceAuthorizationSweepTests.Key(x.Service, x.Method)))
            .Where(x => table.TryGetValue(x.Key, out var n) && n.Skip is null && n.Min <= ServiceMin.Owner)
            .OrderBy(x => x.Key, StringComparer.Ordinal)
            .ToList();
        var problems = new List<string>();
        await portal.WaitForJobsAsync(portal.Victim.ProjectId);
        await ArchiveAsync(true);
        await using var scope = portal.Services.CreateAsyncScope();

        // 1. Every write not allowed: ProjectArchived, as the member with the method's minimum role; not one row changed.
        var before = await portal.SnapshotAsync();
        var refused = 0;
        foreach (var (type, method, key) in methods.Where(x => !table[x.Key].Read && !AllowedWhileArchived.ContainsKey(x.Key)))
        {
            var role = ServiceAuthorizationSweepRoleTests.AtMin(table[key].Min);
            var error = await CallAsync(scope.ServiceProvider, type, method, role);
            if (IsArchivedRefusal(error)) refused++;
            else problems.Add($"{key} as {role} in an archived project: {Describe(error)} (refuse it with ProjectAccess.RequireWriteAsync, or add it to AllowedWhileArchived with why)");
            await portal.WaitForJobsAsync(portal.Victim.ProjectId);
            var after = await portal.SnapshotAsync();
            foreach (var d in SweepPortal.Differences(before, after)) problems.Add($"{key} in an archived project changed the database: {d}");
            before = after;
        }

        // 2. Every read answers (reading is what an archived project is for), and changes nothing.
        var reads = 0;
        foreach (var (type, method, key) in methods.Where(x => table[x.Key].Read))
        {
            var need = table[key];
            var role = ServiceAuthorizationSweepRoleTests.AtMin(need.Min);
            var error = await CallAsync(scope.ServiceProvider, type, method, role);
            reads++;
            if (error is not null && !(need.AllowAtMin?.IsInstanceOfType(error) ?? false))
                problems.Add($"{key} (a read) as {role} in an archived project: {Describe(error)}");
        }
        foreach (var d in SweepPortal.Differences(before, await portal.SnapshotAsync())) problems.Add($"a read in an archived project changed the database: {d}");

        // 3. The allowed writes are not refused for the archive (restoring last: it ends the archive).
        var allowed = 0;
        foreach (var (type, method, key) in methods.Where(x => AllowedWhileArchived.ContainsKey(x.Key))
                     .OrderBy(x => x.Key.StartsWith("ProjectService.SetArchivedAsync", StringComparison.Ordinal)))
        {
            var (why, mustAnswer) = AllowedWhileArchived[key];
            var need = table[key];
            var role = ServiceAuthorizationSweepRoleTests.AtMin(need.Min);
            var error = await CallAsync(scope.ServiceProvider, type, method, role);
            allowed++;
            var ok = mustAnswer ? error is null || (need.AllowAtMin?.IsInstanceOfType(error) ?? false)
                : !IsArchivedRefusal(error) && error is not (ForbiddenException or NotFoundException) || (need.AllowAtMin?.IsInstanceOfType(error) ?? false);
            if (!ok) problems.Add($"{key} ({why}) as {role} in an archived project: {Describe(error)}");
            await portal.WaitForJobsAsync(portal.Victim.ProjectId);
        }
        if (await IsArchivedAsync()) problems.Add("ProjectService.SetArchivedAsync(false) did not restore the archived project");
        var outside = table.Count(x => x.Value.Min > ServiceMin.Owner);
        output.WriteLine($"archived project: {refused} writes refused with ProjectArchived, {reads} reads answered, {allowed} allowed writes worked; "
            + $"{outside} methods act on no project (own account, site administration, system) and are not called");
        Assert.True(problems.Count == 0, string.Join("\n", problems));
        Assert.True(refused > 30, "Too few writes refused: is the enumeration broken?");
    }

    [Fact]
    public async Task Every_API_write_route_on_an_archived_project_answers_the_ProjectArchived_problem_and_changes_nothing()
    {
        var routes = portal.Services.GetRequiredService<IEnumerable<Microsoft.AspNetCore.Routing.EndpointDataSource>>()
            .SelectMany(s => s.Endpoints).OfType<Microsoft.AspNetCore.Routing.RouteEndpoint>()
            .SelectMany(e => (e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()?.HttpMethods ?? []).Select(m =>
            {
                var raw = e.RoutePattern.RawText ?? "";
                var pattern = raw.Length > 1 ? raw.TrimEnd('/') : raw;
                return (Method: m, Pattern: pattern.StartsWith('/') ? pattern : "/" + pattern);
            }))
            .Select(r => (r.Method, r.Pattern, Key: $"{r.Method} {r.Pattern}"))
            .Where(r => r.Method is not ("GET" or "HEAD") && AuthorizationSweepTests.Routes.TryGetValue(r.Key, out var rule) && rule.Min >= Access.Viewer)
            .Distinct()
            .OrderBy(r => r.Key, StringComparer.Ordinal)
            .ToList();
        var problems = new List<string>();
        await portal.WaitForJobsAsync(portal.Victim.ProjectId);
        await ArchiveAsync(true);
        var before = await portal.SnapshotAsync();
        var refused = 0;
        foreach (var (method, pattern, key) in routes.Where(r => !RoutesAllowedWhileArchived.ContainsKey(r.Key)))
        {
            var rule = AuthorizationSweepTests.Routes[key];
            using var request = new HttpRequestMessage(new HttpMethod(method), AuthorizationSweepTests.Fill(pattern, portal.Victim) + rule.Query)
            {
                Content = rule.Body?.Invoke(portal.Victim),
            };
            using var response = await portal.Owner.Http.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            var codes = new List<(string Code, string Message)>();
            try
            {
                using var doc = JsonDocument.Parse(body);
                if (doc.RootElement.TryGetProperty("problems", out var list))
                    codes.AddRange(list.EnumerateArray().Select(p => (p.GetProperty("code").GetString() ?? "", p.GetProperty("message").GetString() ?? "")));
            }
            catch (JsonException)
            {
            }
            // 409: the request is valid, the project's state conflicts with it; the code and the message are the domain's.
            if (response.StatusCode == HttpStatusCode.Conflict && codes.Contains(("ProjectArchived", ArchivedMessage))) refused++;
            else problems.Add($"{key} by the Owner of an archived project: {(int)response.StatusCode} {(body.Length > 200 ? body[..200] : body)}");
            await portal.WaitForJobsAsync(portal.Victim.ProjectId);
            var after = await portal.SnapshotAsync();
            foreach (var d in SweepPortal.Differences(before, after)) problems.Add($"{key} on an archived project changed the database: {d}");
            before = after;
        }
        await ArchiveAsync(false);
        output.WriteLine($"{routes.Count} API write routes: {refused} refused with ProjectArchived, {RoutesAllowedWhileArchived.Count} allowed (not called)");
        Assert.True(problems.Count == 0, string.Join("\n", problems));
        Assert.True(refused > 20, "Too few write routes: is the enumeration broken?");
    }

    /// <summary>Archiving does not stop work already running: the worker finishes it (the system's writes are not the
    /// users'), and the Owner may pause or cancel it; resuming paused work is a new start and refused.</summary>
    [Fact]
    public async Task A_job_running_when_the_project_is_archived_finishes_and_paused_work_cannot_be_resumed()
    {
        await portal.WaitForJobsAsync(portal.Victim.ProjectId);
        await ArchiveAsync(false);
        var jobs = portal.Services.GetRequiredService<JobQueue>();
        var running = await jobs.EnqueueAsync(portal.VictimOwnerId, portal.Victim.ProjectId, DiagnosticsJob.KindName, "running " + SweepPortal.Marker,
            new DiagnosticsJob.Payload(10, 200));
        var paused = await jobs.EnqueueAsync(portal.VictimOwnerId, portal.Victim.ProjectId, DiagnosticsJob.KindName, "to pause " + SweepPortal.Marker,
            new DiagnosticsJob.Payload(200, 100));
        for (var i = 0; i < 400 && await portal.QueryAsync(db => db.Jobs.Where(j => j.Id == running.Id).Select(j => j.State).SingleAsync()) != JobState.Running; i++)
            await Task.Delay(25);
        await ArchiveAsync(true);
        try
        {
            Assert.Equal(JobState.Running, await portal.QueryAsync(db => db.Jobs.Where(j => j.Id == running.Id).Select(j => j.State).SingleAsync()));
            await jobs.PauseAsync(portal.VictimOwnerId, paused.Id);
            for (var i = 0; i < 400 && await portal.QueryAsync(db => db.Jobs.Where(j => j.Id == paused.Id).Select(j => j.State).SingleAsync()) is JobState.Queued or JobState.Running; i++)
                await Task.Delay(25);
            var resume = await Assert.ThrowsAsync<DomainValidationException>(() => jobs.ResumeAsync(portal.VictimOwnerId, paused.Id));
            Assert.Equal("ProjectArchived", Assert.Single(resume.Details).Code);
            Assert.Equal(JobState.Paused, await portal.QueryAsync(db => db.Jobs.Where(j => j.Id == paused.Id).Select(j => j.State).SingleAsync()));
            await portal.WaitForJobsAsync(portal.Victim.ProjectId);
            Assert.Equal(JobState.Succeeded, await portal.QueryAsync(db => db.Jobs.Where(j => j.Id == running.Id).Select(j => j.State).SingleAsync()));
            await jobs.CancelAsync(portal.VictimOwnerId, paused.Id);
            Assert.Equal(JobState.Cancelled, await portal.QueryAsync(db => db.Jobs.Where(j => j.Id == paused.Id).Select(j => j.State).SingleAsync()));
        }
        finally
        {
            await ArchiveAsync(false);
        }
    }
}
