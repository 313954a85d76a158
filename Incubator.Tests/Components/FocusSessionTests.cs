using Incubator.Domain.Common;
using Incubator.Domain.Review;
using Incubator.Tests.Review;
using Incubator.Web.Components.Pages.Review;
using Microsoft.EntityFrameworkCore;

namespace Incubator.Tests.Components;

/// <summary>Focus mode's state machine without a browser: keys, leases (claim, renewal, expiry, skip, release), undo and
/// conflicts, driven through the real review use cases on SQLite with a hand-moved clock.</summary>
public sealed class FocusSessionTests
{
    private static FocusSession Session(ReviewAssignmentTests.Fixture f, string user, int overlap = 1, Guid? spotCheck = null, params string?[] answers)
    {
        var asked = new Queue<string?>(answers);
        return new FocusSession(f.Decide, f.Claim, f.Queries, f.Clock, new FocusSession.Setup(
            user, f.TaskId, ["praise", "complaint"], overlap, ClaimScope.All, spotCheck,
            (_, _) => Task.FromResult(asked.Count > 0 ? asked.Dequeue() : null), "Edit", "Why?"));
    }

    [Fact]
    public async Task Keys_approve_reject_and_relabel_and_move_through_the_assignment()
    {
        await using var f = await ReviewAssignmentTests.ArrangeAsync();
        var ids = await f.AddAsync(3);
        var s = Session(f, f.R1);
        await s.StartAsync();
        Assert.Equal(ids[0], s.Current!.Id);

        // The item's own label is no decision in single-review mode; another label relabels and stays on the item.
        Assert.Equal(FocusNotice.None, await s.KeyAsync("1"));
        Assert.Empty(await f.EventsAsync(ids[0]));
        await s.KeyAsync("2");
        Assert.Equal((ids[0], "complaint", CandidateStatus.Pending), (s.Current.Id, s.Current.Label, s.Current.Status));

        await s.KeyAsync("a");
        Assert.Equal(CandidateStatus.Approved, (await f.GetAsync(ids[0])).Status);
        Assert.Equal(ids[1], s.Current!.Id);

        // r waits for a reason; other keys do nothing meanwhile, Escape cancels.
        await s.KeyAsync("r");
        await s.KeyAsync("a");
        Assert.True(s.Rejecting);
        Assert.Equal(CandidateStatus.Pending, (await f.GetAsync(ids[1])).Status);
        await s.KeyAsync("Escape");
        Assert.False(s.Rejecting);
        await s.KeyAsync("r");
        await s.KeyAsync("2");
        var rejected = await f.GetAsync(ids[1]);
        Assert.Equal((CandidateStatus.Rejected, FocusSession.Reasons[1]), (rejected.Status, rejected.RejectionReason));
        Assert.Equal(ids[2], s.Current!.Id);

        // Back through the session's items, never before the first.
        await s.KeyAsync("k");
        Assert.Equal((ids[1], CandidateStatus.Rejected), (s.Current!.Id, s.Current.Status));
        await s.KeyAsync("ArrowLeft");
        await s.KeyAsync("k");
        Assert.Equal(0, s.Index);
        await s.KeyAsync("?");
        Assert.True(s.Help);
        await s.KeyAsync("Escape");
        Assert.False(s.Help);
    }

    [Fact]
    public async Task H_shows_the_current_items_history_and_every_listed_shortcut_is_one_the_keys_reach()
    {
        await using var f = await ReviewAssignmentTests.ArrangeAsync();
        var ids = await f.AddAsync(2);
        var shown = new List<Guid>();
        var s = new FocusSession(f.Decide, f.Claim, f.Queries, f.Clock, new FocusSession.Setup(
            f.R1, f.TaskId, ["praise", "complaint"], 1, ClaimScope.All, null, (_, _) => Task.FromResult<string?>(null), "Edit", "Why?",
            id => { shown.Add(id); return Task.CompletedTask; }));
        await s.StartAsync();
        await s.KeyAsync("h");
        Assert.Equal([ids[0]], shown);
        Assert.Empty(await f.EventsAsync(ids[0]));

        // Every key of the help maps back to its own shortcut, and no two shortcuts share a key.
        var all = FocusKeys.All.SelectMany(k => k.Keys.Select(key => (key, k.Control))).ToList();
        Assert.Equal(all.Count, all.Distinct().Count());
        Assert.All(FocusKeys.All, k => Assert.All(k.Keys, key => Assert.Same(k, FocusKeys.Of(key, k.Control))));
        Assert.Equal(Enum.GetValues<FocusAction>().Length, FocusKeys.All.Select(k => k.Action).Distinct().Count());
    }

    [Fact]
    public async Task Undo_reverts_the_last_decision_and_takes_the_item_back_into_the_assignment()
    {
        await using var f = await ReviewAssignmentTests.ArrangeAsync();
        var ids = await f.AddAsync(3);
        var s = Session(f, f.R1);
        await s.StartAsync();
        await s.KeyAsync("a");
        Assert.Equal(ids[1], s.Current!.Id);

        await s.KeyAsync("u");

        Assert.Equal((ids[0], CandidateStatus.Pending), (s.Current!.Id, s.Current.Status));
        Assert.Equal(CandidateStatus.Pending, (await f.GetAsync(ids[0])).Status);
        // R1 holds ids[0] again (and still ids[1]): another reviewer is handed the third item.
        Assert.Equal(ids[2], (await f.Claim.ClaimNextAsync(f.R2, f.TaskId))!.Id);
        Assert.Equal([DecisionKind.Approve, DecisionKind.Undo], (await f.EventsAsync(ids[0])).Select(e => e.Kind));
        // Nothing more of this session to undo.
        await s.KeyAsync("u");
        Assert.Equal(2, (await f.EventsAsync(ids[0])).Count);
    }

    [Fact]
    public async Task Skipping_gives_the_item_back_and_hands_the_next()
    {
        await using var f = await ReviewAssignmentTests.ArrangeAsync();
        var ids = await f.AddAsync(2);
        var s = Session(f, f.R1);
        await s.StartAsync();

        await s.KeyAsync("j");

        Assert.Equal(ids[1], s.Current!.Id);
        Assert.Equal(ids[0], (await f.Claim.ClaimNextAsync(f.R2, f.TaskId))!.Id);
        Assert.Empty(await f.EventsAsync(ids[0]));
    }

    [Fact]
    public async Task A_key_after_the_lease_ran_out_and_someone_took_the_item_is_not_applied_and_moves_on()
    {
        await using var f = await ReviewAssignmentTests.ArrangeAsync();
        var ids = await f.AddAsync(2);
        var s = Session(f, f.R1);
        await s.StartAsync();
        f.Clock.Advance(TimeSpan.FromMinutes(10) + TimeSpan.FromSeconds(1));
        Assert.Equal(ids[0], (await f.Claim.ClaimNextAsync(f.R2, f.TaskId))!.Id);

        var notice = await s.KeyAsync("a");

        Assert.Equal(FocusNotice.LeaseLost, notice);
        Assert.Empty(await f.EventsAsync(ids[0]));
        Assert.Equal(CandidateStatus.Pending, (await f.GetAsync(ids[0])).Status);
        Assert.Equal(ids[1], s.Current!.Id);
    }

    [Fact]
    public async Task Working_on_an_item_renews_its_lease()
    {
        await using var f = await ReviewAssignmentTests.ArrangeAsync();
        var ids = await f.AddAsync(2);
        var s = Session(f, f.R1);
        await s.StartAsync();

        f.Clock.Advance(TimeSpan.FromMinutes(9));
        Assert.Equal(FocusNotice.None, await s.KeyAsync("?"));
        f.Clock.Advance(TimeSpan.FromMinutes(9));   // 18 minutes after the claim, 9 after the key

        Assert.Equal(ids[1], (await f.Claim.ClaimNextAsync(f.R2, f.TaskId))!.Id);
        Assert.Equal(FocusNotice.None, await s.KeyAsync("a"));
        Assert.Equal(CandidateStatus.Approved, (await f.GetAsync(ids[0])).Status);
    }

    [Fact]
    public async Task A_decision_someone_else_made_first_stands_and_the_session_moves_on()
    {
        await using var f = await ReviewAssignmentTests.ArrangeAsync();
        var ids = await f.AddAsync(1);
        var s = Session(f, f.R1);
        await s.StartAsync();
        // A bulk decision is a confirmed override: it ignores R1's lease.
        var preview = await f.Bulk.PreviewAsync(f.R2, f.TaskId, new CandidateFilter());
        await f.Bulk.ApplyAsync(f.R2, f.TaskId, new CandidateFilter(), new Decision(DecisionKind.Reject, RejectionReason.OffTask), preview.Total, preview.AlreadyDecided);

        var notice = await s.KeyAsync("a");

        Assert.Equal(FocusNotice.Conflict, notice);
        Assert.Null(s.Current);
        Assert.Equal(CandidateStatus.Rejected, (await f.GetAsync(ids[0])).Status);
        var lost = Assert.Single(await f.EventsAsync(ids[0]), e => e.Lost);
        Assert.Equal((f.R1, DecisionKind.Approve), (lost.UserId, lost.Kind));
    }

    [Fact]
    public async Task In_overlap_mode_a_label_key_is_the_reviewers_vote_and_moves_on()
    {
        await using var f = await ReviewAssignmentTests.ArrangeAsync(overlap: 2);
        var ids = await f.AddAsync(2);
        var s = Session(f, f.R1, overlap: 2);
        await s.StartAsync();

        await s.KeyAsync("2");

        Assert.Equal(ids[1], s.Current!.Id);
        Assert.Equal(CandidateStatus.Pending, (await f.GetAsync(ids[0])).Status);
        await using var db = await f.Host.Db.CreateDbContextAsync();
        var vote = await db.ReviewVotes.SingleAsync(v => v.CandidateId == ids[0]);
        Assert.Equal((f.R1, "complaint", CandidateStatus.Approved), (vote.UserId, vote.Label, vote.Status));
    }

    [Fact]
    public async Task Edits_and_other_reasons_ask_first_cancel_changes_nothing_and_bad_input_leaves_the_session_as_it_was()
    {
        await using var f = await ReviewAssignmentTests.ArrangeAsync();
        var ids = await f.AddAsync(2);
        var s = Session(f, f.R1, answers: ["Sample 0, corrected.", null, "   ", "mentions a rival"]);
        await s.StartAsync();

        await s.KeyAsync("e");
        Assert.Equal(("Sample 0, corrected.", ids[0]), (s.Current!.EditedText, s.Current.Id));
        await s.KeyAsync("e");   // cancelled
        Assert.Single(await f.EventsAsync(ids[0]));
        var invalid = await Assert.ThrowsAsync<DomainValidationException>(() => s.KeyAsync("e"));
        Assert.Equal("EditEmpty", Assert.Single(invalid.Details).Code);
        Assert.Equal(("Sample 0, corrected.", ids[0], 0), (s.Current!.EditedText, s.Current.Id, s.Index));

        await s.KeyAsync("r");
        await s.KeyAsync((Array.IndexOf(FocusSession.Reasons.ToArray(), RejectionReason.Other) + 1).ToString(System.Globalization.CultureInfo.InvariantCulture));
        var c = await f.GetAsync(ids[0]);
        Assert.Equal((CandidateStatus.Rejected, "Other: mentions a rival"), (c.Status, c.ReviewReason));
        Assert.Equal(ids[1], s.Current!.Id);
    }

    [Fact]
    public async Task Waiting_with_nothing_to_do_takes_an_item_that_arrives_and_leaving_gives_everything_back()
    {
        await using var f = await ReviewAssignmentTests.ArrangeAsync();
        await f.AddAsync(1);
        var s = Session(f, f.R1);
        await s.StartAsync();
        await s.KeyAsync("a");
        Assert.Null(s.Current);

        var arrived = await f.AddAsync(1, "complaint");
        await s.TaskChangedAsync(leasesOnly: false);

        Assert.Equal(arrived[0], s.Current!.Id);
        await s.LeaveAsync();
        Assert.Equal(arrived[0], (await f.Claim.ClaimNextAsync(f.R2, f.TaskId))!.Id);
    }

    [Fact]
    public async Task A_spot_check_is_walked_item_by_item_whatever_the_status_without_leases()
    {
        await using var f = await ReviewAssignmentTests.ArrangeAsync();
        var ids = await f.AddAsync(3);
        await f.Decide.DecideAsync(f.R2, ids[1], new Decision(DecisionKind.Approve), 0);
        var spot = Guid.NewGuid();
        await using (var db = await f.Host.Db.CreateDbContextAsync())
        {
            var version = await db.TaskVersions.SingleAsync(v => v.TaskId == f.TaskId);
            var run = new Incubator.Domain.Generation.GenerationRun
            {
                Id = Guid.NewGuid(), ProjectId = f.ProjectId, TaskId = f.TaskId, TaskVersionId = version.Id, TaskVersionNumber = 1, ConnectionId = Guid.NewGuid(),
                PerLabelTarget = 3, CreatedAt = f.Clock.Now,
            };
            db.GenerationRuns.Add(run);
            db.SpotChecks.Add(new SpotCheck { Id = spot, ProjectId = f.ProjectId, TaskId = f.TaskId, RunId = run.Id, SampleSize = 2, CreatedAt = f.Clock.Now });
            db.SpotCheckItems.AddRange(new SpotCheckItem { SpotCheckId = spot, CandidateId = ids[1] }, new SpotCheckItem { SpotCheckId = spot, CandidateId = ids[2] });
            await db.SaveChangesAsync();
        }
        var s = Session(f, f.R1, spotCheck: spot);

        await s.StartAsync();

        Assert.False(s.Assigned);
        Assert.Equal([ids[1], ids[2]], s.Items.Select(i => i.Id));
        await s.KeyAsync("j");
        await s.KeyAsync("a");
        Assert.Equal(CandidateStatus.Approved, (await f.GetAsync(ids[2])).Status);
        Assert.Null(s.Current);
        await using (var db = await f.Host.Db.CreateDbContextAsync())
            Assert.Empty(await db.ReviewLeases.ToListAsync());
    }
}
