using Incubator.Domain.Data;
using Incubator.Domain.Datasets;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Incubator.Domain.Mining;

/// <summary>Finishes what a dead import left: a corpus still <see cref="CorpusState.Importing"/> after its lease ran out
/// belongs to a process that died, so it is marked <see cref="CorpusState.Failed"/> and its texts are removed in bounded
/// batches (the row stays, saying what happened). Runs at every start, then once a minute, so an instance that dies
/// while others keep running is cleaned up too. The same pass removes dataset versions left half-written in batches by a job
/// that ended without publishing or a freeze whose lease passed (<see cref="DatasetWriter"/>;
/// docs/decisions/0028-write-discipline.md).</summary>
public sealed class CorpusImportSweeper(IDbContextFactory<IncubatorDbContext> dbFactory, TimeProvider time, ILogger<CorpusImportSweeper> logger)
    : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    /// <summary>One pass; returns how many imports it failed.</summary>
    public async Task<int> SweepAsync(CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var now = time.GetUtcNow();
        var failed = await DbRetry.RunAsync(() => db.Corpora.Where(c => c.State == CorpusState.Importing && c.ImportExpiresAt < now)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.State, CorpusState.Failed).SetProperty(c => c.ImportExpiresAt, (DateTimeOffset?)null), ct), ct);
        if (failed > 0) logger.LogWarning("Corpus imports stopped without finishing: {Count}; marked Failed and their texts removed", failed);
        // Failed corpora keep their row but never their texts (a removal that was itself interrupted is finished here).
        var leftovers = await db.Corpora.AsNoTracking().Where(c => c.State == CorpusState.Failed && db.CorpusTexts.Any(t => t.CorpusId == c.Id))
            .Select(c => c.Id).ToListAsync(ct);
        foreach (var id in leftovers) await CorpusService.RemoveAsync(dbFactory, id, deleteRow: false);
        var datasets = await DatasetWriter.SweepAsync(dbFactory, now, ct);
        if (datasets > 0) logger.LogWarning("Dataset versions left half-written by an ended job or a dead freeze: {Count}; removed", datasets);
        return failed;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await SweepAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning(ex, "Sweeping dead corpus imports failed; trying again in {Interval}", Interval);
            }
            try
            {
                await Task.Delay(Interval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
