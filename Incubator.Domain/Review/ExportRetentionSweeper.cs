using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Incubator.Domain.Review;

/// <summary>Deletes expired export files every few minutes (and every new export job sweeps first), so the exports
/// folder holds at most a retention period's worth.</summary>
public sealed class ExportRetentionSweeper(ReviewExports exports, ILogger<ExportRetentionSweeper> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        do
        {
            try
            {
                if (await exports.SweepAsync(stoppingToken) is > 0 and var deleted)
                    logger.LogInformation("Expired export files deleted: {Count}", deleted);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Data.Common.DbException)
            {
                logger.LogWarning(ex, "Sweeping expired exports failed; trying again in {Interval}", Interval);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
