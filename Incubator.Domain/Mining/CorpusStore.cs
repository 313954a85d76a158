using Incubator.Domain.Data;
using Incubator.Domain.Embeddings;
using Microsoft.EntityFrameworkCore;

namespace Incubator.Domain.Mining;

public sealed record CorpusTextRow(int Ordinal, string Text, int Count, long Line);

/// <summary>The vectors of one stored batch: texts <see cref="StartOrdinal"/> .. + Vectors.Length - 1.</summary>
public sealed record CorpusVectors(int StartOrdinal, float[][] Vectors);

/// <summary>Corpora without access checks: for jobs and other features' handlers (query runs, batch prediction) that
/// already checked the caller. Texts are read in ordinal order, in pages; embeddings in stored batches.</summary>
public sealed class CorpusStore(IDbContextFactory<IncubatorDbContext> dbFactory, CorpusEmbedders embedders)
{
    public const int EmbeddingBatchSize = 256;

    public async Task<Corpus?> FindAsync(Guid corpusId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Corpora.AsNoTracking().SingleOrDefaultAsync(c => c.Id == corpusId, ct);
    }

    /// <summary>Up to <paramref name="take"/> texts from ordinal <paramref name="fromOrdinal"/> on.</summary>
    public async Task<IReadOnlyList<CorpusTextRow>> PageAsync(Guid corpusId, int fromOrdinal, int take, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.CorpusTexts.AsNoTracking()
            .Where(t => t.CorpusId == corpusId && t.Ordinal >= fromOrdinal && t.Ordinal < fromOrdinal + take)
            .OrderBy(t => t.Ordinal)
            .Select(t => new CorpusTextRow(t.Ordinal, t.Text, t.Count, t.Line))
            .ToListAsync(ct);
    }

    /// <summary>Every text of the corpus in order, fetched a page at a time (never the whole corpus in memory).</summary>
    public async IAsyncEnumerable<IReadOnlyList<CorpusTextRow>> PagesAsync(Guid corpusId, int pageSize = 1000, int fromOrdinal = 0,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct = default)
    {
        var next = fromOrdinal;
        while (true)
        {
            var page = await PageAsync(corpusId, next, pageSize, ct);
            if (page.Count == 0) yield break;
            yield return page;
            next = page[^1].Ordinal + 1;
        }
    }

    /// <summary>The texts with these ordinals.</summary>
    public async Task<IReadOnlyDictionary<int, CorpusTextRow>> TextsAsync(Guid corpusId, IReadOnlyCollection<int> ordinals, CancellationToken ct = default)
    {
        var result = new Dictionary<int, CorpusTextRow>();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        foreach (var chunk in ordinals.Distinct().Chunk(500))
        {
            var rows = await db.CorpusTexts.AsNoTracking().Where(t => t.CorpusId == corpusId && chunk.Contains(t.Ordinal))
                .Select(t => new CorpusTextRow(t.Ordinal, t.Text, t.Count, t.Line)).ToListAsync(ct);
            foreach (var r in rows) result[r.Ordinal] = r;
        }
        return result;
    }

    /// <summary>The cached vectors of the corpus for one embedder, batch by batch in ordinal order. Only what the
    /// embeddings job has stored so far; <see cref="VectorsAsync"/> fills gaps.</summary>
    public async IAsyncEnumerable<CorpusVectors> StoredVectorsAsync(Guid corpusId, string embedder,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct = default)
    {
        var next = 0;
        while (true)
        {
            CorpusEmbeddingBatch? batch;
            await using (var db = await dbFactory.CreateDbContextAsync(ct))
            {
                batch = await db.CorpusEmbeddingBatches.AsNoTracking()
                    .Where(b => b.CorpusId == corpusId && b.Embedder == embedder && b.StartOrdinal >= next)
                    .OrderBy(b => b.StartOrdinal).FirstOrDefaultAsync(ct);
            }
            if (batch is null) yield break;
            yield return new CorpusVectors(batch.StartOrdinal, EmbeddingBlob.Unpack(batch.Data, batch.Count, batch.Dimensions));
            next = batch.StartOrdinal + batch.Count;
        }
    }

    /// <summary>Texts and vectors of the whole corpus in pages of <see cref="EmbeddingBatchSize"/>: stored vectors where
    /// the embeddings job has written them, computed on the spot (not stored) where it has not yet.</summary>
    public async IAsyncEnumerable<(IReadOnlyList<CorpusTextRow> Texts, float[][] Vectors)> VectorsAsync(Guid corpusId, ITextEmbedder embedder,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct = default)
    {
        await foreach (var page in PagesAsync(corpusId, EmbeddingBatchSize, 0, ct))
        {
            float[][]? vectors = null;
            await using (var db = await dbFactory.CreateDbContextAsync(ct))
            {
                var start = page[0].Ordinal;
                var batch = await db.CorpusEmbeddingBatches.AsNoTracking()
                    .SingleOrDefaultAsync(b => b.CorpusId == corpusId && b.Embedder == embedder.Name && b.StartOrdinal == start, ct);
                if (batch is not null && batch.Count == page.Count) vectors = EmbeddingBlob.Unpack(batch.Data, batch.Count, batch.Dimensions);
            }
            vectors ??= embedder.Embed(page.Select(t => t.Text).ToArray());
            yield return (page, vectors);
        }
    }

    public ITextEmbedder EmbedderFor(Corpus corpus) => embedders.ByName(corpus.Embedder);
}
