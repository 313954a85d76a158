using Incubator.Domain.Data;
using Incubator.Domain.Common.Events;
using Incubator.Domain.Common;
using Incubator.Domain.Generation;
using Incubator.Domain.Jobs;
using Incubator.Domain.Projects;
using Incubator.Domain.Review;
using Incubator.Domain.Tasks;
using Incubator.Tests.Infrastructure;
using Incubator.Tests.Jobs;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.Review;

/// <summary>Review decisions, their audit trail, bulk decisions and listing, on real SQLite and PostgreSQL databases.</summary>
public sealed class ReviewServiceTests
{
    private sealed record Fixture(JobTestHost Host, Guid ProjectId, Guid TaskId, string Reviewer, string Reviewer2, string Viewer) : IAsyncDisposable
    {
        public DecideCandidate Decide => Host.Services.GetRequiredService<DecideCandidate>();

        public BulkDecide Bulk => Host.Services.GetRequiredService<BulkDecide>();

        public ReviewQueries Queries => Host.Services.GetRequiredService<ReviewQueries>();

        public ValueTask DisposeAsync() => Host.DisposeAsync();

        public async Task<Guid> AddAsync(string label, string text, CandidateStatus status = CandidateStatus.Pending, DateTimeOffset? at = null,
            CandidateStage stage = CandidateStage.Selected, bool ambiguous = false)
        {
            var c = new Candidate
            {
                Id = Guid.NewGuid(), ProjectId = ProjectId, TaskId = TaskId, TaskVersionNumber = 1, Label = label, Text = text,
                NormalizedText = TextNormalizer.Normalize(text), Source = CandidateSource.Generation, Stage = stage, Status = status,
                IsAmbiguous = ambiguous, CreatedAt = at ?? JobTestHost.UtcNowMs(),
            };
            return await Host.AddCandidateAsync(c);
        }

        public Task<Candidate> GetAsync(Guid id) => Host.GetCandidateAsync(id);

        public async Task<List<ReviewEvent>> EventsAsync(Guid id)
        {
            await using var db = await Host.Db.CreateDbContextAsync();
            return await db.ReviewEvents.AsNoTracking().Where(e => e.CandidateId == id).OrderBy(e => e.Id).ToListAsync();
        }
    }

    private static async Task<Fixture> ArrangeAsync(DatabaseProvider provider = DatabaseProvider.Sqlite, Action<IServiceCollection>? configure = null)
    {
        var host = await JobTestHost.CreateAsync(configure: s =>
        {
            s.AddIncubatorReview(JobTestHost.NoSettings);
            configure?.Invoke(s);
        }, provider: provider);
        var projectId = await host.CreateProjectAsync("review");
        var reviewer = await host.CreateUserAsync(projectId, ProjectRole.Reviewer, "reviewer");
        var reviewer2 = await host.CreateUserAsync(projectId, ProjectRole.Reviewer, "reviewer2");
        var viewer = await host.CreateUserAsync(projectId, ProjectRole.Viewer, "viewer");
        var taskId = Guid.NewGuid();
        var spec = new TaskSpec
        {
            Name = "Reviews", Instruction = "Sort guest reviews into praise and complaint.",
            Labels = [new LabelSpec { Name = "praise", Description = "Liked it." }, new LabelSpec { Name = "complaint", Description = "A problem." }],
            Preferences = new TaskPreferences { Language = "en" },
        };
        await using (var db = await host.Db.CreateDbContextAsync())
        {
            db.Tasks.Add(new ClassifierTask { Id = taskId, ProjectId = projectId, Name = spec.Name, CurrentVersion = 1, CreatedAt = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow });
            db.TaskVersions.Add(new TaskVersion { Id = Guid.NewGuid(), TaskId = taskId, Number = 1, SpecJson = TaskJson.Serialize(spec), ContentHash = Guid.NewGuid().ToString("N"), CreatedAt = DateTimeOffset.UtcNow });
            await db.SaveChangesAsync();
        }
        return new Fixture(host, projectId, taskId, reviewer, reviewer2, viewer);
    }

    [Theory]
    [MemberData(nameof(TestServers.Providers), MemberType = typeof(TestServers))]
    public async Task Approve_sets_status_bumps_version_writes_an_audit_row_and_publishes(DatabaseProvider provider)
    {
        await using var f = await ArrangeAsync(provider: provider);
        var id = await f.AddAsync("praise", "Lovely staff.");
        using var published = new EventSink(f.Host.Services.GetRequiredService<IRunEvents>(), f.ProjectId);

        var row = await f.Decide.DecideAsync(f.Reviewer, id, new Decision(DecisionKind.Approve), expectedVersion: 0);

        Assert.Equal(CandidateStatus.Approved, row.Status);
        Assert.Equal(1, row.Version);
        Assert.NotNull(row.ReviewedAt);
        Assert.StartsWith("reviewer-", row.ReviewedByEmail);
        var e = Assert.Single(await f.EventsAsync(id));
        Assert.Equal((DecisionKind.Approve, CandidateStatus.Pending, CandidateStatus.Approved, false, f.Reviewer), (e.Kind, e.StatusBefore, e.StatusAfter, e.Lost, e.UserId));
        await published.WaitForAsync<ReviewChanged>();
        await published.SettledAsync();
        var p = Assert.Single(published.Of<ReviewChanged>());
        Assert.Equal((id, f.TaskId, CandidateStatus.Approved, "praise"), (p.CandidateId, p.TaskId, p.Status, p.Label));
    }

    [Fact]
    public async Task Reject_keeps_reason_and_comment()
    {
        await using var f = await ArrangeAsync();
        var id = await f.AddAsync("praise", "Lovely staff.");

        var row = await f.Decide.DecideAsync(f.Reviewer, id, new Decision(DecisionKind.Reject, RejectionReason.Other, "  mentions a competitor "), 0);

        Assert.Equal(CandidateStatus.Rejected, row.Status);
        Assert.Equal(RejectionReason.Other, row.RejectionReason);
        Assert.Equal("Other: mentions a competitor", row.ReviewReason);
        var e = Assert.Single(await f.EventsAsync(id));
        Assert.Equal((DecisionKind.Reject, RejectionReason.Other, "mentions a competitor", CandidateStatus.Rejected), (e.Kind, e.Reason, e.Comment, e.StatusAfter));
    }

    [Fact]
    public async Task Edit_keeps_the_original_text_and_the_status()
    {
        await using var f = await ArrangeAsync();
        var id = await f.AddAsync("praise", "Lovely staf.");

        var row = await f.Decide.DecideAsync(f.Reviewer, id, new Decision(DecisionKind.Edit, NewText: "Lovely staff."), 0);

        Assert.Equal(("Lovely staf.", "Lovely staff.", CandidateStatus.Pending), (row.Text, row.EditedText, row.Status));
        var e = Assert.Single(await f.EventsAsync(id));
        Assert.Equal((DecisionKind.Edit, (string?)null, "Lovely staff."), (e.Kind, e.TextBefore, e.TextAfter));
    }

    [Theory]
    [MemberData(nameof(TestServers.Providers), MemberType = typeof(TestServers))]
    public async Task Relabel_changes_the_label_and_keeps_the_generators_label(DatabaseProvider provider)
    {
        await using var f = await ArrangeAsync(provider: provider);
        var id = await f.AddAsync("praise", "The lift was broken.");

        var row = await f.Decide.DecideAsync(f.Reviewer, id, new Decision(DecisionKind.Relabel, NewLabel: "complaint"), 0);
        Assert.Equal(("complaint", "praise"), (row.Label, row.OriginalLabel));
        // A second relabel keeps the generator's label, not the intermediate one.
        row = await f.Decide.DecideAsync(f.Reviewer, id, new Decision(DecisionKind.Relabel, NewLabel: "praise"), row.Version);
        Assert.Equal("praise", row.Label);
        Assert.Null(row.OriginalLabel);

        var events = await f.EventsAsync(id);
        Assert.Equal([("praise", "complaint"), ("complaint", "praise")], events.Select(e => (e.LabelBefore, e.LabelAfter)));
    }

    [Theory]
    [MemberData(nameof(TestServers.Providers), MemberType = typeof(TestServers))]
    public async Task Undo_restores_the_previous_state_step_by_step_and_is_itself_audited(DatabaseProvider provider)
    {
        await using var f = await ArrangeAsync(provider: provider);
        var id = await f.AddAsync("praise", "The lift was broken.");
        var r = await f.Decide.DecideAsync(f.Reviewer, id, new Decision(DecisionKind.Reject, RejectionReason.WrongLabel), 0);
        r = await f.Decide.DecideAsync(f.Reviewer, id, new Decision(DecisionKind.Relabel, NewLabel: "complaint"), r.Version);
        r = await f.Decide.DecideAsync(f.Reviewer, id, new Decision(DecisionKind.Approve), r.Version);
        Assert.Equal((CandidateStatus.Approved, "complaint", (RejectionReason?)null), (r.Status, r.Label, r.RejectionReason));

        r = await f.Decide.DecideAsync(f.Reviewer2, id, new Decision(DecisionKind.Undo), r.Version);   // undo approve
        Assert.Equal((CandidateStatus.Rejected, "complaint", RejectionReason.WrongLabel, "WrongLabel"), (r.Status, r.Label, r.RejectionReason, r.ReviewReason));
        r = await f.Decide.DecideAsync(f.Reviewer2, id, new Decision(DecisionKind.Undo), r.Version);   // undo relabel
        Assert.Equal((CandidateStatus.Rejected, "praise", (string?)null), (r.Status, r.Label, r.OriginalLabel));
        r = await f.Decide.DecideAsync(f.Reviewer2, id, new Decision(DecisionKind.Undo), r.Version);   // undo reject
        Assert.Equal((CandidateStatus.Pending, (RejectionReason?)null, (string?)null, (DateTimeOffset?)null), (r.Status, r.RejectionReason, r.ReviewReason, r.ReviewedAt));

        var ex = await Assert.ThrowsAsync<DomainValidationException>(() => f.Decide.DecideAsync(f.Reviewer, id, new Decision(DecisionKind.Undo), r.Version));
        Assert.Equal("NothingToUndo", Assert.Single(ex.Details).Code);

        var audit = await f.Queries.AuditAsync(f.Viewer, id);
        Assert.Equal(
            [DecisionKind.Reject, DecisionKind.Relabel, DecisionKind.Approve, DecisionKind.Undo, DecisionKind.Undo, DecisionKind.Undo],
            audit.Select(a => a.Kind));
        Assert.Equal((CandidateStatus.Approved, CandidateStatus.Rejected), (audit[3].StatusBefore, audit[3].StatusAfter));
        Assert.All(audit.Skip(3), a => Assert.StartsWith("reviewer2-", a.UserEmail));
    }

    public static TheoryData<string, string> InvalidDecisions => new()
    {
        { "reject-no-reason", "ReasonRequired" },
        { "other-no-comment", "CommentRequired" },
        { "edit-empty", "EditEmpty" },
        { "relabel-unknown", "LabelUnknown" },
        { "undo-nothing", "NothingToUndo" },
    };

    [Theory]
    [MemberData(nameof(InvalidDecisions))]
    public async Task An_invalid_decision_is_refused_with_its_code_and_changes_nothing(string which, string code)
    {
        await using var f = await ArrangeAsync();
        var id = await f.AddAsync("praise", "Lovely staff.");
        var decision = which switch
        {
            "reject-no-reason" => new Decision(DecisionKind.Reject),
            "other-no-comment" => new Decision(DecisionKind.Reject, RejectionReason.Other, "   "),
            "edit-empty" => new Decision(DecisionKind.Edit, NewText: " \n "),
            "relabel-unknown" => new Decision(DecisionKind.Relabel, NewLabel: "neutral"),
            _ => new Decision(DecisionKind.Undo),
        };
        var before = await f.GetAsync(id);

        var ex = await Assert.ThrowsAsync<DomainValidationException>(() => f.Decide.DecideAsync(f.Reviewer, id, decision, 0));

        Assert.Equal(code, Assert.Single(ex.Details).Code);
        var after = await f.GetAsync(id);
        Assert.Equal((before.Status, before.Label, before.EditedText, before.Version, before.ReviewReason), (after.Status, after.Label, after.EditedText, after.Version, after.ReviewReason));
        Assert.Empty(await f.EventsAsync(id));
    }

    [Fact]
    public async Task A_viewer_may_read_but_not_decide()
    {
        await using var f = await ArrangeAsync();
        var id = await f.AddAsync("praise", "Lovely staff.");

        await Assert.ThrowsAsync<ForbiddenException>(() => f.Decide.DecideAsync(f.Viewer, id, new Decision(DecisionKind.Approve), 0));
        await Assert.ThrowsAsync<ForbiddenException>(() => f.Bulk.ApplyAsync(f.Viewer, f.TaskId, new CandidateFilter(), new Decision(DecisionKind.Approve), 1, 0));
        var outsider = await f.Host.CreateUserAsync(f.ProjectId, null, "outsider");
        await Assert.ThrowsAsync<ForbiddenException>(() => f.Queries.QueryAsync(outsider, f.TaskId, new CandidateFilter(), 0, 10));

        var page = await f.Queries.QueryAsync(f.Viewer, f.TaskId, new CandidateFilter(), 0, 10);
        Assert.Equal(CandidateStatus.Pending, Assert.Single(page.Items).Status);
        Assert.Empty(await f.EventsAsync(id));
    }

    [Theory]
    [MemberData(nameof(TestServers.Providers), MemberType = typeof(TestServers))]
    public async Task A_stale_version_is_refused_kept_as_a_lost_attempt_and_names_the_decision_that_stands(DatabaseProvider provider)
    {
        await using var f = await ArrangeAsync(provider: provider);
        var id = await f.AddAsync("praise", "Lovely staff.");
        await f.Decide.DecideAsync(f.Reviewer, id, new Decision(DecisionKind.Reject, RejectionReason.Duplicate), 0);

        var ex = await Assert.ThrowsAsync<ConflictException>(() => f.Decide.DecideAsync(f.Reviewer2, id, new Decision(DecisionKind.Approve), 0));

        Assert.Contains("rejected it (Duplicate)", ex.Message);
        Assert.Contains("reviewer-", ex.Message);
        var c = await f.GetAsync(id);
        Assert.Equal((CandidateStatus.Rejected, 1L), (c.Status, c.Version));
        var events = await f.EventsAsync(id);
        Assert.Equal([false, true], events.Select(e => e.Lost));
        Assert.Equal((f.Reviewer2, DecisionKind.Approve), (events[1].UserId, events[1].Kind));
    }

    [Theory]
    [MemberData(nameof(TestServers.Providers), MemberType = typeof(TestServers))]
    public async Task Two_reviewers_deciding_at_the_same_moment_one_decision_stands_and_both_attempts_are_audited(DatabaseProvider provider)
    {
        await using var f = await ArrangeAsync(provider: provider);
        for (var round = 0; round < 5; round++)
        {
            var id = await f.AddAsync("praise", $"Lovely staff, visit {round}.");
            var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            async Task<Exception?> Attempt(string user, Decision d)
            {
                await gate.Task;
                try
                {
                    await f.Decide.DecideAsync(user, id, d, expectedVersion: 0);
                    return null;
                }
                catch (Exception ex)
                {
                    return ex;
                }
            }
            var a = Task.Run(() => Attempt(f.Reviewer, new Decision(DecisionKind.Approve)));
            var b = Task.Run(() => Attempt(f.Reviewer2, new Decision(DecisionKind.Reject, RejectionReason.LowQuality)));
            gate.SetResult();
            var results = await Task.WhenAll(a, b);

            Assert.Single(results, r => r is null);
            Assert.IsType<ConflictException>(Assert.Single(results, r => r is not null));
            var winner = results[0] is null ? f.Reviewer : f.Reviewer2;
            var c = await f.GetAsync(id);
            Assert.Equal(1L, c.Version);
            Assert.Equal(winner == f.Reviewer ? CandidateStatus.Approved : CandidateStatus.Rejected, c.Status);
            var events = await f.EventsAsync(id);
            Assert.Equal(2, events.Count);
            Assert.Equal(winner, Assert.Single(events, e => !e.Lost).UserId);
            Assert.NotEqual(winner, Assert.Single(events, e => e.Lost).UserId);
        }
    }

    [Theory]
    [MemberData(nameof(TestServers.Providers), MemberType = typeof(TestServers))]
    public async Task Bulk_preview_counts_then_applies_with_one_audit_row_each(DatabaseProvider provider)
    {
        await using var f = await ArrangeAsync(provider: provider);
        var ids = new List<Guid>();
        for (var i = 0; i < 4; i++) ids.Add(await f.AddAsync("praise", $"Nice room {i}."));
        var decided = await f.AddAsync("praise", "Nice view.", CandidateStatus.Rejected);
        await f.AddAsync("complaint", "Cold shower.");
        var filter = new CandidateFilter(Label: "praise");

        var preview = await f.Bulk.PreviewAsync(f.Viewer, f.TaskId, filter);
        Assert.Equal(new BulkPreview(5, 1), preview);

        var n = await f.Bulk.ApplyAsync(f.Reviewer, f.TaskId, filter, new Decision(DecisionKind.Approve), preview.Total, preview.AlreadyDecided);

        Assert.Equal(5, n);
        foreach (var id in ids.Append(decided))
        {
            Assert.Equal(CandidateStatus.Approved, (await f.GetAsync(id)).Status);
            Assert.Equal(DecisionKind.Approve, Assert.Single(await f.EventsAsync(id)).Kind);
        }
        var counts = await f.Queries.CountsAsync(f.Viewer, f.TaskId);
        Assert.Equal((1, 5, 0), (counts[CandidateStatus.Pending], counts[CandidateStatus.Approved], counts[CandidateStatus.Rejected]));
    }

    /// <summary>Runs a hook once, after the first transaction that commits while it is armed.</summary>
    private sealed class AfterFirstCommit : Microsoft.EntityFrameworkCore.Diagnostics.DbTransactionInterceptor
    {
        private Func<Task>? _hook;

        public int Commits;

        public void Arm(Func<Task> hook) => _hook = hook;

        public override async Task TransactionCommittedAsync(System.Data.Common.DbTransaction transaction,
            Microsoft.EntityFrameworkCore.Diagnostics.TransactionEndEventData eventData, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref Commits);
            if (Interlocked.Exchange(ref _hook, null) is { } hook) await hook();
        }
    }

    [Theory]
    [MemberData(nameof(TestServers.Providers), MemberType = typeof(TestServers))]
    public async Task Bulk_decides_in_short_batches_and_a_sample_someone_else_decided_meanwhile_keeps_their_decision(DatabaseProvider provider)
    {
        var commits = new AfterFirstCommit();
        await using var f = await ArrangeAsync(provider, s => s.AddSingleton<Microsoft.EntityFrameworkCore.Diagnostics.IInterceptor>(commits));
        var t0 = JobTestHost.UtcNowMs();
        var ids = Enumerable.Range(0, 1200).Select(_ => Guid.NewGuid()).ToList();
        await using (var db = await f.Host.Db.CreateDbContextAsync())
        {
            db.Candidates.AddRange(ids.Select((id, i) => new Candidate
            {
                Id = id, ProjectId = f.ProjectId, TaskId = f.TaskId, TaskVersionNumber = 1, Label = "praise", Text = $"Nice stay {i}.",
                NormalizedText = $"nice stay {i}.", Source = CandidateSource.Generation, Stage = CandidateStage.Selected, CreatedAt = t0.AddSeconds(i),
            }));
            await db.SaveChangesAsync();
        }
        var filter = new CandidateFilter(Status: CandidateStatus.Pending);
        var preview = await f.Bulk.PreviewAsync(f.Reviewer, f.TaskId, filter);
        Assert.Equal((1200, 0), (preview.Total, preview.AlreadyDecided));
        // After the first batch commits, another reviewer rejects the newest sample (in the last batch).
        commits.Arm(() => f.Decide.DecideAsync(f.Reviewer2, ids[^1], new Decision(DecisionKind.Reject, RejectionReason.OffTask), 0));
        var before = commits.Commits;

        var progress = new List<BulkProgress>();
        var changed = await f.Bulk.ApplyAsync(f.Reviewer, f.TaskId, filter, new Decision(DecisionKind.Approve), preview.Total, preview.AlreadyDecided,
            new SyncProgress(progress.Add));

        Assert.Equal(1199, changed);
        // Progress after each committed batch, counting the sample the other reviewer took as gone through.
        Assert.Equal([new BulkProgress(500, 1200), new BulkProgress(1000, 1200), new BulkProgress(1200, 1200)], progress);
        // Three batches of at most 500, plus the other reviewer's decision: never one transaction for the whole queue.
        Assert.Equal(4, commits.Commits - before);
        Assert.Equal(CandidateStatus.Rejected, (await f.GetAsync(ids[^1])).Status);
        Assert.Equal(DecisionKind.Reject, Assert.Single(await f.EventsAsync(ids[^1])).Kind);
        Assert.Equal(DecisionKind.Approve, Assert.Single(await f.EventsAsync(ids[0])).Kind);
        var counts = await f.Queries.CountsAsync(f.Viewer, f.TaskId);
        Assert.Equal((0, 1199, 1), (counts[CandidateStatus.Pending], counts[CandidateStatus.Approved], counts[CandidateStatus.Rejected]));
    }

    [Theory]
    [MemberData(nameof(TestServers.Providers), MemberType = typeof(TestServers))]
    public async Task Bulk_is_refused_when_the_selection_changed_and_when_it_is_empty_or_not_approve_or_reject(DatabaseProvider provider)
    {
        await using var f = await ArrangeAsync(provider: provider);
        var first = await f.AddAsync("praise", "Nice room.");
        var filter = new CandidateFilter(Label: "praise");
        var preview = await f.Bulk.PreviewAsync(f.Reviewer, f.TaskId, filter);
        var added = await f.AddAsync("praise", "Nice pool.");   // arrives after the preview

        await Assert.ThrowsAsync<ConflictException>(() =>
            f.Bulk.ApplyAsync(f.Reviewer, f.TaskId, filter, new Decision(DecisionKind.Reject, RejectionReason.OffTask), preview.Total, preview.AlreadyDecided));
        Assert.Equal(CandidateStatus.Pending, (await f.GetAsync(first)).Status);
        Assert.Equal(CandidateStatus.Pending, (await f.GetAsync(added)).Status);
        Assert.Empty(await f.EventsAsync(first));

        // Someone decided one of them since the preview: same total, different "already decided".
        preview = await f.Bulk.PreviewAsync(f.Reviewer, f.TaskId, filter);
        await f.Decide.DecideAsync(f.Reviewer2, first, new Decision(DecisionKind.Approve), 0);
        await Assert.ThrowsAsync<ConflictException>(() =>
            f.Bulk.ApplyAsync(f.Reviewer, f.TaskId, filter, new Decision(DecisionKind.Reject, RejectionReason.OffTask), preview.Total, preview.AlreadyDecided));
        Assert.Equal(CandidateStatus.Approved, (await f.GetAsync(first)).Status);

        var empty = await Assert.ThrowsAsync<DomainValidationException>(() =>
            f.Bulk.ApplyAsync(f.Reviewer, f.TaskId, new CandidateFilter(Label: "complaint"), new Decision(DecisionKind.Approve), 0, 0));
        Assert.Equal("BulkEmpty", Assert.Single(empty.Details).Code);
        var kind = await Assert.ThrowsAsync<DomainValidationException>(() =>
            f.Bulk.ApplyAsync(f.Reviewer, f.TaskId, filter, new Decision(DecisionKind.Edit, NewText: "x"), 2, 1));
        Assert.Equal("BulkKindUnsupported", Assert.Single(kind.Details).Code);
        var reason = await Assert.ThrowsAsync<DomainValidationException>(() =>
            f.Bulk.ApplyAsync(f.Reviewer, f.TaskId, filter, new Decision(DecisionKind.Reject), 2, 1));
        Assert.Equal("ReasonRequired", Assert.Single(reason.Details).Code);
    }

    [Theory]
    [MemberData(nameof(TestServers.Providers), MemberType = typeof(TestServers))]
    public async Task Query_filters_searches_sorts_and_pages_on_the_server(DatabaseProvider provider)
    {
        await using var f = await ArrangeAsync(provider: provider);
        var t0 = JobTestHost.UtcNowMs().AddHours(-1);
        for (var i = 0; i < 25; i++)
            await f.AddAsync(i % 2 == 0 ? "praise" : "complaint", $"Sample {i:00} about the {(i % 5 == 0 ? "100%_pool" : "garden")}.",
                i % 3 == 0 ? CandidateStatus.Approved : CandidateStatus.Pending, t0.AddMinutes(i), ambiguous: i == 7);
        var edited = await f.AddAsync("praise", "Plain text.", at: t0.AddMinutes(30));
        await f.Decide.DecideAsync(f.Reviewer, edited, new Decision(DecisionKind.Edit, NewText: "Plain text with a Sauna."), 0);

        var all = await f.Queries.QueryAsync(f.Viewer, f.TaskId, new CandidateFilter(), 0, 10);
        Assert.Equal(26, all.Total);
        Assert.Equal(10, all.Items.Count);
        Assert.Equal(edited, all.Items[0].Id);   // newest first
        Assert.Equal("Sample 24 about the garden.", all.Items[1].Text);

        var oldest = await f.Queries.QueryAsync(f.Viewer, f.TaskId, new CandidateFilter(), 2, 10, CandidateSort.Oldest);
        Assert.Equal(["Sample 20", "Sample 21", "Sample 22", "Sample 23", "Sample 24", "Plain tex"], oldest.Items.Select(r => r.Text[..9]));

        var byLabel = await f.Queries.QueryAsync(f.Viewer, f.TaskId, new CandidateFilter(), 0, 100, CandidateSort.Label);
        Assert.Equal(12, byLabel.Items.TakeWhile(r => r.Label == "complaint").Count());

        var approvedPraise = await f.Queries.QueryAsync(f.Viewer, f.TaskId, new CandidateFilter(Label: "praise", Status: CandidateStatus.Approved), 0, 100);
        Assert.Equal([0, 6, 12, 18, 24], approvedPraise.Items.Select(r => int.Parse(r.Text[7..9], System.Globalization.CultureInfo.InvariantCulture)).Order());

        // LIKE wildcards in the search are literal; search is case-insensitive and covers the edited text.
        var literal = await f.Queries.QueryAsync(f.Viewer, f.TaskId, new CandidateFilter(Search: "100%_P"), 0, 100);
        Assert.Equal(5, literal.Total);
        var inEdit = await f.Queries.QueryAsync(f.Viewer, f.TaskId, new CandidateFilter(Search: "sauna"), 0, 100);
        Assert.Equal(edited, Assert.Single(inEdit.Items).Id);
        Assert.Equal(5, (await f.Queries.QueryAsync(f.Viewer, f.TaskId, new CandidateFilter(Search: "%"), 0, 100)).Total);   // not all 26

        var ambiguous = await f.Queries.QueryAsync(f.Viewer, f.TaskId, new CandidateFilter(Ambiguous: true), 0, 100);
        Assert.Equal("Sample 07 about the garden.", Assert.Single(ambiguous.Items).Text);

        var lastPage = await f.Queries.QueryAsync(f.Viewer, f.TaskId, new CandidateFilter(), 2, 10);
        Assert.Equal(6, lastPage.Items.Count);
        Assert.Equal(26, all.Items.Concat((await f.Queries.QueryAsync(f.Viewer, f.TaskId, new CandidateFilter(), 1, 10)).Items).Concat(lastPage.Items).Select(r => r.Id).Distinct().Count());
    }

    [Fact]
    public async Task Project_audit_pages_newest_first()
    {
        await using var f = await ArrangeAsync();
        var id = await f.AddAsync("praise", "Lovely staff.");
        var r = await f.Decide.DecideAsync(f.Reviewer, id, new Decision(DecisionKind.Approve), 0);
        r = await f.Decide.DecideAsync(f.Reviewer, id, new Decision(DecisionKind.Undo), r.Version);
        await f.Decide.DecideAsync(f.Reviewer, id, new Decision(DecisionKind.Edit, NewText: "Lovely staff!"), r.Version);

        var page = await f.Queries.ProjectAuditAsync(f.Viewer, f.ProjectId, 0, 2);

        Assert.Equal(3, page.Total);
        Assert.Equal([DecisionKind.Edit, DecisionKind.Undo], page.Items.Select(e => e.Kind));
    }

    private sealed class SyncProgress(Action<BulkProgress> report) : IProgress<BulkProgress>
    {
        public void Report(BulkProgress value) => report(value);
    }
}
