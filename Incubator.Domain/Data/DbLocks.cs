using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;

namespace Incubator.Domain.Data;

/// <summary>Serialises writers that read before they write, on both providers (docs/decisions/0028-write-discipline.md).
/// SQLite has one writer at a time anyway (Microsoft.Data.Sqlite begins transactions IMMEDIATE), so these are no-ops
/// there. PostgreSQL runs writers side by side under READ COMMITTED; a transaction-scoped advisory lock on the thing
/// being changed (one candidate, one task's claims, one run's counters) gives the same "each reads the one before" for
/// that thing only, and releases itself at commit or rollback.</summary>
public static class DbLocks
{
    /// <summary>Waits for, then holds until the end of the current transaction, the lock on (<paramref name="scope"/>,
    /// <paramref name="id"/>).</summary>
    public static async Task LockAsync(this IncubatorDbContext db, string scope, Guid id, CancellationToken ct = default)
    {
        if (db.Provider != DatabaseProvider.Postgres) return;
        RequireTransaction(db);
        await db.Database.ExecuteSqlRawAsync("SELECT pg_advisory_xact_lock({0})", [Key(scope, id)], ct);
    }

    /// <summary>The same for a thing named by text (a user's id): e.g. one person's exports while their limits are counted.</summary>
    public static async Task LockAsync(this IncubatorDbContext db, string scope, string name, CancellationToken ct = default)
    {
        if (db.Provider != DatabaseProvider.Postgres) return;
        RequireTransaction(db);
        await db.Database.ExecuteSqlRawAsync("SELECT pg_advisory_xact_lock({0})", [Key(scope, name)], ct);
    }

    /// <summary>The locks on many ids of one scope, taken in one round trip and in key order (two callers locking
    /// overlapping sets can never deadlock).</summary>
    public static async Task LockAllAsync(this IncubatorDbContext db, string scope, IEnumerable<Guid> ids, CancellationToken ct = default)
    {
        if (db.Provider != DatabaseProvider.Postgres) return;
        RequireTransaction(db);
        var keys = ids.Select(id => Key(scope, id)).Distinct().Order().ToArray();
        if (keys.Length == 0) return;
        // unnest keeps the array's order, so the locks are taken in key order.
        await db.Database.ExecuteSqlRawAsync("SELECT count(pg_advisory_xact_lock(k)) FROM unnest({0}::bigint[]) AS k", [keys], ct);
    }

    internal static long Key(string scope, Guid id)
    {
        Span<byte> input = stackalloc byte[64];
        var n = Encoding.ASCII.GetBytes(scope, input);
        id.TryWriteBytes(input[n..]);
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(input[..(n + 16)], hash);
        return BinaryPrimitives.ReadInt64LittleEndian(hash);
    }

    internal static long Key(string scope, string name) =>
        BinaryPrimitives.ReadInt64LittleEndian(SHA256.HashData(Encoding.UTF8.GetBytes(scope + "\n" + name)));

    private static void RequireTransaction(IncubatorDbContext db)
    {
        if (db.Database.CurrentTransaction is null)
            throw new InvalidOperationException("A write lock is held until the end of a transaction: begin one first.");
    }
}
