using Microsoft.Data.Sqlite;
using Npgsql;

namespace Incubator.Domain.Data;

/// <summary>The retry policy for transient lock and serialization errors (docs/decisions/0028-write-discipline.md):
/// SQLite's "database is locked"/"busy" after its busy timeout, PostgreSQL's serialization failure (40001), deadlock
/// (40P01) and lock-not-available (55P03). The operation is run again from the start — with a fresh DbContext, so
/// the operation must open its own — after a short jittered back-off. Anything else is not retried.</summary>
public static class DbRetry
{
    public const int DefaultAttempts = 5;

    public static bool IsTransient(Exception ex)
    {
        for (var e = ex; e is not null; e = e.InnerException)
        {
            if (e is SqliteException { SqliteErrorCode: 5 or 6 }) return true; // SQLITE_BUSY, SQLITE_LOCKED
            if (e is PostgresException { SqlState: PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.LockNotAvailable })
                return true;
        }
        return false;
    }

    public static async Task<T> RunAsync<T>(Func<Task<T>> operation, CancellationToken ct = default, int attempts = DefaultAttempts)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await operation();
            }
            catch (Exception ex) when (attempt < attempts && IsTransient(ex) && !ct.IsCancellationRequested)
            {
                // 20, 40, 80, 160 ms, each with up to as much again at random, so retrying writers spread out.
                var backoff = 20 * (1 << (attempt - 1));
                await Task.Delay(backoff + Random.Shared.Next(backoff), ct);
            }
        }
    }

    public static Task RunAsync(Func<Task> operation, CancellationToken ct = default, int attempts = DefaultAttempts) =>
        RunAsync(async () =>
        {
            await operation();
            return true;
        }, ct, attempts);
}
