using Incubator.Domain.Generation;

namespace Incubator.Domain.Review;

/// <summary>A task's queue policies, set by Authors and Owners. A task without a row uses the defaults.</summary>
public sealed class ReviewPolicy
{
    public const int DefaultOverlap = 1;
    public const int MaxOverlap = 10;
    public const double DefaultSpotCheckThreshold = 0.9;

    public Guid TaskId { get; set; }
    public Guid ProjectId { get; set; }
    /// <summary>How many independent reviews each item needs; 1 means overlap mode is off.</summary>
    public int OverlapK { get; set; } = DefaultOverlap;
    /// <summary>The lower bound of the estimated precision a spot-check must clear before the Owner may accept the
    /// rest of a run; the run page starts from this value.</summary>
    public double SpotCheckThreshold { get; set; } = DefaultSpotCheckThreshold;
    public DateTimeOffset UpdatedAt { get; set; }
    public string? UpdatedById { get; set; }
}

/// <summary>A reviewer's claim on one pending item: while it is live (<see cref="ExpiresAt"/> in the future), the
/// item is theirs — nobody else is handed it, and in single-review mode nobody else may decide it. Working on it
/// renews the lease; a lease left alone expires and the item returns to the pool.</summary>
public sealed class ReviewLease
{
    public long Id { get; set; }
    public Guid ProjectId { get; set; }
    public Guid TaskId { get; set; }
    public Guid CandidateId { get; set; }
    public string UserId { get; set; } = "";
    public DateTimeOffset AcquiredAt { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
}

/// <summary>One reviewer's independent review of an item in overlap mode: approve with a label (the generator's or
/// another one), or reject with a reason. One per reviewer and item; hidden from other reviewers until the item has
/// all its reviews.</summary>
public sealed class ReviewVote
{
    public long Id { get; set; }
    public Guid ProjectId { get; set; }
    public Guid TaskId { get; set; }
    public Guid CandidateId { get; set; }
    public string UserId { get; set; } = "";
    /// <summary>Approved or Rejected.</summary>
    public CandidateStatus Status { get; set; }
    /// <summary>The label the reviewer gave (for a reject: the label the item had).</summary>
    public string Label { get; set; } = "";
    public RejectionReason? Reason { get; set; }
    public string? Comment { get; set; }
    public DateTimeOffset At { get; set; }

    /// <summary>Two reviews agree when both reject, or both approve with the same label.</summary>
    public string Category => Status == CandidateStatus.Rejected ? RejectedCategory : Label;

    /// <summary>The agreement statistics' category for "rejected" (labels are never empty, so it cannot clash).</summary>
    public const string RejectedCategory = "";
}

/// <summary>One open review page (a browser circuit on some instance) on a task, for "present now". Rows live in the
/// database so every instance sees every reviewer; the instance renews its rows while the pages are open, and a row
/// of an instance that died expires (<see cref="ReviewPresence"/>).</summary>
public sealed class ReviewPresenceEntry
{
    public Guid Id { get; set; }
    public Guid ProjectId { get; set; }
    public Guid TaskId { get; set; }
    public string Display { get; set; } = "";
    /// <summary>The instance whose circuit holds the page (<see cref="Common.InstanceName"/>).</summary>
    public string Instance { get; set; } = "";
    public DateTimeOffset ExpiresAt { get; set; }
}

public sealed record ReviewPolicyView(Guid TaskId, int OverlapK, double SpotCheckThreshold, DateTimeOffset? UpdatedAt, string? UpdatedByEmail);

public sealed record VoteView(string? UserEmail, CandidateStatus Status, string Label, RejectionReason? Reason, string? Comment, DateTimeOffset At);

public sealed record ConflictView(CandidateRow Candidate, IReadOnlyList<VoteView> Votes);

/// <summary>Who holds leases on a task and who decided how much, for the live progress line.</summary>
public sealed record ReviewerProgress(string Email, int Leased, int Decided);

/// <summary>Agreement among overlap reviews: Cohen's kappa when exactly two people reviewed every item, Fleiss'
/// kappa otherwise; per label one-vs-rest ("rejected" is a category of its own).</summary>
public sealed record AgreementView(string Method, int Items, int ReviewsPerItem, int Raters, double Overall, IReadOnlyDictionary<string, double> PerLabel, int Conflicts);
