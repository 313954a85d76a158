using Incubator.Domain.Data;
using Incubator.Domain.Jobs;
using Microsoft.EntityFrameworkCore;

namespace Incubator.Domain.Datasets;

/// <summary>Writes a dataset version too large for one short transaction — a self-training's pseudo-labelled pool can
/// hold as many rows as its corpus — without holding the database's write lock for long: the version is created
/// invisible (<see cref="DatasetVersion.WritingJobId"/>, a negative placeholder number), its items go in transactions of
/// <see cref="DbBatches.Rows"/>, and the job's own last commit numbers it and makes it visible (<see cref="PublishAsync"/>).
/// Whatever an interrupted attempt left is removed by the job's next attempt or, once the job has ended, by
/// <see cref="SweepAsync"/> (docs/decisions/0028-write-discipline.md).</summary>
public static class DatasetWriter
{
    /// <summary>Items per DELETE when a half-written version is removed.</summary>
    private const int DeleteRows = 5000;

    /// <summary>Writes <paramref name="version"/> (its number is set at <see cref="PublishAsync"/>) and its items, each
    /// batch its own transaction; first removes what an earlier attempt of the same job left. Returns the version's id.</summary>
    public static async Task<Guid> WriteAsync(IDbContextFactory<IncubatorDbContext> dbFactory, Guid jobId, DatasetVersion version,
        IReadOnlyList<DatasetItem> items, CancellationToken ct)
    {
        await RemoveWrittenByAsync(dbFactory, jobId);
        version.WritingJobId = jobId;
        version.Number = Placeholder(jobId);
        await DbRetry.RunAsync(async () =>
        {
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            db.DatasetVersions.Add(version);
            await db.SaveChangesAsync(ct);
        }, ct);
        try
        {
            foreach (var item in items) item.DatasetVersionId = version.Id;
            await DbBatches.InsertAsync(dbFactory, items, ct);
        }
        catch
        {
            await RemoveAsync(dbFactory, version.Id);
            throw;
        }
        return version.Id;
    }

    /// <summary>In the job's last transaction: gives the version the task's next number and makes it visible.</summary>
    public static async Task<int> PublishAsync(IncubatorDbContext db, Guid versionId, Guid taskId)
    {
        var number = (await db.DatasetVersions.Where(d => d.TaskId == taskId).MaxAsync(d => (int?)d.Number) ?? 0) + 1;
        var published = await db.DatasetVersions.IgnoreQueryFilters().Where(d => d.Id == versionId && d.WritingJobId != null)
            .ExecuteUpdateAsync(s => s.SetProperty(d => d.Number, number).SetProperty(d => d.WritingJobId, (Guid?)null));
        if (published != 1) throw new InvalidOperationException($"Dataset version {versionId} is not being written any more.");
        return number;
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

    /// <summary>Removes the versions a job has ended (or vanished) without publishing: its process died or its end was
    /// written without them. Returns how many it removed.</summary>
    public static async Task<int> SweepAsync(IDbContextFactory<IncubatorDbContext> dbFactory, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var ended = new[] { JobState.Succeeded, JobState.StoppedShort, JobState.Failed, JobState.Cancelled };
        var orphans = await db.DatasetVersions.IgnoreQueryFilters().AsNoTracking()
            .Where(d => d.WritingJobId != null && !db.Jobs.Any(j => j.Id == d.WritingJobId && !ended.Contains(j.State)))
            .Select(d => d.Id).ToListAsync(ct);
        foreach (var id in orphans) await RemoveAsync(dbFactory, id);
        return orphans.Count;
    }

    private static async Task RemoveWrittenByAsync(IDbContextFactory<IncubatorDbContext> dbFactory, Guid jobId)
    {
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        var left = await db.DatasetVersions.IgnoreQueryFilters().AsNoTracking().Where(d => d.WritingJobId == jobId).Select(d => d.Id).ToListAsync();
        foreach (var id in left) await RemoveAsync(dbFactory, id);
    }

    /// <summary>A negative number no published version has, distinct per job (the task's numbers are unique).</summary>
    private static int Placeholder(Guid jobId) => -1 - (int)(BitConverter.ToUInt32(jobId.ToByteArray(), 0) & 0x3FFFFFFF);
}
