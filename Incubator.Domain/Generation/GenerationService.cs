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

/// <summary>A run in a list: its job's state (<see cref="Waiting"/> while it waits for its endpoint), how it ended and the
/// job's note saying why — the same words the Jobs page and the run page use.</summary>
public sealed record RunSummary(Guid Id, Guid TaskId, string TaskName, int TaskVersion, string ConnectionName, string Model, int PerLabel,
    JobState? State, int Selected, int Pool, int Reserve, int Rejected, long Tokens, decimal Cost, string? StopReason, DateTimeOffset CreatedAt,
    RunOutcome? Outcome = null, JobNote? Note = null, bool Waiting = false, Guid? JobId = null);

public sealed record LabelCounts(string Label, int Selected, int Pool, int Reserve, int Rejected);

public sealed record SampleView(Guid Id, string Label, string Text, CandidateStage Stage, bool Ambiguous, int Round);

/// <param name="Note">The detail as a code with arguments for the portal to say in the reader's language (null: only
/// the English <paramref name="Detail"/> is known, or there is none).</param>
public sealed record RejectedView(string? Label, string Text, RejectReason Reason, string Detail, DateTimeOffset At, JobNote? Note = null);

/// <param name="Samples">Per label, what its card shows: its selected samples first, then its pool (newest first), at
/// most the number asked for — every sample a card claims is one it can show.</param>
/// <param name="Shortfalls">The labels that ended short of the target and why (empty while running or when complete).</param>
public sealed record RunView(
    GenerationRun Run,
    string TaskName,
    JobView? Job,
    IReadOnlyList<LabelCounts> Labels,
    IReadOnlyList<SampleView> Recent,
    IReadOnlyList<RejectedView> RecentRejected,
    IReadOnlyList<RoundStats> Diversity,
    IReadOnlyDictionary<RejectReason, int> RejectedByReason)
{
    public IReadOnlyDictionary<string, IReadOnlyList<SampleView>> Samples { get; init; } = new Dictionary<string, IReadOnlyList<SampleView>>();

    public IReadOnlyList<LabelShortfall> Shortfalls { get; init; } = [];
}

/// <summary>Why the Generate page preselects a connection: the project's default, the one this author used last, or
/// the only one there is. Never the newest: a connection just added (perhaps to try it) is not used by surprise.</summary>
public enum PreselectReason
{
    None,
    ProjectDefault,
    LastUsed,
    OnlyOne,
}

public sealed record ConnectionChoice(IReadOnlyList<LlmConnectionView> Connections, Guid? Preselected, PreselectReason Reason);

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

    /// <summary>Expected and worst-case calls, tokens and cost, and the budget a run gets when its author sets none
    /// (<see cref="GenerationEstimate.DefaultBudgetTokens"/>: the worst case, a few times the expected cost).</summary>
    public async Task<GenerationEstimate> EstimateAsync(string userId, Guid projectId, StartRunRequest request, CancellationToken ct = default)
    {
        var (spec, _, profile) = await PrepareAsync(userId, projectId, request, ct);
        return engine.Estimate(spec, Settings(request, profile), profile);
    }

    /// <summary>The connections the Generate page offers and the one it preselects: the project's default, else the one
    /// this author used last in the project, else the only one there is — else none, and the author chooses.</summary>
    public async Task<ConnectionChoice> ChooseConnectionAsync(string userId, Guid projectId, CancellationToken ct = default)
    {
        var list = await connections.ListAsync(userId, projectId, ct);
        var usable = list.Select(c => c.Id).ToHashSet();
        if (await connections.GetProjectDefaultAsync(userId, projectId, ct) is { } d && usable.Contains(d))
            return new ConnectionChoice(list, d, PreselectReason.ProjectDefault);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var recent = await db.GenerationRuns.AsNoTracking().Where(r => r.ProjectId == projectId && r.CreatedById == userId)
            .OrderByDescending(r => r.CreatedAt).Select(r => r.ConnectionId).Take(20).ToListAsync(ct);
        var last = recent.FirstOrDefault(usable.Contains);
        if (last != Guid.Empty) return new ConnectionChoice(list, last, PreselectReason.LastUsed);
        return list.Count == 1 ? new ConnectionChoice(list, list[0].Id, PreselectReason.OnlyOne) : new ConnectionChoice(list, null, PreselectReason.None);
    }

    /// <summary>Starts a run. Without a budget from its author, the run gets the default one (the worst-case estimate's
    /// tokens), stored on the run so every page shows it.</summary>
    public async Task<RunSummary> StartAsync(string userId, Guid projectId, StartRunRequest request, CancellationToken ct = default)
    {
        var (spec, version, profile) = await PrepareAsync(userId, projectId, request, ct);
        var budgetTokens = request.BudgetTokens;
        if (budgetTokens is null && request.BudgetMoney is null)
            budgetTokens = engine.Estimate(spec, Settings(request, profile), profile).DefaultBudgetTokens;
        var run = new GenerationRun
        {
            Id = Guid.NewGuid(), ProjectId = projectId, TaskId = request.TaskId, TaskVersionId = version.Id, TaskVersionNumber = version.Number,
            ConnectionId = request.ConnectionId, ConnectionName = profile.Name, Model = profile.Model, PerLabelTarget = request.PerLabel,
            Oversample = request.Oversample, Concurrency = Math.Min(request.Concurrency, profile.MaxConcurrency), BudgetTokens = budgetTokens,
            BudgetMoney = request.BudgetMoney, Seed = Random.Shared.Next(1, int.MaxValue), CreatedAt = time.GetUtcNow(), CreatedById = userId,
        };
        await jobs.StartAsync(userId, projectId, (db, jobId) =>
        {
            run.JobId = jobId;
            db.GenerationRuns.Add(run);
            return Task.FromResult(new JobStart(GenerationRunJob.KindName, JobTitles.Generate(spec.Name), new GenerationRunJob.Payload(run.Id)));
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
                Job = db.Jobs.Where(j => j.Id == r.JobId).Select(j => new { j.State, j.NoteJson, j.WaitingSince }).FirstOrDefault(),
                Selected = db.Candidates.Count(c => c.RunId == r.Id && c.Stage == CandidateStage.Selected),
                Pool = db.Candidates.Count(c => c.RunId == r.Id && c.Stage == CandidateStage.Pool),
                Reserve = db.Candidates.Count(c => c.RunId == r.Id && c.Stage == CandidateStage.Reserve),
                Rejected = db.RejectedSamples.Count(x => x.RunId == r.Id),
            })
            .ToListAsync(ct);
        return runs.Select(x => new RunSummary(x.Run.Id, x.Run.TaskId, x.TaskName ?? "", x.Run.TaskVersionNumber, x.Run.ConnectionName, x.Run.Model,
            x.Run.PerLabelTarget, x.Job?.State, x.Selected, x.Pool, x.Reserve, x.Rejected, x.Run.InputTokens + x.Run.OutputTokens, x.Run.Cost,
            x.Run.StopReason, x.Run.CreatedAt, x.Run.Outcome, JobNote.FromJson(x.Job?.NoteJson),
            x.Job is { State: JobState.Running, WaitingSince: not null }, x.Run.JobId)).ToList();
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
        // Each card's own samples: selected first (what reviewers will see), then the pool still filling, newest first.
        var perLabel = Math.Clamp(recent, 1, 100);
        var samples = new Dictionary<string, IReadOnlyList<SampleView>>();
        foreach (var l in spec.Labels)
        {
            samples[l.Name] = await db.Candidates.AsNoTracking()
                .Where(c => c.RunId == runId && c.Label == l.Name && (c.Stage == CandidateStage.Selected || c.Stage == CandidateStage.Pool))
                .OrderBy(c => c.Stage == CandidateStage.Selected ? 0 : 1).ThenByDescending(c => c.CreatedAt).Take(perLabel)
                .Select(c => new SampleView(c.Id, c.Label, c.Text, c.Stage, c.IsAmbiguous, c.Round)).ToListAsync(ct);
        }
        var recentRejected = await db.RejectedSamples.AsNoTracking().Where(r => r.RunId == runId).OrderByDescending(r => r.Id).Take(Math.Clamp(recent, 1, 500))
            .Select(r => new { r.Label, r.Text, r.Reason, r.Detail, r.CreatedAt, r.DetailNote }).ToListAsync(ct);
        JobView? job = run.JobId is { } jobId ? await jobs.GetAsync(userId, jobId, ct) : null;
        var diversity = string.IsNullOrEmpty(run.DiversityJson) ? [] : JsonSerializer.Deserialize<List<RoundStats>>(run.DiversityJson, DbGenerationStore.Json) ?? [];
        var shortfalls = string.IsNullOrEmpty(run.ShortfallJson) ? [] : JsonSerializer.Deserialize<List<LabelShortfall>>(run.ShortfallJson, DbGenerationStore.Json) ?? [];
        return new RunView(run, taskName, job, labels, recentSamples,
            recentRejected.Select(r => new RejectedView(r.Label, r.Text, r.Reason, r.Detail, r.CreatedAt, JobNote.FromJson(r.DetailNote))).ToList(), diversity,
            rejectedCounts.GroupBy(r => r.Reason).ToDictionary(g => g.Key, g => g.Sum(r => r.Count)))
        {
            Samples = samples,
            Shortfalls = shortfalls,
        };
    }

    private async Task<(TaskSpec Spec, TaskVersion Version, LlmProfile Profile)> PrepareAsync(string userId, Guid projectId, StartRunRequest request, CancellationToken ct)
    {
        await access.RequireWriteAsync(projectId, userId, ProjectRole.Author, ct);
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
            throw ProjectAccess.Archived();
        var version = await db.TaskVersions.AsNoTracking().SingleAsync(v => v.TaskId == task.Id && v.Number == task.CurrentVersion, ct);
        var profile = await connections.GetProfileAsync(userId, projectId, request.ConnectionId, ct);
        if (await connections.IsSiteWideAsync(request.ConnectionId, ct)
            && await spending.CheckNoteAsync(new SpendingScope(userId, projectId, request.ConnectionId), ct) is { } capped)
            throw new DomainValidationException("connection", "SpendingCapReached", capped.Message, capped);
        return (TaskJson.Parse(version.SpecJson), version, profile);
    }

    private static GenerationSettings Settings(StartRunRequest r, LlmProfile profile) =>
        new(r.PerLabel, r.Oversample, Math.Min(r.Concurrency, profile.MaxConcurrency), r.BudgetTokens, r.BudgetMoney);
}
