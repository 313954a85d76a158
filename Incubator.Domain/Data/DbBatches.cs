using Microsoft.EntityFrameworkCore;

namespace Incubator.Domain.Data;

/// <summary>Inserts many rows without holding the write lock for long: one short transaction (with <see cref="DbRetry"/>)
/// per <see cref="Rows"/> rows, each on a fresh context (docs/decisions/0028-write-discipline.md).</summary>
public static class DbBatches
{
    /// <summary>Rows per transaction.</summary>
    public const int Rows = 2000;

    /// <summary>A pause between batches long enough for writers waiting on SQLite's lock to get it: Microsoft.Data.Sqlite
    /// retries a busy statement every 150 ms, so without a gap that long the next batch would take the lock first, again
    /// and again, and a reviewer's decision would wait for the whole write however short each batch
    /// (docs/decisions/0028-write-discipline.md, the freeze amendment).</summary>
    public static readonly TimeSpan Yield = TimeSpan.FromMilliseconds(200);

    /// <summary>Inserts <paramref name="rows"/>; <paramref name="guard"/>, when given, runs first in each batch's own
    /// transaction (a writer renews its lease there, and throws to stop when what it writes into has gone);
    /// <paramref name="pause"/> (e.g. <see cref="Yield"/>) is waited between batches.</summary>
    public static async Task InsertAsync<T>(IDbContextFactory<IncubatorDbContext> dbFactory, IReadOnlyList<T> rows, CancellationToken ct,
        Func<IncubatorDbContext, CancellationToken, Task>? guard = null, TimeSpan pause = default) where T : class
    {
        var first = true;
        foreach (var batch in rows.Chunk(Rows))
        {
            if (!first && pause > TimeSpan.Zero) await Task.Delay(pause, ct);
            first = false;
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
