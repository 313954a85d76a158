using System.ComponentModel.DataAnnotations;

namespace Incubator.Domain.Review;

/// <summary>Section "Review" (env: Review__LeaseDuration, Review__ExportJobThreshold). Bound and validated at start by
/// <see cref="ReviewServiceCollectionExtensions.AddIncubatorReview"/>.</summary>
public sealed class ReviewOptions
{
    public const string Section = "Review";

    /// <summary>How long a lease lives without activity.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Exports of more rows than this run as a job with a download link; smaller ones stream at once.</summary>
    [Range(1, int.MaxValue)]
    public int ExportJobThreshold { get; set; } = 5000;

    /// <summary>Export jobs one person may have queued or running at once.</summary>
    [Range(1, 1000)]
    public int ExportJobsAtOnce { get; set; } = 2;

    /// <summary>Export jobs one person may start per UTC day.</summary>
    [Range(1, 100_000)]
    public int ExportJobsPerDay { get; set; } = 30;

    /// <summary>How long a finished export's file is kept; then it is deleted and its link says so.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "90.00:00:00")]
    public TimeSpan ExportRetention { get; set; } = TimeSpan.FromHours(24);

    /// <summary>The most the exports folder may hold, in MB; no new export job starts while it is full.</summary>
    [Range(1, 1_000_000)]
    public int ExportFolderMegabytes { get; set; } = 2048;
}
