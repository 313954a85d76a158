using System.Text.Json;
using Incubator.Domain.Common;
using Incubator.Domain.Data;
using Incubator.Domain.Jobs;
using Incubator.Domain.Llm;
using Incubator.Domain.Mining;
using Incubator.Domain.Projects;
using Incubator.Domain.Review;
using Incubator.Domain.Tasks;
using Microsoft.EntityFrameworkCore;

namespace Incubator.Domain.Labelling;

/// <param name="Limit">How many texts (a stratified sample by the miner's labels); null: all.</param>
public sealed record StartLabellingRequest(Guid CorpusId, Guid ConnectionId, int? Limit, int BatchSize = CorpusLabeller.DefaultBatchSize,
    long? BudgetTokens = null, decimal? BudgetMoney = null);

/// <summary>A labelling run as pages and the API show it: counters from its row (written with each batch), the
/// candidates it wrote counted in the queue, and its job's state and note.</summary>
public sealed record LabellingRunView(
    Guid Id, Guid TaskId, string CorpusName, string ConnectionName, string Model, int? Limit, int BatchSize, long? BudgetTokens, decimal? BudgetMoney,
    int SampleSize, int TextsDone, int Labelled, int Disagreed, int NoneOfThese, IReadOnlyDictionary<LabelRejectReason, int> Rejected,
    int Candidates, long Tokens, decimal Cost, int Calls, Guid? JobId, JobState? State, double Progress, JobNote? Note, bool Waiting,
    DateTimeOffset CreatedAt)
{
    /// <summary>The job's error in English as its log ends with it: the reason a failed run shows when it has no note.</summary>
    public string? Error { get; init; }
}

/// <summary>LLM labelling of a corpus: estimate and start (Author, as a generation run), list and watch (Viewer).</summary>
public sealed class LabellingService(
    IDbContextFactory<IncubatorDbContext> dbFactory,
    ProjectAccess access,
    LlmConnectionService connections,
    SpendingGuard spending,
    JobQueue jobs,
    TimeProvider time)
{
    public const int MaxLimit = 1_000_000;

    public async Task<LabellingEstimate> EstimateAsync(string userId, Guid taskId, StartLabellingRequest request, CancellationToken ct = default)
    {
        var (_, spec, corpus, profile, _) = await PrepareAsync(userId, taskId, request, ct);
        return CorpusLabeller.Estimate(spec, Size(corpus, request), await AverageCharsAsync(corpus.Id, ct), request.BatchSize, profile);
    }

    /// <summary>Starts a run. Without a budget from its author, it gets the estimate's default (twice the expected
    /// tokens), stored on the run so every page shows it.</summary>
    public async Task<LabellingRunView> StartAsync(string userId, Guid taskId, StartLabellingRequest request, CancellationToken ct = default)
    {
        var (task, spec, corpus, profile, version) = await PrepareAsync(userId, taskId, request, ct);
        var budgetTokens = request.BudgetTokens;
        if (budgetTokens is null && request.BudgetMoney is null)
            budgetTokens = CorpusLabeller.Estimate(spec, Size(corpus, request), await AverageCharsAsync(corpus.Id, ct), request.BatchSize, profile).DefaultBudgetTokens;
        var run = new LabellingRun
        {
            Id = Guid.NewGuid(), ProjectId = task.ProjectId, TaskId = taskId, TaskVersionNumber = version, CorpusId = corpus.Id, CorpusName = corpus.Name,
            ConnectionId = request.ConnectionId, ConnectionName = profile.Name, Model = profile.Model, Limit = request.Limit, BatchSize = request.BatchSize,
            BudgetTokens = budgetTokens, BudgetMoney = request.BudgetMoney, SampleSize = Size(corpus, request), CreatedAt = time.GetUtcNow(), CreatedById = userId,
        };
        await jobs.StartAsync(userId, task.ProjectId, (db, jobId) =>
        {
            run.JobId = jobId;
            db.LabellingRuns.Add(run);
            return Task.FromResult(new JobStart(LabellingRunJob.KindName, JobTitles.Label(corpus.Name, task.Name), new LabellingRunJob.Payload(run.Id)));
        }, ct);
        return await GetRunAsync(userId, run.Id, ct);
    }

    public async Task<IReadOnlyList<LabellingRunView>> ListRunsAsync(string userId, Guid taskId, CancellationToken ct = default)
    {
        await access.RequireTaskAsync(taskId, userId, ProjectRole.Viewer, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var ids = await db.LabellingRuns.AsNoTracking().Where(r => r.TaskId == taskId).OrderByDescending(r => r.CreatedAt).Take(100).Select(r => r.Id).ToListAsync(ct);
        var result = new List<LabellingRunView>();
        foreach (var id in ids) result.Add(await ViewAsync(db, id, ct));
        return result;
    }

    public async Task<LabellingRunView> GetRunAsync(string userId, Guid runId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var projectId = await db.LabellingRuns.Where(r => r.Id == runId).Select(r => (Guid?)r.ProjectId).SingleOrDefaultAsync(ct)
            ?? throw new ForbiddenException("You do not have access to this labelling run.");
        await access.RequireAsync(projectId, userId, ProjectRole.Viewer, ct);
        return await ViewAsync(db, runId, ct);
    }

    private static async Task<LabellingRunView> ViewAsync(IncubatorDbContext db, Guid runId, CancellationToken ct)
    {
        var r = await db.LabellingRuns.AsNoTracking().SingleAsync(x => x.Id == runId, ct);
        var job = r.JobId is { } jobId
            ? await db.Jobs.AsNoTracking().Where(j => j.Id == jobId).Select(j => new { j.State, j.Progress, j.NoteJson, j.WaitingSince, j.Error }).SingleOrDefaultAsync(ct)
            : null;
        var candidates = await db.Candidates.CountAsync(c => c.LabellingRunId == runId, ct);
        var rejected = JsonSerializer.Deserialize<Dictionary<LabelRejectReason, int>>(r.RejectedJson, LabellingRunJob.JsonOptions) ?? [];
        return new LabellingRunView(r.Id, r.TaskId, r.CorpusName, r.ConnectionName, r.Model, r.Limit, r.BatchSize, r.BudgetTokens, r.BudgetMoney,
            r.SampleSize, r.TextsDone, r.Labelled, r.Disagreed, r.NoneOfThese, rejected, candidates, r.InputTokens + r.OutputTokens, r.Cost, r.Calls,
            r.JobId, job?.State, job?.Progress ?? 0, JobNote.FromJson(job?.NoteJson), job is { State: JobState.Running, WaitingSince: not null }, r.CreatedAt)
        {
            Error = job?.Error,
        };
    }

    private static int Size(Corpus corpus, StartLabellingRequest request) => Math.Min(request.Limit ?? corpus.TextCount, corpus.TextCount);

    private async Task<double> AverageCharsAsync(Guid corpusId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        // The first thousand texts say enough about their length for an estimate.
        var lengths = await db.CorpusTexts.AsNoTracking().Where(t => t.CorpusId == corpusId).OrderBy(t => t.Ordinal).Take(1000)
            .Select(t => t.Text.Length).ToListAsync(ct);
        return lengths.Count == 0 ? 0 : lengths.Average();
    }

    private async Task<(ClassifierTask Task, TaskSpec Spec, Corpus Corpus, LlmProfile Profile, int Version)> PrepareAsync(
        string userId, Guid taskId, StartLabellingRequest request, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var task = await db.Tasks.AsNoTracking().SingleOrDefaultAsync(t => t.Id == taskId, ct) ?? throw new ForbiddenException("You do not have access to this task.");
        await access.RequireWriteAsync(task.ProjectId, userId, ProjectRole.Author, ct);
        var errors = new List<DomainError>();
        if (request.Limit is < 1 or > MaxLimit)
            errors.Add(new("limit", "LabelLimitRange", $"The number of texts must be from 1 to {MaxLimit:N0} (or all).", [MaxLimit]));
        if (request.BatchSize is < 1 or > CorpusLabeller.MaxBatchSize)
            errors.Add(new("batchSize", "LabelBatchRange", $"Texts per call must be from 1 to {CorpusLabeller.MaxBatchSize}.", [CorpusLabeller.MaxBatchSize]));
        if (request.BudgetTokens is <= 0)
            errors.Add(new("budgetTokens", "BudgetInvalid", "A budget must be positive (or left empty).", []));
        if (request.BudgetMoney is <= 0)
            errors.Add(new("budgetMoney", "BudgetInvalid", "A budget must be positive (or left empty).", []));
        var corpus = await db.Corpora.AsNoTracking().SingleOrDefaultAsync(c => c.Id == request.CorpusId && c.ProjectId == task.ProjectId, ct);
        if (corpus is null) errors.Add(new DomainError("corpusId", "MiningCorpusMissing", "Choose a corpus of this project.", []));
        else if (corpus.State != CorpusState.Ready)
            errors.Add(new DomainError("corpusId", "CorpusNotReady", "This corpus is still being imported (or its import failed); choose a ready one.", []));
        if (task.IsArchived) errors.Add(new DomainError("task", "TaskArchived", "This task is archived.", []));
        if (errors.Count > 0) throw new DomainValidationException(errors);
        if (await db.Projects.Where(p => p.Id == task.ProjectId).Select(p => p.IsArchived).SingleAsync(ct))
            throw ProjectAccess.Archived();
        var version = await db.TaskVersions.AsNoTracking().SingleAsync(v => v.TaskId == taskId && v.Number == task.CurrentVersion, ct);
        var spec = TaskJson.Parse(version.SpecJson);
        if (spec.Labels.All(l => l.IsOther))
            throw new DomainValidationException("task", "MiningNoLabels", "The task has no label to mine for besides the other label.");
        var profile = await connections.GetProfileAsync(userId, task.ProjectId, request.ConnectionId, ct);
        if (await connections.IsSiteWideAsync(request.ConnectionId, ct)
            && await spending.CheckNoteAsync(new SpendingScope(userId, task.ProjectId, request.ConnectionId), ct) is { } capped)
            throw new DomainValidationException("connection", "SpendingCapReached", capped.Message, capped);
        return (task, spec, corpus!, profile, version.Number);
    }
}
