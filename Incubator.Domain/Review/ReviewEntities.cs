using Incubator.Domain.Generation;

namespace Incubator.Domain.Review;

public enum RejectionReason
{
    WrongLabel,
    OffTask,
    LowQuality,
    Duplicate,
    Unsafe,
    Other,
}

public enum DecisionKind
{
    Approve,
    Reject,
    Edit,
    Relabel,
    Undo,
    /// <summary>Approved because a spot-check of the run cleared the Owner's threshold — not an individual approval.</summary>
    SpotCheckAccept,
    /// <summary>Overlap mode: one reviewer's independent review. The candidate is unchanged; the event's "after"
    /// fields say what this reviewer decided. Hidden from other reviewers until the item has all its reviews.</summary>
    Independent,
    /// <summary>Overlap mode: the item's k reviews agreed, and their decision was applied.</summary>
    Consensus,
    /// <summary>Overlap mode: the item's k reviews disagreed; it waits for the Owner (the candidate is unchanged).</summary>
    Conflict,
    /// <summary>Overlap mode: the Owner settled a conflict by picking the final decision.</summary>
    Settle,
}

/// <summary>One review decision on one candidate, as it happened: never updated, never deleted (except with its
/// project). An attempt that lost an optimistic-concurrency race is kept too, with <see cref="Lost"/> set; its
/// "after" fields then say what the reviewer tried, not what the candidate became.</summary>
public sealed class ReviewEvent
{
    public long Id { get; set; }
    public Guid ProjectId { get; set; }
    public Guid TaskId { get; set; }
    public Guid CandidateId { get; set; }
    public string? UserId { get; set; }
    public DecisionKind Kind { get; set; }
    public CandidateStatus StatusBefore { get; set; }
    public CandidateStatus StatusAfter { get; set; }
    public string LabelBefore { get; set; } = "";
    public string LabelAfter { get; set; } = "";
    /// <summary>The candidate's <see cref="Candidate.EditedText"/> before (null: the generated text stood).</summary>
    public string? TextBefore { get; set; }
    public string? TextAfter { get; set; }
    /// <summary>The rejection reason this decision gave (reject) or restored (undo).</summary>
    public RejectionReason? Reason { get; set; }
    public string? Comment { get; set; }
    /// <summary>What undo needs to restore exactly: the rejection reason and review text before this decision.</summary>
    public RejectionReason? ReasonBefore { get; set; }
    public string? ReviewReasonBefore { get; set; }
    public bool Lost { get; set; }
    public DateTimeOffset At { get; set; }
}
