using System.Reflection;
using Incubator.Domain.Common;
using Incubator.Domain.Projects;
using Incubator.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Incubator.Tests.Security;

/// <summary>Who may call a service method: a member of the argument's project with at least this role, a site
/// administrator (Admin), the caller about their own account (OwnAccount), or nobody but the system (System).</summary>
public enum ServiceMin
{
    Viewer,
    Reviewer,
    Author,
    Owner,
    Admin,
    OwnAccount,
    System,
}

/// <summary>The members' half of the service sweep (<see cref="ServiceAuthorizationSweepTests"/> is the outsider's):
/// every service method a page button can call with the acting user's id, each in a table with the lowest role allowed
/// to call it. Each is called as every role of the victim project BELOW that minimum, with the project's real ids —
/// it must throw <see cref="ForbiddenException"/> and change nothing — and then as the minimum role, which must not
/// be refused (a read answers; a write may fail on the sweep's synthesised input, but not with ForbiddenException or
/// NotFoundException, which also proves the ids were real and so the refusals below were about the role). Where an API
/// route wraps the same method, the table must agree with <see cref="AuthorizationSweepTests.Routes"/>.</summary>
public sealed class ServiceAuthorizationSweepRoleTests(SweepPortal portal, ITestOutputHelper output) : IClassFixture<SweepPortal>
{
    /// <summary>One method's rule. Read: at the minimum role it must answer (no exception). Api: the route wrapping it.
    /// Last: called at the minimum role after all the others (it deletes or changes a row others need). AllowAtMin: an
    /// exception type that is not about access, expected at the minimum role with the sweep's rows (and why).
    /// Skip: not called, and why.</summary>
    internal sealed record Need(ServiceMin Min, bool Read = false, string? Api = null, bool Last = false, Type? AllowAtMin = null, string? Why = null,
        string? Skip = null);

    private static Need V(string? api = null) => new(ServiceMin.Viewer, Read: true, Api: api);

    private static Need VW(string? api = null) => new(ServiceMin.Viewer, Api: api);

    private static Need R(string? api = null) => new(ServiceMin.Reviewer, Read: true, Api: api);

    private static Need RW(string? api = null) => new(ServiceMin.Reviewer, Api: api);

    private static Need A(string? api = null) => new(ServiceMin.Author, Read: true, Api: api);

    private static Need AW(string? api = null, bool last = false) => new(ServiceMin.Author, Api: api, Last: last);

    private static Need O(string? api = null) => new(ServiceMin.Owner, Read: true, Api: api);

    private static Need OW(string? api = null, bool last = false) => new(ServiceMin.Owner, Api: api, Last: last);

    private static readonly Need Admin = new(ServiceMin.Admin, Read: true);

    private static readonly Need AdminW = new(ServiceMin.Admin);

    private static readonly Need Own = new(ServiceMin.OwnAccount);

    private static readonly Need Sys = new(ServiceMin.System);

    private const string ModelFileMissing = "Viewer may for a published model only; the sweep's model is a draft row without files, so an Author gets NotFound (file missing), not a refusal";

    /// <summary>THE TABLE: every enumerated method (<see cref="ServiceAuthorizationSweepTests.Methods"/>), its minimum.
    /// Derived from each method's access check, cross-checked with the API route table where a route wraps it.</summary>
    internal static readonly Dictionary<string, Need> Table = new(StringComparer.Ordinal)
    {
        // Own account (not a project's; see ServiceAuthorizationSweepTests.OwnAccount) and the system's own bookkeeping.
        ["AccountService.ChangePasswordAsync(String, String, String)"] = Own,
        ["AccountService.ResetPasswordAsync(String, String, String)"] = Own,
        ["AccountService.SetPreferredCultureAsync(String, String)"] = Own,
        ["AccountService.SignOutEverywhereAsync(String)"] = Own,
        ["ApiTokenService.CreateAsync(String, String, CancellationToken)"] = Own,
        ["ApiTokenService.ListAsync(String, CancellationToken)"] = Own,
        ["ApiTokenService.RevokeAsync(String, Guid, CancellationToken)"] = Own,
        ["InvitationService.AcceptAsync(String, String, CancellationToken)"] = Own,
        ["ProjectService.CreateProjectAsync(String, String, String, CancellationToken)"] = Own,
        ["ProjectService.ListProjectsAsync(String, Boolean, CancellationToken)"] = Own,
        ["JobQueue.EnqueueInternalAsync(String, Guid, String, String, Object, CancellationToken, Func`3)"] = Sys,
        ["JobQueue.EnqueueInternalAsync(String, Guid, String, JobNote, Object, CancellationToken, Func`3)"] = Sys,
        ["SpendingGuard.TodayAsync(String, Guid, CancellationToken)"] = Sys,

        // Site administrators (the victim's Owner is the site's first account, so its administrator; the other members are not).
        ["LlmConnectionService.ListSiteWideAsync(String, CancellationToken)"] = Admin,
        ["SiteSettingsService.GetAsync(String, CancellationToken)"] = Admin,
        ["SiteSettingsService.SetCapsAsync(String, SpendingCaps, CancellationToken)"] = AdminW with { Last = true },
        ["SiteSettingsService.SetRegistrationAsync(String, RegistrationMode, CancellationToken)"] = AdminW with { Last = true },
        ["TemplateLibrary.ShareSiteWideAsync(String, String, CancellationToken)"] = AdminW,
        ["UserAdministration.CreateResetLinkAsync(String, String)"] = AdminW,
        ["UserAdministration.ListAsync(String, CancellationToken)"] = Admin,
        ["UserAdministration.SetAdminAsync(String, String, Boolean)"] = AdminW,
        ["UserAdministration.UnlockAsync(String, String)"] = AdminW,

        // Projects, members, invitations, connections, jobs.
        ["ProjectService.GetOverviewAsync(String, Guid, Int32, CancellationToken)"] = V("GET /api/projects/{ProjectId:guid}"),
        ["ProjectService.GetProjectAsync(String, Guid, CancellationToken)"] = V(),
        ["ProjectService.GetTeamDemonstrationsAsync(String, Guid, CancellationToken)"] = V(),
        ["ProjectService.ListMembersAsync(String, Guid, CancellationToken)"] = V("GET /api/projects/{ProjectId:guid}/members"),
        ["ProjectService.AddMemberAsync(String, Guid, String, ProjectRole, CancellationToken)"] = OW("POST /api/projects/{ProjectId:guid}/members"),
        ["ProjectService.ChangeMemberRoleAsync(String, Guid, String, ProjectRole, CancellationToken)"] = OW(),
        ["ProjectService.RemoveMemberAsync(String, Guid, String, CancellationToken)"] = OW(),
        ["ProjectService.RenameProjectAsync(String, Guid, String, String, CancellationToken)"] = OW(),
        ["ProjectService.SetArchivedAsync(String, Guid, Boolean, CancellationToken)"] = OW(),
        ["ProjectService.SetTeamDemonstrationsAsync(String, Guid, Boolean, CancellationToken)"] = OW(),
        ["InvitationService.CreateAsync(String, Guid, ProjectRole, String, CancellationToken)"] = OW("POST /api/projects/{ProjectId:guid}/invitations"),
        ["InvitationService.ListAsync(String, Guid, CancellationToken)"] = O("GET /api/projects/{ProjectId:guid}/invitations"),
        ["InvitationService.RevokeAsync(String, Guid, CancellationToken)"] = OW("DELETE /api/invitations/{invitationId:guid}", last: true),
        ["LlmConnectionService.ListAsync(String, Guid, CancellationToken)"] = V(),
        ["LlmConnectionService.GetProjectDefaultAsync(String, Guid, CancellationToken)"] = V(),
        ["LlmConnectionService.SetProjectDefaultAsync(String, Guid, Nullable`1, CancellationToken)"] = OW(),
        ["LlmConnectionService.CreateAsync(String, Nullable`1, LlmConnectionInput, CancellationToken)"] = AW(),
        ["LlmConnectionService.UpdateAsync(String, Guid, LlmConnectionInput, CancellationToken)"] = AW(),
        ["LlmConnectionService.DeleteAsync(String, Guid, CancellationToken)"] = AW(last: true),
        ["LlmConnectionService.GetProfileAsync(String, Guid, Guid, CancellationToken)"] = A(),
        ["LlmConnectionService.TestAsync(String, Guid, Guid, CancellationToken)"] = AW(),
        ["JobQueue.ListAsync(String, Guid, Int32, Int32, Boolean, CancellationToken)"] = V("GET /api/projects/{ProjectId:guid}/jobs"),
        ["JobQueue.GetAsync(String, Guid, CancellationToken)"] = V("GET /api/jobs/{jobId:guid}"),
        ["JobQueue.GetLogAsync(String, Guid, Int32, CancellationToken)"] = V("GET /api/jobs/{jobId:guid}/log"),
        ["JobQueue.EnqueueAsync(String, Guid, String, String, Object, CancellationToken)"] = AW("POST /api/projects/{ProjectId:guid}/jobs/diagnostics"),
        ["JobQueue.EnqueueAsync(String, Guid, String, JobNote, Object, CancellationToken)"] = AW("POST /api/projects/{ProjectId:guid}/jobs/diagnostics"),
        ["JobQueue.CancelAsync(String, Guid, CancellationToken)"] = AW("POST /api/jobs/{jobId:guid}/cancel"),
        ["JobQueue.PauseAsync(String, Guid, CancellationToken)"] = AW(),
        ["JobQueue.ResumeAsync(String, Guid, CancellationToken)"] = AW(),
        ["JobQueue.StartAsync(String, Guid, Func`3, CancellationToken)"] = new(ServiceMin.Author,
            Skip: "takes the owner row's writer (a delegate); checks Author first thing — reached by every route that starts a job"),

        // Tasks and templates.
        ["TaskService.ListTasksAsync(String, Guid, CancellationToken)"] = V("GET /api/projects/{ProjectId:guid}/tasks"),
        ["TaskService.GetTaskAsync(String, Guid, Nullable`1, CancellationToken)"] = V("GET /api/tasks/{taskId:guid}"),
        ["TaskService.ListVersionsAsync(String, Guid, CancellationToken)"] = V("GET /api/tasks/{taskId:guid}/versions"),
        ["TaskService.CreateTaskAsync(String, Guid, TaskSpec, String, CancellationToken)"] = AW("POST /api/projects/{ProjectId:guid}/tasks"),
        ["TaskService.SaveAsync(String, Guid, TaskSpec, Int32, String, CancellationToken)"] = AW("PUT /api/tasks/{taskId:guid}"),
        ["GetTaskProgress.GetAsync(String, Guid, CancellationToken)"] = V(),
        ["GetTaskProgress.ReviewHistoryAsync(String, Guid, TimeZoneInfo, CancellationToken)"] = V(),
        ["TemplateLibrary.ListAsync(String, Guid, String, CancellationToken)"] = V(),
        ["TemplateLibrary.InstantiateAsync(String, Guid, String, IReadOnlyDictionary`2, CancellationToken)"] = new(ServiceMin.Viewer,
            AllowAtMin: typeof(DomainValidationException), Why: "a read (fills a template in, saves nothing); the sweep's template name does not exist"),
        ["TemplateLibrary.SaveProjectTemplateAsync(String, Guid, String, String, TaskSpec, CancellationToken)"] = AW(),

        // Review.
        ["ReviewQueries.QueryAsync(String, Guid, CandidateFilter, Int32, Int32, CandidateSort, CancellationToken)"] = V("GET /api/tasks/{taskId:guid}/candidates"),
        ["ReviewQueries.QueueAsync(String, Guid, CandidateFilter, Int32, Int32, CandidateSort, Boolean, CancellationToken)"] = V(),
        ["ReviewQueries.CountsAsync(String, Guid, CancellationToken)"] = V(),
        ["ReviewQueries.ProgressAsync(String, Guid, CancellationToken)"] = V("GET /api/tasks/{taskId:guid}/assignments"),
        ["ReviewQueries.ShortLabelsAsync(String, Guid, CancellationToken)"] = V("GET /api/tasks/{taskId:guid}/short-labels"),
        ["ReviewQueries.ConflictsAsync(String, Guid, Int32, CancellationToken)"] = V("GET /api/tasks/{taskId:guid}/conflicts"),
        ["ReviewQueries.ConflictCountAsync(String, Guid, CancellationToken)"] = V(),
        ["ReviewQueries.AgreementAsync(String, Guid, CancellationToken)"] = V(),
        ["ReviewQueries.AuditAsync(String, Guid, CancellationToken)"] = V("GET /api/candidates/{candidateId:guid}/audit"),
        ["ReviewQueries.ProjectAuditAsync(String, Guid, Int32, Int32, CancellationToken)"] = V("GET /api/projects/{ProjectId:guid}/audit"),
        ["ReviewQueries.FocusStatusAsync(String, Guid, ClaimScope, CancellationToken)"] = V(),
        ["ReviewQueries.HoldersAsync(String, Guid, IReadOnlyCollection`1, CancellationToken)"] = V(),
        ["ReviewQueries.RunsOfTaskAsync(String, Guid, IReadOnlyCollection`1, CancellationToken)"] = V(),
        ["LabelDisagreementService.ForTaskAsync(String, Guid, CancellationToken)"] = V(),
        ["BulkDecide.PreviewAsync(String, Guid, CandidateFilter, CancellationToken)"] = V(),
        ["BulkDecide.ApplyAsync(String, Guid, CandidateFilter, Decision, Int32, Int32, IProgress`1, CancellationToken)"] = RW(),
        ["DecideCandidate.DecideAsync(String, Guid, Decision, Int64, CancellationToken)"] = RW("POST /api/candidates/{candidateId:guid}/decisions"),
        ["ClaimNextCandidate.ClaimNextAsync(String, Guid, IReadOnlyCollection`1, ClaimScope, CancellationToken)"] = RW("POST /api/tasks/{taskId:guid}/assignments/next"),
        ["ClaimNextCandidate.RenewAsync(String, Guid, CancellationToken)"] = RW("POST /api/candidates/{candidateId:guid}/lease"),
        // Gives back the caller's own hand-outs (a Viewer never holds any).
        ["ClaimNextCandidate.ReleaseAsync(String, Guid, CancellationToken)"] = VW("DELETE /api/tasks/{taskId:guid}/assignments"),
        ["TopUpFromReserve.TopUpAsync(String, Guid, String, CancellationToken)"] = RW("POST /api/tasks/{taskId:guid}/short-labels/{label}/top-up"),
        ["SettleConflict.SettleAsync(String, Guid, Decision, CancellationToken)"] = OW("POST /api/candidates/{candidateId:guid}/settle"),
        ["SetReviewPolicy.GetAsync(String, Guid, CancellationToken)"] = V("GET /api/tasks/{taskId:guid}/review-policy"),
        ["SetReviewPolicy.SetAsync(String, Guid, Int32, Double, CancellationToken)"] = AW("PUT /api/tasks/{taskId:guid}/review-policy"),
        ["SpotCheckService.ListAsync(String, Guid, CancellationToken)"] = V(),
        ["SpotCheckService.DrawAsync(String, Guid, Int32, CancellationToken)"] = AW(),
        ["SpotCheckService.AcceptRestAsync(String, Guid, Double, CancellationToken)"] = OW(),
        ["ReviewExports.CountAsync(String, Guid, CandidateFilter, CancellationToken)"] = V(),
        // An export is a read of what a Viewer may read anyway (a job row and a file).
        ["ReviewExports.StartAsync(String, Guid, CandidateFilter, ExportFormat, CancellationToken)"] = VW("POST /api/tasks/{taskId:guid}/candidates/export-jobs"),
        ["ReviewExports.FileAsync(String, Guid, CancellationToken)"] = V("GET /api/exports/{jobId:guid}/download"),
        // Who has the task's review pages open (PresenceBar on the queue, a Viewer page, and focus mode): any member. Joining
        // writes the page's presence row (given back by the sweep, as the page does when it closes).
        ["ReviewPresence.JoinAsync(String, Guid, Guid, String, CancellationToken)"] = VW(),
        ["ReviewPresence.WhoAsync(String, Guid, CancellationToken)"] = V(),

        // Generation and labelling.
        ["GenerationService.ListRunsAsync(String, Guid, Nullable`1, CancellationToken)"] = V("GET /api/projects/{ProjectId:guid}/runs"),
        ["GenerationService.GetRunAsync(String, Guid, Int32, CancellationToken)"] = V("GET /api/runs/{runId:guid}"),
        ["GenerationService.ChooseConnectionAsync(String, Guid, CancellationToken)"] = V(),
        ["GenerationService.EstimateAsync(String, Guid, StartRunRequest, CancellationToken)"] = AW(),
        ["GenerationService.StartAsync(String, Guid, StartRunRequest, CancellationToken)"] = AW("POST /api/projects/{ProjectId:guid}/runs"),
        ["LabellingService.ListRunsAsync(String, Guid, CancellationToken)"] = V("GET /api/tasks/{taskId:guid}/labelling/runs"),
        ["LabellingService.GetRunAsync(String, Guid, CancellationToken)"] = V("GET /api/labelling-runs/{runId:guid}"),
        ["LabellingService.EstimateAsync(String, Guid, StartLabellingRequest, CancellationToken)"] = AW("POST /api/tasks/{taskId:guid}/labelling/estimate"),
        ["LabellingService.StartAsync(String, Guid, StartLabellingRequest, CancellationToken)"] = AW("POST /api/tasks/{taskId:guid}/labelling/runs"),

        // Corpora, mining, queries.
        ["CorpusService.ListAsync(String, Guid, CancellationToken)"] = V("GET /api/projects/{ProjectId:guid}/corpora"),
        ["CorpusService.GetAsync(String, Guid, CancellationToken)"] = V("GET /api/corpora/{corpusId:guid}"),
        ["CorpusService.GetReportAsync(String, Guid, CancellationToken)"] = V("GET /api/corpora/{corpusId:guid}/report"),
        ["CorpusService.TextsAsync(String, Guid, Int32, Int32, CancellationToken)"] = V("GET /api/corpora/{corpusId:guid}/texts"),
        ["CorpusService.ImportAsync(String, Guid, String, String, Stream, TextFileOptions, CancellationToken, IProgress`1)"] =
            AW("POST /api/projects/{ProjectId:guid}/corpora"),
        ["CorpusService.StartEmbeddingAsync(String, Guid, CancellationToken)"] = AW("POST /api/corpora/{corpusId:guid}/embeddings"),
        ["CorpusService.DeleteAsync(String, Guid, CancellationToken)"] = AW("DELETE /api/corpora/{corpusId:guid}", last: true),
        ["MiningService.ListRunsAsync(String, Guid, CancellationToken)"] = V("GET /api/tasks/{taskId:guid}/mining/runs"),
        ["MiningService.ActiveLearningAsync(String, Guid, CancellationToken)"] = V("GET /api/tasks/{taskId:guid}/mining/active-learning"),
        ["MiningService.StartAsync(String, Guid, StartMiningRequest, CancellationToken)"] = AW("POST /api/tasks/{taskId:guid}/mining/runs"),
        ["MiningService.StartRescoreAsync(String, Guid, CancellationToken)"] = AW("POST /api/tasks/{taskId:guid}/mining/active-learning"),
        ["SelfTrainingService.ListAsync(String, Guid, CancellationToken)"] = V(),
        ["SelfTrainingService.ForModelAsync(String, Guid, CancellationToken)"] = V(),
        ["SelfTrainingService.StartAsync(String, Guid, StartSelfTrainingRequest, CancellationToken)"] = AW(),
        ["QueryRunService.ModelsAsync(String, Guid, CancellationToken)"] = V("GET /api/projects/{ProjectId:guid}/query-models"),
        ["QueryRunService.CorporaAsync(String, Guid, CancellationToken)"] = V(),
        ["QueryRunService.ListAsync(String, Guid, Nullable`1, CancellationToken)"] = V("GET /api/projects/{ProjectId:guid}/query-runs"),
        ["QueryRunService.GetAsync(String, Guid, CancellationToken)"] = V("GET /api/projects/{ProjectId:guid}/query-runs/{runId:guid}"),
        ["QueryRunService.HitsAsync(String, Guid, Int32, Int32, String, CancellationToken)"] = V("GET /api/projects/{ProjectId:guid}/query-runs/{runId:guid}/hits"),
        ["QueryRunService.WriteCsvAsync(String, Guid, TextWriter, CancellationToken)"] = V("GET /api/projects/{ProjectId:guid}/query-runs/{runId:guid}/export"),
        ["QueryRunService.StartQueryAsync(String, Guid, Guid, String, CancellationToken)"] = AW("POST /api/projects/{ProjectId:guid}/queries"),
        ["QueryRunService.StartApplyAsync(String, Guid, Guid, Guid, CancellationToken)"] = AW("POST /api/projects/{ProjectId:guid}/applications"),

        // Datasets, training, models.
        ["DatasetService.ListAsync(String, Guid, CancellationToken)"] = V("GET /api/tasks/{taskId:guid}/datasets"),
        ["DatasetService.GetAsync(String, Guid, CancellationToken)"] = V(),
        ["DatasetService.GetGoldAsync(String, Guid, CancellationToken)"] = V("GET /api/tasks/{taskId:guid}/gold"),
        ["DatasetService.FreezeAsync(String, Guid, Int32, Double, CancellationToken)"] = AW("POST /api/tasks/{taskId:guid}/datasets"),
        ["DatasetService.ImportGoldAsync(String, Guid, String, Stream, CancellationToken)"] = AW("POST /api/tasks/{taskId:guid}/gold"),
        ["ExportFineTuningPairs.ForDatasetAsync(String, Guid, Int32, Double, CancellationToken)"] = R("GET /api/datasets/{datasetId:guid}/fine-tuning-pairs"),
        ["ExportFineTuningPairs.ForProjectAsync(String, Guid, Int32, Double, CancellationToken)"] = R("GET /api/projects/{projectId:guid}/fine-tuning-pairs"),
        ["ExportFineTuningPairs.LabelsWithoutSamplesAsync(String, Guid, CancellationToken)"] = R(),
        ["TrainingService.ListAsync(String, Guid, Nullable`1, Boolean, CancellationToken)"] = V("GET /api/projects/{ProjectId:guid}/models"),
        ["TrainingService.GetAsync(String, Guid, CancellationToken)"] = V("GET /api/models/{modelId:guid}"),
        ["TrainingService.StartTrainingAsync(String, StartTrainingRequest, CancellationToken)"] = AW("POST /api/tasks/{taskId:guid}/training"),
        ["TrainingService.PublishAsync(String, Guid, CancellationToken)"] = AW("POST /api/models/{modelId:guid}/publish", last: true),
        ["TrainingService.RetireAsync(String, Guid, CancellationToken)"] = AW("POST /api/models/{modelId:guid}/retire", last: true),
        ["TrainingService.OpenModelAsync(String, Guid, CancellationToken)"] = new(ServiceMin.Author, AllowAtMin: typeof(NotFoundException), Why: ModelFileMissing),
        ["TrainingService.OpenBundleAsync(String, Guid, CancellationToken)"] = new(ServiceMin.Author, AllowAtMin: typeof(NotFoundException), Why: ModelFileMissing),
        ["ModelPredictor.PredictAsync(String, Guid, IReadOnlyList`1, Boolean, CancellationToken)"] =
            new(ServiceMin.Author, AllowAtMin: typeof(NotFoundException), Why: ModelFileMissing),
    };

    private static readonly ProjectRole[] Members = [ProjectRole.Viewer, ProjectRole.Reviewer, ProjectRole.Author, ProjectRole.Owner];

    /// <summary>The members below the minimum: for a site administrator's method, every member who is not one.</summary>
    private static IEnumerable<ProjectRole> Below(ServiceMin min) => min switch
    {
        ServiceMin.Admin => [ProjectRole.Viewer, ProjectRole.Reviewer, ProjectRole.Author],
        <= ServiceMin.Owner => Members.Where(r => (int)r < (int)min),
        _ => [],
    };

    internal static ProjectRole AtMin(ServiceMin min) => min == ServiceMin.Admin ? ProjectRole.Owner : Members[(int)min];

    private Task<Exception?> CallAsync(IServiceProvider services, Type type, MethodInfo method, ProjectRole role) =>
        CallAsync(portal, services, type, method, role);

    /// <summary>Calls <paramref name="method"/> as the member of <paramref name="role"/> with the sweep's arguments; the
    /// exception it ends with, or null when it answered (shared with <see cref="ArchivedProjectSweepTests"/>).</summary>
    internal static async Task<Exception?> CallAsync(SweepPortal portal, IServiceProvider services, Type type, MethodInfo method, ProjectRole role)
    {
        var service = services.GetRequiredService(type);
        try
        {
            var args = method.GetParameters()
                .Select(p => ServiceAuthorizationSweepTests.Value(portal, portal.MemberId(role), p.ParameterType, p.Name!, type, 0)).ToArray();
            var task = (Task)method.Invoke(service, args)!;
            await task;
            await GiveBackAsync(task);
            return null;
        }
        catch (TargetInvocationException ex)
        {
            return ex.InnerException;
        }
        catch (Exception ex)
        {
            return ex;
        }
    }

    /// <summary>A call that answered with a handle (<c>ReviewPresence.JoinAsync</c>: a page's presence) gives it back, as
    /// the page does when it closes, so nothing of it stays behind (a row renewed every 30 s would change the snapshots).</summary>
    internal static async Task GiveBackAsync(Task answered)
    {
        if (answered.GetType().GetProperty("Result")?.GetValue(answered) is IAsyncDisposable handle) await handle.DisposeAsync();
    }

    internal static string Describe(Exception? e) => e is null ? "answered" : $"{e.GetType().Name}: {e.Message.Split('\n')[0]}";

    /// <summary>Review presence checks access itself (the page's checks are not trusted): a task of another project —
    /// even one the caller may see — is refused, as are a non-member and a task of a project the caller is not in; a
    /// member joins, is listed, and is gone after leaving. Nothing of a refused join reaches the database.</summary>
    [Fact]
    public async Task Review_presence_refuses_a_task_of_another_project_and_non_members()
    {
        var presence = portal.Services.GetRequiredService<Incubator.Domain.Review.ReviewPresence>();
        var v = portal.Victim;
        // The victim's Owner owns a second project too, with its own task: a member of both.
        var second = (await portal.Services.GetRequiredService<ProjectService>().CreateProjectAsync(portal.VictimOwnerId, "Second " + SweepPortal.Marker, "")).Id;
        var secondTask = await portal.CreateTaskAsync(portal.OwnerEmail, second);
        var before = await portal.QueryAsync(db => db.ReviewPresence.CountAsync());

        await Assert.ThrowsAsync<NotFoundException>(() => presence.JoinAsync(portal.VictimOwnerId, v.ProjectId, secondTask, "owner"));
        await Assert.ThrowsAsync<ForbiddenException>(() => presence.JoinAsync(portal.VictimOwnerId, v.ProjectId, portal.OutsidersTaskId, "owner"));
        await Assert.ThrowsAsync<ForbiddenException>(() => presence.JoinAsync(portal.OutsiderId, v.ProjectId, v.TaskId, "outsider"));
        await Assert.ThrowsAsync<ForbiddenException>(() => presence.JoinAsync(portal.OutsiderId, portal.OutsidersProjectId, v.TaskId, "outsider"));
        await Assert.ThrowsAsync<ForbiddenException>(() => presence.WhoAsync(portal.OutsiderId, v.TaskId));
        Assert.Equal(before, await portal.QueryAsync(db => db.ReviewPresence.CountAsync()));

        await using (await presence.JoinAsync(portal.ViewerId, v.ProjectId, v.TaskId, "the viewer " + SweepPortal.Marker))
            Assert.Contains("the viewer " + SweepPortal.Marker, await presence.WhoAsync(portal.ReviewerId, v.TaskId));
        Assert.DoesNotContain("the viewer " + SweepPortal.Marker, await presence.WhoAsync(portal.ReviewerId, v.TaskId));
    }

    [Fact]
    public void Every_service_method_is_in_the_role_table_and_agrees_with_the_API()
    {
        var keys = ServiceAuthorizationSweepTests.Methods().Select(x => ServiceAuthorizationSweepTests.Key(x.Service, x.Method)).ToList();
        var missing = keys.Where(k => !Table.ContainsKey(k)).ToList();
        var gone = Table.Keys.Except(keys).ToList();
        var problems = new List<string>();
        problems.AddRange(missing.Select(k => $"{k}: not in the role table (add it to ServiceAuthorizationSweepRoleTests.Table with its minimum role)"));
        problems.AddRange(gone.Select(k => $"{k}: in the role table but no longer a service method"));
        foreach (var (key, need) in Table.Where(x => x.Value.Api is not null))
        {
            if (!AuthorizationSweepTests.Routes.TryGetValue(need.Api!, out var route)) problems.Add($"{key}: route {need.Api} is not in the API table");
            else if (route.Min.ToString() != need.Min.ToString()) problems.Add($"{key} needs {need.Min}, but the route {need.Api} that wraps it needs {route.Min}");
        }
        // The outsider's sweep leaves the own-account methods out: the same ones as here.
        foreach (var k in ServiceAuthorizationSweepTests.OwnAccount.Keys.Where(k => Table.GetValueOrDefault(k)?.Min != ServiceMin.OwnAccount))
            problems.Add($"{k}: own-account for the outsider sweep, not here");
        output.WriteLine($"{keys.Count} methods: " + string.Join(", ", Table.Where(x => keys.Contains(x.Key)).GroupBy(x => x.Value.Min).OrderBy(g => g.Key)
            .Select(g => $"{g.Key} {g.Count()}")) + $"; {Table.Count(x => x.Value.Api is not null)} cross-checked with an API route");
        Assert.True(keys.Count > 100, "Too few service methods found: is the enumeration broken?");
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public async Task Every_member_below_a_methods_minimum_role_is_refused_and_the_minimum_role_is_not()
    {
        var problems = new List<string>();
        var methods = ServiceAuthorizationSweepTests.Methods()
            .Select(x => (x.Service, x.Method, Key: ServiceAuthorizationSweepTests.Key(x.Service, x.Method)))
            .Where(x => Table.TryGetValue(x.Key, out var n) && n.Skip is null && n.Min <= ServiceMin.Admin)
            .OrderBy(x => x.Key, StringComparer.Ordinal)
            .ToList();
        await using var scope = portal.Services.CreateAsyncScope();

        // 1. Every role below the minimum: ForbiddenException, and not one row changed.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var refusals = 0;
        var before = await portal.SnapshotAsync();
        foreach (var (type, method, key) in methods)
        {
            foreach (var role in Below(Table[key].Min))
            {
                var error = await CallAsync(scope.ServiceProvider, type, method, role);
                refusals++;
                if (error is not ForbiddenException) problems.Add($"{key} as {role} (needs {Table[key].Min}): {Describe(error)}");
            }
            await portal.WaitForJobsAsync(portal.Victim.ProjectId);
            var after = await portal.SnapshotAsync();
            foreach (var d in SweepPortal.Differences(before, after)) problems.Add($"{key} below {Table[key].Min} changed the database: {d}");
            before = after;
        }

        var belowTime = clock.Elapsed;
        // 2. The minimum role: a read answers; a write is not refused (nor told the sweep's rows do not exist).
        var allowed = 0;
        foreach (var (type, method, key) in methods.OrderBy(x => Table[x.Key].Last))
        {
            var need = Table[key];
            var role = AtMin(need.Min);
            var started = clock.Elapsed;
            var error = await CallAsync(scope.ServiceProvider, type, method, role);
            allowed++;
            var ok = error is null
                || (need.AllowAtMin is { } allow && allow.IsInstanceOfType(error))
                || (!need.Read && error is not (ForbiddenException or NotFoundException));
            if (!ok) problems.Add($"{key} as {role} ({(need.Read ? "read" : "write")} at its minimum {need.Min}): {Describe(error)}");
            if ((clock.Elapsed - started).TotalSeconds > 0.5) output.WriteLine($"slow: {key} {(clock.Elapsed - started).TotalSeconds:0.0} s");
        }
        // The jobs the writes started (training, labelling against a connection that points nowhere) are not the point:
        // nothing is compared after this phase, so they are cancelled rather than waited for.
        var jobs = scope.ServiceProvider.GetRequiredService<Incubator.Domain.Jobs.JobQueue>();
        var active = await portal.QueryAsync(db => db.Jobs.Where(j => j.ProjectId == portal.Victim.ProjectId
            && (j.State == Incubator.Domain.Jobs.JobState.Queued || j.State == Incubator.Domain.Jobs.JobState.Running)).Select(j => j.Id).ToListAsync());
        foreach (var id in active) await jobs.CancelAsync(portal.VictimOwnerId, id);
        await portal.WaitForJobsAsync(portal.Victim.ProjectId);
        output.WriteLine($"{refusals} calls below the minimum role ({belowTime.TotalSeconds:0.0} s), {allowed} at it ({(clock.Elapsed - belowTime).TotalSeconds:0.0} s); {methods.Count} methods");
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }
}
