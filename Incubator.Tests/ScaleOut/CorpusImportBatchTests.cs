using System.Text;
using Incubator.Domain.Common;
using Incubator.Domain.Common.TextFiles;
using Incubator.Domain.Data;
using Incubator.Domain.Embeddings;
using Incubator.Domain.Mining;
using Incubator.Domain.Mining.Query;
using Incubator.Domain.Projects;
using Incubator.Domain.Review;
using Incubator.Tests.Infrastructure;
using Incubator.Tests.Jobs;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.ScaleOut;

/// <summary>A corpus upload is written in bounded batches while the corpus is Importing (invisible to mining and
/// queries), becomes Ready at the end, removes itself when refused or cancelled part-way, and a dead import is failed
/// and cleaned up by the sweep that runs at every start.</summary>
public sealed class CorpusImportBatchTests
{
    private sealed record Fixture(JobTestHost Host, Guid ProjectId, string Author) : IAsyncDisposable
    {
        public CorpusService Corpora => Host.Services.GetRequiredService<CorpusService>();

        public ValueTask DisposeAsync() => Host.DisposeAsync();

        public async Task<(CorpusState State, int Texts)[]> CorporaAsync()
        {
            await using var db = await Host.Db.CreateDbContextAsync();
            return (await db.Corpora.AsNoTracking().Where(c => c.ProjectId == ProjectId)
                .Select(c => new { c.State, Texts = db.CorpusTexts.Count(t => t.CorpusId == c.Id) }).ToListAsync())
                .Select(c => (c.State, c.Texts)).ToArray();
        }
    }

    private static async Task<Fixture> ArrangeAsync(DatabaseProvider provider)
    {
        var host = await JobTestHost.CreateAsync(configure: s => s.AddIncubatorEmbeddings().AddIncubatorReview(JobTestHost.NoSettings).AddIncubatorMining()
            .AddSingleton<CorpusQuerySource>(), provider: provider);
        var projectId = await host.CreateProjectAsync("imports");
        return new Fixture(host, projectId, await host.CreateUserAsync(projectId, ProjectRole.Author, "author"));
    }

    private static MemoryStream Texts(int n) =>
        new(new UTF8Encoding(false).GetBytes(string.Join("\n", Enumerable.Range(0, n).Select(i => $"customer message number {i} about an order"))));

    /// <summary>Runs <paramref name="onBatch"/> synchronously after each stored batch, on the importing thread.</summary>
    private sealed class OnBatch(Action<CorpusImportProgress> onBatch) : IProgress<CorpusImportProgress>
    {
        public void Report(CorpusImportProgress value) => onBatch(value);
    }

    [Theory]
    [MemberData(nameof(TestServers.Providers), MemberType = typeof(TestServers))]
    public async Task Each_batch_is_committed_on_its_own_while_the_corpus_stays_invisible_until_ready(DatabaseProvider provider)
    {
        await using var f = await ArrangeAsync(provider);
        var queries = f.Host.Services.GetRequiredService<CorpusQuerySource>();
        var seen = new List<(CorpusState State, int Texts, int Queryable)>();
        var progress = new OnBatch(_ =>
        {
            // Another connection, mid-import: what it sees was committed by the import so far.
            var rows = f.CorporaAsync().GetAwaiter().GetResult();
            var queryable = queries.ListAsync(f.ProjectId, CancellationToken.None).GetAwaiter().GetResult().Count;
            seen.Add((Assert.Single(rows).State, rows[0].Texts, queryable));
        });

        var result = await f.Corpora.ImportAsync(f.Author, f.ProjectId, null, "big.txt", Texts(5000), new TextFileOptions(TextFileFormat.Txt), default, progress);

        // Two full batches were visible to another connection as committed rows of an Importing corpus, which queries
        // could not see; the last report comes after the whole file is stored, still Importing.
        Assert.Equal([(CorpusState.Importing, 2000, 0), (CorpusState.Importing, 4000, 0), (CorpusState.Importing, 5000, 0)], seen);
        Assert.Equal(CorpusState.Ready, result.Corpus.State);
        Assert.Equal([(CorpusState.Ready, 5000)], await f.CorporaAsync());
        Assert.Equal(result.Corpus.Id, Assert.Single(await queries.ListAsync(f.ProjectId, CancellationToken.None)).Id);
    }

    [Theory]
    [MemberData(nameof(TestServers.Providers), MemberType = typeof(TestServers))]
    public async Task An_import_cancelled_part_way_leaves_nothing_behind(DatabaseProvider provider)
    {
        await using var f = await ArrangeAsync(provider);
        using var cts = new CancellationTokenSource();
        var batches = 0;
        var progress = new OnBatch(_ =>
        {
            if (++batches == 2) cts.Cancel();
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            f.Corpora.ImportAsync(f.Author, f.ProjectId, null, "cancelled.txt", Texts(9000), new TextFileOptions(TextFileFormat.Txt), cts.Token, progress));

        Assert.Equal(2, batches);
        Assert.Empty(await f.CorporaAsync());
    }

    [Theory]
    [MemberData(nameof(TestServers.Providers), MemberType = typeof(TestServers))]
    public async Task A_dead_import_is_failed_and_its_texts_removed_by_the_sweep_and_mining_refuses_it(DatabaseProvider provider)
    {
        await using var f = await ArrangeAsync(provider);
        var now = DateTimeOffset.UtcNow;
        Guid dead = Guid.NewGuid(), live = Guid.NewGuid();
        await using (var db = await f.Host.Db.CreateDbContextAsync())
        {
            // One import whose process died two minutes after its last batch, one still renewing its lease.
            db.Corpora.Add(new Corpus { Id = dead, ProjectId = f.ProjectId, Name = "dead", State = CorpusState.Importing, ImportExpiresAt = now.AddMinutes(-2), CreatedAt = now });
            db.Corpora.Add(new Corpus { Id = live, ProjectId = f.ProjectId, Name = "live", State = CorpusState.Importing, ImportExpiresAt = now.AddMinutes(3), CreatedAt = now });
            db.CorpusTexts.AddRange(Enumerable.Range(0, 7000).Select(i => new CorpusText { CorpusId = dead, Ordinal = i, Text = $"dead {i}", Line = i + 1 }));
            db.CorpusTexts.AddRange(Enumerable.Range(0, 10).Select(i => new CorpusText { CorpusId = live, Ordinal = i, Text = $"live {i}", Line = i + 1 }));
            await db.SaveChangesAsync();
        }

        var failed = await f.Host.Services.GetRequiredService<CorpusImportSweeper>().SweepAsync();

        Assert.Equal(1, failed);
        await using (var db = await f.Host.Db.CreateDbContextAsync())
        {
            var rows = await db.Corpora.AsNoTracking().ToDictionaryAsync(c => c.Id);
            Assert.Equal(CorpusState.Failed, rows[dead].State);
            Assert.Equal(CorpusState.Importing, rows[live].State);
            Assert.Equal(0, await db.CorpusTexts.CountAsync(t => t.CorpusId == dead));
            Assert.Equal(10, await db.CorpusTexts.CountAsync(t => t.CorpusId == live));
        }
        var corpora = await f.Corpora.ListAsync(f.Author, f.ProjectId);
        Assert.Equal(CorpusState.Failed, Assert.Single(corpora, c => c.Id == dead).State);
        var ex = await Assert.ThrowsAsync<DomainValidationException>(() => f.Corpora.StartEmbeddingAsync(f.Author, dead));
        Assert.Equal("CorpusNotReady", Assert.Single(ex.Details).Code);
    }
}
