using Incubator.Domain.Common;
using Incubator.Domain.Common.Events;
using Incubator.Domain.Datasets;
using Incubator.Domain.Embeddings;
using Incubator.Domain.Generation;
using Incubator.Domain.Projects;
using Incubator.Domain.Review;
using Incubator.Domain.Tasks;
using Incubator.Tests.Generation;
using Incubator.Tests.Jobs;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.Review;

/// <summary>The queue's views (docs/decisions/0022-review-queue-views.md): the main view holds what runs selected and
/// what was mined, spread over the labels; the reserve is apart, in its own view, never decided in bulk from the main
/// one; a label short after review is topped up from its reserve with its most diverse samples; freezing takes approved
/// samples only.</summary>
public sealed class ReviewViewsTests
{
    private static readonly string[] Labels = ["請求", "配送", "解約"];
    private static readonly CandidateFilter Main = new(Stage: CandidateStage.Selected);
    private static readonly CandidateFilter Reserve = new(Stage: CandidateStage.Reserve);

    private sealed record Fixture(JobTestHost Host, Guid ProjectId, Guid TaskId, Guid RunId, string Reviewer, string Author) : IAsyncDisposable
    {
        public ReviewQueries Queries => Host.Services.GetRequiredService<ReviewQueries>();

        public BulkDecide Bulk => Host.Services.GetRequiredService<BulkDecide>();

        public DecideCandidate Decide => Host.Services.GetRequiredService<DecideCandidate>();

        public ClaimNextCandidate Claim => Host.Services.GetRequiredService<ClaimNextCandidate>();

        public TopUpFromReserve TopUp { get; } = new(Host.Db, Host.Services.GetRequiredService<ProjectAccess>(),
            new EmbedderSelector(new CharNgramEmbedder(), new CharNgramEmbedder()), Host.Services.GetRequiredService<IRunEvents>(), TimeProvider.System);

        public DatasetService Datasets { get; } = new(Host.Db, Host.Services.GetRequiredService<ProjectAccess>(), TimeProvider.System);

        public ValueTask DisposeAsync() => Host.DisposeAsync();

        public async Task<Guid> AddAsync(string label, string text, CandidateStage stage, int rank = 0, CandidateSource source = CandidateSource.Generation)
        {
            var c = new Candidate
            {
                Id = Guid.NewGuid(), ProjectId = ProjectId, TaskId = TaskId, TaskVersionNumber = 1, RunId = source == CandidateSource.Generation ? RunId : null,
                Label = label, Text = text, NormalizedText = TextNormalizer.Normalize(text), Source = source, Stage = stage, Status = CandidateStatus.Pending,
                SpreadRank = rank, CreatedAt = JobTestHost.UtcNowMs(),
            };
            return await Host.AddCandidateAsync(c);
        }

        public Task<Candidate> GetAsync(Guid id) => Host.GetCandidateAsync(id);
    }

    /// <summary>A task with one finished run asking for <paramref name="perLabel"/> per label.</summary>
    private static async Task<Fixture> ArrangeAsync(int perLabel = 3)
    {
        var host = await JobTestHost.CreateAsync(configure: s => s.AddIncubatorReview(JobTestHost.NoSettings));
        var projectId = await host.CreateProjectAsync("views");
        var reviewer = await host.CreateUserAsync(projectId, ProjectRole.Reviewer, "reviewer");
        var author = await host.CreateUserAsync(projectId, ProjectRole.Author, "author");
        var taskId = Guid.NewGuid();
        var runId = Guid.NewGuid();
        var spec = FakeSamples.Spec(Labels);
        var now = DateTimeOffset.UtcNow;
        await using (var db = await host.Db.CreateDbContextAsync())
        {
            var version = new TaskVersion { Id = Guid.NewGuid(), TaskId = taskId, Number = 1, SpecJson = TaskJson.Serialize(spec), ContentHash = "x", CreatedAt = now };
            db.Tasks.Add(new ClassifierTask { Id = taskId, ProjectId = projectId, Name = spec.Name, CurrentVersion = 1, CreatedAt = now, UpdatedAt = now });
            db.TaskVersions.Add(version);
            db.GenerationRuns.Add(new GenerationRun
            {
                Id = runId, ProjectId = projectId, TaskId = taskId, TaskVersionId = version.Id, TaskVersionNumber = 1, ConnectionId = Guid.NewGuid(),
                PerLabelTarget = perLabel, Outcome = RunOutcome.Completed, CreatedAt = now,
            });
            await db.SaveChangesAsync();
        }
        return new Fixture(host, projectId, taskId, runId, reviewer, author);
    }

    /// <summary>Per label: 3 selected (ranks 0-2), 4 in reserve, 1 still in a pool; and 2 mined for the first label.</summary>
    private static async Task<Dictionary<(string Label, CandidateStage Stage), List<Guid>>> SeedRunAsync(Fixture f)
    {
        var ids = new Dictionary<(string, CandidateStage), List<Guid>>();
        var n = 0;
        foreach (var label in Labels)
        {
            var l = Array.IndexOf(Labels, label);
            foreach (var (stage, count) in new[] { (CandidateStage.Selected, 3), (CandidateStage.Reserve, 4), (CandidateStage.Pool, 1) })
                for (var i = 0; i < count; i++)
                    (ids.TryGetValue((label, stage), out var list) ? list : ids[(label, stage)] = [])
                        .Add(await f.AddAsync(label, FakeSamples.Sentence(++n, l), stage, stage == CandidateStage.Selected ? i : 0));
        }
        for (var i = 0; i < 2; i++)
            (ids.TryGetValue((Labels[0], CandidateStage.Selected), out var mined) ? mined : [])
                .Add(await f.AddAsync(Labels[0], FakeSamples.Sentence(++n, 0), CandidateStage.Selected, i, CandidateSource.Mining));
        return ids;
    }

    [Fact]
    public async Task The_main_view_holds_selected_and_mined_samples_spread_over_the_labels_with_the_reserve_apart()
    {
        await using var f = await ArrangeAsync();
        var ids = await SeedRunAsync(f);

        var main = await f.Queries.QueueAsync(f.Reviewer, f.TaskId, Main, 0, 50, CandidateSort.Spread, withPanels: false);
        var reserve = await f.Queries.QueryAsync(f.Reviewer, f.TaskId, Reserve, 0, 50, CandidateSort.Spread);

        // 3 selected per label and 2 mined: nothing from the reserve or a pool.
        Assert.Equal(11, main.Page.Total);
        Assert.All(main.Page.Items, r => Assert.Equal(CandidateStage.Selected, r.Stage));
        Assert.Equal(ids.Where(kv => kv.Key.Stage == CandidateStage.Selected).SelectMany(kv => kv.Value).Order(), main.Page.Items.Select(r => r.Id).Order());
        // Rank by rank over the labels: every label is in the first three rows, then again in the next three…
        Assert.Equal([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2], main.Page.Items.Select(r => r.SpreadRank));
        Assert.Equal(Labels.Order(StringComparer.Ordinal), main.Page.Items.Where(r => r.Source == CandidateSource.Generation).Take(3).Select(r => r.Label));
        Assert.Equal(12, reserve.Total);
        Assert.All(reserve.Items, r => Assert.Equal(CandidateStage.Reserve, r.Stage));
        Assert.Equal(new QueueCounters(SelectedPending: 11, Approved: 0, Rejected: 0, Reserve: 12, ReservePending: 12), main.Counters);
        // The order is stable: reading again gives the same rows in the same order.
        var again = await f.Queries.QueryAsync(f.Reviewer, f.TaskId, Main, 0, 50, CandidateSort.Spread);
        Assert.Equal(main.Page.Items.Select(r => r.Id), again.Items.Select(r => r.Id));

        // Focus mode hands out the main view only: claiming everything there is never reaches the reserve.
        var skip = new List<Guid>();
        while (await f.Claim.ClaimNextAsync(f.Reviewer, f.TaskId, skip) is { } row)
        {
            Assert.Equal(CandidateStage.Selected, row.Stage);
            skip.Add(row.Id);
        }
        Assert.Equal(11, skip.Count);
    }

    [Fact]
    public async Task Approving_all_shown_approves_the_main_view_only_and_the_frozen_dataset_has_exactly_those()
    {
        await using var f = await ArrangeAsync();
        var ids = await SeedRunAsync(f);

        var preview = await f.Bulk.PreviewAsync(f.Reviewer, f.TaskId, Main);
        Assert.Equal(new BulkPreview(11, 0), preview);
        Assert.Equal(11, await f.Bulk.ApplyAsync(f.Reviewer, f.TaskId, Main, new Decision(DecisionKind.Approve), preview.Total, preview.AlreadyDecided));

        foreach (var id in ids.Where(kv => kv.Key.Stage != CandidateStage.Selected).SelectMany(kv => kv.Value))
            Assert.Equal(CandidateStatus.Pending, (await f.GetAsync(id)).Status);
        var counters = (await f.Queries.QueueAsync(f.Reviewer, f.TaskId, Main, 0, 1, CandidateSort.Spread, false)).Counters;
        Assert.Equal(new QueueCounters(0, 11, 0, 12, 12), counters);

        var dataset = await f.Datasets.FreezeAsync(f.Author, f.TaskId);
        Assert.Equal(11, dataset.Count);
        Assert.Equal(new Dictionary<string, int> { [Labels[0]] = 5, [Labels[1]] = 3, [Labels[2]] = 3 }, dataset.Counts);

        // Approving a reserve sample is an explicit act in the reserve view; then, and only then, it is in the next freeze.
        var chosen = ids[(Labels[1], CandidateStage.Reserve)][0];
        await f.Decide.DecideAsync(f.Reviewer, chosen, new Decision(DecisionKind.Approve), 0);
        Assert.Equal(12, (await f.Datasets.FreezeAsync(f.Author, f.TaskId)).Count);
    }

    [Fact]
    public async Task A_label_short_after_review_is_topped_up_from_its_reserve_with_the_most_diverse_samples()
    {
        await using var f = await ArrangeAsync(perLabel: 3);
        var label = Labels[0];
        var kept = await f.AddAsync(label, FakeSamples.Sentence(1, 0), CandidateStage.Selected, 0);
        var rejected1 = await f.AddAsync(label, FakeSamples.Sentence(2, 0), CandidateStage.Selected, 1);
        var rejected2 = await f.AddAsync(label, FakeSamples.Sentence(3, 0), CandidateStage.Selected, 2);
        foreach (var l in Labels.Skip(1))
            for (var i = 0; i < 3; i++) await f.AddAsync(l, FakeSamples.Sentence(10 + i, Array.IndexOf(Labels, l)), CandidateStage.Selected, i);
        // The reserve: three near-copies of the kept sample, and two samples unlike anything kept.
        var near = new List<Guid>();
        foreach (var suffix in new[] { "。", "！", "？" })
            near.Add(await f.AddAsync(label, FakeSamples.Sentence(1, 0) + suffix, CandidateStage.Reserve));
        var far1 = await f.AddAsync(label, FakeSamples.Sentence(20, 0), CandidateStage.Reserve);
        var far2 = await f.AddAsync(label, FakeSamples.Sentence(27, 0), CandidateStage.Reserve);
        await f.Decide.DecideAsync(f.Reviewer, rejected1, new Decision(DecisionKind.Reject, RejectionReason.LowQuality), 0);
        await f.Decide.DecideAsync(f.Reviewer, rejected2, new Decision(DecisionKind.Reject, RejectionReason.LowQuality), 0);

        var shortLabel = Assert.Single(await f.Queries.ShortLabelsAsync(f.Reviewer, f.TaskId));
        Assert.Equal(new ShortLabel(label, Wanted: 3, Have: 1, Reserve: 5), shortLabel);
        Assert.Equal((2, 2), (shortLabel.Short, shortLabel.TopUp));

        Assert.Equal(2, await f.TopUp.TopUpAsync(f.Reviewer, f.TaskId, label));

        var movedUp = new[] { await f.GetAsync(far1), await f.GetAsync(far2) };
        Assert.All(movedUp, c => Assert.Equal((CandidateStage.Selected, CandidateStatus.Pending), (c.Stage, c.Status)));
        Assert.Equal([3, 4], movedUp.Select(c => c.SpreadRank).Order());
        foreach (var id in near) Assert.Equal(CandidateStage.Reserve, (await f.GetAsync(id)).Stage);
        Assert.Equal(CandidateStage.Selected, (await f.GetAsync(kept)).Stage);
        Assert.Empty(await f.Queries.ShortLabelsAsync(f.Reviewer, f.TaskId));
        var view = await f.Queries.QueueAsync(f.Reviewer, f.TaskId, Main, 0, 50, CandidateSort.Spread, false);
        Assert.Equal(new QueueCounters(SelectedPending: 9, Approved: 0, Rejected: 2, Reserve: 3, ReservePending: 3), view.Counters);
        Assert.Contains(view.Page.Items, r => r.Id == far1);
        await using (var db = await f.Host.Db.CreateDbContextAsync())
            Assert.Single(await db.Activity.Where(a => a.ProjectId == f.ProjectId && a.Kind == ActivityKinds.ReserveToppedUp).ToListAsync(),
                a => a.Detail.EndsWith($"{label} (+2)", StringComparison.Ordinal) && a.UserId == f.Reviewer);

        var nothing = await Assert.ThrowsAsync<DomainValidationException>(() => f.TopUp.TopUpAsync(f.Reviewer, f.TaskId, label));
        Assert.Equal("TopUpNothingShort", Assert.Single(nothing.Details).Code);
        // A viewer may not move samples.
        var viewer = await f.Host.CreateUserAsync(f.ProjectId, ProjectRole.Viewer, "viewer");
        await Assert.ThrowsAsync<ForbiddenException>(() => f.TopUp.TopUpAsync(viewer, f.TaskId, Labels[1]));
    }
}
