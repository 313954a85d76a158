using Incubator.Domain.Review;
using System.Text.Json;
using Incubator.Domain.Common;
using Incubator.Domain.Data;
using Incubator.Domain.Jobs;
using Incubator.Domain.Llm;
using Incubator.Domain.Projects;
using Incubator.Domain.Tasks;
using Microsoft.EntityFrameworkCore;

namespace Incubator.Domain.Generation;

public sealed record StartRunRequest(Guid TaskId, Guid ConnectionId, int PerLabel, double Oversample = 3, int Concurrency = 4,
    long? BudgetTokens = null, decimal? BudgetMoney = null);

public sealed record RunSummary(Guid Id, Guid TaskId, string TaskName, int TaskVersion, string ConnectionName, string Model, int PerLabel,
    JobState? State, int Selected, int Pool, int Reserve, int Rejected, long Tokens, decimal Cost, string? StopReason, DateTimeOffset CreatedAt);

public sealed record LabelCounts(string Label, int Selected, int Pool, int Reserve, int Rejected);

public sealed record SampleView(Guid Id, string Label, string Text, CandidateStage Stage, bool Ambiguous, int Round);

public sealed record RejectedView(string? Label, string Text, RejectReason Reason, string Detail, DateTimeOffset At);

public sealed record RunView(
    GenerationRun Run,
    string TaskName,
    JobView? Job,
    IReadOnlyList<LabelCounts> Labels,
    IReadOnlyList<SampleView> Recent,
    IReadOnlyList<RejectedView> RecentRejected,
    IReadOnlyList<RoundStats> Diversity,
    IReadOnlyDictionary<RejectReason, int> RejectedByReason);

/// <summary>Use cases for generation runs: estimate, start (Author), list and watch (Viewer). Pause, resume and cancel
/// go through the run's job.</summary>
public sealed class GenerationService(
    IDbContextFactory<IncubatorDbContext> dbFactory,
    ProjectAccess access,
    LlmConnectionService connections,
    SpendingGuard spending,
    GenerationEngine engine,
    JobQueue jobs,
    TimeProvider time)
{
    public const int MaxPerLabel = 10_000;

    public async Task<GenerationEstimate> EstimateAsync(string userId, Guid projectId, StartRunRequest request, CancellationToken ct = default)
    {
        var (spec, _, profile) = await PrepareAsync(userId, projectId, request, ct);
        return engine.Estimate(spec, Settings(request, profile), profile);
    }

    public async Task<RunSummary> StartAsync(string userId, Guid projectId, StartRunRequest request, CancellationToken ct = default)
    {
        var (spec, version, profile) = await PrepareAsync(userId, projectId, request, ct);
        var run = new GenerationRun
        {
            Id = Guid.NewGuid(), ProjectId = projectId, TaskId = request.TaskId, TaskVersionId = version.Id, TaskVersionNumber = version.Number,
            ConnectionId = request.ConnectionId, ConnectionName = profile.Name, Model = profile.Model, PerLabelTarget = request.PerLabel,
            Oversample = request.Oversample, Concurrency = Math.Min(request.Concurrency, profile.MaxConcurrency), BudgetTokens = request.BudgetTokens,
            BudgetMoney = request.BudgetMoney, Seed = Random.Shared.Next(1, int.MaxValue), CreatedAt = time.GetUtcNow(), CreatedById = userId,
        };
        await jobs.StartAsync(userId, projectId, (db, jobId) =>
        {
            run.JobId = jobId;
            db.GenerationRuns.Add(run);
            return Task.FromResult(new JobStart(GenerationRunJob.KindName, $"Generate · {spec.Name}", new GenerationRunJob.Payload(run.Id)));
        }, ct);
        return (await ListRunsAsync(userId, projectId, request.TaskId, ct)).First(r => r.Id == run.Id);
    }

    public async Task<IReadOnlyList<RunSummary>> ListRunsAsync(string userId, Guid projectId, Guid? taskId = null, CancellationToken ct = default)
    {
        await access.RequireAsync(projectId, userId, ProjectRole.Viewer, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var runs = await db.GenerationRuns.AsNoTracking()
            .Where(r => r.ProjectId == projectId && (taskId == null || r.TaskId == taskId))
            .OrderByDescending(r => r.CreatedAt).Take(200)
            .Select(r => new
            {
                Run = r,
                TaskName = db.Tasks.Where(t => t.Id == r.TaskId).Select(t => t.Name).FirstOrDefault(),
                State = db.Jobs.Where(j => j.Id == r.JobId).Select(j => (JobState?)j.State).FirstOrDefault(),
                Selected = db.Candidates.Count(c => c.RunId == r.Id && c.Stage == CandidateStage.Selected),
                Pool = db.Candidates.Count(c => c.RunId == r.Id && c.Stage == CandidateStage.Pool),
                Reserve = db.Candidates.Count(c => c.RunId == r.Id && c.Stage == CandidateStage.Reserve),
                Rejected = db.RejectedSamples.Count(x => x.RunId == r.Id),
            })
            .ToListAsync(ct);
        return runs.Select(x => new RunSummary(x.Run.Id, x.Run.TaskId, x.TaskName ?? "", x.Run.TaskVersionNumber, x.Run.ConnectionName, x.Run.Model,
            x.Run.PerLabelTarget, x.State, x.Selected, x.Pool, x.Reserve, x.Rejected, x.Run.InputTokens + x.Run.OutputTokens, x.Run.Cost,
            x.Run.StopReason, x.Run.CreatedAt)).ToList();
    }

    public async Task<RunView> GetRunAsync(string userId, Guid runId, int recent = 30, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var run = await db.GenerationRuns.AsNoTracking().SingleOrDefaultAsync(r => r.Id == runId, ct)
            ?? throw new ForbiddenException("You do not have access to this run.");
        await access.RequireAsync(run.ProjectId, userId, ProjectRole.Viewer, ct);
        var taskName = await db.Tasks.Where(t => t.Id == run.TaskId).Select(t => t.Name).FirstOrDefaultAsync(ct) ?? "";
        var spec = TaskJson.Parse(await db.TaskVersions.Where(v => v.Id == run.TaskVersionId).Select(v => v.SpecJson).SingleAsync(ct));
        var counts = await db.Candidates.AsNoTracking().Where(c => c.RunId == runId)
            .GroupBy(c => new { c.Label, c.Stage }).Select(g => new { g.Key.Label, g.Key.Stage, Count = g.Count() }).ToListAsync(ct);
        var rejectedCounts = await db.RejectedSamples.AsNoTracking().Where(r => r.RunId == runId)
            .GroupBy(r => new { r.Label, r.Reason }).Select(g => new { g.Key.Label, g.Key.Reason, Count = g.Count() }).ToListAsync(ct);
        var labels = spec.Labels.Select(l => new LabelCounts(l.Name,
            counts.Where(c => c.Label == l.Name && c.Stage == CandidateStage.Selected).Sum(c => c.Count),
            counts.Where(c => c.Label == l.Name && c.Stage == CandidateStage.Pool).Sum(c => c.Count),
            counts.Where(c => c.Label == l.Name && c.Stage == CandidateStage.Reserve).Sum(c => c.Count),
            rejectedCounts.Where(r => r.Label == l.Name).Sum(r => r.Count))).ToList();
        var recentSamples = await db.Candidates.AsNoTracking().Where(c => c.RunId == runId).OrderByDescending(c => c.CreatedAt).Take(Math.Clamp(recent, 1, 500))
            .Select(c => new SampleView(c.Id, c.Label, c.Text, c.Stage, c.IsAmbiguous, c.Round)).ToListAsync(ct);
        var recentRejected = await db.RejectedSamples.AsNoTracking().Where(r => r.RunId == runId).OrderByDescending(r => r.Id).Take(Math.Clamp(recent, 1, 500))
            .Select(r => new RejectedView(r.Label, r.Text, r.Reason, r.Detail, r.CreatedAt)).ToListAsync(ct);
        JobView? job = run.JobId is { } jobId ? await jobs.GetAsync(userId, jobId, ct) : null;
        var diversity = string.IsNullOrEmpty(run.DiversityJson) ? [] : JsonSerializer.Deserialize<List<RoundStats>>(run.DiversityJson, DbGenerationStore.Json) ?? [];
        return new RunView(run, taskName, job, labels, recentSamples, recentRejected, diversity,
            rejectedCounts.GroupBy(r => r.Reason).ToDictionary(g => g.Key, g => g.Sum(r => r.Count)));
    }

    private async Task<(TaskSpec Spec, TaskVersion Version, LlmProfile Profile)> PrepareAsync(string userId, Guid projectId, StartRunRequest request, CancellationToken ct)
    {
        await access.RequireAsync(projectId, userId, ProjectRole.Author, ct);
        var errors = new List<DomainError>();
        if (request.PerLabel is < 1 or > MaxPerLabel)
            errors.Add(new("perLabel", "PerLabelOutOfRange", $"Samples per label must be 1 to {MaxPerLabel:N0}.", [MaxPerLabel]));
        if (request.Oversample is < 1 or > 10 || !double.IsFinite(request.Oversample))
            errors.Add(new("oversample", "OversampleOutOfRange", "Oversampling must be between 1 and 10.", []));
        if (request.Concurrency is < 1 or > 64)
            errors.Add(new("concurrency", "ConcurrencyOutOfRange", "Concurrency must be between 1 and 64.", [1, 64]));
        if (request.BudgetTokens is <= 0)
            errors.Add(new("budgetTokens", "BudgetInvalid", "A budget must be positive (or left empty).", []));
        if (request.BudgetMoney is <= 0)
            errors.Add(new("budgetMoney", "BudgetInvalid", "A budget must be positive (or left empty).", []));
        if (errors.Count > 0) throw new DomainValidationException(errors);

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var task = await db.Tasks.AsNoTracking().SingleOrDefaultAsync(t => t.Id == request.TaskId && t.ProjectId == projectId, ct)
            ?? throw new ForbiddenException("You do not have access to this task.");
        if (await db.Projects.Where(p => p.Id == projectId).Select(p => p.IsArchived).SingleAsync(ct))
            throw new DomainValidationException("project", "ProjectArchived", "This project is archived. Restore it before starting new work.");
        var version = await db.TaskVersions.AsNoTracking().SingleAsync(v => v.TaskId == task.Id && v.Number == task.CurrentVersion, ct);
        var profile = await connections.GetProfileAsync(userId, projectId, request.ConnectionId, ct);
        if (await connections.IsSiteWideAsync(request.ConnectionId, ct)
            && await spending.CheckAsync(new SpendingScope(userId, projectId, request.ConnectionId), ct) is { } capped)
            throw new DomainValidationException("connection", "SpendingCapReached", capped, capped);
        return (TaskJson.Parse(version.SpecJson), version, profile);
    }

    private static GenerationSettings Settings(StartRunRequest r, LlmProfile profile) =>
        new(r.PerLabel, r.Oversample, Math.Min(r.Concurrency, profile.MaxConcurrency), r.BudgetTokens, r.BudgetMoney);
}
