using System.Collections.Concurrent;
using System.Diagnostics;
using Incubator.Domain.Review;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Incubator.Tests.Review;

/// <summary>The queue page's read: everything it shows in one call, with one membership check where the separate reads
/// the page used to make check it once each.</summary>
public sealed class ReviewQueriesTests
{
    /// <summary>Counts the SQL statements that read project membership on one database (tests run in parallel, so
    /// statements on other tests' databases are ignored).</summary>
    private sealed class MembershipReads : IObserver<DiagnosticListener>, IObserver<KeyValuePair<string, object?>>, IDisposable
    {
        private readonly string _database;
        private readonly IDisposable _all;
        private readonly ConcurrentBag<IDisposable> _subscriptions = [];
        private int _count;

        public MembershipReads(string database)
        {
            _database = database;
            _all = DiagnosticListener.AllListeners.Subscribe(this);
        }

        public int Count => Volatile.Read(ref _count);

        public void Reset() => Interlocked.Exchange(ref _count, 0);

        public void OnNext(DiagnosticListener listener)
        {
            if (listener.Name == DbLoggerCategory.Name) _subscriptions.Add(listener.Subscribe(this));
        }

        public void OnNext(KeyValuePair<string, object?> e)
        {
            if (e.Key == RelationalEventId.CommandExecuted.Name && e.Value is CommandExecutedEventData d
                && d.Command.Connection?.DataSource?.Contains(_database, StringComparison.Ordinal) == true
                && d.Command.CommandText.Contains("\"ProjectMembers\"", StringComparison.Ordinal))
                Interlocked.Increment(ref _count);
        }

        public void OnCompleted()
        {
        }

        public void OnError(Exception error)
        {
        }

        public void Dispose()
        {
            _all.Dispose();
            foreach (var s in _subscriptions) s.Dispose();
        }
    }

    [Fact]
    public async Task The_queue_view_reads_counters_page_holders_progress_and_panels_with_one_membership_check()
    {
        await using var f = await ReviewAssignmentTests.ArrangeAsync();
        var ids = await f.AddAsync(4);
        await f.Claim.ClaimNextAsync(f.R1, f.TaskId);
        await f.Decide.DecideAsync(f.R2, ids[1], new Decision(DecisionKind.Relabel, NewLabel: "complaint"), 0);   // still pending
        await f.Decide.DecideAsync(f.R2, ids[2], new Decision(DecisionKind.Reject, RejectionReason.WrongLabel), 0);
        using var reads = new MembershipReads(f.Host.DataDirectory);

        var view = await f.Queries.QueueAsync(f.Viewer, f.TaskId, new CandidateFilter(), 0, 2, CandidateSort.Oldest, withPanels: true);

        Assert.Equal(1, reads.Count);
        Assert.Equal((3, 0, 1), (view.Counts[CandidateStatus.Pending], view.Counts[CandidateStatus.Approved], view.Counts[CandidateStatus.Rejected]));
        Assert.Equal([ids[0], ids[1]], view.Page.Items.Select(i => i.Id));
        Assert.Equal(4, view.Page.Total);
        Assert.StartsWith("r1-", Assert.Single(view.Holders[ids[0]]));
        Assert.Equal([(1, 0), (0, 2)], view.Progress.Select(p => (p.Leased, p.Decided)));
        var disagreement = Assert.Single(view.Panels!.Disagreement);
        Assert.Equal(("praise", 1, 1), (disagreement.Label, disagreement.Decided, disagreement.Disagreed));
        Assert.Null(view.Panels.Agreement);
        Assert.Empty(view.Panels.Conflicts);

        // The same picture read panel by panel, as the page did before: a membership check per read.
        reads.Reset();
        await f.Queries.CountsAsync(f.Viewer, f.TaskId);
        await f.Queries.QueryAsync(f.Viewer, f.TaskId, new CandidateFilter(), 0, 2, CandidateSort.Oldest);
        await f.Queries.HoldersAsync(f.Viewer, f.TaskId, ids);
        await f.Queries.ProgressAsync(f.Viewer, f.TaskId);
        await f.Queries.AgreementAsync(f.Viewer, f.TaskId);
        await f.Queries.ConflictsAsync(f.Viewer, f.TaskId);
        Assert.Equal(6, reads.Count);

        reads.Reset();
        var light = await f.Queries.QueueAsync(f.Viewer, f.TaskId, new CandidateFilter(), 0, 2, CandidateSort.Oldest, withPanels: false);
        Assert.Null(light.Panels);
        Assert.Equal(1, reads.Count);
    }

    [Fact]
    public async Task Focus_status_counts_the_pending_items_of_a_scope_and_runs_of_the_task_are_told_apart()
    {
        await using var f = await ReviewAssignmentTests.ArrangeAsync();
        await f.AddAsync(2, "praise");
        await f.AddAsync(3, "complaint");

        var all = await f.Queries.FocusStatusAsync(f.R1, f.TaskId, null);
        var scoped = await f.Queries.FocusStatusAsync(f.R1, f.TaskId, new ClaimScope(Label: "complaint"));

        Assert.Equal((5, (int?)null), (all.Counts[CandidateStatus.Pending], all.ScopePending));
        Assert.Equal(3, scoped.ScopePending);
        Assert.Empty(await f.Queries.RunsOfTaskAsync(f.R1, f.TaskId, [Guid.NewGuid()]));
        await Assert.ThrowsAsync<Incubator.Domain.Common.ForbiddenException>(() => f.Queries.FocusStatusAsync("nobody", f.TaskId, null));
    }
}
