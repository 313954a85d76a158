using Incubator.Domain.Data;
using Incubator.Domain.Jobs;
using Incubator.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.Jobs;

/// <summary>Claiming is the one place two workers meet: a job must run once, on one worker.</summary>
public sealed class JobClaimTests
{
    [Theory]
    [MemberData(nameof(TestServers.Providers), MemberType = typeof(TestServers))]
    public async Task Two_workers_sharing_a_database_run_every_job_exactly_once_and_share_the_work(DatabaseProvider provider)
    {
        const int jobCount = 40;
        using var folder = new TempFolder("incubator-jobs-two-workers");
        var recorder = new ExecutionRecorder();
        void AddRecorder(IServiceCollection s) => s.AddSingleton(recorder).AddJobHandler<RecordingJob>(RecordingJob.KindName);

        // Two "instances": separate service providers (separate signals and events), one database.
        await using var alpha = await JobTestHost.CreateAsync(folder.Path, "worker-alpha", AddRecorder, provider: provider);
        await using var beta = await JobTestHost.CreateAsync(folder.Path, "worker-beta", AddRecorder, alpha.DatabaseSettings, migrate: false);
        var projectId = await alpha.CreateProjectAsync();
        var ids = new List<Guid>();
        for (var i = 0; i < jobCount; i++)
            ids.Add((await alpha.Queue.EnqueueInternalAsync(null, projectId, RecordingJob.KindName, $"record {i}", new RecordingJob.Payload(50))).Id);

        await Task.WhenAll(alpha.StartWorkerAsync(), beta.StartWorkerAsync());

        List<Job> rows = [];
        await Poll.UntilAsync(async () =>
        {
            await using var db = await alpha.Db.CreateDbContextAsync();
            rows = await db.Jobs.AsNoTracking().Where(j => ids.Contains(j.Id)).ToListAsync();
            return rows.Count(j => j.IsFinished) == jobCount;
        }, TimeSpan.FromSeconds(60), () => Task.FromResult(string.Join("\n", rows.Select(JobTestHost.Describe))));
        await Task.WhenAll(alpha.StopWorkerAsync(), beta.StopWorkerAsync());

        Assert.Empty(recorder.Overlaps);
        Assert.All(rows, j =>
        {
            Assert.Equal(JobState.Succeeded, j.State);
            Assert.Equal(1, j.Attempts);
            Assert.Null(j.LeaseOwner);
        });
        Assert.Equal(ids.Order(), recorder.Runs.Keys.Order());
        Assert.All(ids, id => Assert.Single(recorder.Runs[id]));

        // The database agrees: one "Ran on" line per job, naming the worker the handler ran on.
        await using (var db = await alpha.Db.CreateDbContextAsync())
        {
            var lines = await db.JobLog.AsNoTracking().Where(l => l.Message.StartsWith("Ran on ")).ToListAsync();
            Assert.Equal(jobCount, lines.Count);
            Assert.All(ids, id => Assert.Equal($"Ran on {recorder.Runs[id].Single()}.", Assert.Single(lines, l => l.JobId == id).Message));
        }

        var perWorker = recorder.Runs.Values.Select(q => q.Single()).GroupBy(w => w).ToDictionary(g => g.Key, g => g.Count());
        Assert.True(perWorker.Keys.Order().SequenceEqual(["worker-alpha", "worker-beta"]),
            $"Both workers should have run jobs; got {string.Join(", ", perWorker.Select(p => $"{p.Key}={p.Value}"))}.");
    }

    [Theory]
    [MemberData(nameof(TestServers.Providers), MemberType = typeof(TestServers))]
    public async Task When_two_workers_race_for_one_queued_job_exactly_one_claims_it(DatabaseProvider provider)
    {
        await using var host = await JobTestHost.CreateAsync(provider: provider);
        var projectId = await host.CreateProjectAsync();
        var a = host.CreateExtraWorker("racer-a");
        var b = host.CreateExtraWorker("racer-b");
        var wins = new Dictionary<string, int> { ["racer-a"] = 0, ["racer-b"] = 0 };

        for (var round = 0; round < 20; round++)
        {
            var queued = await host.Queue.EnqueueInternalAsync(null, projectId, DiagnosticsJob.KindName, $"round {round}", new DiagnosticsJob.Payload(1, 0));
            var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var claimA = Task.Run(async () => { await go.Task; return await a.TryClaimAsync(CancellationToken.None); });
            var claimB = Task.Run(async () => { await go.Task; return await b.TryClaimAsync(CancellationToken.None); });
            go.SetResult();
            var results = await Task.WhenAll(claimA, claimB);

            var winners = results.Where(r => r is not null).Select(r => r!).ToList();
            var won = Assert.Single(winners);
            Assert.Equal(queued.Id, won.Id);
            var winnerName = results[0] is not null ? a.WorkerName : b.WorkerName;
            wins[winnerName]++;
            Assert.Equal(winnerName, won.LeaseOwner);
            Assert.Equal(JobState.Running, won.State);
            Assert.Equal(1, won.Attempts);

            var row = await host.GetJobAsync(queued.Id);
            Assert.Equal(winnerName, row.LeaseOwner);
            Assert.Equal(JobState.Running, row.State);
            Assert.Equal(1, row.Attempts);
            Assert.NotNull(row.LeaseExpiresAt);
            Assert.True(row.LeaseExpiresAt > DateTimeOffset.UtcNow, "a fresh claim must hold a lease that has not expired");
        }

        // Every earlier job is running under a live lease, so there is nothing left to claim.
        Assert.Null(await a.TryClaimAsync(CancellationToken.None));
        Assert.Null(await b.TryClaimAsync(CancellationToken.None));
        Assert.Equal(20, wins.Values.Sum());
    }
}
