using Incubator.Domain.Generation;

namespace Incubator.Domain.Review;

/// <summary>What a reviewer decided. <see cref="Reason"/> (and, for <see cref="RejectionReason.Other"/>, a
/// <see cref="Comment"/>) for Reject; <see cref="NewText"/> for Edit; <see cref="NewLabel"/> for Relabel.</summary>
public sealed record Decision(DecisionKind Kind, RejectionReason? Reason = null, string? Comment = null, string? NewText = null, string? NewLabel = null);

public sealed record CandidateRow(
    Guid Id, Guid TaskId, string Label, string? OriginalLabel, string Text, string? EditedText, CandidateStatus Status, CandidateStage Stage,
    CandidateSource Source, bool IsAmbiguous, RejectionReason? RejectionReason, string? ReviewReason, Guid? RunId, int Round, long Version,
    DateTimeOffset CreatedAt, DateTimeOffset? ReviewedAt, string? ReviewedByEmail, Guid? MiningRunId = null, double? Uncertainty = null, bool InConflict = false);

/// <summary>Which of a task's candidates to list (every set field must match). <see cref="Search"/> matches the
/// generated or the edited text, case-insensitively for ASCII.</summary>
public sealed record CandidateFilter(
    string? Label = null, CandidateStatus? Status = null, CandidateStage? Stage = null, CandidateSource? Source = null, Guid? RunId = null,
    bool? Ambiguous = null, string? Search = null, Guid? SpotCheckId = null, bool? InConflict = null);

public enum CandidateSort
{
    Newest,
    Oldest,
    Label,
    /// <summary>Active learning: highest <see cref="Review.Candidate.Uncertainty"/> first; unscored candidates last.</summary>
    MostUncertain,
}

/// <summary>Which pending items "Review next" (focus mode, <see cref="ClaimNextCandidate.ClaimNextAsync"/>) hands out
/// and in which order: the queue's run, label and source filters, and its order — <see cref="CandidateSort.Oldest"/>
/// (the default: first come, first reviewed), <see cref="CandidateSort.Newest"/>, <see cref="CandidateSort.Label"/> or
/// <see cref="CandidateSort.MostUncertain"/> (active learning: highest uncertainty first, unscored items last).</summary>
public sealed record ClaimScope(Guid? RunId = null, string? Label = null, CandidateSource? Source = null, CandidateSort Order = CandidateSort.Oldest)
{
    public static readonly ClaimScope All = new();

    internal CandidateFilter Filter => new(Label: string.IsNullOrEmpty(Label) ? null : Label, Source: Source, RunId: RunId);
}

/// <summary>What a bulk decision would touch: shown to the reviewer and confirmed back, so the bulk call can refuse
/// when the selection changed in between.</summary>
public sealed record BulkPreview(int Total, int AlreadyDecided);

public sealed record ReviewEventView(
    long Id, Guid CandidateId, string? UserEmail, DecisionKind Kind, CandidateStatus StatusBefore, CandidateStatus StatusAfter, string LabelBefore,
    string LabelAfter, string? TextBefore, string? TextAfter, RejectionReason? Reason, string? Comment, bool Lost, DateTimeOffset At);

/// <summary>What the queue page shows in one read (see <see cref="ReviewQueries.QueueAsync"/>).</summary>
public sealed record QueueView(
    IReadOnlyDictionary<CandidateStatus, int> Counts, Jobs.Page<CandidateRow> Page, IReadOnlyDictionary<Guid, IReadOnlyList<string>> Holders,
    IReadOnlyList<ReviewerProgress> Progress, ReviewPanels? Panels);

/// <summary>The queue's team panels: agreement among overlap reviews, the conflicts waiting for the Owner, and how often
/// reviewers disagreed with the generator per label.</summary>
public sealed record ReviewPanels(AgreementView? Agreement, IReadOnlyList<ConflictView> Conflicts, IReadOnlyList<LabelDisagreement> Disagreement);

/// <summary>What focus mode shows beside the item in one read (see <see cref="ReviewQueries.FocusStatusAsync"/>);
/// <see cref="ScopePending"/> is null when "Review next" is not scoped.</summary>
public sealed record FocusStatus(IReadOnlyDictionary<CandidateStatus, int> Counts, IReadOnlyList<ReviewerProgress> Progress, int? ScopePending);
