using Incubator.Domain.Review;
using System.Text.Json;
using Incubator.Domain.Common;
using Incubator.Domain.Data;
using Incubator.Domain.Generation;
using Incubator.Domain.Jobs;
using Incubator.Domain.Projects;
using Incubator.Domain.Tasks;
using Microsoft.EntityFrameworkCore;

namespace Incubator.Domain.Mining;

public sealed record StartMiningRequest(Guid CorpusId, int PerLabel, double Margin = MiningService.DefaultMargin);

public sealed record MiningRunView(
    Guid Id, Guid TaskId, int TaskVersionNumber, Guid? CorpusId, string CorpusName, string Embedder, int PerLabel, double Margin, int ApprovedUsed,
    int CandidatesCreated, string? SummaryJson, Guid? JobId, JobState? JobState, double Progress, string? ProgressMessage, string? Error,
    DateTimeOffset CreatedAt)
{
    /// <summary><see cref="ProgressMessage"/> as a note, for the portal to say in the reader's language.</summary>
    public JobNote? ProgressNote { get; init; }

    /// <summary>Why the run failed or stopped short, as a note (null when it ended well or failed without one).</summary>
    public JobNote? Note { get; init; }
}

/// <summary>Approved samples per label and whether the quick model of active learning can be trained.</summary>
public sealed record ActiveLearningStatus(IReadOnlyDictionary<string, int> ApprovedPerLabel, bool CanTrain, int Pending, int Scored);

/// <summary>Mining use cases: start a run (Author), list runs (Viewer), re-score the queue by uncertainty (Author).</summary>
public sealed class MiningService(IDbContextFactory<IncubatorDbContext> dbFactory, ProjectAccess access, JobQueue jobs, TimeProvider time)
{
    public const double DefaultMargin = 0.03;
    public const int MaxPerLabel = 2000;

    public async Task<MiningRunView> StartAsync(string userId, Guid taskId, StartMiningRequest request, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var task = await db.Tasks.AsNoTracking().SingleOrDefaultAsync(t => t.Id == taskId, ct) ?? throw new ForbiddenException("You do not have access to this task.");
        await access.RequireWriteAsync(task.ProjectId, userId, ProjectRole.Author, ct);
        var problems = new List<DomainError>();
        if (request.PerLabel is < 1 or > MaxPerLabel)
            problems.Add(new DomainError("perLabel", "MiningPerLabelRange", $"Candidates per label must be from 1 to {MaxPerLabel}.", [MaxPerLabel]));
        if (!double.IsFinite(request.Margin) || request.Margin is < 0 or > 1)
            problems.Add(new DomainError("margin", "MiningMarginRange", "The margin must be from 0 to 1.", []));
        var corpus = await db.Corpora.AsNoTracking().SingleOrDefaultAsync(c => c.Id == request.CorpusId && c.ProjectId == task.ProjectId, ct);
        if (corpus is null) problems.Add(new DomainError("corpusId", "MiningCorpusMissing", "Choose a corpus of this project.", []));
        else if (corpus.State != CorpusState.Ready)
            problems.Add(new DomainError("corpusId", "CorpusNotReady", "This corpus is still being imported (or its import failed); choose a ready one.", []));
        if (task.IsArchived) problems.Add(new DomainError("task", "TaskArchived", "This task is archived.", []));
        if (problems.Count > 0) throw new DomainValidationException(problems);
        var version = await db.TaskVersions.AsNoTracking().SingleAsync(v => v.TaskId == taskId && v.Number == task.CurrentVersion, ct);
        var spec = TaskJson.Parse(version.SpecJson);
        if (spec.Labels.All(l => l.IsOther))
            throw new DomainValidationException("task", "MiningNoLabels", "The task has no label to mine for besides the other label.");
        var run = new MiningRun
        {
            Id = Guid.NewGuid(), ProjectId = task.ProjectId, TaskId = taskId, TaskVersionNumber = version.Number, CorpusId = corpus!.Id, CorpusName = corpus.Name,
            Embedder = corpus.Embedder, PerLabel = request.PerLabel, Margin = request.Margin, CreatedAt = time.GetUtcNow(), CreatedById = userId,
        };
        await jobs.StartAsync(userId, task.ProjectId, (startDb, jobId) =>
        {
            run.JobId = jobId;
            startDb.MiningRuns.Add(run);
            return Task.FromResult(new JobStart(MiningRunJob.KindName, JobTitles.Mine(corpus.Name, task.Name), new MiningRunJob.Payload(run.Id)));
        }, ct);
        return (await ListRunsAsync(userId, taskId, ct)).Single(r => r.Id == run.Id);
    }

    public async Task<IReadOnlyList<MiningRunView>> ListRunsAsync(string userId, Guid taskId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var projectId = await access.RequireTaskAsync(taskId, userId, ProjectRole.Viewer, ct);
        // Self-training runs (SourceRunId set) have their own list (SelfTrainingService).
        var rows = await (from r in db.MiningRuns.AsNoTracking().Where(r => r.TaskId == taskId && r.SourceRunId == null)
                          join j in db.Jobs on r.JobId equals j.Id into jj
                          from j in jj.DefaultIfEmpty()
                          select new
                          {
                              View = new MiningRunView(r.Id, r.TaskId, r.TaskVersionNumber, r.CorpusId, r.CorpusName, r.Embedder, r.PerLabel, r.Margin, r.ApprovedUsed,
                                  r.CandidatesCreated, r.SummaryJson, r.JobId, j == null ? null : j.State, j == null ? 0 : j.Progress,
                                  j == null ? null : j.ProgressMessage, j == null ? null : j.Error, r.CreatedAt),
                              NoteJson = j == null ? null : j.ProgressNoteJson,
                              EndNoteJson = j == null ? null : j.NoteJson,
                          }).ToListAsync(ct);
        return rows.Select(r => r.View with { ProgressNote = JobNote.FromJson(r.NoteJson), Note = JobNote.FromJson(r.EndNoteJson) }).OrderByDescending(r => r.CreatedAt).ToList();
    }

    public async Task<ActiveLearningStatus> ActiveLearningAsync(string userId, Guid taskId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var projectId = await access.RequireTaskAsync(taskId, userId, ProjectRole.Viewer, ct);
        var approved = await db.Candidates.Where(c => c.TaskId == taskId && c.Status == CandidateStatus.Approved)
            .GroupBy(c => c.Label).Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(g => g.Key, g => g.Count, ct);
        // What the review queue shows as pending (selected candidates), so the two numbers match the queue's.
        var pending = await db.Candidates.CountAsync(c => c.TaskId == taskId && c.Status == CandidateStatus.Pending && c.Stage == CandidateStage.Selected, ct);
        var scored = await db.Candidates.CountAsync(c => c.TaskId == taskId && c.Status == CandidateStatus.Pending && c.Stage == CandidateStage.Selected
            && c.Uncertainty != null, ct);
        return new ActiveLearningStatus(approved, QuickModel.CanTrain(approved), pending, scored);
    }

    /// <summary>Trains the quick model on the approved samples and scores every pending candidate's uncertainty (a job).</summary>
    public async Task<JobView> StartRescoreAsync(string userId, Guid taskId, CancellationToken ct = default)
    {
        var status = await ActiveLearningAsync(userId, taskId, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var task = await db.Tasks.AsNoTracking().SingleAsync(t => t.Id == taskId, ct);
        await access.RequireWriteAsync(task.ProjectId, userId, ProjectRole.Author, ct);
        if (!status.CanTrain)
            throw new DomainValidationException("task", "ActiveLearningTooFew",
                $"Approve at least {QuickModel.MinPerLabel} samples in each of at least two labels first.", QuickModel.MinPerLabel);
        return await jobs.EnqueueAsync(userId, task.ProjectId, RescoreJob.KindName, JobTitles.Rescore(task.Name), new RescoreJob.Payload(taskId), ct);
    }

    internal static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);
}
