using Incubator.Domain.Generation;

namespace Incubator.Domain.Review;

/// <summary>What a reviewer decided. <see cref="Reason"/> (and, for <see cref="RejectionReason.Other"/>, a
/// <see cref="Comment"/>) for Reject; <see cref="NewText"/> for Edit; <see cref="NewLabel"/> for Relabel.</summary>
public sealed record Decision(DecisionKind Kind, RejectionReason? Reason = null, string? Comment = null, string? NewText = null, string? NewLabel = null);

public sealed record CandidateRow(
    Guid Id, Guid TaskId, string Label, string? OriginalLabel, string Text, string? EditedText, CandidateStatus Status, CandidateStage Stage,
    CandidateSource Source, bool IsAmbiguous, RejectionReason? RejectionReason, string? ReviewReason, Guid? RunId, int Round, long Version,
    DateTimeOffset CreatedAt, DateTimeOffset? ReviewedAt, string? ReviewedByEmail, Guid? MiningRunId = null, double? Uncertainty = null, bool InConflict = false,
    int SpreadRank = 0, string? MinerLabel = null);

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
    /// <summary>The queue's default: rank by rank over the labels (each label's first sample, then each label's second…,
    /// by <see cref="Review.Candidate.SpreadRank"/>), so every label is at the top and the order never moves.</summary>
    Spread,
}

/// <summary>Which part of a task's candidates a queue shows (docs/decisions/0022-review-queue-views.md): the main view —
/// what the runs selected, plus mined ones — or the reserve, reviewed only on purpose; All for exports and scripts.</summary>
public enum CandidateView
{
    Main,
    Reserve,
    All,
}

/// <summary>The queue's counters: pending and approved items of the main view, rejected ones, and the reserve apart
/// (approving from it is always an explicit act).</summary>
public sealed record QueueCounters(int SelectedPending, int Approved, int Rejected, int Reserve, int ReservePending);

/// <summary>A label with fewer usable generated samples than its runs asked for (<see cref="Wanted"/>: the sum of the
/// per-label targets of the task's finished runs; <see cref="Have"/>: its selected generated samples not rejected), and
/// how many pending samples its reserve holds to top it up.</summary>
public sealed record ShortLabel(string Label, int Wanted, int Have, int Reserve)
{
    public int Short => Math.Max(0, Wanted - Have);

    /// <summary>What one click of "top up" moves: what is short, as far as the reserve reaches.</summary>
    public int TopUp => Math.Min(Short, Reserve);
}

/// <summary>Which pending items "Review next" (focus mode, <see cref="ClaimNextCandidate.ClaimNextAsync"/>) hands out
/// and in which order: the queue's run, label and source filters, and its order — <see cref="CandidateSort.Oldest"/>
/// (the default: first come, first reviewed), <see cref="CandidateSort.Newest"/>, <see cref="CandidateSort.Label"/> or
/// <see cref="CandidateSort.MostUncertain"/> (active learning: highest uncertainty first, unscored items last).</summary>
public sealed record ClaimScope(Guid? RunId = null, string? Label = null, CandidateSource? Source = null, CandidateSort Order = CandidateSort.Oldest)
{
    public static readonly ClaimScope All = new();

    /// <summary>Focus mode hands out items of the queue's main view: reserve samples are reviewed only on purpose, in
    /// their own view.</summary>
    internal CandidateFilter Filter => new(Label: string.IsNullOrEmpty(Label) ? null : Label, Stage: CandidateStage.Selected, Source: Source, RunId: RunId);
}

/// <summary>What a bulk decision would touch: shown to the reviewer and confirmed back, so the bulk call can refuse
/// when the selection changed in between.</summary>
public sealed record BulkPreview(int Total, int AlreadyDecided);

/// <summary>How far a bulk decision has got: <paramref name="Done"/> of the <paramref name="Total"/> samples of the
/// selection have been through a committed batch.</summary>
public sealed record BulkProgress(int Done, int Total);

public sealed record ReviewEventView(
    long Id, Guid CandidateId, string? UserEmail, DecisionKind Kind, CandidateStatus StatusBefore, CandidateStatus StatusAfter, string LabelBefore,
    string LabelAfter, string? TextBefore, string? TextAfter, RejectionReason? Reason, string? Comment, bool Lost, DateTimeOffset At);

/// <summary>What the queue page shows in one read (see <see cref="ReviewQueries.QueueAsync"/>).</summary>
public sealed record QueueView(
    IReadOnlyDictionary<CandidateStatus, int> Counts, Jobs.Page<CandidateRow> Page, IReadOnlyDictionary<Guid, IReadOnlyList<string>> Holders,
    IReadOnlyList<ReviewerProgress> Progress, ReviewPanels? Panels)
{
    public QueueCounters Counters { get; init; } = new(0, 0, 0, 0, 0);

    public IReadOnlyList<ShortLabel> ShortLabels { get; init; } = [];
}

/// <summary>The queue's team panels: agreement among overlap reviews, the conflicts waiting for the Owner, and how often
/// reviewers disagreed with the generator per label.</summary>
public sealed record ReviewPanels(AgreementView? Agreement, IReadOnlyList<ConflictView> Conflicts, IReadOnlyList<LabelDisagreement> Disagreement);

/// <summary>What focus mode shows beside the item in one read (see <see cref="ReviewQueries.FocusStatusAsync"/>);
/// <see cref="ScopePending"/> is null when "Review next" is not scoped.</summary>
public sealed record FocusStatus(IReadOnlyDictionary<CandidateStatus, int> Counts, IReadOnlyList<ReviewerProgress> Progress, int? ScopePending);
