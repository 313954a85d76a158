using System.ComponentModel.DataAnnotations;

namespace Incubator.Domain.Jobs;

/// <summary>Section "Jobs".</summary>
public sealed class JobOptions
{
    public const string Section = "Jobs";

    /// <summary>Jobs this process runs at once.</summary>
    [Range(1, 64)]
    public int Concurrency { get; set; } = 2;

    /// <summary>How long a claim is valid without a heartbeat. A crashed process's jobs are taken over after this.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often the worker looks for work it was not told about (queued by another instance, or expired leases).</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:10:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Set false to run a web-only instance (another instance does the work).</summary>
    public bool RunWorker { get; set; } = true;

    /// <summary>Identifies this worker in lease columns; defaults to the instance's name (Instance:Name, or machine name +
    /// process id + a random suffix).</summary>
    public string? WorkerName { get; set; }
}
