using Incubator.Domain.Common.Events;
using Incubator.Domain.Common;
using Incubator.Domain.Data;
using Incubator.Domain.Generation;
using Incubator.Domain.Jobs;
using Incubator.Domain.Projects;
using Microsoft.EntityFrameworkCore;

namespace Incubator.Domain.Review;

/// <summary>A random sample drawn from a generation run to estimate the precision of the whole run.</summary>
public sealed class SpotCheck
{
    public Guid Id { get; set; }
    public Guid ProjectId { get; set; }
    public Guid TaskId { get; set; }
    public Guid RunId { get; set; }
    public int SampleSize { get; set; }
    public int Seed { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public string? CreatedById { get; set; }
    public DateTimeOffset? AcceptedAt { get; set; }
    public string? AcceptedById { get; set; }
    public double? Threshold { get; set; }
    public double? LowerBoundAtAccept { get; set; }
    public int AcceptedCount { get; set; }
}

public sealed class SpotCheckItem
{
    public Guid SpotCheckId { get; set; }
    public Guid CandidateId { get; set; }
}

public sealed record SpotCheckView(
    Guid Id, Guid RunId, Guid TaskId, int SampleSize, int Decided, int Approved, double Precision, double Low, double High,
    int RemainingPending, DateTimeOffset CreatedAt, DateTimeOffset? AcceptedAt, int AcceptedCount, double? Threshold);
