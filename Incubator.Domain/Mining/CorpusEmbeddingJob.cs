using Incubator.Domain.Data;
using Incubator.Domain.Jobs;
using Microsoft.EntityFrameworkCore;

namespace Incubator.Domain.Mining;

/// <summary>Embeds a corpus in batches of <see cref="CorpusStore.EmbeddingBatchSize"/> texts. Each batch's blob and the
/// corpus's <see cref="Corpus.EmbeddedCount"/> are written in the same transaction as the job's checkpoint, so a
/// restart (crash, pause, lease takeover) continues with the first batch not stored and never embeds one twice.</summary>
public sealed class CorpusEmbeddingJob(CorpusStore store) : IJobHandler
{
    public const string KindName = "corpus.embed";

    public sealed record Payload(Guid CorpusId);

    public sealed record Checkpoint(int Embedded);

    public string Kind => KindName;

    /// <summary>Embedding failed in a way the job does not foresee (a bug, a damaged row, a database that went away): the
    /// error's own text as data, so the corpora page can say why in the reader's language.</summary>
    public static JobNote Error(string error) => new("Corpus.Failed.Error", $"Embedding failed: {error}", error);

    public Task RunAsync(JobContext context) => JobFailures.WithNoteAsync(context, () => RunCoreAsync(context), Error);

    private async Task RunCoreAsync(JobContext context)
    {
        var payload = context.ReadPayload<Payload>();
        var ct = context.CancellationToken;
        var corpus = await store.FindAsync(payload.CorpusId, ct);
        if (corpus is null)
        {
            await context.CommitAsync(1, ProgressNotes.CorpusDeleted());
            return;
        }
        var embedder = store.EmbedderFor(corpus);
        // The corpus row is the truth (written with each batch); the checkpoint mirrors it for the Jobs page.
        var next = corpus.EmbeddedCount;
        if (next > 0) await context.LogAsync(ProgressNotes.EmbeddingResuming(next, corpus.TextCount));
        else await context.LogAsync(ProgressNotes.EmbeddingStarted(corpus.TextCount, embedder.Name));
        await foreach (var page in store.PagesAsync(corpus.Id, CorpusStore.EmbeddingBatchSize, next, ct))
        {
            ct.ThrowIfCancellationRequested();
            var vectors = embedder.Embed(page.Select(t => t.Text).ToArray());
            var start = page[0].Ordinal;
            var done = start + page.Count;
            var blob = EmbeddingBlob.Pack(vectors, embedder.Dimensions);
            await context.CommitAsync(done / (double)Math.Max(1, corpus.TextCount), ProgressNotes.Embedded(done, corpus.TextCount, embedder.Name),
                new Checkpoint(done), extraWrites: async db =>
                {
                    db.CorpusEmbeddingBatches.Add(new CorpusEmbeddingBatch
                    {
                        CorpusId = corpus.Id, Embedder = embedder.Name, StartOrdinal = start, Count = page.Count, Dimensions = embedder.Dimensions, Data = blob,
                    });
                    await db.Corpora.Where(c => c.Id == corpus.Id).ExecuteUpdateAsync(s => s.SetProperty(c => c.EmbeddedCount, done));
                });
        }
        await context.CommitAsync(1, ProgressNotes.EmbeddingDone(corpus.TextCount, embedder.Name), new Checkpoint(corpus.TextCount));
    }
}
