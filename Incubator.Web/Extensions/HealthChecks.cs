using Incubator.Domain.Llm;
using Incubator.Domain.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Incubator.Web.Extensions;

/// <summary>Section "Health".</summary>
public sealed class HealthOptions
{
    public const string Section = "Health";

    /// <summary>Below this much free space on the data folder's volume the portal reports itself not ready.</summary>
    [System.ComponentModel.DataAnnotations.Range(0, long.MaxValue / (1024 * 1024))]
    public long MinFreeMegabytes { get; set; } = 512;
}

/// <summary>Readiness: the database accepts a write — one row updated per probe — not merely a query (a read-only database
/// file answers queries while every change fails).</summary>
internal sealed class DatabaseWriteCheck(IDbContextFactory<IncubatorDbContext> dbFactory, TimeProvider time) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            var now = time.GetUtcNow();
            if (await db.HealthProbes.Where(p => p.Id == HealthProbe.SingletonId).ExecuteUpdateAsync(s => s.SetProperty(p => p.At, now), cancellationToken) == 0)
            {
                db.HealthProbes.Add(new HealthProbe { At = now });
                await db.SaveChangesAsync(cancellationToken);
            }
            return HealthCheckResult.Healthy("The database accepts writes.");
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or DbUpdateException or InvalidOperationException)
        {
            // The provider's text may name the connection string's settings: a password there is never shown.
            return HealthCheckResult.Unhealthy($"The database does not accept writes: {EndpointSecrets.RedactSettings(ex.GetBaseException().Message)}");
        }
    }
}

/// <summary>Readiness: the data folder is writable and its volume has at least <see cref="HealthOptions.MinFreeMegabytes"/> free.</summary>
internal sealed class DataFolderCheck(IOptions<IncubatorOptions> incubator, IOptions<HealthOptions> health) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var folder = incubator.Value.ResolveDataDirectory();
        try
        {
            DataFolder.EnsureUsable(folder);
            var free = DataFolder.FreeBytes(folder) / (1024 * 1024);
            var min = health.Value.MinFreeMegabytes;
            return Task.FromResult(free < min
                ? HealthCheckResult.Unhealthy($"The data folder's volume has {free:N0} MB free; at least {min:N0} MB are needed.")
                : HealthCheckResult.Healthy($"{free:N0} MB free."));
        }
        catch (DataFolderException ex)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy(ex.Message));
        }
    }
}
