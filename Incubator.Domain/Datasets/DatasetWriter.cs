using Incubator.Domain.Data;
using Incubator.Domain.Jobs;
using Microsoft.EntityFrameworkCore;

namespace Incubator.Domain.Datasets;

/// <summary>Writes a dataset version too large for one short transaction — a self-training's pseudo-labelled pool can
/// hold as many rows as its corpus, a freeze as many as the task has approved samples — without holding the database's
/// write lock for long: the version is created invisible (<see cref="DatasetVersion.WriterId"/>, a negative placeholder
/// number), its items go in transactions of <see cref="DbBatches.Rows"/>, and the writer's own last commit numbers it and
/// makes it visible (<see cref="PublishAsync"/>). Whatever an interrupted write left is removed by the writer itself, by a
/// job's next attempt, or by <see cref="SweepAsync"/> once the job has ended or a freeze's lease has passed
/// (docs/decisions/0028-write-discipline.md).</summary>
public static class DatasetWriter
{
    /// <summary>Items per DELETE when a half-written version is removed.</summary>
    private const int DeleteRows = 5000;

    /// <summary>How long a freeze's write stays its own without a batch committed (each batch renews it); after that
    /// the sweep counts the freeze as dead.</summary>
    public static readonly TimeSpan Lease = TimeSpan.FromMinutes(5);

    /// <summary>A job's write: <paramref name="version"/> (its number is set at <see cref="PublishAsync"/>) and its items,
    /// each batch its own transaction, <see cref="DbBatches.Yield"/> apart; first removes what an earlier attempt of the same job left. Returns the version's id.</summary>
    public static async Task<Guid> WriteAsync(IDbContextFactory<IncubatorDbContext> dbFactory, Guid jobId, DatasetVersion version,
        IReadOnlyList<DatasetItem> items, CancellationToken ct)
    {
        await RemoveWrittenByAsync(dbFactory, jobId);
        return await WriteAsync(dbFactory, jobId, null, version, items, ct, DbBatches.Yield);
    }

    /// <summary>A request's write (a freeze): under a writer id of its own and a <see cref="Lease"/> each batch renews,
    /// so the sweep can tell a live write from one whose process died, with <paramref name="pause"/> between batches
    /// (<see cref="DbBatches.Yield"/>). Removes what it wrote if it fails or is cancelled.</summary>
    public static Task<Guid> WriteLeasedAsync(IDbContextFactory<IncubatorDbContext> dbFactory, TimeProvider time, DatasetVersion version,
        IReadOnlyList<DatasetItem> items, TimeSpan pause, CancellationToken ct) =>
        WriteAsync(dbFactory, Guid.NewGuid(), time, version, items, ct, pause);

    private static async Task<Guid> WriteAsync(IDbContextFactory<IncubatorDbContext> dbFactory, Guid writerId, TimeProvider? leased,
        DatasetVersion version, IReadOnlyList<DatasetItem> items, CancellationToken ct, TimeSpan pause)
    {
        version.WriterId = writerId;
        version.WriteExpiresAt = leased?.GetUtcNow() + Lease;
        version.Number = Placeholder(writerId);
        await DbRetry.RunAsync(async () =>
        {
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            db.DatasetVersions.Add(version);
            await db.SaveChangesAsync(ct);
        }, ct);
        try
        {
            foreach (var item in items) item.DatasetVersionId = version.Id;
            await DbBatches.InsertAsync(dbFactory, items, ct, leased is null ? null : async (db, token) =>
            {
                var expires = leased.GetUtcNow() + Lease;
                var renewed = await db.DatasetVersions.IgnoreQueryFilters().Where(d => d.Id == version.Id && d.WriterId == writerId)
                    .ExecuteUpdateAsync(s => s.SetProperty(d => d.WriteExpiresAt, expires), token);
                if (renewed != 1) throw new InvalidOperationException($"Dataset version {version.Id} was removed while it was being written (its lease had passed).");
            }, pause);
        }
        catch
        {
            await RemoveAsync(dbFactory, version.Id);
            throw;
        }
        return version.Id;
    }

    /// <summary>In the writer's last transaction: gives the version the task's next number and makes it visible. The
    /// task's number lock makes concurrent publishers (and freezes) number one after the other on PostgreSQL too.</summary>
    public static async Task<int> PublishAsync(IncubatorDbContext db, Guid versionId, Guid taskId)
    {
        await LockNumbersAsync(db, taskId);
        var number = (await db.DatasetVersions.Where(d => d.TaskId == taskId).MaxAsync(d => (int?)d.Number) ?? 0) + 1;
        var published = await db.DatasetVersions.IgnoreQueryFilters().Where(d => d.Id == versionId && d.WriterId != null)
            .ExecuteUpdateAsync(s => s.SetProperty(d => d.Number, number).SetProperty(d => d.WriterId, (Guid?)null)
                .SetProperty(d => d.WriteExpiresAt, (DateTimeOffset?)null));
        if (published != 1) throw new InvalidOperationException($"Dataset version {versionId} is not being written any more.");
        return number;
    }

    /// <summary>Inside a transaction: waits for, then holds until its end, the right to read and take the task's next
    /// dataset number (a no-op on SQLite, whose transactions already have one writer at a time).</summary>
    public static Task LockNumbersAsync(IncubatorDbContext db, Guid taskId, CancellationToken ct = default) => db.LockAsync(NumberLock, taskId, ct);

    /// <summary>Removes a version its writer will not publish (after a failure, or because the same content was published
    /// meanwhile) — never one already published.</summary>
    public static async Task DiscardAsync(IDbContextFactory<IncubatorDbContext> dbFactory, Guid versionId)
    {
        await using (var db = await dbFactory.CreateDbContextAsync(CancellationToken.None))
            if (!await db.DatasetVersions.IgnoreQueryFilters().AnyAsync(d => d.Id == versionId && d.WriterId != null)) return;
        await RemoveAsync(dbFactory, versionId);
    }

    /// <summary>Removes a version and its items, the items in bounded statements first (one cascading DELETE of a large
    /// version would hold the lock as long as writing it in one go). Runs to the end whatever the caller's cancellation.</summary>
    public static async Task RemoveAsync(IDbContextFactory<IncubatorDbContext> dbFactory, Guid versionId)
    {
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        while (await DbRetry.RunAsync(() => db.DatasetItems.Where(i => i.DatasetVersionId == versionId).OrderBy(i => i.Id).Take(DeleteRows).ExecuteDeleteAsync()) > 0)
        {
        }
        await DbRetry.RunAsync(() => db.DatasetVersions.IgnoreQueryFilters().Where(d => d.Id == versionId).ExecuteDeleteAsync());
    }

    /// <summary>Removes the versions whose writer is gone: a job that has ended (or vanished) without publishing, or a
    /// freeze whose lease passed (its process died between batches). Returns how many it removed.</summary>
    public static async Task<int> SweepAsync(IDbContextFactory<IncubatorDbContext> dbFactory, DateTimeOffset now, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var ended = new[] { JobState.Succeeded, JobState.StoppedShort, JobState.Failed, JobState.Cancelled };
        var orphans = await db.DatasetVersions.IgnoreQueryFilters().AsNoTracking()
            .Where(d => d.WriterId != null && ((d.WriteExpiresAt != null && d.WriteExpiresAt < now)
                || (d.WriteExpiresAt == null && !db.Jobs.Any(j => j.Id == d.WriterId && !ended.Contains(j.State)))))
            .Select(d => d.Id).ToListAsync(ct);
        foreach (var id in orphans) await RemoveAsync(dbFactory, id);
        return orphans.Count;
    }

    private static async Task RemoveWrittenByAsync(IDbContextFactory<IncubatorDbContext> dbFactory, Guid jobId)
    {
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        var left = await db.DatasetVersions.IgnoreQueryFilters().AsNoTracking().Where(d => d.WriterId == jobId).Select(d => d.Id).ToListAsync();
        foreach (var id in left) await RemoveAsync(dbFactory, id);
    }

    /// <summary>A negative number no published version has, distinct per writer (the task's numbers are unique).</summary>
    private static int Placeholder(Guid writerId) => -1 - (int)(BitConverter.ToUInt32(writerId.ToByteArray(), 0) & 0x3FFFFFFF);

    /// <summary>The <see cref="DbLocks"/> scope under which a task's next dataset number is read and taken.</summary>
    private const string NumberLock = "dataset-number";
}
