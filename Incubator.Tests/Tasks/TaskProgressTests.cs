using Incubator.Domain.Common;
using Incubator.Domain.Datasets;
using Incubator.Domain.Generation;
using Incubator.Domain.Jobs;
using Incubator.Domain.Review;
using Incubator.Domain.Tasks;
using Incubator.Domain.Training;
using Incubator.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.Tasks;

/// <summary>The task stepper's numbers (GetTaskProgress) along a whole path: a new task, a finished run and a running one,
/// review up to the run target, a failed and a running training, a trained model, a published one — each state read
/// from what the database holds. Non-members get nothing.</summary>
public sealed class TaskProgressTests(TaskProgressTests.Portal portal) : IClassFixture<TaskProgressTests.Portal>
{
    public sealed class Portal : PortalFactory;

    private Task<TaskProgress> ReadAsync(string userId, Guid taskId) =>
        portal.Services.GetRequiredService<GetTaskProgress>().GetAsync(userId, taskId);

    private static void AssertSteps(TaskProgress p, StepState collect, StepState review, StepState train, StepState publish)
    {
        Assert.Equal(
            [StepState.Done, collect, review, train, publish],
            [p.StateOf(TaskStep.Define), p.StateOf(TaskStep.Collect), p.StateOf(TaskStep.Review), p.StateOf(TaskStep.Train), p.StateOf(TaskStep.Publish)]);
    }

    [Fact]
    public async Task Each_step_follows_what_the_database_holds_from_definition_to_publication()
    {
        var (projectId, taskId, ownerId) = await portal.CreateProjectWithTaskAsync(PortalExtensions.UniqueEmail("progress"));

        var fresh = await ReadAsync(ownerId, taskId);
        AssertSteps(fresh, StepState.NotStarted, StepState.NotStarted, StepState.NotStarted, StepState.NotStarted);
        Assert.Equal(TaskStep.Collect, fresh.Current);
        Assert.Equal(2, fresh.LabelCount);
        // No run has set a target yet: the documented minimum per label applies.
        Assert.False(fresh.TargetFromRuns);
        Assert.Equal(2 * GetTaskProgress.MinimumApprovedPerLabel, fresh.Target);

        // A finished run asked for 6 per label; its 12 selected samples wait for review, 2 more sit in reserve.
        var runId = Guid.NewGuid();
        await portal.QueryAsync(db =>
        {
            db.GenerationRuns.Add(new GenerationRun
            {
                Id = runId, ProjectId = projectId, TaskId = taskId, TaskVersionId = db.TaskVersions.Single(v => v.TaskId == taskId).Id, TaskVersionNumber = 1,
                ConnectionName = "fake", Model = "m", PerLabelTarget = 6, Outcome = RunOutcome.Completed, CreatedAt = DateTimeOffset.UtcNow,
            });
            return db.SaveChangesAsync();
        });
        var rows = TrainingSeed.MailSamples(6);
        await portal.SeedCandidatesAsync(projectId, taskId, rows.Select(r => r.Text).ToList(), runId: runId, labelOf: i => rows[i].Label);
        await portal.SeedCandidatesAsync(projectId, taskId, ["reserve one about an invoice", "reserve two about a parcel"], runId: runId);
        await portal.QueryAsync(db => db.Candidates.Where(c => c.TaskId == taskId && c.Text.StartsWith("reserve"))
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.Stage, CandidateStage.Reserve)));

        var collected = await ReadAsync(ownerId, taskId);
        AssertSteps(collected, StepState.Done, StepState.Active, StepState.NotStarted, StepState.NotStarted);
        Assert.Equal(TaskStep.Review, collected.Current);
        Assert.Equal((1, 0, 12, 12, 0, 12), (collected.Runs, collected.ActiveRuns, collected.Samples, collected.Pending, collected.Approved, collected.Target));
        Assert.True(collected.TargetFromRuns);

        // A second run that is paused counts as running.
        await portal.QueryAsync(db =>
        {
            var jobId = Guid.NewGuid();
            db.Jobs.Add(new Job { Id = jobId, ProjectId = projectId, Kind = GenerationRunJob.KindName, Title = "paused", State = JobState.Paused, CreatedAt = DateTimeOffset.UtcNow });
            db.GenerationRuns.Add(new GenerationRun
            {
                Id = Guid.NewGuid(), ProjectId = projectId, TaskId = taskId, TaskVersionId = db.TaskVersions.Single(v => v.TaskId == taskId).Id, TaskVersionNumber = 1,
                ConnectionName = "fake", Model = "m", PerLabelTarget = 50, JobId = jobId, CreatedAt = DateTimeOffset.UtcNow,
            });
            return db.SaveChangesAsync();
        });
        var running = await ReadAsync(ownerId, taskId);
        Assert.Equal(StepState.Active, running.StateOf(TaskStep.Collect));
        Assert.Equal((2, 1), (running.Runs, running.ActiveRuns));
        // An unfinished run sets no target yet.
        Assert.Equal(12, running.Target);
        // What it has generated so far is its pool; a finished run's leftovers (here moved back to its pool) do not count.
        Assert.Equal(0, running.Generating);
        var pausedRun = await portal.QueryAsync(db => db.GenerationRuns.Where(r => r.TaskId == taskId && r.PerLabelTarget == 50).Select(r => r.Id).SingleAsync());
        await portal.SeedCandidatesAsync(projectId, taskId, ["pooled one about a refund", "pooled two about a late van", "pooled three"], runId: pausedRun);
        await portal.QueryAsync(db => db.Candidates.Where(c => c.TaskId == taskId && c.Text.StartsWith("pooled"))
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.Stage, CandidateStage.Pool)));
        await portal.QueryAsync(db => db.Candidates.Where(c => c.TaskId == taskId && c.Text.StartsWith("reserve"))
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.Stage, CandidateStage.Pool)));
        var generating = await ReadAsync(ownerId, taskId);
        Assert.Equal((3, 12, 12), (generating.Generating, generating.Samples, generating.Pending));
        await portal.QueryAsync(db => db.Jobs.Where(j => j.ProjectId == projectId).ExecuteUpdateAsync(s => s.SetProperty(j => j.State, JobState.Cancelled)));

        // Every billing sample and all but one shipping sample approved: shipping is short, so review is not done.
        await ApproveAsync(taskId, "billing", 6);
        await ApproveAsync(taskId, "shipping", 5);
        var almost = await ReadAsync(ownerId, taskId);
        AssertSteps(almost, StepState.Done, StepState.Active, StepState.NotStarted, StepState.NotStarted);
        Assert.False(almost.ReadyToTrain);
        Assert.Equal(11, almost.Approved);
        Assert.Equal([("billing", 6, 0, 0, true), ("shipping", 5, 1, 0, false)], almost.PerLabel.Select(l => (l.Label, l.Approved, l.Pending, l.Rejected, l.Enough)));
        // The review chart's days: every decision of today, none pending.
        var days = await portal.Services.GetRequiredService<GetTaskProgress>().ReviewHistoryAsync(ownerId, taskId);
        Assert.Equal([new ReviewDay(DateOnly.FromDateTime(DateTime.UtcNow), 11, 0)], days);
        // Days are the reader's: 25 hours apart (UTC+14 and UTC-11), the same decisions fall on different calendar days.
        var east = await portal.Services.GetRequiredService<GetTaskProgress>().ReviewHistoryAsync(ownerId, taskId, TimeZoneInfo.FindSystemTimeZoneById("Pacific/Kiritimati"));
        var west = await portal.Services.GetRequiredService<GetTaskProgress>().ReviewHistoryAsync(ownerId, taskId, TimeZoneInfo.FindSystemTimeZoneById("Pacific/Pago_Pago"));
        Assert.Equal((11, 11), (Assert.Single(east).Approved, Assert.Single(west).Approved));
        Assert.InRange(east[0].Day.DayNumber - west[0].Day.DayNumber, 1, 2);

        await ApproveAsync(taskId, "shipping", 1);
        var reviewed = await ReadAsync(ownerId, taskId);
        AssertSteps(reviewed, StepState.Done, StepState.Done, StepState.NotStarted, StepState.NotStarted);
        Assert.True(reviewed.ReadyToTrain);
        Assert.Equal(TaskStep.Train, reviewed.Current);

        // A training that failed, then one in progress (rows as the training job leaves them).
        var dataset = await portal.InScopeAsync(sp => sp.GetRequiredService<DatasetService>().FreezeAsync(ownerId, taskId));
        var failedId = await AddModelAsync(projectId, taskId, dataset.Id, 1, ModelVersionState.Failed);
        var failed = await ReadAsync(ownerId, taskId);
        Assert.Equal(StepState.Failed, failed.StateOf(TaskStep.Train));
        Assert.Equal((failedId, ModelVersionState.Failed), (failed.LatestModelId, failed.LatestModelState));
        await AddModelAsync(projectId, taskId, dataset.Id, 2, ModelVersionState.Training);
        var training = await ReadAsync(ownerId, taskId);
        Assert.Equal(StepState.Active, training.StateOf(TaskStep.Train));
        Assert.Equal(2, training.TrainingModel);
        await portal.QueryAsync(db => db.ModelVersions.Where(m => m.TaskId == taskId).ExecuteDeleteAsync());

        // A real training run on the approved samples, then publication.
        var trainingService = portal.Services.GetRequiredService<TrainingService>();
        var started = await trainingService.StartTrainingAsync(ownerId, new StartTrainingRequest(taskId, "sparse"));
        var done = await WaitAsync(() => trainingService.GetAsync(ownerId, started.Id), s => s.Summary.State != ModelVersionState.Training);
        Assert.True(done.Summary.State == ModelVersionState.Draft, done.Error);
        var trained = await ReadAsync(ownerId, taskId);
        AssertSteps(trained, StepState.Done, StepState.Done, StepState.Done, StepState.NotStarted);
        Assert.Equal((1, started.Id), (trained.TrainedModels, trained.LatestModelId));
        Assert.Equal(TaskStep.Publish, trained.Current);

        await trainingService.PublishAsync(ownerId, started.Id);
        var published = await ReadAsync(ownerId, taskId);
        AssertSteps(published, StepState.Done, StepState.Done, StepState.Done, StepState.Done);
        Assert.Equal((started.Id, started.Number), (published.PublishedModelId, published.PublishedModelNumber));
    }

    /// <summary>A mining run asks for a review of what it found: a rejected mined text lowers what its label needs, a label
    /// it found nothing for needs the minimum, and self-training's run (seeded by that run) adds its uncertain texts, not
    /// the seeds' per-label count a second time — so "Freeze and train" is always within reach.</summary>
    [Fact]
    public async Task Mining_and_self_training_runs_ask_for_their_candidates_not_for_their_per_label_count()
    {
        var (projectId, taskId, ownerId) = await portal.CreateProjectWithTaskAsync(PortalExtensions.UniqueEmail("progress-mining"));
        var miningId = Guid.NewGuid();
        var selfTrainingId = Guid.NewGuid();
        await portal.QueryAsync(db =>
        {
            foreach (var (id, source) in new[] { (miningId, (Guid?)null), (selfTrainingId, miningId) })
            {
                var jobId = Guid.NewGuid();
                db.Jobs.Add(new Job { Id = jobId, ProjectId = projectId, Kind = "mining", Title = "mining", State = JobState.Succeeded, CreatedAt = DateTimeOffset.UtcNow });
                db.MiningRuns.Add(new Incubator.Domain.Mining.MiningRun
                {
                    Id = id, ProjectId = projectId, TaskId = taskId, TaskVersionNumber = 1, CorpusName = "tickets", PerLabel = 100, JobId = jobId,
                    SourceRunId = source, CreatedAt = DateTimeOffset.UtcNow,
                });
            }
            return db.SaveChangesAsync();
        });
        // The run asked for 100 per label and found 4 billing texts (no shipping one); self-training sent 1 billing text.
        await portal.SeedCandidatesAsync(projectId, taskId, ["mined invoice one", "mined invoice two", "mined invoice three", "mined invoice four"]);
        await portal.SeedCandidatesAsync(projectId, taskId, ["uncertain invoice text"]);
        await portal.QueryAsync(db => db.Candidates.Where(c => c.TaskId == taskId).ExecuteUpdateAsync(s => s
            .SetProperty(c => c.MiningRunId, c => c.Text.StartsWith("uncertain") ? selfTrainingId : miningId).SetProperty(c => c.Source, CandidateSource.Mining)));

        var found = await ReadAsync(ownerId, taskId);
        Assert.True(found.TargetFromRuns);
        Assert.Equal([("billing", 5), ("shipping", GetTaskProgress.MinimumApprovedPerLabel)], found.PerLabel.Select(l => (l.Label, l.Target)));
        Assert.Equal(5 + GetTaskProgress.MinimumApprovedPerLabel, found.Target);

        // A reviewer rejects one mined text: billing needs one fewer, and approving the rest makes it enough.
        await portal.QueryAsync(db => db.Candidates.Where(c => c.Text == "mined invoice four")
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.Status, CandidateStatus.Rejected).SetProperty(c => c.ReviewedAt, DateTimeOffset.UtcNow)));
        await ApproveAsync(taskId, "billing", 4);
        var billing = await ReadAsync(ownerId, taskId);
        Assert.Equal(("billing", 4, 4, true), billing.PerLabel.Select(l => (l.Label, l.Approved, l.Target, l.Enough)).First());
        Assert.False(billing.ReadyToTrain);

        // Shipping samples from elsewhere (an import: no run) reach the minimum: ready.
        await portal.SeedCandidatesAsync(projectId, taskId, TrainingSeed.MailSamples(GetTaskProgress.MinimumApprovedPerLabel)
            .Where(r => r.Label == "shipping").Select(r => r.Text).ToList(), label: "shipping");
        await ApproveAsync(taskId, "shipping", GetTaskProgress.MinimumApprovedPerLabel);
        var ready = await ReadAsync(ownerId, taskId);
        Assert.True(ready.ReadyToTrain);
        Assert.Equal(StepState.Done, ready.StateOf(TaskStep.Review));
        Assert.Equal((2, 0), (ready.Runs, ready.ActiveRuns));

        // An LLM labelling the corpus is a run that collects (active while its job runs); its labels set no target.
        await portal.QueryAsync(db =>
        {
            var jobId = Guid.NewGuid();
            db.Jobs.Add(new Job { Id = jobId, ProjectId = projectId, Kind = "labelling", Title = "labelling", State = JobState.Running, CreatedAt = DateTimeOffset.UtcNow });
            db.LabellingRuns.Add(new Incubator.Domain.Labelling.LabellingRun
            {
                Id = Guid.NewGuid(), ProjectId = projectId, TaskId = taskId, TaskVersionNumber = 1, CorpusName = "tickets", JobId = jobId, CreatedAt = DateTimeOffset.UtcNow,
            });
            return db.SaveChangesAsync();
        });
        await portal.SeedCandidatesAsync(projectId, taskId, ["an invoice the llm labelled"]);
        var labelling = await ReadAsync(ownerId, taskId);
        Assert.Equal((3, 1, StepState.Active), (labelling.Runs, labelling.ActiveRuns, labelling.StateOf(TaskStep.Collect)));
        Assert.Equal(ready.Target, labelling.Target);
        Assert.True(labelling.ReadyToTrain);
    }

    [Fact]
    public async Task Someone_outside_the_project_is_refused()
    {
        var (_, taskId, _) = await portal.CreateProjectWithTaskAsync(PortalExtensions.UniqueEmail("progress-owner"));
        var stranger = await portal.RegisterAsync(PortalExtensions.UniqueEmail("progress-stranger"));
        await Assert.ThrowsAsync<ForbiddenException>(() => ReadAsync(stranger.Id, taskId));
        await Assert.ThrowsAsync<ForbiddenException>(() => ReadAsync(stranger.Id, Guid.NewGuid()));
    }

    private Task<int> ApproveAsync(Guid taskId, string label, int count) =>
        portal.QueryAsync(async db =>
        {
            var ids = await db.Candidates.Where(c => c.TaskId == taskId && c.Label == label && c.Stage == CandidateStage.Selected && c.Status == CandidateStatus.Pending)
                .OrderBy(c => c.CreatedAt).Take(count).Select(c => c.Id).ToListAsync();
            return await db.Candidates.Where(c => ids.Contains(c.Id))
                .ExecuteUpdateAsync(s => s.SetProperty(c => c.Status, CandidateStatus.Approved).SetProperty(c => c.ReviewedAt, DateTimeOffset.UtcNow));
        });

    private async Task<Guid> AddModelAsync(Guid projectId, Guid taskId, Guid datasetId, int number, ModelVersionState state)
    {
        var id = Guid.NewGuid();
        await portal.QueryAsync(db =>
        {
            db.ModelVersions.Add(new ModelVersion
            {
                Id = id, ProjectId = projectId, TaskId = taskId, Number = number, DatasetVersionId = datasetId, State = state, CreatedAt = DateTimeOffset.UtcNow,
            });
            return db.SaveChangesAsync();
        });
        return id;
    }

    private static async Task<T> WaitAsync<T>(Func<Task<T>> read, Func<T, bool> done)
    {
        for (var i = 0; i < 1200; i++)
        {
            var value = await read();
            if (done(value)) return value;
            await Task.Delay(100);
        }
        throw new TimeoutException("The state was never reached.");
    }
}
