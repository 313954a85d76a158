using Microsoft.EntityFrameworkCore;

namespace Incubator.Domain.Data;

/// <summary>Inserts many rows without holding the write lock for long: one short transaction (with <see cref="DbRetry"/>)
/// per <see cref="Rows"/> rows, each on a fresh context (docs/decisions/0028-write-discipline.md).</summary>
public static class DbBatches
{
    /// <summary>Rows per transaction.</summary>
    public const int Rows = 2000;

    /// <summary>Inserts <paramref name="rows"/>; <paramref name="guard"/>, when given, runs first in each batch's own
    /// transaction (a writer renews its lease there, and throws to stop when what it writes into has gone).</summary>
    public static async Task InsertAsync<T>(IDbContextFactory<IncubatorDbContext> dbFactory, IReadOnlyList<T> rows, CancellationToken ct,
        Func<IncubatorDbContext, CancellationToken, Task>? guard = null) where T : class
    {
        foreach (var batch in rows.Chunk(Rows))
        {
            await DbRetry.RunAsync(async () =>
            {
                await using var db = await dbFactory.CreateDbContextAsync(ct);
                db.ChangeTracker.AutoDetectChangesEnabled = false;
                db.Set<T>().AddRange(batch);
                if (guard is null)
                {
                    await db.SaveChangesAsync(ct);
                    return;
                }
                await using var tx = await db.Database.BeginTransactionAsync(ct);
                await guard(db, ct);
                await db.SaveChangesAsync(ct);
                await tx.CommitAsync(ct);
            }, ct);
        }
    }
}
