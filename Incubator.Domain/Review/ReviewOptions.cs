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
}
