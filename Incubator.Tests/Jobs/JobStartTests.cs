using System.Collections.Concurrent;
using Incubator.Domain.Common.Events;
using Incubator.Domain.Generation;
using Incubator.Domain.Jobs;
using Incubator.Domain.Llm;
using Incubator.Domain.Mining;
using Incubator.Domain.Mining.Query;
using Incubator.Domain.Training;
using Incubator.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.Jobs;

/// <summary>The one way to start work (<see cref="JobQueue.StartAsync"/>): the four start paths — generation, training,
/// mining, query — write their run row and its job in one transaction, and a queued training cancelled closes its model
/// version with it. The portal runs without a worker here, so queued jobs stay queued.</summary>
public sealed class JobStartTests(JobStartTests.Portal portal) : IClassFixture<JobStartTests.Portal>
{
    public sealed class Portal : PortalFactory
    {
        public Portal() => With("Jobs:RunWorker", "false");

        public FailJobInsert Failure { get; } = new();

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureTestServices(s =>
            {
                s.AddSingleton<IInterceptor>(Failure);
                // A published model for the query path without training one: starting an application reads only this.
                s.AddSingleton<IQueryModelSource>(new OnePublishedModel());
            });
        }
    }

    /// <summary>Throws, while armed, from the save that would add a job row — after the owner was saved in the same
    /// transaction — and records which rows that transaction had already saved.</summary>
    public sealed class FailJobInsert : SaveChangesInterceptor
    {
        public volatile bool Armed;

        public ConcurrentQueue<string[]> SavedBeforeFailure { get; } = new();

        public override ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result,
            CancellationToken cancellationToken = default)
        {
            var tracker = eventData.Context!.ChangeTracker;
            if (Armed && tracker.Entries<Job>().Any(e => e.State == EntityState.Added))
            {
                SavedBeforeFailure.Enqueue(tracker.Entries().Where(e => e.State == EntityState.Unchanged).Select(e => e.Entity.GetType().Name).ToArray());
                throw new InjectedFailure();
            }
            return base.SavingChangesAsync(eventData, result, cancellationToken);
        }
    }

    public sealed class InjectedFailure() : Exception("injected between the owner row and the job row");

    private sealed class OnePublishedModel : IQueryModelSource
    {
        public static readonly Guid ModelId = Guid.NewGuid();

        public Task<IReadOnlyList<QueryModelInfo>> PublishedAsync(Guid projectId, CancellationToken ct) =>
            Task.FromResult<IReadOnlyList<QueryModelInfo>>([new QueryModelInfo("topic", ModelId, ["billing", "shipping"], "topic")]);

        public Task<ITextClassifier> LoadAsync(Guid projectId, Guid modelVersionId, CancellationToken ct) =>
            throw new NotSupportedException("no job runs in these tests");
    }

    private sealed record Arranged(string OwnerId, Guid ProjectId, Guid TaskId, Guid ConnectionId, Guid CorpusId);

    private async Task<Arranged> ArrangeAsync()
    {
        var email = PortalExtensions.UniqueEmail("start");
        var (projectId, taskId, ownerId) = await portal.CreateProjectWithTaskAsync(email);
        await portal.SeedApprovedAsync(projectId, taskId, TrainingSeed.MailSamples(), ownerId);
        var connection = await portal.InScopeAsync(sp => sp.GetRequiredService<LlmConnectionService>().CreateAsync(ownerId, projectId,
            new LlmConnectionInput("local", LlmProvider.OpenAICompatible, "http://127.0.0.1:9/v1", "small", null, 0.7, 512, 2, null, 0m, 0m)));
        var corpusId = Guid.NewGuid();
        await portal.QueryAsync(async db =>
        {
            db.Corpora.Add(new Corpus { Id = corpusId, ProjectId = projectId, Name = "tickets", FileName = "tickets.txt", TextCount = 2, Embedder = "char-ngrams", CreatedAt = DateTimeOffset.UtcNow });
            db.CorpusTexts.AddRange(new CorpusText { CorpusId = corpusId, Ordinal = 0, Text = "Where is my parcel?", Line = 1 },
                new CorpusText { CorpusId = corpusId, Ordinal = 1, Text = "I was charged twice.", Line = 2 });
            return await db.SaveChangesAsync();
        });
        return new Arranged(ownerId, projectId, taskId, connection.Id, corpusId);
    }

    private Task<(int Owners, int Jobs)> CountAsync(Guid projectId) => portal.QueryAsync(async db => (
        await db.GenerationRuns.CountAsync(r => r.ProjectId == projectId) + await db.ModelVersions.CountAsync(m => m.ProjectId == projectId)
        + await db.MiningRuns.CountAsync(r => r.ProjectId == projectId) + await db.QueryRuns.CountAsync(r => r.ProjectId == projectId),
        await db.Jobs.CountAsync(j => j.ProjectId == projectId)));

    /// <summary>Each path by name, with the owner entity it writes.</summary>
    private static readonly Dictionary<string, (string Owner, Func<IServiceProvider, Arranged, Task> Start)> Paths = new()
    {
        ["generation"] = (nameof(GenerationRun), (sp, a) => sp.GetRequiredService<GenerationService>()
            .StartAsync(a.OwnerId, a.ProjectId, new StartRunRequest(a.TaskId, a.ConnectionId, PerLabel: 5))),
        ["training"] = (nameof(ModelVersion), (sp, a) => sp.GetRequiredService<TrainingService>()
            .StartTrainingAsync(a.OwnerId, new StartTrainingRequest(a.TaskId, "sparse", 3))),
        ["mining"] = (nameof(MiningRun), (sp, a) => sp.GetRequiredService<MiningService>()
            .StartAsync(a.OwnerId, a.TaskId, new StartMiningRequest(a.CorpusId, 5))),
        ["query"] = (nameof(QueryRun), (sp, a) => sp.GetRequiredService<QueryRunService>()
            .StartApplyAsync(a.OwnerId, a.ProjectId, a.CorpusId, OnePublishedModel.ModelId)),
    };

    public static TheoryData<string> PathNames() => [.. Paths.Keys];

    [Theory]
    [MemberData(nameof(PathNames))]
    public async Task A_failure_between_writing_the_run_and_its_job_leaves_neither(string path)
    {
        var a = await ArrangeAsync();
        var (owner, start) = Paths[path];
        var before = await CountAsync(a.ProjectId);
        portal.Failure.SavedBeforeFailure.Clear();

        portal.Failure.Armed = true;
        try
        {
            await Assert.ThrowsAsync<InjectedFailure>(() => portal.InScopeAsync(async sp =>
            {
                await start(sp, a);
                return 0;
            }));
        }
        finally
        {
            portal.Failure.Armed = false;
        }

        // The owner row had been written in the start's transaction when the job row failed ...
        Assert.Contains(owner, Assert.Single(portal.Failure.SavedBeforeFailure));
        // ... and neither is there afterwards.
        Assert.Equal(before, await CountAsync(a.ProjectId));
        // Disarmed, the same start writes both, the run pointing at its job.
        await portal.InScopeAsync(async sp =>
        {
            await start(sp, a);
            return 0;
        });
        Assert.Equal((before.Owners + 1, before.Jobs + 1), await CountAsync(a.ProjectId));
        var linked = await portal.QueryAsync(async db =>
            await db.GenerationRuns.Where(r => r.ProjectId == a.ProjectId).Select(r => r.JobId)
                .Concat(db.ModelVersions.Where(m => m.ProjectId == a.ProjectId).Select(m => m.JobId))
                .Concat(db.MiningRuns.Where(r => r.ProjectId == a.ProjectId).Select(r => r.JobId))
                .Concat(db.QueryRuns.Where(r => r.ProjectId == a.ProjectId).Select(r => r.JobId)).SingleAsync());
        Assert.True(await portal.QueryAsync(db => db.Jobs.AnyAsync(j => j.Id == linked && j.State == JobState.Queued)));
    }

    [Fact]
    public async Task Queued_is_announced_only_after_the_commit()
    {
        var a = await ArrangeAsync();
        using var events = new EventSink(portal.Services.GetRequiredService<IRunEvents>(), a.ProjectId);

        portal.Failure.Armed = true;
        try
        {
            await Assert.ThrowsAsync<InjectedFailure>(() => Paths["mining"].Start(portal.Services, a));
        }
        finally
        {
            portal.Failure.Armed = false;
        }
        await Paths["mining"].Start(portal.Services, a);
        var queued = await events.WaitForAsync<JobChanged>(j => j.State == JobState.Queued);
        await events.SettledAsync();

        Assert.Single(events.Of<JobChanged>());
        Assert.Equal(queued.JobId, await portal.QueryAsync(db => db.MiningRuns.Where(r => r.ProjectId == a.ProjectId).Select(r => r.JobId).SingleAsync()));
    }

    [Fact]
    public async Task Cancelling_a_queued_training_ends_its_model_version_in_the_row_itself()
    {
        var a = await ArrangeAsync();
        using var events = new EventSink(portal.Services.GetRequiredService<IRunEvents>(), a.ProjectId);
        var started = await portal.InScopeAsync(sp => sp.GetRequiredService<TrainingService>()
            .StartTrainingAsync(a.OwnerId, new StartTrainingRequest(a.TaskId, "sparse", 3)));
        Assert.Equal(ModelVersionState.Training, started.State);

        await portal.InScopeAsync(sp => sp.GetRequiredService<JobQueue>().CancelAsync(a.OwnerId, started.JobId!.Value));

        var row = await portal.QueryAsync(db => db.ModelVersions.AsNoTracking().SingleAsync(m => m.Id == started.Id));
        Assert.Equal(ModelVersionState.Cancelled, row.State);
        Assert.Equal(JobState.Cancelled, await portal.QueryAsync(db => db.Jobs.Where(j => j.Id == started.JobId).Select(j => j.State).SingleAsync()));
        var changed = await events.WaitForAsync<ModelChanged>(m => m.ModelVersionId == started.Id);
        Assert.Equal(ModelVersionState.Cancelled, changed.State);
        // Cancelling again changes nothing and tells nobody twice.
        await portal.InScopeAsync(sp => sp.GetRequiredService<JobQueue>().CancelAsync(a.OwnerId, started.JobId!.Value));
        await events.SettledAsync();
        Assert.Single(events.Of<ModelChanged>());
    }
}
