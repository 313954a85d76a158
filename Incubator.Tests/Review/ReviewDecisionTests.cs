using Incubator.Domain.Common;
using Incubator.Domain.Review;

namespace Incubator.Tests.Review;

/// <summary>The review rules without a database: which decisions each front door accepts, what a decision does to a
/// candidate, undo, overlap votes and the final-decision rule, settlement, and the audit rows they leave.</summary>
public sealed class ReviewDecisionTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 9, 0, 0, TimeSpan.Zero);
    private static readonly string[] Labels = ["praise", "complaint", "question"];

    private static Candidate Item(string label = "praise", bool inConflict = false) => new()
    {
        Id = Guid.NewGuid(), ProjectId = Guid.NewGuid(), TaskId = Guid.NewGuid(), Label = label, Text = "The lift was broken.",
        Status = CandidateStatus.Pending, InConflict = inConflict,
    };

    private static CandidateState Pending(string label = "praise") => CandidateState.Of(Item(label));

    private static string Code(Action act) => Assert.Single(Assert.Throws<DomainValidationException>(act).Details).Code;

    // ---- input checks -------------------------------------------------------------------------------------------

    [Theory]
    [InlineData(DecisionKind.SpotCheckAccept)]
    [InlineData(DecisionKind.Independent)]
    [InlineData(DecisionKind.Consensus)]
    [InlineData(DecisionKind.Conflict)]
    [InlineData(DecisionKind.Settle)]
    public void A_reviewer_cannot_send_a_kind_the_system_records(DecisionKind kind)
    {
        var ex = Assert.Throws<DomainValidationException>(() => ReviewDecision.Check(new Decision(kind), DecisionSource.Reviewer));
        var error = Assert.Single(ex.Details);
        Assert.Equal(("kind", "DecisionKindNotAllowed", kind.ToString()), (error.Field, error.Code, (string)error.Args[0]));
    }

    [Fact]
    public void Each_front_door_accepts_exactly_its_kinds()
    {
        Assert.Equal([DecisionKind.Approve, DecisionKind.Reject, DecisionKind.Edit, DecisionKind.Relabel, DecisionKind.Undo],
            Enum.GetValues<DecisionKind>().Where(k => ReviewDecision.AllowedKinds(DecisionSource.Reviewer).Contains(k)));
        Assert.Equal([DecisionKind.Approve, DecisionKind.Reject],
            Enum.GetValues<DecisionKind>().Where(k => ReviewDecision.AllowedKinds(DecisionSource.Bulk).Contains(k)));
        Assert.Equal([DecisionKind.Approve, DecisionKind.Reject, DecisionKind.Relabel],
            Enum.GetValues<DecisionKind>().Where(k => ReviewDecision.AllowedKinds(DecisionSource.Settle).Contains(k)));
        Assert.Equal("BulkKindUnsupported", Code(() => ReviewDecision.Check(new Decision(DecisionKind.Undo), DecisionSource.Bulk)));
        Assert.Equal("SettleKindUnsupported", Code(() => ReviewDecision.Check(new Decision(DecisionKind.Edit, NewText: "x"), DecisionSource.Settle)));
    }

    public static TheoryData<Decision, string> BadInput => new()
    {
        { new Decision(DecisionKind.Reject), "ReasonRequired" },
        { new Decision(DecisionKind.Reject, RejectionReason.Other, "  "), "CommentRequired" },
        { new Decision(DecisionKind.Edit, NewText: " \n\t "), "EditEmpty" },
        { new Decision(DecisionKind.Relabel, NewLabel: " "), "RelabelLabelRequired" },
        { new Decision(DecisionKind.Edit, NewText: new string('x', ReviewDecision.MaxTextLength + 1)), "TextTooLong" },
        { new Decision(DecisionKind.Relabel, NewLabel: new string('l', ReviewDecision.MaxLabelLength + 1)), "LabelUnknown" },
        { new Decision(DecisionKind.Approve, Comment: new string('c', ReviewDecision.MaxCommentLength + 1)), "CommentTooLong" },
    };

    [Theory]
    [MemberData(nameof(BadInput))]
    public void Bad_input_is_refused_with_its_code(Decision decision, string code) =>
        Assert.Equal(code, Code(() => ReviewDecision.Check(decision, DecisionSource.Reviewer)));

    [Fact]
    public void Limits_are_inclusive_and_measured_after_trimming()
    {
        ReviewDecision.Check(new Decision(DecisionKind.Edit, NewText: "  " + new string('x', ReviewDecision.MaxTextLength) + "  "), DecisionSource.Reviewer);
        ReviewDecision.Check(new Decision(DecisionKind.Approve, Comment: new string('c', ReviewDecision.MaxCommentLength) + "   "), DecisionSource.Reviewer);
        ReviewDecision.Check(new Decision(DecisionKind.Relabel, NewLabel: new string('l', ReviewDecision.MaxLabelLength)), DecisionSource.Reviewer);
        var tooLong = Assert.Throws<DomainValidationException>(() =>
            ReviewDecision.Check(new Decision(DecisionKind.Edit, NewText: new string('x', 5000)), DecisionSource.Reviewer));
        Assert.Equal(new object[] { ReviewDecision.MaxTextLength, 5000 }, Assert.Single(tooLong.Details).Args);
    }

    [Fact]
    public void The_Owner_may_settle_with_a_relabel_that_names_no_label_a_reviewer_may_not()
    {
        ReviewDecision.Check(new Decision(DecisionKind.Relabel), DecisionSource.Settle);
        // Not "'' is not a label of this task": the reviewer is asked for the label.
        Assert.Equal("RelabelLabelRequired", Code(() => ReviewDecision.Check(new Decision(DecisionKind.Relabel), DecisionSource.Reviewer)));
    }

    // ---- applying -----------------------------------------------------------------------------------------------

    [Fact]
    public void Approve_after_reject_clears_the_reason_and_records_who_and_when()
    {
        var rejected = ReviewDecision.Apply(Pending(), new Decision(DecisionKind.Reject, RejectionReason.Other, " mentions a rival "), "t", Labels, "u1", Now);
        Assert.Equal((CandidateStatus.Rejected, RejectionReason.Other, "Other: mentions a rival"), (rejected.Status, rejected.RejectionReason, rejected.ReviewReason));

        var approved = ReviewDecision.Apply(rejected, new Decision(DecisionKind.Approve), "t", Labels, "u2", Now.AddMinutes(1));

        Assert.Equal((CandidateStatus.Approved, (RejectionReason?)null, (string?)null, "u2", Now.AddMinutes(1)),
            (approved.Status, approved.RejectionReason, approved.ReviewReason, approved.ReviewedById, approved.ReviewedAt));
    }

    [Fact]
    public void An_edit_back_to_the_generated_text_is_no_edit()
    {
        var edited = ReviewDecision.Apply(Pending(), new Decision(DecisionKind.Edit, NewText: " The lift works. "), "The lift was broken.", Labels, "u", Now);
        Assert.Equal(("The lift works.", CandidateStatus.Pending), (edited.EditedText, edited.Status));

        var back = ReviewDecision.Apply(edited, new Decision(DecisionKind.Edit, NewText: "The lift was broken."), "The lift was broken.", Labels, "u", Now);
        Assert.Null(back.EditedText);
    }

    [Fact]
    public void Relabels_keep_the_generators_label_until_the_label_goes_back_to_it()
    {
        var once = ReviewDecision.Apply(Pending("praise"), new Decision(DecisionKind.Relabel, NewLabel: "complaint"), "t", Labels, "u", Now);
        var twice = ReviewDecision.Apply(once, new Decision(DecisionKind.Relabel, NewLabel: "question"), "t", Labels, "u", Now);
        var back = ReviewDecision.Apply(twice, new Decision(DecisionKind.Relabel, NewLabel: "praise"), "t", Labels, "u", Now);

        Assert.Equal(("complaint", "praise"), (once.Label, once.OriginalLabel));
        Assert.Equal(("question", "praise"), (twice.Label, twice.OriginalLabel));
        Assert.Equal(("praise", (string?)null), (back.Label, back.OriginalLabel));
        Assert.Equal("LabelUnknown", Code(() => ReviewDecision.Apply(Pending(), new Decision(DecisionKind.Relabel, NewLabel: "neutral"), "t", Labels, "u", Now)));
    }

    // ---- undo ---------------------------------------------------------------------------------------------------

    private static ReviewEvent Ev(long id, DecisionKind kind, CandidateState before, bool lost = false) => new()
    {
        Id = id, Kind = kind, StatusBefore = before.Status, LabelBefore = before.Label, TextBefore = before.EditedText,
        ReasonBefore = before.RejectionReason, ReviewReasonBefore = before.ReviewReason, Lost = lost,
    };

    [Fact]
    public void Undo_walks_back_one_decision_at_a_time_past_lost_attempts_votes_and_undos()
    {
        var s0 = Pending("praise");
        var s1 = ReviewDecision.Apply(s0, new Decision(DecisionKind.Reject, RejectionReason.WrongLabel), "t", Labels, "a", Now);
        var s2 = ReviewDecision.Apply(s1, new Decision(DecisionKind.Relabel, NewLabel: "complaint"), "t", Labels, "a", Now);
        var s3 = ReviewDecision.Apply(s2, new Decision(DecisionKind.Approve), "t", Labels, "a", Now);
        var history = new List<ReviewEvent>
        {
            Ev(1, DecisionKind.Reject, s0), Ev(2, DecisionKind.Approve, s1, lost: true), Ev(3, DecisionKind.Relabel, s1),
            Ev(4, DecisionKind.Independent, s2), Ev(5, DecisionKind.Approve, s2),
        };

        var (u1, target1) = ReviewDecision.Undo(s3, history, "b", Now);
        Assert.Equal(5, target1.Id);
        Assert.Equal((CandidateStatus.Rejected, "complaint", RejectionReason.WrongLabel, "WrongLabel", "b"),
            (u1.Status, u1.Label, u1.RejectionReason, u1.ReviewReason, u1.ReviewedById));

        history.Add(Ev(6, DecisionKind.Undo, s3));
        var (u2, target2) = ReviewDecision.Undo(u1, history, "b", Now);
        Assert.Equal(3, target2.Id);
        // Back at the generator's label: no original label any more.
        Assert.Equal(("praise", (string?)null), (u2.Label, u2.OriginalLabel));

        history.Add(Ev(7, DecisionKind.Undo, u1));
        var (u3, target3) = ReviewDecision.Undo(u2, history, "b", Now);
        Assert.Equal(1, target3.Id);
        // Nothing left that stands: the sample reads as never reviewed.
        Assert.Equal((CandidateStatus.Pending, (string?)null, (DateTimeOffset?)null), (u3.Status, u3.ReviewedById, u3.ReviewedAt));

        history.Add(Ev(8, DecisionKind.Undo, u2));
        Assert.Equal("NothingToUndo", Code(() => ReviewDecision.Undo(u3, history, "b", Now)));
    }

    [Fact]
    public void A_settled_outcome_cannot_be_undone_by_a_reviewer()
    {
        var settled = new List<ReviewEvent> { Ev(1, DecisionKind.Independent, Pending()), Ev(2, DecisionKind.Consensus, Pending()) };
        Assert.Equal("UndoSettled", Code(() => ReviewDecision.Undo(Pending(), settled, "u", Now)));
        Assert.Equal("UndoSettled", Code(() => ReviewDecision.Undo(Pending(), [Ev(1, DecisionKind.Settle, Pending())], "u", Now)));
    }

    // ---- overlap votes and the final decision -------------------------------------------------------------------

    private static ReviewVote Vote(Candidate c, string user, CandidateStatus status, string label, RejectionReason? reason = null, string? comment = null) =>
        new() { CandidateId = c.Id, UserId = user, Status = status, Label = label, Reason = reason, Comment = comment };

    [Fact]
    public void A_vote_is_recorded_once_per_reviewer_and_at_most_k_times()
    {
        var c = Item("praise");
        var first = ReviewDecision.Vote(c, new Decision(DecisionKind.Relabel, NewLabel: "complaint", Comment: " not praise "), [], 2, Labels, "r1", Now);
        Assert.NotNull(first.Vote);
        Assert.Equal((CandidateStatus.Approved, "complaint", "not praise", "r1"), (first.Vote!.Status, first.Vote.Label, first.Vote.Comment, first.Vote.UserId));
        Assert.Null(first.Refusal);

        var again = ReviewDecision.Vote(c, new Decision(DecisionKind.Approve), [first.Vote], 2, Labels, "r1", Now);
        Assert.Null(again.Vote);
        Assert.Contains("already reviewed", again.Refusal);

        var full = ReviewDecision.Vote(c, new Decision(DecisionKind.Approve), [first.Vote, Vote(c, "r2", CandidateStatus.Approved, "praise")], 2, Labels, "r3", Now);
        Assert.Null(full.Vote);
        Assert.Contains("already has its 2 independent reviews", full.Refusal);
        // The refused attempt says what was tried, for its audit row.
        Assert.Equal((CandidateStatus.Approved, "praise"), (full.Voted.Status, full.Voted.Label));

        Assert.Equal("OverlapEditLater", Code(() => ReviewDecision.Vote(c, new Decision(DecisionKind.Edit, NewText: "x"), [], 2, Labels, "r3", Now)));
        Assert.Equal("LabelUnknown", Code(() => ReviewDecision.Vote(c, new Decision(DecisionKind.Relabel, NewLabel: "neutral"), [], 2, Labels, "r3", Now)));
    }

    [Fact]
    public void Agreeing_approvals_settle_the_item_with_their_label_and_keep_the_generators()
    {
        var c = Item("praise");
        var done = ReviewDecision.Complete(CandidateState.Of(c),
            [Vote(c, "r1", CandidateStatus.Approved, "complaint"), Vote(c, "r2", CandidateStatus.Approved, "complaint")], "r2", Now);

        Assert.True(done.Agreed);
        Assert.Equal(DecisionKind.Consensus, done.Decision.Kind);
        Assert.Equal((CandidateStatus.Approved, "complaint", "praise", "r2"), (done.After.Status, done.After.Label, done.After.OriginalLabel, done.After.ReviewedById));
        Assert.Equal("2 independent reviews agree: 2 approve as 'complaint'", done.Decision.Comment);
    }

    [Fact]
    public void Agreeing_rejections_take_the_most_common_reason_and_a_comment_given_with_it()
    {
        var c = Item();
        var votes = new[]
        {
            Vote(c, "r1", CandidateStatus.Rejected, "praise", RejectionReason.OffTask, "about a rival"),
            Vote(c, "r2", CandidateStatus.Rejected, "praise", RejectionReason.Duplicate, "seen before"),
            Vote(c, "r3", CandidateStatus.Rejected, "praise", RejectionReason.Duplicate),
        };

        var done = ReviewDecision.Complete(CandidateState.Of(c), votes, null, Now);

        Assert.True(done.Agreed);
        Assert.Equal((CandidateStatus.Rejected, RejectionReason.Duplicate, "Duplicate: seen before"), (done.After.Status, done.After.RejectionReason, done.After.ReviewReason));
        // A tie goes to the first reason in the list.
        var tie = ReviewDecision.Complete(CandidateState.Of(c), votes.Take(2).ToList(), null, Now);
        Assert.Equal(RejectionReason.OffTask, tie.After.RejectionReason);
    }

    [Fact]
    public void Disagreeing_reviews_leave_the_item_as_it_was_and_say_how_they_split()
    {
        var c = Item();
        var before = CandidateState.Of(c);
        var done = ReviewDecision.Complete(before,
            [Vote(c, "r1", CandidateStatus.Approved, "praise"), Vote(c, "r2", CandidateStatus.Rejected, "praise", RejectionReason.OffTask),
             Vote(c, "r3", CandidateStatus.Approved, "question")], "r3", Now);

        Assert.False(done.Agreed);
        Assert.Equal(DecisionKind.Conflict, done.Decision.Kind);
        Assert.Same(before, done.After);
        Assert.Equal("3 independent reviews disagree: 1 approve as 'praise', 1 reject, 1 approve as 'question'", done.Decision.Comment);
    }

    [Fact]
    public void The_Owner_settles_only_a_conflict_with_a_label_of_the_task()
    {
        Assert.Equal("NotInConflict", Code(() => ReviewDecision.Settlement(Item(), new Decision(DecisionKind.Approve), Labels)));
        var c = Item("praise", inConflict: true);
        Assert.Equal("LabelUnknown", Code(() => ReviewDecision.Settlement(c, new Decision(DecisionKind.Approve, NewLabel: "neutral"), Labels)));

        var (asIs, s1) = ReviewDecision.Settlement(c, new Decision(DecisionKind.Relabel, NewLabel: " "), Labels);
        Assert.Equal((DecisionKind.Settle, CandidateStatus.Approved, "praise"), (asIs.Kind, s1, asIs.NewLabel));
        var (reject, s2) = ReviewDecision.Settlement(c, new Decision(DecisionKind.Reject, RejectionReason.Unsafe, " harmful "), Labels);
        Assert.Equal((CandidateStatus.Rejected, RejectionReason.Unsafe, "harmful", (string?)null), (s2, reject.Reason, reject.Comment, reject.NewLabel));
    }

    // ---- the audit row ------------------------------------------------------------------------------------------

    [Fact]
    public void The_audit_row_says_before_and_after_and_an_undo_names_what_it_reverted()
    {
        var c = Item("praise");
        var before = Pending("praise") with { Status = CandidateStatus.Rejected, RejectionReason = RejectionReason.OffTask };
        var after = Pending("praise");
        var undone = new ReviewEvent { Id = 41, Kind = DecisionKind.Reject };

        var e = ReviewDecision.AuditEvent(c, "u", new Decision(DecisionKind.Undo), before, after, lost: false, Now, undone);

        Assert.Equal((c.Id, c.TaskId, c.ProjectId, "u"), (e.CandidateId, e.TaskId, e.ProjectId, e.UserId));
        Assert.Equal((CandidateStatus.Rejected, CandidateStatus.Pending, RejectionReason.OffTask), (e.StatusBefore, e.StatusAfter, e.ReasonBefore));
        Assert.Equal(("Undid #41 (Reject)", (RejectionReason?)null), (e.Comment, e.Reason));
        var commented = ReviewDecision.AuditEvent(c, "u", new Decision(DecisionKind.Approve, Comment: "  fine  "), after, after, lost: true, Now);
        Assert.Equal(("fine", true), (commented.Comment, commented.Lost));
    }

    [Fact]
    public void A_lost_race_names_the_decision_that_stands()
    {
        var standing = new ReviewEvent { Kind = DecisionKind.Relabel, LabelAfter = "complaint" };
        Assert.Equal("Someone else decided this sample first: ann@example.com relabelled it to 'complaint'. Your approve was not applied; reload to see the current state.",
            ReviewDecision.LostMessage(new Decision(DecisionKind.Approve), standing, "ann@example.com"));
        Assert.Contains("it changed since you loaded it", ReviewDecision.LostMessage(new Decision(DecisionKind.Reject), null, null));
        var tried = ReviewDecision.Attempted(Pending(), new Decision(DecisionKind.Edit, NewText: " new "));
        Assert.Equal("new", tried.EditedText);
    }
}
