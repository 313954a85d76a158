using Incubator.Domain.Common;
using Incubator.Domain.Tasks;

namespace Incubator.Domain.Review;

/// <summary>The review-relevant state of a candidate: what a decision changes and what undo restores.</summary>
public sealed record CandidateState(
    CandidateStatus Status, string Label, string? OriginalLabel, string? EditedText, RejectionReason? RejectionReason, string? ReviewReason,
    string? ReviewedById, DateTimeOffset? ReviewedAt)
{
    public static CandidateState Of(Candidate c) =>
        new(c.Status, c.Label, c.OriginalLabel, c.EditedText, c.RejectionReason, c.ReviewReason, c.ReviewedById, c.ReviewedAt);
}

/// <summary>Where a decision comes from; each front door accepts its own kinds (see <see cref="ReviewDecision.AllowedKinds"/>).</summary>
public enum DecisionSource
{
    /// <summary>One reviewer on one sample (queue row, focus mode, <c>POST /api/candidates/{id}/decisions</c>).</summary>
    Reviewer,
    /// <summary>One decision for everything a filter matches.</summary>
    Bulk,
    /// <summary>The Owner's final word on an item whose independent reviews disagree.</summary>
    Settle,
}

/// <summary>One vote of overlap mode, worked out: the vote to store (null when it is refused), the state this reviewer
/// decided (the "after" of their <see cref="DecisionKind.Independent"/> event), and why it was refused.</summary>
public sealed record VoteOutcome(ReviewVote? Vote, CandidateState Voted, string? Refusal);

/// <summary>What a complete set of independent reviews decides: agreement applies <see cref="Decision"/> (a
/// <see cref="DecisionKind.Consensus"/>) and gives <see cref="After"/>; disagreement is a <see cref="DecisionKind.Conflict"/>
/// that leaves the candidate as it was, waiting for the Owner.</summary>
public sealed record Completion(bool Agreed, CandidateStatus Status, Decision Decision, CandidateState After, string Summary);

/// <summary>The review rules, with no database: which decisions a person may send, what a decision does to a candidate,
/// how undo walks back, how overlap votes settle an item, and the audit event each step leaves. The use cases
/// (<see cref="DecideCandidate"/>, <see cref="BulkDecide"/>, <see cref="SettleConflict"/>, <see cref="SetReviewPolicy"/>)
/// load what these need, call them inside their write transaction and store the result.</summary>
public static class ReviewDecision
{
    public const int MaxCommentLength = InputLimits.Comment;

    /// <summary>An edited text may be as long as any other sample (<see cref="InputLimits.SampleText"/>): the audit trail
    /// keeps the edits it needs for undo, so they must stay bounded.</summary>
    public const int MaxTextLength = InputLimits.SampleText;

    public const int MaxLabelLength = InputLimits.LabelName;

    private static readonly IReadOnlySet<DecisionKind> ReviewerKinds =
        new HashSet<DecisionKind> { DecisionKind.Approve, DecisionKind.Reject, DecisionKind.Edit, DecisionKind.Relabel, DecisionKind.Undo };

    private static readonly IReadOnlySet<DecisionKind> BulkKinds = new HashSet<DecisionKind> { DecisionKind.Approve, DecisionKind.Reject };

    private static readonly IReadOnlySet<DecisionKind> SettleKinds =
        new HashSet<DecisionKind> { DecisionKind.Approve, DecisionKind.Reject, DecisionKind.Relabel };

    /// <summary>The kinds a person may send from <paramref name="source"/>. Spot-check acceptance, independent reviews,
    /// consensus, conflict and settlement are written by the system (or the Owner's settle call), never sent as a decision.</summary>
    public static IReadOnlySet<DecisionKind> AllowedKinds(DecisionSource source) => source switch
    {
        DecisionSource.Bulk => BulkKinds,
        DecisionSource.Settle => SettleKinds,
        _ => ReviewerKinds,
    };

    /// <summary>Input checks that need nothing but the decision: its kind for this front door, a reason for a reject (and a
    /// comment for "Other"), a non-empty edit and relabel, and the length limits. Throws the first problem found.</summary>
    public static void Check(Decision d, DecisionSource source)
    {
        ArgumentNullException.ThrowIfNull(d);
        // JSON and query strings accept any number for an enum: 999 must be a 400, never a stored value.
        InputLimits.RequireDefined("kind", d.Kind);
        if (d.Reason is { } reason) InputLimits.RequireDefined("reason", reason);
        if (!AllowedKinds(source).Contains(d.Kind))
            throw source switch
            {
                DecisionSource.Bulk => new DomainValidationException("kind", "BulkKindUnsupported", "Only approve and reject can be applied to many samples at once."),
                DecisionSource.Settle => new DomainValidationException("kind", "SettleKindUnsupported", "Settle a conflict by approving (with a label) or rejecting."),
                _ => new DomainValidationException("kind", "DecisionKindNotAllowed",
                    $"'{d.Kind}' is recorded by the system and cannot be sent as a decision; send approve, reject, edit, relabel or undo.", d.Kind.ToString()),
            };
        if (d.Kind == DecisionKind.Reject)
        {
            if (d.Reason is null)
                throw new DomainValidationException("reason", "ReasonRequired", "Say why this sample is rejected.");
            if (d.Reason == RejectionReason.Other && string.IsNullOrWhiteSpace(d.Comment))
                throw new DomainValidationException("comment", "CommentRequired", "Describe the problem when the reason is 'Other'.");
        }
        if (d.Kind == DecisionKind.Edit && string.IsNullOrWhiteSpace(d.NewText))
            throw new DomainValidationException("text", "EditEmpty", "The edited text cannot be empty.");
        // The Owner may settle "approve as it is" with a relabel that names no label; a reviewer's relabel must name one.
        if (d.Kind == DecisionKind.Relabel && source == DecisionSource.Reviewer && string.IsNullOrWhiteSpace(d.NewLabel))
            throw new DomainValidationException("label", "RelabelLabelRequired", "Choose the label this sample should have.");
        if (d.Kind == DecisionKind.Edit && d.NewText!.Trim() is { Length: > MaxTextLength } text)
            throw new DomainValidationException("text", "TextTooLong",
                $"The edited text must be at most {MaxTextLength} characters (it has {text.Length}).", MaxTextLength, text.Length);
        if (d.NewLabel?.Trim() is { Length: > MaxLabelLength } label)
            throw new DomainValidationException("label", "LabelUnknown", $"'{label[..MaxLabelLength]}…' is not a label of this task.", label[..MaxLabelLength] + "…");
        if (d.Comment?.Trim() is { Length: > MaxCommentLength } comment)
            throw new DomainValidationException("comment", "CommentTooLong",
                $"The comment must be at most {MaxCommentLength} characters (it has {comment.Length}).", MaxCommentLength, comment.Length);
    }

    /// <summary>Refuses a label that is not one of <paramref name="labels"/> (the candidate's task version).</summary>
    public static void RequireLabel(string label, IReadOnlyCollection<string> labels)
    {
        if (!labels.Contains(label, StringComparer.Ordinal))
            throw new DomainValidationException("label", "LabelUnknown", $"'{label}' is not a label of this task.", label);
    }

    /// <summary>The state after an approve, reject, edit or relabel by one reviewer (single-review mode, or a decided item
    /// in overlap mode). <paramref name="labels"/> is needed for a relabel only.</summary>
    public static CandidateState Apply(CandidateState before, Decision d, string generatedText, IReadOnlyCollection<string> labels, string userId,
        DateTimeOffset now)
    {
        var touched = before with { ReviewedById = userId, ReviewedAt = now };
        switch (d.Kind)
        {
            case DecisionKind.Approve:
                return touched with { Status = CandidateStatus.Approved, RejectionReason = null, ReviewReason = null };
            case DecisionKind.Reject:
                return touched with { Status = CandidateStatus.Rejected, RejectionReason = d.Reason, ReviewReason = ReviewText(d) };
            case DecisionKind.Edit:
            {
                var text = d.NewText!.Trim();
                return touched with { EditedText = text == generatedText ? null : text };
            }
            case DecisionKind.Relabel:
            {
                var label = d.NewLabel!.Trim();
                RequireLabel(label, labels);
                return touched with { Label = label, OriginalLabel = KeptOriginal(before, label) };
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(d), d.Kind, "Apply handles approve, reject, edit and relabel; undo has its own rule.");
        }
    }

    /// <summary>Undo walks the candidate's own decisions back one at a time: the last decision not yet undone is reverted
    /// to exactly the state before it. Independent reviews and conflict markers never changed the candidate and lost
    /// attempts never applied, so they are not in the walk; consensus and settlement are outcomes no reviewer may undo.
    /// Returns the state after undo and the event it reverts.</summary>
    public static (CandidateState After, ReviewEvent Undone) Undo(CandidateState before, IEnumerable<ReviewEvent> history, string userId, DateTimeOffset now)
    {
        var stack = new Stack<ReviewEvent>();
        foreach (var e in history.Where(e => !e.Lost && e.Kind is not (DecisionKind.Independent or DecisionKind.Conflict)).OrderBy(e => e.Id))
        {
            if (e.Kind != DecisionKind.Undo) stack.Push(e);
            else if (stack.Count > 0) stack.Pop();
        }
        if (!stack.TryPop(out var target))
            throw new DomainValidationException("kind", "NothingToUndo", "There is no decision on this sample to undo.");
        if (target.Kind is DecisionKind.Consensus or DecisionKind.Settle)
            throw new DomainValidationException("kind", "UndoSettled",
                "This sample was settled by independent reviews (or by the Owner); that outcome cannot be undone here.");
        var original = before.OriginalLabel;
        if (original is not null && original == target.LabelBefore) original = null;
        var stillReviewed = stack.Count > 0;
        return (new CandidateState(target.StatusBefore, target.LabelBefore, original, target.TextBefore, target.ReasonBefore, target.ReviewReasonBefore,
            stillReviewed ? userId : null, stillReviewed ? now : null), target);
    }

    /// <summary>What a lost attempt tried, for its audit row (its "after" says what the reviewer wanted, not what happened).</summary>
    public static CandidateState Attempted(CandidateState before, Decision d) => d.Kind switch
    {
        DecisionKind.Approve => before with { Status = CandidateStatus.Approved },
        DecisionKind.Reject => before with { Status = CandidateStatus.Rejected },
        DecisionKind.Edit => before with { EditedText = d.NewText?.Trim() },
        DecisionKind.Relabel => before with { Label = d.NewLabel?.Trim() ?? before.Label },
        _ => before,
    };

    /// <summary>Overlap mode: a decision on a pending item is this reviewer's independent review — approve keeps the label,
    /// relabel approves with the new one, reject gives a reason. Each reviewer reviews an item once, and an item takes k
    /// reviews; a vote beyond that is refused (and kept in the audit trail by the caller). Edits wait until the item is settled.</summary>
    public static VoteOutcome Vote(Candidate c, Decision d, IReadOnlyList<ReviewVote> votes, int k, IReadOnlyCollection<string> labels, string userId,
        DateTimeOffset now)
    {
        if (d.Kind == DecisionKind.Edit)
            throw new DomainValidationException("text", "OverlapEditLater", "In overlap mode, edit a sample's text after its independent reviews have settled it.");
        var label = d.Kind == DecisionKind.Relabel ? d.NewLabel!.Trim() : c.Label;
        if (d.Kind == DecisionKind.Relabel) RequireLabel(label, labels);
        var status = d.Kind == DecisionKind.Reject ? CandidateStatus.Rejected : CandidateStatus.Approved;
        var before = CandidateState.Of(c);
        var again = votes.Any(v => v.UserId == userId);
        if (again || votes.Count >= k)
            return new VoteOutcome(null, before with { Status = status, Label = label }, again
                ? "You already reviewed this sample; in overlap mode each reviewer gives one independent review. Your new decision was not applied."
                : $"This sample already has its {k} independent reviews. Your decision was not applied; it is kept in the audit trail.");
        var vote = new ReviewVote
        {
            ProjectId = c.ProjectId, TaskId = c.TaskId, CandidateId = c.Id, UserId = userId, Status = status, Label = label,
            Reason = status == CandidateStatus.Rejected ? d.Reason : null, Comment = string.IsNullOrWhiteSpace(d.Comment) ? null : d.Comment.Trim(), At = now,
        };
        return new VoteOutcome(vote, before with { Status = status, Label = label, RejectionReason = vote.Reason }, null);
    }

    /// <summary>The final-decision rule of overlap mode, for an item with all its votes: when they agree (all reject, or
    /// all approve with one label) their decision applies — a reject takes the most common reason (ties: the first in
    /// the enum) and the first comment given with it; otherwise the item waits for the Owner.</summary>
    public static Completion Complete(CandidateState before, IReadOnlyList<ReviewVote> votes, string? userId, DateTimeOffset now)
    {
        if (votes.Count == 0) throw new ArgumentException("An item is complete with at least one vote.", nameof(votes));
        var summary = string.Join(", ", votes.GroupBy(v => v.Category)
            .Select(g => g.Key == ReviewVote.RejectedCategory ? $"{g.Count()} reject" : $"{g.Count()} approve as '{g.Key}'"));
        if (votes.Select(v => v.Category).Distinct(StringComparer.Ordinal).Count() > 1)
            return new Completion(false, before.Status, new Decision(DecisionKind.Conflict, Comment: $"{votes.Count} independent reviews disagree: {summary}"),
                before, summary);
        var first = votes[0];
        Decision decision;
        if (first.Status == CandidateStatus.Rejected)
        {
            var reason = votes.GroupBy(x => x.Reason).OrderByDescending(g => g.Count()).ThenBy(g => g.Key).First().Key ?? RejectionReason.Other;
            decision = new Decision(DecisionKind.Consensus, reason, votes.FirstOrDefault(x => x.Reason == reason && x.Comment is not null)?.Comment);
        }
        else
        {
            decision = new Decision(DecisionKind.Consensus, NewLabel: first.Label);
        }
        var after = Final(before, decision, first.Status, userId, now);
        return new Completion(true, first.Status, decision with { Comment = $"{votes.Count} independent reviews agree: {summary}" }, after, summary);
    }

    /// <summary>The state once a final decision (consensus or the Owner's) applies: approve with a label (keeping the
    /// generator's label as the original) or reject with a reason.</summary>
    public static CandidateState Final(CandidateState before, Decision d, CandidateStatus status, string? userId, DateTimeOffset now)
    {
        if (status == CandidateStatus.Rejected)
            return before with { Status = status, RejectionReason = d.Reason, ReviewReason = ReviewText(d), ReviewedById = userId, ReviewedAt = now };
        var label = d.NewLabel ?? before.Label;
        return before with
        {
            Status = status, Label = label, OriginalLabel = KeptOriginal(before, label), RejectionReason = null, ReviewReason = null,
            ReviewedById = userId, ReviewedAt = now,
        };
    }

    /// <summary>The Owner's settlement of a conflict as a final decision: approve (with the label named, or the item's own)
    /// or reject with a reason. <paramref name="labels"/> is checked for an approval.</summary>
    public static (Decision Decision, CandidateStatus Status) Settlement(Candidate c, Decision d, IReadOnlyCollection<string> labels)
    {
        if (!c.InConflict)
            throw new DomainValidationException("candidate", "NotInConflict",
                "This sample is not waiting for the Owner: its reviews do not conflict (or it was settled already).");
        var status = d.Kind == DecisionKind.Reject ? CandidateStatus.Rejected : CandidateStatus.Approved;
        var label = d.Kind == DecisionKind.Reject ? c.Label : (d.NewLabel?.Trim() is { Length: > 0 } l ? l : c.Label);
        if (status == CandidateStatus.Approved) RequireLabel(label, labels);
        return (new Decision(DecisionKind.Settle, d.Reason, d.Comment?.Trim(), NewLabel: status == CandidateStatus.Approved ? label : null), status);
    }

    /// <summary>The audit row a step leaves: who, what kind, the state before and after (for a lost attempt: what was
    /// tried), and for undo the event it reverted.</summary>
    public static ReviewEvent AuditEvent(Candidate c, string? userId, Decision d, CandidateState before, CandidateState after, bool lost, DateTimeOffset now,
        ReviewEvent? undone = null) => new()
    {
        ProjectId = c.ProjectId,
        TaskId = c.TaskId,
        CandidateId = c.Id,
        UserId = userId,
        Kind = d.Kind,
        StatusBefore = before.Status,
        StatusAfter = after.Status,
        LabelBefore = before.Label,
        LabelAfter = after.Label,
        TextBefore = before.EditedText,
        TextAfter = after.EditedText,
        Reason = d.Kind == DecisionKind.Undo ? after.RejectionReason : d.Reason,
        Comment = string.IsNullOrWhiteSpace(d.Comment) ? (undone is null ? null : $"Undid #{undone.Id} ({undone.Kind})") : d.Comment.Trim(),
        ReasonBefore = before.RejectionReason,
        ReviewReasonBefore = before.ReviewReason,
        Lost = lost,
        At = now,
    };

    /// <summary>The review text stored with a rejection: "{reason}" or "{reason}: {comment}".</summary>
    public static string ReviewText(Decision d)
    {
        var comment = d.Comment?.Trim();
        return string.IsNullOrEmpty(comment) ? $"{d.Reason}" : $"{d.Reason}: {comment}";
    }

    /// <summary>The message of a lost race: whose decision stands (the last one that applied), and that ours did not.</summary>
    public static string LostMessage(Decision attempted, ReviewEvent? standing, string? standingEmail)
    {
        var theirs = standing is null
            ? "it changed since you loaded it"
            : (standingEmail ?? "another reviewer") + " " + standing.Kind switch
            {
                DecisionKind.Approve => "approved it",
                DecisionKind.Reject => $"rejected it ({standing.Reason})",
                DecisionKind.Edit => "edited its text",
                DecisionKind.Relabel => $"relabelled it to '{standing.LabelAfter}'",
                _ => "undid a decision on it",
            };
        return $"Someone else decided this sample first: {theirs}. Your {attempted.Kind.ToString().ToLowerInvariant()} was not applied; reload to see the current state.";
    }

    /// <summary>The message when single-review mode refuses a decision on an item someone else holds a lease on.</summary>
    public static string HeldMessage(Decision attempted, string? holderEmail) =>
        $"{holderEmail ?? "Another reviewer"} is reviewing this sample right now (it is assigned to them). "
        + $"Your {attempted.Kind.ToString().ToLowerInvariant()} was not applied; it is kept in the audit trail.";

    /// <summary>The generator's label survives relabels so disagreement with the generator stays measurable; it is
    /// dropped when the label goes back to it.</summary>
    private static string? KeptOriginal(CandidateState before, string label)
    {
        var original = before.OriginalLabel ?? (label == before.Label ? null : before.Label);
        return original == label ? null : original;
    }
}
