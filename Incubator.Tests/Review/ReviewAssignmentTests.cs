using Incubator.Tests.Infrastructure;
using Incubator.Domain.Data;
using Incubator.Domain.Common;
using Incubator.Domain.Generation;
using Incubator.Domain.Projects;
using Incubator.Domain.Review;
using Incubator.Domain.Tasks;
using Incubator.Tests.Jobs;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.Review;

/// <summary>A clock the test moves by hand.</summary>
internal sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = start;

    public override DateTimeOffset GetUtcNow() => Now;

    public void Advance(TimeSpan by) => Now += by;
}

/// <summary>Assignment through expiring leases, overlap mode (k independent blind reviews, consensus or a conflict the
/// Owner settles), queue policies and agreement, on a real SQLite database with a hand-moved clock.</summary>
public sealed class ReviewAssignmentTests
{
    internal sealed record Fixture(JobTestHost Host, ManualClock Clock, Guid ProjectId, Guid TaskId, string Owner, string Author, string R1, string R2, string R3, string Viewer)
        : IAsyncDisposable
    {
        public DecideCandidate Decide => Host.Services.GetRequiredService<DecideCandidate>();

        public BulkDecide Bulk => Host.Services.GetRequiredService<BulkDecide>();

        public ReviewQueries Queries => Host.Services.GetRequiredService<ReviewQueries>();

        public SettleConflict Settle => Host.Services.GetRequiredService<SettleConflict>();

        public ClaimNextCandidate Claim => Host.Services.GetRequiredService<ClaimNextCandidate>();

        public SetReviewPolicy Policy => Host.Services.GetRequiredService<SetReviewPolicy>();

        public ValueTask DisposeAsync() => Host.DisposeAsync();

        public async Task<List<Guid>> AddAsync(int n, string label = "praise")
        {
            var ids = new List<Guid>();
            await using var db = await Host.Db.CreateDbContextAsync();
            var t0 = Clock.Now.AddHours(-1);
            for (var i = 0; i < n; i++)
            {
                var text = $"Sample {i} about the stay.";
                var c = new Candidate
                {
                    Id = Guid.NewGuid(), ProjectId = ProjectId, TaskId = TaskId, TaskVersionNumber = 1, Label = label, Text = text,
                    NormalizedText = TextNormalizer.Normalize(text), Source = CandidateSource.Generation, Stage = CandidateStage.Selected,
                    Status = CandidateStatus.Pending, CreatedAt = t0.AddSeconds(i),
                };
                db.Candidates.Add(c);
                ids.Add(c.Id);
            }
            await db.SaveChangesAsync();
            return ids;
        }

        public async Task<Candidate> GetAsync(Guid id)
        {
            await using var db = await Host.Db.CreateDbContextAsync();
            return await db.Candidates.AsNoTracking().SingleAsync(c => c.Id == id);
        }

        public async Task<List<ReviewEvent>> EventsAsync(Guid id)
        {
            await using var db = await Host.Db.CreateDbContextAsync();
            return await db.ReviewEvents.AsNoTracking().Where(e => e.CandidateId == id).OrderBy(e => e.Id).ToListAsync();
        }
    }

    internal static async Task<Fixture> ArrangeAsync(int overlap = 1, DatabaseProvider provider = DatabaseProvider.Sqlite)
    {
        var start = JobTestHost.UtcNowMs();
        var clock = new ManualClock(start);
        var host = await JobTestHost.CreateAsync(configure: s =>
        {
            s.AddIncubatorReview(JobTestHost.NoSettings);
            s.AddSingleton<TimeProvider>(clock);
        }, provider: provider);
        var projectId = await host.CreateProjectAsync("assign");
        var owner = await host.CreateUserAsync(projectId, ProjectRole.Owner, "owner");
        var author = await host.CreateUserAsync(projectId, ProjectRole.Author, "author");
        var r1 = await host.CreateUserAsync(projectId, ProjectRole.Reviewer, "r1");
        var r2 = await host.CreateUserAsync(projectId, ProjectRole.Reviewer, "r2");
        var r3 = await host.CreateUserAsync(projectId, ProjectRole.Reviewer, "r3");
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
            db.Tasks.Add(new ClassifierTask { Id = taskId, ProjectId = projectId, Name = spec.Name, CurrentVersion = 1, CreatedAt = start, UpdatedAt = start });
            db.TaskVersions.Add(new TaskVersion { Id = Guid.NewGuid(), TaskId = taskId, Number = 1, SpecJson = TaskJson.Serialize(spec), ContentHash = Guid.NewGuid().ToString("N"), CreatedAt = start });
            await db.SaveChangesAsync();
        }
        var f = new Fixture(host, clock, projectId, taskId, owner, author, r1, r2, r3, viewer);
        if (overlap != 1) await f.Policy.SetAsync(author, taskId, overlap, 0.9);
        return f;
    }

    // ---- leases -------------------------------------------------------------------------------------------------

    [Theory]
    [MemberData(nameof(TestServers.Providers), MemberType = typeof(TestServers))]
    public async Task A_lease_expires_after_ten_minutes_without_activity_and_the_item_returns_to_the_pool(DatabaseProvider provider)
    {
        await using var f = await ArrangeAsync(provider: provider);
        var ids = await f.AddAsync(3);

        var a = await f.Claim.ClaimNextAsync(f.R1, f.TaskId);
        var b = await f.Claim.ClaimNextAsync(f.R2, f.TaskId);
        Assert.Equal(ids[0], a!.Id);
        Assert.Equal(ids[1], b!.Id);
        // Asking again returns the item you hold, not a new one.
        Assert.Equal(ids[0], (await f.Claim.ClaimNextAsync(f.R1, f.TaskId))!.Id);

        // R1 keeps working: 9 minutes, renew, 9 more minutes — still theirs.
        f.Clock.Advance(TimeSpan.FromMinutes(9));
        Assert.True(await f.Claim.RenewAsync(f.R1, ids[0]));
        Assert.True(await f.Claim.RenewAsync(f.R2, ids[1]));
        f.Clock.Advance(TimeSpan.FromMinutes(9));
        Assert.Equal(ids[2], (await f.Claim.ClaimNextAsync(f.R3, f.TaskId))!.Id);
        var refused = await Assert.ThrowsAsync<ConflictException>(() => f.Decide.DecideAsync(f.R3, ids[0], new Decision(DecisionKind.Approve), 0));
        Assert.Contains("r1-", refused.Message);
        Assert.Equal((CandidateStatus.Pending, 0L), ((await f.GetAsync(ids[0])).Status, (await f.GetAsync(ids[0])).Version));
        Assert.True(Assert.Single(await f.EventsAsync(ids[0])).Lost);

        // Then R1 goes quiet: after more than ten minutes the item is free again, and R3 (done with theirs) gets it.
        f.Clock.Advance(TimeSpan.FromMinutes(10) + TimeSpan.FromSeconds(1));
        await f.Decide.DecideAsync(f.R3, ids[2], new Decision(DecisionKind.Approve), 0);
        Assert.Equal(ids[0], (await f.Claim.ClaimNextAsync(f.R3, f.TaskId))!.Id);
        // R1's lease is gone: they cannot take it back while R3 holds it, and their decision is refused.
        Assert.False(await f.Claim.RenewAsync(f.R1, ids[0]));
        await Assert.ThrowsAsync<ConflictException>(() => f.Decide.DecideAsync(f.R1, ids[0], new Decision(DecisionKind.Approve), 0));
        // R2 went quiet too: ids[1] is free again, so R1 is handed it.
        Assert.Equal(ids[1], (await f.Claim.ClaimNextAsync(f.R1, f.TaskId))!.Id);
    }

    [Theory]
    [MemberData(nameof(TestServers.Providers), MemberType = typeof(TestServers))]
    public async Task Deciding_releases_the_lease_editing_renews_it_and_skipping_hands_the_next_item(DatabaseProvider provider)
    {
        await using var f = await ArrangeAsync(provider: provider);
        var ids = await f.AddAsync(3);
        var first = await f.Claim.ClaimNextAsync(f.R1, f.TaskId);
        f.Clock.Advance(TimeSpan.FromMinutes(8));
        var edited = await f.Decide.DecideAsync(f.R1, first!.Id, new Decision(DecisionKind.Edit, NewText: "Sample 0, edited."), 0);
        f.Clock.Advance(TimeSpan.FromMinutes(8));   // 16 minutes after the claim, 8 after the edit: still R1's
        Assert.Equal(ids[1], (await f.Claim.ClaimNextAsync(f.R2, f.TaskId))!.Id);

        await f.Decide.DecideAsync(f.R1, first.Id, new Decision(DecisionKind.Approve), edited.Version);
        var next = await f.Claim.ClaimNextAsync(f.R1, f.TaskId);
        Assert.Equal(ids[2], next!.Id);
        // Skip it: the lease is given back and there is nothing else for R1 (R2 holds ids[1]).
        Assert.Null(await f.Claim.ClaimNextAsync(f.R1, f.TaskId, [ids[2]]));
        Assert.Equal(ids[2], (await f.Claim.ClaimNextAsync(f.R3, f.TaskId))!.Id);
        Assert.Equal(1, await f.Claim.ReleaseAsync(f.R2, f.TaskId));
        Assert.Equal(ids[1], (await f.Claim.ClaimNextAsync(f.R1, f.TaskId))!.Id);

        var holders = await f.Queries.HoldersAsync(f.Viewer, f.TaskId, ids);
        Assert.Equal(new[] { ids[1], ids[2] }.Order(), holders.Keys.Order());
        Assert.StartsWith("r1-", Assert.Single(holders[ids[1]]));
        Assert.StartsWith("r3-", Assert.Single(holders[ids[2]]));
        var progress = await f.Queries.ProgressAsync(f.Viewer, f.TaskId);
        Assert.Equal((1, 2), progress.Where(p => p.Email.StartsWith("r1-")).Select(p => (p.Leased, p.Decided)).Single());
        Assert.Equal((1, 0), progress.Where(p => p.Email.StartsWith("r3-")).Select(p => (p.Leased, p.Decided)).Single());
        await Assert.ThrowsAsync<ForbiddenException>(() => f.Claim.ClaimNextAsync(f.Viewer, f.TaskId));
    }

    // ---- scoped "Review next": the queue's run filter and most-uncertain-first order -------------------------------

    private static async Task<Guid> AddMiningRunAsync(Fixture f)
    {
        await using var db = await f.Host.Db.CreateDbContextAsync();
        var run = new Incubator.Domain.Mining.MiningRun
        {
            Id = Guid.NewGuid(), ProjectId = f.ProjectId, TaskId = f.TaskId, TaskVersionNumber = 1, CorpusName = "tickets", Embedder = "char-ngram",
            PerLabel = 10, Margin = 0.03, CreatedAt = f.Clock.Now,
        };
        db.MiningRuns.Add(run);
        await db.SaveChangesAsync();
        return run.Id;
    }

    /// <summary>Sets the mining run and the active-learning uncertainty of existing candidates (null: not scored).</summary>
    private static async Task ScoreAsync(Fixture f, Guid runId, IReadOnlyList<Guid> ids, params double?[] uncertainty)
    {
        await using var db = await f.Host.Db.CreateDbContextAsync();
        for (var i = 0; i < ids.Count; i++)
        {
            var (id, u) = (ids[i], uncertainty[i]);
            await db.Candidates.Where(c => c.Id == id).ExecuteUpdateAsync(x => x
                .SetProperty(c => c.MiningRunId, runId).SetProperty(c => c.Source, CandidateSource.Mining).SetProperty(c => c.Uncertainty, u));
        }
    }

    [Theory]
    [MemberData(nameof(TestServers.Providers), MemberType = typeof(TestServers))]
    public async Task Review_next_scoped_to_a_run_most_uncertain_first_hands_out_that_runs_most_uncertain_pending_item_and_nothing_from_other_runs(DatabaseProvider provider)
    {
        await using var f = await ArrangeAsync(provider: provider);
        var (runA, runB) = (await AddMiningRunAsync(f), await AddMiningRunAsync(f));
        var a = await f.AddAsync(5);          // oldest first: a[0] .. a[4], then b, then loose
        f.Clock.Advance(TimeSpan.FromMinutes(1));
        var b = await f.AddAsync(2);
        f.Clock.Advance(TimeSpan.FromMinutes(1));
        var loose = await f.AddAsync(1);      // generated, no run
        await ScoreAsync(f, runA, a, 0.2, 0.9, null, 0.6, 0.99);
        await ScoreAsync(f, runB, b, 0.95, 0.97);
        // The most uncertain item of run A is decided already: it is not pending, so it is not handed out.
        await f.Decide.DecideAsync(f.Owner, a[4], new Decision(DecisionKind.Approve), 0);
        var scope = new ClaimScope(RunId: runA, Order: CandidateSort.MostUncertain);

        Assert.Equal(a[1], (await f.Claim.ClaimNextAsync(f.R1, f.TaskId, scope: scope))!.Id);   // 0.9
        Assert.Equal(a[3], (await f.Claim.ClaimNextAsync(f.R2, f.TaskId, scope: scope))!.Id);   // 0.6: R1 holds 0.9
        Assert.Equal(a[0], (await f.Claim.ClaimNextAsync(f.R3, f.TaskId, scope: scope))!.Id);   // 0.2
        // Asking again gives R1 the item they hold; skipping it hands the unscored item (unscored come last).
        Assert.Equal(a[1], (await f.Claim.ClaimNextAsync(f.R1, f.TaskId, scope: scope))!.Id);
        Assert.Equal(a[2], (await f.Claim.ClaimNextAsync(f.R1, f.TaskId, [a[1]], scope))!.Id);
        // Skipped items go back to the pool: the next reviewer in the scope gets the most uncertain of them.
        Assert.Null(await f.Claim.ClaimNextAsync(f.R1, f.TaskId, [a[1], a[2]], scope));
        Assert.Equal(a[1], (await f.Claim.ClaimNextAsync(f.Author, f.TaskId, scope: scope))!.Id);
        Assert.Equal(a[2], (await f.Claim.ClaimNextAsync(f.Author, f.TaskId, [a[1]], scope))!.Id);
        // Run A is exhausted for the Author (R2 and R3 hold the rest): run B's more uncertain items and the loose one
        // are never handed out in this scope.
        Assert.Null(await f.Claim.ClaimNextAsync(f.Author, f.TaskId, [a[1], a[2]], scope));

        // The same order over run B; without a scope: the oldest unheld pending item of the task, as before.
        Assert.Equal(b[1], (await f.Claim.ClaimNextAsync(f.Author, f.TaskId, scope: new ClaimScope(RunId: runB, Order: CandidateSort.MostUncertain)))!.Id);
        Assert.Equal(a[1], (await f.Claim.ClaimNextAsync(f.Owner, f.TaskId))!.Id);
        Assert.Equal(loose[0], (await f.Claim.ClaimNextAsync(f.R1, f.TaskId, [a[2], b[0]]))!.Id);

        // Rescoring changes who is next: after a new score, the freed items come back in the new order.
        await f.Claim.ReleaseAsync(f.R2, f.TaskId);
        await f.Claim.ReleaseAsync(f.R3, f.TaskId);
        await ScoreAsync(f, runA, [a[0], a[3]], 0.8, 0.1);
        Assert.Equal(a[0], (await f.Claim.ClaimNextAsync(f.R2, f.TaskId, scope: scope))!.Id);
    }

    [Theory]
    [MemberData(nameof(TestServers.Providers), MemberType = typeof(TestServers))]
    public async Task Reviewers_claiming_concurrently_in_a_run_scope_get_disjoint_items_of_that_run_only(DatabaseProvider provider)
    {
        await using var f = await ArrangeAsync(provider: provider);
        var (run, other) = (await AddMiningRunAsync(f), await AddMiningRunAsync(f));
        var inRun = await f.AddAsync(20);
        var elsewhere = await f.AddAsync(6);
        await ScoreAsync(f, run, inRun, inRun.Select((_, i) => (double?)((i * 7 % 20) / 20.0)).ToArray());
        await ScoreAsync(f, other, elsewhere, elsewhere.Select(_ => (double?)1.0).ToArray());
        var scope = new ClaimScope(RunId: run, Order: CandidateSort.MostUncertain);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        async Task<List<(Guid Id, double? U)>> Work(string user)
        {
            await gate.Task;
            var got = new List<(Guid, double?)>();
            while (await f.Claim.ClaimNextAsync(user, f.TaskId, scope: scope) is { } item)
            {
                got.Add((item.Id, item.Uncertainty));
                await f.Decide.DecideAsync(user, item.Id, new Decision(DecisionKind.Approve), item.Version);
            }
            return got;
        }
        var one = Task.Run(() => Work(f.R1));
        var two = Task.Run(() => Work(f.R2));
        gate.SetResult();
        var (ra, rb) = (await one, await two);

        Assert.Empty(ra.Select(x => x.Id).Intersect(rb.Select(x => x.Id)));
        Assert.Equal(inRun.Order(), ra.Concat(rb).Select(x => x.Id).Order());
        // Each reviewer was handed their items most uncertain first.
        Assert.Equal(ra.Select(x => x.U).OrderDescending(), ra.Select(x => x.U));
        Assert.Equal(rb.Select(x => x.U).OrderDescending(), rb.Select(x => x.U));
        foreach (var id in elsewhere) Assert.Equal(CandidateStatus.Pending, (await f.GetAsync(id)).Status);
    }

    [Theory]
    [MemberData(nameof(TestServers.Providers), MemberType = typeof(TestServers))]
    public async Task Two_reviewers_claiming_at_the_same_moment_get_disjoint_items_and_never_conflict(DatabaseProvider provider)
    {
        await using var f = await ArrangeAsync(provider: provider);
        var ids = await f.AddAsync(30);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        async Task<(List<Guid> Got, List<Exception> Errors)> Work(string user)
        {
            await gate.Task;
            var got = new List<Guid>();
            var errors = new List<Exception>();
            while (await f.Claim.ClaimNextAsync(user, f.TaskId) is { } item)
            {
                got.Add(item.Id);
                try
                {
                    await f.Decide.DecideAsync(user, item.Id, new Decision(DecisionKind.Approve), item.Version);
                }
                catch (Exception ex)
                {
                    errors.Add(ex);
                }
            }
            return (got, errors);
        }
        var a = Task.Run(() => Work(f.R1));
        var b = Task.Run(() => Work(f.R2));
        gate.SetResult();
        var (ra, rb) = (await a, await b);

        Assert.Empty(ra.Errors);
        Assert.Empty(rb.Errors);
        Assert.Empty(ra.Got.Intersect(rb.Got));
        Assert.Equal(ids.Order(), ra.Got.Concat(rb.Got).Order());
        await using var db = await f.Host.Db.CreateDbContextAsync();
        Assert.Equal(30, await db.ReviewEvents.CountAsync(e => e.TaskId == f.TaskId && !e.Lost));
        Assert.Equal(0, await db.ReviewEvents.CountAsync(e => e.TaskId == f.TaskId && e.Lost));
        Assert.Equal(30, await db.Candidates.CountAsync(c => c.TaskId == f.TaskId && c.Status == CandidateStatus.Approved));
        Assert.Equal(0, await db.ReviewLeases.CountAsync());
    }

    [Theory]
    [MemberData(nameof(TestServers.Providers), MemberType = typeof(TestServers))]
    public async Task First_claims_of_many_reviewers_at_the_same_moment_are_all_different(DatabaseProvider provider)
    {
        await using var f = await ArrangeAsync(provider: provider);
        await f.AddAsync(10);
        for (var round = 0; round < 5; round++)
        {
            var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var claims = new[] { f.R1, f.R2, f.R3 }.Select(u => Task.Run(async () =>
            {
                await gate.Task;
                return (await f.Claim.ClaimNextAsync(u, f.TaskId))!.Id;
            })).ToList();
            gate.SetResult();
            var got = await Task.WhenAll(claims);
            Assert.Equal(3, got.Distinct().Count());
            foreach (var u in new[] { f.R1, f.R2, f.R3 }) await f.Claim.ReleaseAsync(u, f.TaskId);
        }
    }

    // ---- overlap ------------------------------------------------------------------------------------------------

    [Theory]
    [MemberData(nameof(TestServers.Providers), MemberType = typeof(TestServers))]
    public async Task Overlap_two_agreeing_reviews_settle_the_item_and_stay_blind_until_then(DatabaseProvider provider)
    {
        await using var f = await ArrangeAsync(overlap: 2, provider: provider);
        var ids = await f.AddAsync(2);

        // In overlap mode two different reviewers may hold the same item (each gives an independent review); a third may not.
        Assert.Equal(ids[0], (await f.Claim.ClaimNextAsync(f.R1, f.TaskId))!.Id);
        Assert.Equal(ids[0], (await f.Claim.ClaimNextAsync(f.R2, f.TaskId))!.Id);
        Assert.Equal(ids[1], (await f.Claim.ClaimNextAsync(f.R3, f.TaskId))!.Id);

        var row = await f.Decide.DecideAsync(f.R1, ids[0], new Decision(DecisionKind.Relabel, NewLabel: "complaint"), 0);
        Assert.Equal((CandidateStatus.Pending, "praise"), (row.Status, row.Label));   // nothing settled, nothing shown
        Assert.Single(await f.Queries.AuditAsync(f.R1, ids[0]));                         // R1 sees their own review
        Assert.Empty(await f.Queries.AuditAsync(f.R2, ids[0]));                          // R2 does not, yet
        Assert.Empty((await f.Queries.ProjectAuditAsync(f.Viewer, f.ProjectId, 0, 50)).Items);
        // One review each: R1 is not handed the item again, and a second review by R1 is refused.
        Assert.NotEqual(ids[0], (await f.Claim.ClaimNextAsync(f.R1, f.TaskId))?.Id);
        await Assert.ThrowsAsync<ConflictException>(() => f.Decide.DecideAsync(f.R1, ids[0], new Decision(DecisionKind.Approve), 0));

        row = await f.Decide.DecideAsync(f.R2, ids[0], new Decision(DecisionKind.Relabel, NewLabel: "complaint"), 0);

        Assert.Equal((CandidateStatus.Approved, "complaint", "praise"), (row.Status, row.Label, row.OriginalLabel));
        var audit = await f.Queries.AuditAsync(f.R3, ids[0]);
        Assert.Equal([DecisionKind.Independent, DecisionKind.Independent, DecisionKind.Consensus], audit.Where(a => !a.Lost).Select(a => a.Kind));
        Assert.Contains("2 independent reviews agree", audit.Last().Comment);
        // A settled outcome is not undone by a reviewer.
        var undo = await Assert.ThrowsAsync<DomainValidationException>(() => f.Decide.DecideAsync(f.R3, ids[0], new Decision(DecisionKind.Undo), row.Version));
        Assert.Equal("UndoSettled", Assert.Single(undo.Details).Code);
        var edit = await Assert.ThrowsAsync<DomainValidationException>(() => f.Decide.DecideAsync(f.R3, ids[1], new Decision(DecisionKind.Edit, NewText: "x"), 0));
        Assert.Equal("OverlapEditLater", Assert.Single(edit.Details).Code);
        var bulk = await Assert.ThrowsAsync<DomainValidationException>(() =>
            f.Bulk.ApplyAsync(f.R3, f.TaskId, new CandidateFilter(), new Decision(DecisionKind.Approve), 1, 1));
        Assert.Equal("BulkOverlap", Assert.Single(bulk.Details).Code);
    }

    [Theory]
    [MemberData(nameof(TestServers.Providers), MemberType = typeof(TestServers))]
    public async Task Overlap_conflicting_reviews_go_to_the_Owner_who_alone_settles_them(DatabaseProvider provider)
    {
        await using var f = await ArrangeAsync(overlap: 2, provider: provider);
        var ids = await f.AddAsync(2);
        await f.Decide.DecideAsync(f.R1, ids[0], new Decision(DecisionKind.Approve), 0);
        var row = await f.Decide.DecideAsync(f.R2, ids[0], new Decision(DecisionKind.Reject, RejectionReason.OffTask), 0);

        Assert.True(row.InConflict);
        Assert.Equal(CandidateStatus.Pending, row.Status);
        var conflict = Assert.Single(await f.Queries.ConflictsAsync(f.Viewer, f.TaskId));
        Assert.Equal(ids[0], conflict.Candidate.Id);
        Assert.Equal([CandidateStatus.Approved, CandidateStatus.Rejected], conflict.Votes.Select(v => v.Status));
        // Nobody decides it on the normal path, and nobody is handed it.
        var awaiting = await Assert.ThrowsAsync<DomainValidationException>(() => f.Decide.DecideAsync(f.R3, ids[0], new Decision(DecisionKind.Approve), row.Version));
        Assert.Equal("AwaitingOwner", Assert.Single(awaiting.Details).Code);
        Assert.Equal(ids[1], (await f.Claim.ClaimNextAsync(f.R3, f.TaskId))!.Id);

        // Only the Owner settles, and only items in conflict; bad input changes nothing.
        var before = await f.GetAsync(ids[0]);
        await Assert.ThrowsAsync<ForbiddenException>(() => f.Settle.SettleAsync(f.Author, ids[0], new Decision(DecisionKind.Approve)));
        await Assert.ThrowsAsync<ForbiddenException>(() => f.Settle.SettleAsync(f.R1, ids[0], new Decision(DecisionKind.Approve)));
        var notConflict = await Assert.ThrowsAsync<DomainValidationException>(() => f.Settle.SettleAsync(f.Owner, ids[1], new Decision(DecisionKind.Approve)));
        Assert.Equal("NotInConflict", Assert.Single(notConflict.Details).Code);
        var noReason = await Assert.ThrowsAsync<DomainValidationException>(() => f.Settle.SettleAsync(f.Owner, ids[0], new Decision(DecisionKind.Reject)));
        Assert.Equal("ReasonRequired", Assert.Single(noReason.Details).Code);
        var badLabel = await Assert.ThrowsAsync<DomainValidationException>(() => f.Settle.SettleAsync(f.Owner, ids[0], new Decision(DecisionKind.Approve, NewLabel: "neutral")));
        Assert.Equal("LabelUnknown", Assert.Single(badLabel.Details).Code);
        var unchanged = await f.GetAsync(ids[0]);
        Assert.Equal((before.Status, before.Label, before.Version, true), (unchanged.Status, unchanged.Label, unchanged.Version, unchanged.InConflict));
        Assert.Empty((await f.EventsAsync(ids[1])));

        var settled = await f.Settle.SettleAsync(f.Owner, ids[0], new Decision(DecisionKind.Reject, RejectionReason.OffTask));

        Assert.Equal((CandidateStatus.Rejected, RejectionReason.OffTask, false), (settled.Status, settled.RejectionReason, settled.InConflict));
        Assert.Empty(await f.Queries.ConflictsAsync(f.Viewer, f.TaskId));
        var kinds = (await f.Queries.AuditAsync(f.Viewer, ids[0])).Select(a => a.Kind);
        Assert.Equal([DecisionKind.Independent, DecisionKind.Independent, DecisionKind.Conflict, DecisionKind.Settle], kinds);
        var again = await Assert.ThrowsAsync<DomainValidationException>(() => f.Settle.SettleAsync(f.Owner, ids[0], new Decision(DecisionKind.Approve)));
        Assert.Equal("NotInConflict", Assert.Single(again.Details).Code);
    }

    [Fact]
    public async Task Lowering_k_completes_items_that_already_have_enough_reviews()
    {
        await using var f = await ArrangeAsync(overlap: 3);
        var ids = await f.AddAsync(2);
        await f.Decide.DecideAsync(f.R1, ids[0], new Decision(DecisionKind.Approve), 0);
        await f.Decide.DecideAsync(f.R2, ids[0], new Decision(DecisionKind.Approve), 0);
        await f.Decide.DecideAsync(f.R1, ids[1], new Decision(DecisionKind.Approve), 0);
        Assert.Equal(CandidateStatus.Pending, (await f.GetAsync(ids[0])).Status);

        await f.Policy.SetAsync(f.Owner, f.TaskId, 2, 0.8);

        Assert.Equal(CandidateStatus.Approved, (await f.GetAsync(ids[0])).Status);
        Assert.Equal(CandidateStatus.Pending, (await f.GetAsync(ids[1])).Status);
    }

    // ---- policies -----------------------------------------------------------------------------------------------

    public static TheoryData<int, double, string> BadPolicies => new()
    {
        { 0, 0.9, "OverlapOutOfRange" },
        { 11, 0.9, "OverlapOutOfRange" },
        { -3, 0.9, "OverlapOutOfRange" },
        { 2, 0, "ThresholdOutOfRange" },
        { 2, 1.5, "ThresholdOutOfRange" },
        { 2, double.NaN, "ThresholdOutOfRange" },
    };

    [Theory]
    [MemberData(nameof(BadPolicies))]
    public async Task A_policy_out_of_range_is_refused_with_its_code_and_changes_nothing(int k, double threshold, string code)
    {
        await using var f = await ArrangeAsync();
        await f.Policy.SetAsync(f.Author, f.TaskId, 2, 0.85);

        var ex = await Assert.ThrowsAsync<DomainValidationException>(() => f.Policy.SetAsync(f.Author, f.TaskId, k, threshold));

        Assert.Equal(code, Assert.Single(ex.Details).Code);
        var p = await f.Policy.GetAsync(f.Viewer, f.TaskId);
        Assert.Equal((2, 0.85), (p.OverlapK, p.SpotCheckThreshold));
    }

    [Fact]
    public async Task Authors_and_Owners_set_policies_Reviewers_and_Viewers_only_read_them()
    {
        await using var f = await ArrangeAsync();
        var p = await f.Policy.GetAsync(f.Viewer, f.TaskId);
        Assert.Equal((1, 0.9, (DateTimeOffset?)null), (p.OverlapK, p.SpotCheckThreshold, p.UpdatedAt));

        await Assert.ThrowsAsync<ForbiddenException>(() => f.Policy.SetAsync(f.R1, f.TaskId, 3, 0.8));
        await Assert.ThrowsAsync<ForbiddenException>(() => f.Policy.SetAsync(f.Viewer, f.TaskId, 3, 0.8));
        Assert.Equal(1, (await f.Policy.GetAsync(f.R1, f.TaskId)).OverlapK);

        p = await f.Policy.SetAsync(f.Author, f.TaskId, 3, 0.8);
        Assert.Equal((3, 0.8), (p.OverlapK, p.SpotCheckThreshold));
        Assert.StartsWith("author-", p.UpdatedByEmail);
        p = await f.Policy.SetAsync(f.Owner, f.TaskId, 1, 0.95);
        Assert.Equal((1, 0.95), (p.OverlapK, p.SpotCheckThreshold));
    }

    // ---- agreement ----------------------------------------------------------------------------------------------

    private static ReviewVote Vote(int item, string user, string? label) => new()
    {
        CandidateId = new Guid(item, 0, 0, new byte[8]), UserId = user,
        Status = label is null ? CandidateStatus.Rejected : CandidateStatus.Approved, Label = label ?? "praise",
    };

    [Fact]
    public void Agreement_is_Cohen_for_two_reviewers_and_Fleiss_for_more_and_null_without_overlap()
    {
        Assert.Null(ReviewQueries.Agreement([]));
        Assert.Null(ReviewQueries.Agreement([Vote(1, "a", "praise")]));

        // Two raters, four items: A = p p c x(rejected), B = p c c x.  pₒ = 3/4; A's marginals p ½, c ¼, x ¼; B's p ¼, c ½, x ¼;
        // pₑ = ½·¼ + ¼·½ + ¼·¼ = 5/16; κ = (3/4 − 5/16)/(1 − 5/16) = (7/16)/(11/16) = 7/11.
        var two = new[]
        {
            Vote(1, "a", "praise"), Vote(1, "b", "praise"), Vote(2, "a", "praise"), Vote(2, "b", "complaint"),
            Vote(3, "a", "complaint"), Vote(3, "b", "complaint"), Vote(4, "a", null), Vote(4, "b", null),
        };
        var cohen = ReviewQueries.Agreement(two)!;
        Assert.Equal(("Cohen", 4, 2, 2), (cohen.Method, cohen.Items, cohen.ReviewsPerItem, cohen.Raters));
        Assert.Equal(7.0 / 11, cohen.Overall, 10);
        // "(rejected)" one-vs-rest: both agree on every item → κ = 1.
        Assert.Equal(1.0, cohen.PerLabel["(rejected)"], 10);
        Assert.Equal(new[] { "(rejected)", "complaint", "praise" }, cohen.PerLabel.Keys.Order(StringComparer.Ordinal));

        // Three raters, two items: item 1 all praise, item 2 praise/praise/complaint.
        // P₁ = 1, P₂ = (4 + 1 − 3)/6 = 1/3, P̄ = 2/3; p(praise) = 5/6, p(complaint) = 1/6, P̄ₑ = 26/36;
        // κ = (2/3 − 26/36)/(1 − 26/36) = (−2/36)/(10/36) = −0.2.
        var three = new[]
        {
            Vote(1, "a", "praise"), Vote(1, "b", "praise"), Vote(1, "c", "praise"),
            Vote(2, "a", "praise"), Vote(2, "b", "praise"), Vote(2, "c", "complaint"),
        };
        var fleiss = ReviewQueries.Agreement(three)!;
        Assert.Equal(("Fleiss", 2, 3, 3), (fleiss.Method, fleiss.Items, fleiss.ReviewsPerItem, fleiss.Raters));
        Assert.Equal(-0.2, fleiss.Overall, 10);

        // Pairs of reviews by more than two people overall: Fleiss with n = 2.
        var mixed = two.Concat([Vote(5, "a", "praise"), Vote(5, "c", "praise")]).ToList();
        Assert.Equal("Fleiss", ReviewQueries.Agreement(mixed)!.Method);
    }

    [Theory]
    [MemberData(nameof(TestServers.Providers), MemberType = typeof(TestServers))]
    public async Task Agreement_counts_only_complete_items_and_says_nothing_before(DatabaseProvider provider)
    {
        await using var f = await ArrangeAsync(overlap: 2, provider: provider);
        var ids = await f.AddAsync(3);
        Assert.Null(await f.Queries.AgreementAsync(f.Viewer, f.TaskId));
        await f.Decide.DecideAsync(f.R1, ids[0], new Decision(DecisionKind.Approve), 0);
        Assert.Null(await f.Queries.AgreementAsync(f.Viewer, f.TaskId));   // one review of one item: nothing to compare

        await f.Decide.DecideAsync(f.R2, ids[0], new Decision(DecisionKind.Approve), 0);
        await f.Decide.DecideAsync(f.R1, ids[1], new Decision(DecisionKind.Approve), 0);
        await f.Decide.DecideAsync(f.R2, ids[1], new Decision(DecisionKind.Reject, RejectionReason.LowQuality), 0);
        await f.Decide.DecideAsync(f.R1, ids[2], new Decision(DecisionKind.Approve), 0);   // incomplete: not counted

        var a = (await f.Queries.AgreementAsync(f.Viewer, f.TaskId))!;
        Assert.Equal(("Cohen", 2, 1), (a.Method, a.Items, a.Conflicts));
        // A = p p, B = p x: pₒ = ½, pₑ = 1·½ = ½ → κ = 0.
        Assert.Equal(0.0, a.Overall, 10);
    }
}
