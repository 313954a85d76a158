using Incubator.Domain.Data;
using Incubator.Domain.Jobs;
using Incubator.Domain.Projects;
using Incubator.Domain.Review;
using Incubator.Domain.Training;
using Microsoft.EntityFrameworkCore;

namespace Incubator.Domain.Tasks;

/// <summary>The five steps from an instruction to a published model, in order.</summary>
public enum TaskStep
{
    Define,
    Collect,
    Review,
    Train,
    Publish,
}

public enum StepState
{
    NotStarted,
    Active,
    Done,
    /// <summary>Only for <see cref="TaskStep.Train"/>: the latest training failed or was cancelled and no model is trained.</summary>
    Failed,
}

/// <summary>A label's approved samples against what it needs (<see cref="GetTaskProgress.MinimumApprovedPerLabel"/> or
/// the run targets).</summary>
public sealed record LabelProgress(string Label, int Approved, int Target, int Pending = 0, int Rejected = 0)
{
    public bool Enough => Approved >= Target;
}

public sealed record StepView(TaskStep Step, StepState State);

/// <summary>Review decisions made on one UTC day.</summary>
public sealed record ReviewDay(DateOnly Day, int Approved, int Rejected);

/// <summary>Where a task stands on its way to a published model; every count is read from the database in one call.
/// <c>Generating</c>: candidates the open generation runs have written so far (their pool); they become samples (the
/// selected stage) when a run selects at its end, so a running run's progress shows before any sample does.</summary>
public sealed record TaskProgress(
    Guid TaskId, string TaskName, int TaskVersion, int LabelCount,
    int Runs, int ActiveRuns, int Samples, int Pending, int Approved, int Target, IReadOnlyList<LabelProgress> PerLabel,
    int TrainedModels, int? TrainingModel, Guid? LatestModelId, int? LatestModelNumber, ModelVersionState? LatestModelState,
    Guid? PublishedModelId, int? PublishedModelNumber, bool TargetFromRuns,
    IReadOnlyList<StepView> Steps, int Generating = 0)
{
    /// <summary>Every label of the task has enough approved samples: the queue offers "Freeze and train".</summary>
    public bool ReadyToTrain => PerLabel.Count >= 2 && PerLabel.All(l => l.Enough);

    /// <summary>The first step that is not done (Publish once everything is).</summary>
    public TaskStep Current => Steps.FirstOrDefault(s => s.State != StepState.Done)?.Step ?? TaskStep.Publish;

    public StepState StateOf(TaskStep step) => Steps.Single(s => s.Step == step).State;
}

/// <summary>Reads a task's progress through Define → Generate or Mine → Review → Train → Publish (Viewer role).
/// A label has "enough" approvals when it has as many as the finished generation runs asked for it (the sum of their
/// per-label targets, as the reserve top-up counts them) plus the candidates finished mining runs (and self-training's
/// uncertain texts) found for it that nobody rejected, or <see cref="MinimumApprovedPerLabel"/> when no run has set it
/// anything (samples came in another way, e.g. an import).
/// (docs/decisions/0034-guided-path.md)</summary>
public sealed class GetTaskProgress(IDbContextFactory<IncubatorDbContext> dbFactory, ProjectAccess access)
{
    /// <summary>Approved samples per label a task needs before "Freeze and train" when no run set a target: enough for the
    /// seeded split to put at least one of each label in validation and still train on a few.</summary>
    public const int MinimumApprovedPerLabel = 10;

    /// <summary>Decisions per day in <paramref name="zone"/> (the reader's; UTC when null) (approved, rejected), oldest
    /// first: the task page's review chart. Read on that page only, not with every stepper refresh.</summary>
    public async Task<IReadOnlyList<ReviewDay>> ReviewHistoryAsync(string userId, Guid taskId, TimeZoneInfo? zone = null, CancellationToken ct = default)
    {
        await access.RequireTaskAsync(taskId, userId, ProjectRole.Viewer, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        // Grouped in memory: DateTimeOffset days do not translate alike on SQLite and PostgreSQL; two small columns per
        // reviewed sample are read.
        var decided = await db.Candidates.AsNoTracking()
            .Where(c => c.TaskId == taskId && c.Status != CandidateStatus.Pending && c.ReviewedAt != null)
            .Select(c => new { c.ReviewedAt, c.Status }).ToListAsync(ct);
        return decided.GroupBy(c => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(c.ReviewedAt!.Value, zone ?? TimeZoneInfo.Utc).DateTime))
            .OrderBy(g => g.Key)
            .Select(g => new ReviewDay(g.Key, g.Count(c => c.Status == CandidateStatus.Approved), g.Count(c => c.Status == CandidateStatus.Rejected)))
            .ToList();
    }

    public async Task<TaskProgress> GetAsync(string userId, Guid taskId, CancellationToken ct = default)
    {
        await access.RequireTaskAsync(taskId, userId, ProjectRole.Viewer, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var task = await db.Tasks.AsNoTracking().SingleAsync(t => t.Id == taskId, ct);
        var spec = TaskJson.Parse(await db.TaskVersions.AsNoTracking()
            .Where(v => v.TaskId == taskId && v.Number == task.CurrentVersion).Select(v => v.SpecJson).SingleAsync(ct));
        var labels = spec.Labels.Select(l => l.Name).ToList();

        var generation = await db.GenerationRuns.AsNoTracking().Where(r => r.TaskId == taskId)
            .Select(r => new { r.Id, r.Outcome, r.PerLabelTarget, State = db.Jobs.Where(j => j.Id == r.JobId).Select(j => (JobState?)j.State).FirstOrDefault() })
            .ToListAsync(ct);
        var mining = await db.MiningRuns.AsNoTracking().Where(r => r.TaskId == taskId)
            .Select(r => new { r.Id, State = db.Jobs.Where(j => j.Id == r.JobId).Select(j => (JobState?)j.State).FirstOrDefault() })
            .ToListAsync(ct);
        // LLM labelling brings samples too (it sets no target: see below).
        var labelling = await db.LabellingRuns.AsNoTracking().Where(r => r.TaskId == taskId)
            .Select(r => db.Jobs.Where(j => j.Id == r.JobId).Select(j => (JobState?)j.State).FirstOrDefault())
            .ToListAsync(ct);
        static bool Open(JobState? s) => s is JobState.Queued or JobState.Running or JobState.Paused;
        var activeRuns = generation.Count(r => Open(r.State)) + mining.Count(r => Open(r.State)) + labelling.Count(Open);
        var openGeneration = generation.Where(r => Open(r.State)).Select(r => r.Id).ToList();
        var generating = openGeneration.Count == 0 ? 0 : await db.Candidates.AsNoTracking()
            .CountAsync(c => c.TaskId == taskId && c.RunId != null && openGeneration.Contains(c.RunId.Value) && c.Stage == CandidateStage.Pool, ct);
        var generationTarget = generation.Where(r => r.Outcome is Generation.RunOutcome.Completed or Generation.RunOutcome.StoppedShort).Sum(r => r.PerLabelTarget);
        // A mining run asks for a review of what it found, not for a number: its per-label count would stay out of reach
        // once a mined text is rejected or the corpus held fewer good matches, and self-training would count its seeds'
        // run twice. Its candidates nobody rejected are the review work it adds.
        var finishedMining = mining.Where(r => Job.EndedWithResults(r.State)).Select(r => r.Id).ToList();
        var mined = finishedMining.Count == 0 ? new Dictionary<string, int>() : await db.Candidates.AsNoTracking()
            .Where(c => c.TaskId == taskId && c.MiningRunId != null && finishedMining.Contains(c.MiningRunId.Value) && c.Status != CandidateStatus.Rejected)
            .GroupBy(c => c.Label).Select(g => new { Label = g.Key, N = g.Count() }).ToDictionaryAsync(g => g.Label, g => g.N, ct);
        int TargetOf(string label) => generationTarget + mined.GetValueOrDefault(label) is var n and > 0 ? n : MinimumApprovedPerLabel;
        var targetFromRuns = generationTarget > 0 || mined.Count > 0;

        // The main view (selected stage) is what reviewers work through; approvals count wherever they are.
        var counts = await db.Candidates.AsNoTracking().Where(c => c.TaskId == taskId)
            .GroupBy(c => new { c.Label, c.Stage, c.Status }).Select(g => new { g.Key.Label, g.Key.Stage, g.Key.Status, N = g.Count() })
            .ToListAsync(ct);
        var samples = counts.Where(c => c.Stage == CandidateStage.Selected).Sum(c => c.N);
        var pending = counts.Where(c => c.Stage == CandidateStage.Selected && c.Status == CandidateStatus.Pending).Sum(c => c.N);
        var perLabel = labels.Select(l => new LabelProgress(l,
            counts.Where(c => c.Label == l && c.Status == CandidateStatus.Approved).Sum(c => c.N), TargetOf(l),
            counts.Where(c => c.Label == l && c.Stage == CandidateStage.Selected && c.Status == CandidateStatus.Pending).Sum(c => c.N),
            counts.Where(c => c.Label == l && c.Status == CandidateStatus.Rejected).Sum(c => c.N))).ToList();
        var approved = counts.Where(c => c.Status == CandidateStatus.Approved).Sum(c => c.N);

        var models = await db.ModelVersions.AsNoTracking().Where(m => m.TaskId == taskId)
            .Select(m => new { m.Id, m.Number, m.State }).ToListAsync(ct);
        var trained = models.Where(m => m.State is ModelVersionState.Draft or ModelVersionState.Published or ModelVersionState.Retired).ToList();
        var latest = models.MaxBy(m => m.Number);
        var training = models.Where(m => m.State == ModelVersionState.Training).MaxBy(m => m.Number);
        var published = models.Where(m => m.State == ModelVersionState.Published).MaxBy(m => m.Number);

        var collect = activeRuns > 0 ? StepState.Active : samples > 0 ? StepState.Done : StepState.NotStarted;
        var ready = perLabel.Count >= 2 && perLabel.All(l => l.Enough);
        var review = ready ? StepState.Done : samples > 0 || approved > 0 ? StepState.Active : StepState.NotStarted;
        var train = training is not null ? StepState.Active
            : trained.Count > 0 ? StepState.Done
            : latest is { State: ModelVersionState.Failed or ModelVersionState.Cancelled } ? StepState.Failed
            : StepState.NotStarted;
        var publish = published is not null ? StepState.Done : StepState.NotStarted;
        StepView[] steps =
        [
            new(TaskStep.Define, StepState.Done), new(TaskStep.Collect, collect), new(TaskStep.Review, review),
            new(TaskStep.Train, train), new(TaskStep.Publish, publish),
        ];
        return new TaskProgress(taskId, task.Name, task.CurrentVersion, labels.Count,
            generation.Count + mining.Count + labelling.Count, activeRuns, samples, pending, approved, perLabel.Sum(l => l.Target), perLabel,
            trained.Count, training?.Number, latest?.Id, latest?.Number, latest?.State, published?.Id, published?.Number, targetFromRuns, steps, generating);
    }
}
