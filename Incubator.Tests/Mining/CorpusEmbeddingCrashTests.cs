using Incubator.Domain.Common.TextFiles;
using System.Text;
using Incubator.Domain.Embeddings;
using Incubator.Domain.Jobs;
using Incubator.Domain.Mining;
using Incubator.Domain.Projects;
using Incubator.Domain.Review;
using Incubator.Tests.Infrastructure;
using Incubator.Tests.Jobs;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.Mining;

/// <summary>The corpus embeddings job survives a killed process: the real executable is killed mid-corpus (no graceful
/// shutdown), and a fresh start continues at the first batch not stored — every text embedded once, into the right
/// slot.</summary>
[Collection(HeavyCollection.Name)]
public sealed class CorpusEmbeddingCrashTests
{
    private const int Texts = 3000;

    [Fact]
    public async Task An_embeddings_job_killed_with_its_process_resumes_after_restart_and_embeds_every_text_exactly_once()
    {
        using var app = await CrashHarness.MigrateAsync("incubator-embed-crash");
        await app.RunAsync(async () =>
        {
            // The test imports through the same database file, as a second instance without a worker would.
            await using var host = await JobTestHost.CreateAsync(app.DataDirectory, "test-observer",
                configure: s => s.AddIncubatorEmbeddings().AddIncubatorReview(JobTestHost.NoSettings).AddIncubatorMining(), migrate: false);
            var projectId = await host.CreateProjectAsync("embedding crash");
            var author = await host.CreateUserAsync(projectId, ProjectRole.Author, "author");
            var lines = Enumerable.Range(0, Texts).Select(i => $"Customer message {i}: my order {i * 37 % 991} has not arrived yet and I need it");
            using var file = new MemoryStream(new UTF8Encoding(false).GetBytes(string.Join("\n", lines)));
            var imported = await host.Services.GetRequiredService<CorpusService>().ImportAsync(author, projectId, "tickets", "tickets.txt", file, new TextFileOptions(TextFileFormat.Txt));
            var corpusId = imported.Corpus.Id;
            var jobId = imported.Corpus.EmbeddingJobId!.Value;
            Assert.Equal(MiniLmEmbedder.ModelName, imported.Corpus.Embedder);

            var first = app.Start("first run");
            await host.WaitForJobAsync(jobId, j => first.HasExited || j.State == JobState.Running && j.Progress >= 0.25, "running with progress >= 0.25", TimeSpan.FromSeconds(120));
            Assert.False(first.HasExited, "the first process exited by itself");
            first.Kill();
            Assert.True(first.HasExited, "the first process should be gone after the kill");

            var afterCrash = await host.GetJobAsync(jobId);
            Assert.True(afterCrash.State == JobState.Running && afterCrash.Progress < 1, JobTestHost.Describe(afterCrash));
            var embeddedAtCrash = await host.QueryCorpusAsync(corpusId, c => c.EmbeddedCount);
            var batchesAtCrash = await BatchesAsync(host, corpusId);
            Assert.Equal(embeddedAtCrash, batchesAtCrash.Sum(b => b.Count));
            Assert.InRange(embeddedAtCrash, CorpusStore.EmbeddingBatchSize, Texts - 1);

            var second = app.Start("second run");
            var done = await host.WaitForJobAsync(jobId, j => j.IsFinished || second.HasExited, "finished", TimeSpan.FromSeconds(120));
            var log = await host.WaitForFinishLineAsync(jobId);
            var because = JobTestHost.Describe(done) + "\n" + JobTestHost.FormatLog(log);
            Assert.True(done.State == JobState.Succeeded, because);
            Assert.Equal(2, done.Attempts);
            Assert.Contains(log, l => l.Message == $"Resuming at text {embeddedAtCrash:N0} of {Texts:N0}.");

            // Every text once: batches tile 0..Texts-1 without gaps or overlaps, the ones from before the crash kept.
            var batches = await BatchesAsync(host, corpusId);
            Assert.Equal(Texts, await host.QueryCorpusAsync(corpusId, c => c.EmbeddedCount));
            var next = 0;
            foreach (var b in batches)
            {
                Assert.True(b.StartOrdinal == next, $"batch at {b.StartOrdinal}, expected {next}: {because}");
                next += b.Count;
            }
            Assert.Equal(Texts, next);
            Assert.Equal(batchesAtCrash.Select(b => b.Id), batches.Take(batchesAtCrash.Count).Select(b => b.Id));

            // The first batch written after the restart holds the vectors of its own texts.
            var store = host.Services.GetRequiredService<CorpusStore>();
            var resumed = await store.StoredVectorsAsync(corpusId, MiniLmEmbedder.ModelName).FirstAsync(v => v.StartOrdinal == embeddedAtCrash);
            var texts = await store.PageAsync(corpusId, embeddedAtCrash, 3);
            var expected = host.Services.GetRequiredService<MiniLmEmbedder>().Embed(texts.Select(t => t.Text).ToList());
            for (var i = 0; i < 3; i++)
            {
                var cosine = expected[i].Zip(resumed.Vectors[i], (a, b) => a * b).Sum();
                Assert.True(cosine > 0.999, $"text {embeddedAtCrash + i}: cosine {cosine}");
            }
        });
    }

    private static async Task<List<CorpusEmbeddingBatch>> BatchesAsync(JobTestHost host, Guid corpusId)
    {
        await using var db = await host.Db.CreateDbContextAsync();
        return await db.CorpusEmbeddingBatches.AsNoTracking().Where(b => b.CorpusId == corpusId).OrderBy(b => b.StartOrdinal)
            .Select(b => new CorpusEmbeddingBatch { Id = b.Id, StartOrdinal = b.StartOrdinal, Count = b.Count }).ToListAsync();
    }
}

internal static class CorpusQueries
{
    public static async Task<T> QueryCorpusAsync<T>(this JobTestHost host, Guid corpusId, System.Linq.Expressions.Expression<Func<Corpus, T>> select)
    {
        await using var db = await host.Db.CreateDbContextAsync();
        return await db.Corpora.AsNoTracking().Where(c => c.Id == corpusId).Select(select).SingleAsync();
    }
}
