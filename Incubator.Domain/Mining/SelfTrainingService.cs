using System.Text.Json;
using Incubator.Domain.Common;
using Incubator.Domain.Data;
using Incubator.Domain.Jobs;
using Incubator.Domain.Projects;
using Incubator.Domain.Review;
using Incubator.Domain.Training;
using Microsoft.EntityFrameworkCore;

namespace Incubator.Domain.Mining;

/// <summary>Rounds after the seed model, and how many of the final model's least certain pool texts go to review.</summary>
/// <param name="CardLanguage">The model card's language ("en", "ja"); null: the caller's UI culture.</param>
public sealed record StartSelfTrainingRequest(int Rounds = 4, int Uncertain = 50, string? CardLanguage = null);

/// <summary>One self-training run as the mining page shows it: its job's state and progress, the model version it made
/// and how many uncertain texts it sent to review (counted in the database).</summary>
public sealed record SelfTrainingRunView(
    Guid Id, Guid TaskId, Guid SourceRunId, string CorpusName, Guid? JobId, JobState? JobState, double Progress, string? ProgressMessage, string? Error,
    JobNote? Note, Guid? ModelVersionId, int? ModelNumber, int UncertainQueued, int UncertainPending, DateTimeOffset CreatedAt,
    IReadOnlyList<SelfTrainingRoundView> Rounds);

/// <summary>A finished round as stored on the run (round 0: the seed model; <see cref="MaxRounds"/>: rounds asked for).</summary>
public sealed record SelfTrainingRoundView(int Round, int MaxRounds, double Agreement, bool Improved, int PseudoLabels)
{
    [System.Text.Json.Serialization.JsonIgnore]
    public JobNote Note => SelfTrainingNotes.Round(Round, MaxRounds, Agreement, Improved);
}

/// <summary>Self-training in the portal (docs/decisions/0036-self-training-in-the-portal.md): start from a finished mining
/// run (Author, like mining and training), list a task's runs (Viewer), find the run behind a model version (Viewer).</summary>
public sealed class SelfTrainingService(IDbContextFactory<IncubatorDbContext> dbFactory, ProjectAccess access, JobQueue jobs, TimeProvider time)
{
    public const int MaxRounds = 10;
    public const int MaxUncertain = 500;

    public async Task<SelfTrainingRunView> StartAsync(string userId, Guid miningRunId, StartSelfTrainingRequest request, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var source = await db.MiningRuns.AsNoTracking().SingleOrDefaultAsync(r => r.Id == miningRunId, ct)
            ?? throw new ForbiddenException("You do not have access to this mining run.");
        await access.RequireWriteAsync(source.ProjectId, userId, ProjectRole.Author, ct);
        var task = await db.Tasks.AsNoTracking().SingleAsync(t => t.Id == source.TaskId, ct);
        var problems = new List<DomainError>();
        if (request.Rounds is < 0 or > MaxRounds)
            problems.Add(new DomainError("rounds", "SelfTrainingRoundsRange", $"Rounds must be from 0 to {MaxRounds}.", [MaxRounds]));
        if (request.Uncertain is < 0 or > MaxUncertain)
            problems.Add(new DomainError("uncertain", "SelfTrainingUncertainRange", $"Uncertain texts for review must be from 0 to {MaxUncertain}.", [MaxUncertain]));
        if (source.SourceRunId is not null)
            problems.Add(new DomainError("runId", "SelfTrainingNotMiningRun", "Start self-training from a mining run.", []));
        var sourceJob = source.JobId is { } jid ? await db.Jobs.AsNoTracking().Where(j => j.Id == jid).Select(j => (JobState?)j.State).SingleOrDefaultAsync(ct) : null;
        // A run that stopped short (some labels got no candidate) has seeds too; the job says which labels have too few.
        if (!Job.EndedWithResults(sourceJob))
            problems.Add(new DomainError("runId", "SelfTrainingRunNotFinished", "This mining run has not finished; self-training starts from its candidates.", []));
        var corpus = source.CorpusId is { } cid ? await db.Corpora.AsNoTracking().SingleOrDefaultAsync(c => c.Id == cid, ct) : null;
        if (corpus is null || corpus.State != CorpusState.Ready)
            problems.Add(new DomainError("runId", "SelfTrainingCorpusGone", "The corpus of this mining run is gone or not ready.", []));
        if (task.IsArchived) problems.Add(new DomainError("task", "TaskArchived", "This task is archived.", []));
        if (problems.Count > 0) throw new DomainValidationException(problems);
        var run = new MiningRun
        {
            Id = Guid.NewGuid(), ProjectId = source.ProjectId, TaskId = source.TaskId, TaskVersionNumber = task.CurrentVersion, CorpusId = corpus!.Id,
            CorpusName = corpus.Name, Embedder = corpus.Embedder, PerLabel = source.PerLabel, Margin = source.Margin, SourceRunId = source.Id,
            CreatedAt = time.GetUtcNow(), CreatedById = userId,
        };
        await jobs.StartAsync(userId, source.ProjectId, (startDb, jobId) =>
        {
            run.JobId = jobId;
            startDb.MiningRuns.Add(run);
            return Task.FromResult(new JobStart(SelfTrainingJob.KindName, JobTitles.SelfTrain(task.Name, corpus.Name),
                new SelfTrainingJob.Payload(run.Id, request.Rounds, request.Uncertain,
                Training.CardLanguages.Code(request.CardLanguage is { } lang ? Training.CardLanguages.Parse(lang) : Training.CardLanguages.Of(System.Globalization.CultureInfo.CurrentUICulture)))));
        }, ct);
        return (await ListAsync(userId, source.TaskId, ct)).Single(r => r.Id == run.Id);
    }

    public async Task<IReadOnlyList<SelfTrainingRunView>> ListAsync(string userId, Guid taskId, CancellationToken ct = default)
    {
        await access.RequireTaskAsync(taskId, userId, ProjectRole.Viewer, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await ViewsAsync(db, db.MiningRuns.AsNoTracking().Where(r => r.TaskId == taskId && r.SourceRunId != null), ct);
    }

    /// <summary>The self-training run that made a model version, or null when the model came from an ordinary training.</summary>
    public async Task<SelfTrainingRunView?> ForModelAsync(string userId, Guid modelVersionId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var projectId = await db.ModelVersions.Where(m => m.Id == modelVersionId).Select(m => (Guid?)m.ProjectId).SingleOrDefaultAsync(ct)
            ?? throw new ForbiddenException("You do not have access to this model.");
        await access.RequireAsync(projectId, userId, ProjectRole.Viewer, ct);
        return (await ViewsAsync(db, db.MiningRuns.AsNoTracking().Where(r => r.ModelVersionId == modelVersionId && r.SourceRunId != null), ct)).SingleOrDefault();
    }

    internal static IReadOnlyList<SelfTrainingRoundView> ReadRounds(string? json) =>
        string.IsNullOrEmpty(json) ? [] : JsonSerializer.Deserialize<List<SelfTrainingRoundView>>(json, MiningService.JsonOptions) ?? [];

    private static async Task<IReadOnlyList<SelfTrainingRunView>> ViewsAsync(IncubatorDbContext db, IQueryable<MiningRun> runs, CancellationToken ct)
    {
        var rows = await (from r in runs
                          join j in db.Jobs on r.JobId equals j.Id into jj
                          from j in jj.DefaultIfEmpty()
                          select new
                          {
                              r.Id, r.TaskId, r.SourceRunId, r.CorpusName, r.JobId, State = j == null ? (JobState?)null : j.State, Progress = j == null ? 0 : j.Progress,
                              Message = j == null ? null : j.ProgressMessage, Error = j == null ? null : j.Error, NoteJson = j == null ? null : j.NoteJson,
                              r.ModelVersionId, Number = db.ModelVersions.Where(m => m.Id == r.ModelVersionId).Select(m => (int?)m.Number).FirstOrDefault(),
                              Queued = db.Candidates.Count(c => c.MiningRunId == r.Id),
                              Pending = db.Candidates.Count(c => c.MiningRunId == r.Id && c.Status == CandidateStatus.Pending && c.Stage == CandidateStage.Selected),
                              r.CreatedAt, r.SummaryJson,
                          }).ToListAsync(ct);
        return rows.OrderByDescending(r => r.CreatedAt)
            .Select(r => new SelfTrainingRunView(r.Id, r.TaskId, r.SourceRunId!.Value, r.CorpusName, r.JobId, r.State, r.Progress, r.Message, r.Error,
                JobNote.FromJson(r.NoteJson), r.ModelVersionId, r.Number, r.Queued, r.Pending, r.CreatedAt, ReadRounds(r.SummaryJson))).ToList();
    }
}
