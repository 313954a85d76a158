using Incubator.Domain.Review;
using Incubator.Domain.Generation;
using Incubator.Domain.Jobs;
using Incubator.Domain.Llm;
using Incubator.Domain.Tasks;
using Incubator.Tests.Fakes;
using Incubator.Tests.Infrastructure;
using Incubator.Tests.Jobs;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.Generation;

/// <summary>A generation run in the real portal process, killed (SIGKILL) in the middle of its first round and started
/// again: nothing that was shown is lost or changed, and only the shortfall is generated.</summary>
[Collection(HeavyCollection.Name)]
public sealed class GenerationRestartTests
{
    private const int Target = 6;
    private const double Oversample = 2;
    private const int Concurrency = 2;
    private const int Goal = 12; // Target × Oversample: the pool each label needs before the round's selection.
    private const int AnsweredBeforeCrash = 4;

    /// <summary>Lets the observer host enqueue the generation kind without wiring the LLM services; it never runs jobs.</summary>
    private sealed class StandIn : IJobHandler
    {
        public string Kind => GenerationRunJob.KindName;

        public Task RunAsync(JobContext context) => throw new InvalidOperationException("The observer host does not run jobs.");
    }

    [Fact]
    public async Task A_run_killed_mid_round_resumes_keeps_every_shown_sample_and_generates_only_the_shortfall()
    {
        string[] labels = ["請求", "配送"];
        await using var fake = await FakeOpenAiServer.StartAsync();
        var seen = 0;
        using var hold = new ManualResetEventSlim(false);
        // Call n writes sample n for both labels. Calls after the fourth are held until the first process is gone, so
        // the crash always happens with exactly 4 answered calls (8 samples) and 2 calls in flight.
        fake.DefaultResponder = r =>
        {
            var n = Interlocked.Increment(ref seen);
            if (n > AnsweredBeforeCrash) hold.Wait(TimeSpan.FromMinutes(3));
            return FakeSamples.Reply(r, FakeSamples.Answer(n, labels), delay: TimeSpan.FromMilliseconds(50));
        };
        using var app = await CrashHarness.MigrateAsync("incubator-generation-crash", new Dictionary<string, string>
        {
            ["Llm__Provider"] = "OpenAICompatible",
            ["Llm__Endpoint"] = fake.OpenAIEndpoint,
            ["Llm__Model"] = "fake",
            ["Llm__MaxConcurrency"] = Concurrency.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        try
        {
            await app.RunAsync(async () =>
            {
                await using var db = await JobTestHost.CreateAsync(app.DataDirectory, "test-observer",
                    configure: s => s.AddJobHandler<StandIn>(GenerationRunJob.KindName), migrate: false);
                var (runId, jobId) = await CreateRunAsync(db, labels);

                var first = app.Start("first run");
                await Poll.UntilAsync(async () =>
                {
                    if (first.HasExited) throw new Xunit.Sdk.XunitException("The first process exited.");
                    return await CountAsync(db, runId) == AnsweredBeforeCrash * labels.Length && Volatile.Read(ref seen) == AnsweredBeforeCrash + Concurrency;
                }, TimeSpan.FromSeconds(90), async () => $"{await CountAsync(db, runId)} candidates, {Volatile.Read(ref seen)} calls");

                first.Kill();
                Assert.True(first.HasExited);
                hold.Set();

                var before = await CandidatesAsync(db, runId);
                Assert.Equal(AnsweredBeforeCrash * labels.Length, before.Count);
                Assert.All(before, c => Assert.Equal(CandidateStage.Pool, c.Stage));
                var crashed = await db.GetJobAsync(jobId);
                Assert.True(crashed.State == JobState.Running, JobTestHost.Describe(crashed));
                var callsBeforeCrash = Volatile.Read(ref seen);
                Assert.Equal(AnsweredBeforeCrash + Concurrency, callsBeforeCrash);

                var second = app.Start("second run");
                var done = await db.WaitForJobAsync(jobId, j => j.IsFinished || second.HasExited, "finished", TimeSpan.FromSeconds(120));
                var log = await db.WaitForFinishLineAsync(jobId);
                Assert.True(done.State == JobState.Succeeded, JobTestHost.Describe(done) + "\n" + JobTestHost.FormatLog(log));
                Assert.Equal(2, done.Attempts);

                var after = await CandidatesAsync(db, runId);
                // Every sample shown before the crash is still there, same id, label and text.
                foreach (var c in before)
                {
                    var now = Assert.Single(after, a => a.Id == c.Id);
                    Assert.Equal((c.Label, c.Text), (now.Label, now.Text));
                }
                Assert.Equal(after.Count, after.Select(a => TextNormalizer.Normalize(a.Text)).Distinct().Count());
                Assert.DoesNotContain(after, a => a.Stage == CandidateStage.Pool);
                foreach (var label in labels)
                    Assert.Equal(Target, after.Count(a => a.Label == label && a.Stage == CandidateStage.Selected));

                // Only the shortfall was generated. The restarted engine reloads the 4 samples per label in the pool and
                // needs Goal − 4 = 8 more per label; each call gives one per label, so at least 8 calls. It launches a call
                // only while a label is short, with at most Concurrency calls in flight, so at most Concurrency − 1 calls
                // overshoot: 8 or 9 calls. Nothing beyond a label's pool is kept: exactly Goal per label, the overshoot
                // counted as surplus.
                var callsAfterRestart = fake.ChatRequests.Count - callsBeforeCrash;
                Assert.Equal(Volatile.Read(ref seen), fake.ChatRequests.Count);
                Assert.InRange(callsAfterRestart, Goal - AnsweredBeforeCrash, Goal - AnsweredBeforeCrash + Concurrency - 1);
                foreach (var label in labels)
                    Assert.Equal(Goal, after.Count(a => a.Label == label));

                // The run's counters cover exactly the answered calls of both processes (the fake reports 11 in / 7 out).
                GenerationRun run;
                await using (var context = await db.Db.CreateDbContextAsync())
                    run = await context.GenerationRuns.AsNoTracking().SingleAsync(r => r.Id == runId);
                Assert.Equal(AnsweredBeforeCrash + callsAfterRestart, run.Calls);
                Assert.Equal(0, run.FailedCalls);
                Assert.Equal(11L * run.Calls, run.InputTokens);
                Assert.Equal(7L * run.Calls, run.OutputTokens);
                Assert.Null(run.StopReason);
                Assert.Equal(RunOutcome.Completed, run.Outcome);
                Assert.Equal(labels.Length * (AnsweredBeforeCrash + callsAfterRestart - Goal), run.Surplus);
                Assert.All(fake.ChatRequests, r => Assert.Equal("json_object", r.Json?["response_format"]?["type"]?.GetValue<string>()));
            });
        }
        finally
        {
            // Held fake answers must not outlive the test, whatever failed.
            hold.Set();
        }
    }

    private static async Task<(Guid RunId, Guid JobId)> CreateRunAsync(JobTestHost host, string[] labels)
    {
        var projectId = await host.CreateProjectAsync("generation crash");
        var spec = FakeSamples.Spec(labels);
        var now = DateTimeOffset.UtcNow;
        var task = new ClassifierTask { Id = Guid.NewGuid(), ProjectId = projectId, Name = spec.Name, CurrentVersion = 1, CreatedAt = now, UpdatedAt = now };
        var version = new TaskVersion { Id = Guid.NewGuid(), TaskId = task.Id, Number = 1, SpecJson = TaskJson.Serialize(spec), ContentHash = "test", CreatedAt = now };
        var run = new GenerationRun
        {
            Id = Guid.NewGuid(), ProjectId = projectId, TaskId = task.Id, TaskVersionId = version.Id, TaskVersionNumber = 1,
            ConnectionId = LlmConnectionService.ConfiguredConnectionId, ConnectionName = LlmConnectionService.ConfiguredConnectionName, Model = "fake",
            PerLabelTarget = Target, Oversample = Oversample, Concurrency = Concurrency, Seed = 7, CreatedAt = now,
        };
        await using (var db = await host.Db.CreateDbContextAsync())
        {
            db.Tasks.Add(task);
            db.TaskVersions.Add(version);
            db.GenerationRuns.Add(run);
            await db.SaveChangesAsync();
        }
        var job = await host.Queue.EnqueueInternalAsync(null, projectId, GenerationRunJob.KindName, "Generate · crash", new GenerationRunJob.Payload(run.Id));
        await using (var db = await host.Db.CreateDbContextAsync())
            await db.GenerationRuns.Where(r => r.Id == run.Id).ExecuteUpdateAsync(s => s.SetProperty(r => r.JobId, job.Id));
        return (run.Id, job.Id);
    }

    private static async Task<int> CountAsync(JobTestHost host, Guid runId)
    {
        await using var db = await host.Db.CreateDbContextAsync();
        return await db.Candidates.CountAsync(c => c.RunId == runId);
    }

    private static async Task<List<Candidate>> CandidatesAsync(JobTestHost host, Guid runId)
    {
        await using var db = await host.Db.CreateDbContextAsync();
        return await db.Candidates.AsNoTracking().Where(c => c.RunId == runId).ToListAsync();
    }
}
