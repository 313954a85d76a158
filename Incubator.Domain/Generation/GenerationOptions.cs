using System.ComponentModel.DataAnnotations;

namespace Incubator.Domain.Generation;

/// <summary>Section "Generation" (env: Generation__EndpointWait). Bound and validated at start by
/// <see cref="GenerationServiceCollectionExtensions.AddIncubatorGeneration"/>.</summary>
public sealed class GenerationOptions
{
    public const string Section = "Generation";

    /// <summary>How long a run whose endpoint stops answering mid-run shows "Waiting for the endpoint" and retries with
    /// back-off before it fails. A run that never got one answer does not wait: it fails at once, with a connection test.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan EndpointWait { get; set; } = GenerationEngine.DefaultEndpointWait;
}
