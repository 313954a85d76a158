using Incubator.Domain.Data;
using Incubator.Domain.Generation;
using Incubator.Domain.Jobs;
using Incubator.Domain.Review;
using Incubator.Domain.Tasks;
using Incubator.Tests.Jobs;
using Microsoft.EntityFrameworkCore;

namespace Incubator.Tests.Generation;

/// <summary>The data part of migration HonestRuns on rows written the old way: main-view samples get their place per
/// label, finished runs their outcome, and a run that "succeeded" with a stop reason is stopped short, job included.</summary>
public sealed class HonestRunsBackfillTests
{
    [Fact]
    public async Task Old_rows_get_spread_ranks_per_label_and_old_runs_the_outcome_they_really_had()
    {
        await using var host = await JobTestHost.CreateAsync();
        var projectId = await host.CreateProjectAsync();
        var now = DateTimeOffset.UtcNow;
        var task = new ClassifierTask { Id = Guid.NewGuid(), ProjectId = projectId, Name = "t", CurrentVersion = 1, CreatedAt = now, UpdatedAt = now };
        Candidate Row(string label, CandidateStage stage, int second) => new()
        {
            Id = Guid.NewGuid(), ProjectId = projectId, TaskId = task.Id, TaskVersionNumber = 1, Label = label, Text = $"{label} {second}", NormalizedText = $"{label} {second}",
            Source = CandidateSource.Generation, Stage = stage, Status = CandidateStatus.Pending, CreatedAt = now.AddSeconds(second),
        };
        // Created out of order on purpose: the rank follows the creation time, per label, main view only.
        var rows = new[] { Row("a", CandidateStage.Selected, 3), Row("a", CandidateStage.Selected, 1), Row("b", CandidateStage.Selected, 2), Row("a", CandidateStage.Reserve, 0), Row("a", CandidateStage.Selected, 2) };
        (Job Job, GenerationRun Run) Ended(JobState state, string? stop)
        {
            var job = new Job { Id = Guid.NewGuid(), ProjectId = projectId, Kind = GenerationRunJob.KindName, Title = "g", State = state, CreatedAt = now };
            return (job, new GenerationRun { Id = Guid.NewGuid(), ProjectId = projectId, TaskId = task.Id, TaskVersionId = Guid.NewGuid(), JobId = job.Id, StopReason = stop, CreatedAt = now });
        }
        var complete = Ended(JobState.Succeeded, null);
        var stopped = Ended(JobState.Succeeded, "The budget was reached.");
        var failed = Ended(JobState.Failed, null);
        var running = Ended(JobState.Running, null);
        await using (var db = await host.Db.CreateDbContextAsync())
        {
            db.Tasks.Add(task);
            db.Candidates.AddRange(rows);
            foreach (var (job, run) in new[] { complete, stopped, failed, running })
            {
                db.Jobs.Add(job);
                db.GenerationRuns.Add(run);
            }
            await db.SaveChangesAsync();

            await db.Database.ExecuteSqlRawAsync(HonestRunsBackfill.SpreadRanks);
            await db.Database.ExecuteSqlRawAsync(HonestRunsBackfill.RunOutcomes);
            await db.Database.ExecuteSqlRawAsync(HonestRunsBackfill.StoppedShortJobs);
        }

        await using var read = await host.Db.CreateDbContextAsync();
        var ranks = await read.Candidates.AsNoTracking().ToDictionaryAsync(c => c.Id, c => c.SpreadRank);
        Assert.Equal([2, 0, 0, 0, 1], rows.Select(r => ranks[r.Id]));
        var outcomes = await read.GenerationRuns.AsNoTracking().ToDictionaryAsync(r => r.Id, r => r.Outcome);
        Assert.Equal([RunOutcome.Completed, RunOutcome.StoppedShort, null, null], new[] { complete, stopped, failed, running }.Select(x => outcomes[x.Run.Id]));
        var states = await read.Jobs.AsNoTracking().ToDictionaryAsync(j => j.Id, j => j.State);
        Assert.Equal([JobState.Succeeded, JobState.StoppedShort, JobState.Failed, JobState.Running], new[] { complete, stopped, failed, running }.Select(x => states[x.Job.Id]));
    }
}
