using System.Text.Json;
using Incubator.Domain.Data;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Incubator.Domain.Jobs;

/// <summary>How a job ended without its handler finishing the work: cancelled (while queued, or mid-run), failed (the
/// handler threw), or given up (interrupted too often).</summary>
public sealed record JobEnd(Job Job, JobState State, string? Error)
{
    public T ReadPayload<T>() => JsonSerializer.Deserialize<T>(Job.Payload, JobContext.JsonOptions)
        ?? throw new InvalidOperationException($"Job {Job.Id} has an empty payload.");
}

/// <summary>Implemented by a job handler whose owner row keeps a state of its own (a model version says Training,
/// Draft, Failed...). Whichever path ends the job Failed or Cancelled calls it inside the transaction that writes the
/// job's end, so the owner row never says "still running" about work that stopped: no reader has to patch the owner's
/// state from its job's.</summary>
public interface IJobOwnerCloser
{
    /// <summary>Writes the owner's end state with <paramref name="db"/> (in the job's ending transaction); true when the
    /// owner changed, so <see cref="OwnerClosedAsync"/> runs after the commit.</summary>
    Task<bool> CloseOwnerAsync(JobEnd end, IncubatorDbContext db);

    /// <summary>After the commit: tell watchers, remove files.</summary>
    Task OwnerClosedAsync(JobEnd end);
}

/// <summary>Finds the owner closer of a job's kind and runs it in the caller's transaction.</summary>
public sealed class JobOwners(JobHandlerRegistry registry, IServiceScopeFactory scopes, ILogger<JobOwners> logger)
{
    /// <summary>Null when the job ended otherwise, its kind has no closer, or the owner was already closed. A closer
    /// that throws is logged and skipped: the job's own end is never held back by its owner.</summary>
    internal async Task<Closing?> CloseAsync(Job job, JobState state, string? error, IncubatorDbContext db)
    {
        if (state is not (JobState.Failed or JobState.Cancelled)) return null;
        if (!registry.TryGet(job.Kind, out var type) || !typeof(IJobOwnerCloser).IsAssignableFrom(type)) return null;
        var scope = scopes.CreateAsyncScope();
        var end = new JobEnd(job, state, error);
        // A savepoint, so a failing closer takes back only its own writes and the job's end still commits.
        var tx = db.Database.CurrentTransaction ?? throw new InvalidOperationException("Owners are closed inside the transaction that ends the job.");
        await tx.CreateSavepointAsync("close_owner");
        try
        {
            var closer = (IJobOwnerCloser)scope.ServiceProvider.GetRequiredService(type);
            if (await closer.CloseOwnerAsync(end, db)) return new Closing(scope, closer, end, logger);
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Closing the owner of job {JobId} ({Kind}) as {State} failed", job.Id, job.Kind, state);
            await tx.RollbackToSavepointAsync("close_owner");
        }
        await scope.DisposeAsync();
        return null;
    }

    internal sealed class Closing(AsyncServiceScope scope, IJobOwnerCloser closer, JobEnd end, ILogger logger) : IAsyncDisposable
    {
        public async Task AfterCommitAsync()
        {
            try
            {
                await closer.OwnerClosedAsync(end);
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "After closing the owner of job {JobId} ({Kind})", end.Job.Id, end.Job.Kind);
            }
        }

        public ValueTask DisposeAsync() => scope.DisposeAsync();
    }
}
