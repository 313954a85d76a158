using Incubator.Domain.Data;
using Microsoft.EntityFrameworkCore;

namespace Incubator.Domain.Mining.Query;

/// <summary>Queries read the project's uploaded corpora (distinct texts, in file order).</summary>
public sealed class CorpusQuerySource(IDbContextFactory<IncubatorDbContext> dbFactory, CorpusStore store) : IQueryCorpusSource
{
    public async Task<IReadOnlyList<QueryCorpusInfo>> ListAsync(Guid projectId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        // Only complete corpora: one still importing is invisible to queries (docs/decisions/0028-write-discipline.md).
        var rows = await db.Corpora.AsNoTracking().Where(c => c.ProjectId == projectId && c.State == CorpusState.Ready)
            .Select(c => new { c.Id, c.Name, c.TextCount, c.CreatedAt }).ToListAsync(ct);
        return rows.OrderByDescending(r => r.CreatedAt).Select(r => new QueryCorpusInfo(r.Id, r.Name, r.TextCount)).ToList();
    }

    public async Task<IReadOnlyList<QueryTextRow>> ReadAsync(Guid corpusId, int fromOrdinal, int max, CancellationToken ct) =>
        (await store.PageAsync(corpusId, fromOrdinal, max, ct)).Select(r => new QueryTextRow(r.Ordinal, r.Text)).ToList();
}
