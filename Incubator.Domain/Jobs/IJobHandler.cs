namespace Incubator.Domain.Jobs;

/// <summary>Does the work of one job kind. Handlers must be resumable: read <see cref="JobContext.Checkpoint"/>
/// and skip what it says is done, and commit progress with <see cref="JobContext.CommitAsync"/>.</summary>
public interface IJobHandler
{
    string Kind { get; }

    Task RunAsync(JobContext context);
}

/// <summary>Thrown when this worker no longer holds the job's lease (another worker took it over).</summary>
public sealed class LeaseLostException(Guid jobId) : Exception($"The lease on job {jobId} was lost.");
