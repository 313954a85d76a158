using System.Data.Common;
using Incubator.Domain.Common;
using Incubator.Domain.Data;
using Incubator.Domain.Datasets;
using Incubator.Domain.Embeddings;
using Incubator.Domain.Mining;
using Incubator.Domain.Projects;
using Incubator.Domain.Review;
using Incubator.Domain.Tasks;
using Incubator.Domain.Training;
using Incubator.Tests.Infrastructure;
using Incubator.Tests.Jobs;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.Data;

/// <summary>Freezing approved samples writes the items in short transactions into a version nobody sees until one last
/// transaction numbers it (docs/decisions/0028-write-discipline.md): an interrupted freeze leaves nothing visible and
/// nothing behind, a dead one is swept once its lease has passed, concurrent freezes get distinct numbers and the same
/// content only once — on both providers.</summary>
public sealed class FreezeBatchesTests
{
    private const int Approved = DbBatches.Rows * 2 + 7; // three item batches, the last one short

    private sealed record Arranged(JobTestHost Host, Guid ProjectId, Guid TaskId, string Author, string Viewer, BatchGate Gate) : IAsyncDisposable
    {
        public DatasetService Datasets => Host.Services.GetRequiredService<DatasetService>();

        public ValueTask DisposeAsync() => Host.DisposeAsync();

        public Task<int> HiddenVersionsAsync() => Host.QueryAsync(db => db.DatasetVersions.IgnoreQueryFilters().CountAsync(d => d.WriterId != null));

        public Task<int> ItemsAsync() => Host.QueryAsync(db => db.DatasetItems.CountAsync());
    }

    private static async Task<Arranged> ArrangeAsync(DatabaseProvider provider)
    {
        var gate = new BatchGate();
        var host = await JobTestHost.CreateAsync(settings: await TestServers.DatabaseSettingsAsync(provider), configure: s => s
            .AddIncubatorEmbeddings().AddIncubatorReview(JobTestHost.NoSettings).AddIncubatorMining().AddIncubatorTraining()
            .AddSingleton<IInterceptor>(gate));
        var projectId = await host.CreateProjectAsync("freeze batches");
        var author = await host.CreateUserAsync(projectId, ProjectRole.Author, "author");
        var viewer = await host.CreateUserAsync(projectId, ProjectRole.Viewer, "viewer");
        var taskId = Guid.NewGuid();
        var spec = new TaskSpec
        {
            Name = "moods", Instruction = "Sort messages by mood.",
            Labels = [new LabelSpec { Name = "anger", Description = "Angry." }, new LabelSpec { Name = "joy", Description = "Happy." }],
        };
        var t0 = JobTestHost.UtcNowMs();
        await using var db = await host.Db.CreateDbContextAsync();
        db.Tasks.Add(new ClassifierTask { Id = taskId, ProjectId = projectId, Name = spec.Name, CurrentVersion = 1, CreatedAt = t0, UpdatedAt = t0 });
        db.TaskVersions.Add(new TaskVersion { Id = Guid.NewGuid(), TaskId = taskId, Number = 1, SpecJson = TaskJson.Serialize(spec), ContentHash = "moods", CreatedAt = t0 });
        db.Candidates.AddRange(Enumerable.Range(0, Approved).Select(i => new Candidate
        {
            Id = Guid.NewGuid(), ProjectId = projectId, TaskId = taskId, TaskVersionNumber = 1, Label = i % 3 == 0 ? "anger" : "joy",
            Text = $"message {i}", NormalizedText = $"message {i}", EditedText = i == 5 ? "message five, as the reviewer fixed it" : null,
            Source = CandidateSource.Generation, Stage = CandidateStage.Selected, Status = CandidateStatus.Approved, ReviewedById = author,
            ReviewedAt = t0, CreatedAt = t0.AddSeconds(i),
        }));
        // Neither pending nor rejected samples are frozen.
        db.Candidates.Add(new Candidate
        {
            Id = Guid.NewGuid(), ProjectId = projectId, TaskId = taskId, TaskVersionNumber = 1, Label = "joy", Text = "still pending", NormalizedText = "still pending",
            Source = CandidateSource.Generation, Stage = CandidateStage.Selected, CreatedAt = t0,
        });
        await db.SaveChangesAsync();
        return new Arranged(host, projectId, taskId, author, viewer, gate);
    }

    [Theory]
    [MemberData(nameof(TestServers.Providers), MemberType = typeof(TestServers))]
    public async Task A_freeze_writes_in_batches_into_a_version_nobody_sees_until_its_last_commit_numbers_it(DatabaseProvider provider)
    {
        await using var a = await ArrangeAsync(provider);
        var held = a.Gate.HoldItemBatch(2);
        var freeze = a.Datasets.FreezeAsync(a.Author, a.TaskId, seed: 7);
        await held.Reached.WaitAsync(TimeSpan.FromSeconds(60));

        // Between batches: the first batch is committed, yet there is no version for anyone, and a live freeze is not swept.
        Assert.Empty(await a.Datasets.ListAsync(a.Viewer, a.TaskId));
        await a.Host.Services.GetRequiredService<CorpusImportSweeper>().SweepAsync();
        var hidden = await a.Host.QueryAsync(db => db.DatasetVersions.IgnoreQueryFilters().SingleAsync());
        Assert.NotNull(hidden.WriterId);
        Assert.True(hidden.WriteExpiresAt > DateTimeOffset.UtcNow, "a freeze holds a lease while it writes");
        Assert.True(hidden.Number < 0, "a placeholder number no published version can have");
        Assert.Equal(DbBatches.Rows, await a.ItemsAsync());
        await Assert.ThrowsAsync<ForbiddenException>(() => a.Datasets.GetAsync(a.Viewer, hidden.Id));

        held.Release();
        var v1 = await freeze;
        Assert.Equal((hidden.Id, 1, Approved), (v1.Id, v1.Number, v1.Count));
        Assert.Equal(0, await a.HiddenVersionsAsync());
        Assert.Equal(Approved, await a.ItemsAsync());
        Assert.Equal(Approved, v1.TrainCount + v1.ValidationCount);
        Assert.Equal(1, await a.Host.QueryAsync(db => db.Activity.CountAsync(e => e.Kind == ActivityKinds.DatasetFrozen && e.Detail == DatasetNotes.Detail(DatasetNotes.Frozen("moods", 1)))));

        // The reviewed snapshot, in canonical order, split by the seed exactly as before.
        var items = await a.Host.QueryAsync(db => db.DatasetItems.Where(i => i.DatasetVersionId == v1.Id).OrderBy(i => i.Ordinal).ToListAsync());
        Assert.Equal(Enumerable.Range(0, Approved), items.Select(i => i.Ordinal));
        Assert.Contains(items, i => i.Text == "message five, as the reviewer fixed it");
        Assert.DoesNotContain(items, i => i.Text is "message 5" or "still pending");
        Assert.Equal(DatasetService.StratifiedSplit(items.Select(i => i.Label).ToList(), DatasetService.DefaultValidationShare, 7), items.Select(i => i.Split));
        Assert.Equal(DatasetService.ContentHash(items.Select(i => (i.Label, i.Text))), v1.ContentHash);

        // Nothing changed: the same version comes back and nothing is written.
        var again = await a.Datasets.FreezeAsync(a.Author, a.TaskId, seed: 7);
        Assert.Equal(v1.Id, again.Id);
        Assert.Equal(Approved, await a.ItemsAsync());
        Assert.Equal(2, (await a.Datasets.FreezeAsync(a.Author, a.TaskId, seed: 8)).Number); // another seed is another version
    }

    [Theory]
    [MemberData(nameof(TestServers.Providers), MemberType = typeof(TestServers))]
    public async Task A_freeze_interrupted_between_batches_leaves_no_version_and_removes_what_it_wrote(DatabaseProvider provider)
    {
        await using var a = await ArrangeAsync(provider);
        a.Gate.FailItemBatch(3);
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => a.Datasets.FreezeAsync(a.Author, a.TaskId));
        Assert.Equal(BatchGate.Lost, ex.Message);
        Assert.Empty(await a.Datasets.ListAsync(a.Viewer, a.TaskId));
        Assert.Equal(0, await a.HiddenVersionsAsync());
        Assert.Equal(0, await a.ItemsAsync()); // the two committed batches are gone too
        Assert.Equal(0, await a.Host.QueryAsync(db => db.Activity.CountAsync(e => e.Kind == ActivityKinds.DatasetFrozen)));

        var v = await a.Datasets.FreezeAsync(a.Author, a.TaskId);
        Assert.Equal((1, Approved), (v.Number, v.Count));
        Assert.Equal(Approved, await a.ItemsAsync());
    }

    [Theory]
    [MemberData(nameof(TestServers.Providers), MemberType = typeof(TestServers))]
    public async Task A_freeze_whose_process_stopped_between_batches_is_swept_once_its_lease_has_passed_and_never_published(DatabaseProvider provider)
    {
        await using var a = await ArrangeAsync(provider);
        var held = a.Gate.HoldItemBatch(2);
        var freeze = a.Datasets.FreezeAsync(a.Author, a.TaskId);
        await held.Reached.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(0, await DatasetWriter.SweepAsync(a.Host.Db, DateTimeOffset.UtcNow.AddMinutes(1))); // its lease still runs
        Assert.Equal(1, await a.HiddenVersionsAsync());
        // As if it had written nothing for longer than its lease (its process stopped): the sweep removes what it wrote.
        Assert.Equal(1, await DatasetWriter.SweepAsync(a.Host.Db, DateTimeOffset.UtcNow + DatasetWriter.Lease + TimeSpan.FromSeconds(1)));
        Assert.Equal(0, await a.HiddenVersionsAsync());
        Assert.Equal(0, await a.ItemsAsync());

        // Should it wake up after all, its next batch finds its version gone and it stops; it never publishes.
        held.Release();
        await Assert.ThrowsAsync<InvalidOperationException>(() => freeze);
        Assert.Empty(await a.Datasets.ListAsync(a.Viewer, a.TaskId));
        Assert.Equal(0, await a.HiddenVersionsAsync());
        Assert.Equal(0, await a.ItemsAsync());
    }

    [Theory]
    [MemberData(nameof(TestServers.Providers), MemberType = typeof(TestServers))]
    public async Task Concurrent_freezes_get_distinct_numbers_and_the_same_content_is_published_once(DatabaseProvider provider)
    {
        await using var a = await ArrangeAsync(provider);
        // Both pass the "same content" check before either writes anything.
        a.Gate.MeetAtVersionRow(2);
        var both = await Task.WhenAll(a.Datasets.FreezeAsync(a.Author, a.TaskId, seed: 1), a.Datasets.FreezeAsync(a.Author, a.TaskId, seed: 2));
        Assert.Equal([1, 2], both.Select(v => v.Number).Order());
        Assert.All(both, v => Assert.Equal(Approved, v.Count));
        Assert.Equal(2 * Approved, await a.ItemsAsync());

        a.Gate.MeetAtVersionRow(2);
        var same = await Task.WhenAll(a.Datasets.FreezeAsync(a.Author, a.TaskId, seed: 3), a.Datasets.FreezeAsync(a.Author, a.TaskId, seed: 3));
        Assert.Equal(same[0].Id, same[1].Id);
        Assert.Equal(3, same[0].Number);
        Assert.Equal([3, 2, 1], (await a.Datasets.ListAsync(a.Viewer, a.TaskId)).Select(v => v.Number));
        Assert.Equal(0, await a.HiddenVersionsAsync()); // the copy that lost was removed
        Assert.Equal(3 * Approved, await a.ItemsAsync());
        Assert.Equal(3, await a.Host.QueryAsync(db => db.Activity.CountAsync(e => e.Kind == ActivityKinds.DatasetFrozen)));
        Assert.Equal(4, a.Gate.VersionRows); // both same-content freezes wrote their copy (they met first); one was published
    }

    /// <summary>Steps into a freeze's writes: holds or fails the n-th item batch before its transaction begins (so no
    /// lock is held while it waits), or makes the version rows of several freezes wait for one another.</summary>
    private sealed class BatchGate : SaveChangesInterceptor, IDbTransactionInterceptor
    {
        public const string Lost = "The connection was lost between batches.";

        private int _batches;
        private int _failAt;
        private int _holdAt;
        private Held? _held;
        private int _meet;
        private TaskCompletionSource _met = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _arrived;
        private int _versionRows;

        public int VersionRows => Volatile.Read(ref _versionRows);

        public sealed class Held
        {
            private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
            private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

            public Task Reached => _reached.Task;

            public void Release() => _release.TrySetResult();

            internal Task ArriveAsync()
            {
                _reached.TrySetResult();
                return _release.Task;
            }
        }

        public Held HoldItemBatch(int n)
        {
            _held = new Held();
            _batches = 0;
            _holdAt = n;
            return _held;
        }

        public void FailItemBatch(int n)
        {
            _batches = 0;
            _failAt = n;
        }

        public void MeetAtVersionRow(int parties)
        {
            _met = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _arrived = 0;
            _meet = parties;
        }

        public async ValueTask<InterceptionResult<DbTransaction>> TransactionStartingAsync(DbConnection connection, TransactionStartingEventData eventData,
            InterceptionResult<DbTransaction> result, CancellationToken cancellationToken = default)
        {
            if (eventData.Context?.ChangeTracker.Entries<DatasetItem>().Any() != true) return result;
            var n = Interlocked.Increment(ref _batches);
            if (n == _failAt)
            {
                _failAt = 0;
                throw new InvalidOperationException(Lost);
            }
            if (n == _holdAt && _held is { } held)
            {
                _holdAt = 0;
                await held.ArriveAsync();
            }
            return result;
        }

        public override async ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result,
            CancellationToken cancellationToken = default)
        {
            if (eventData.Context?.ChangeTracker.Entries<DatasetVersion>().Any(e => e.State == EntityState.Added) != true) return result;
            Interlocked.Increment(ref _versionRows);
            if (_meet > 0)
            {
                if (Interlocked.Increment(ref _arrived) >= _meet)
                {
                    _meet = 0;
                    _met.TrySetResult();
                }
                await _met.Task.WaitAsync(TimeSpan.FromSeconds(60), cancellationToken);
            }
            return result;
        }
    }
}
