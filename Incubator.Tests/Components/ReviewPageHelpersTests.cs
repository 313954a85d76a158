using Incubator.Domain.Common.Events;
using Incubator.Domain.Review;
using Incubator.Web.Components.Pages.Review;

namespace Incubator.Tests.Components;

/// <summary>What the review pages keep out of their markup: which live events concern their task, and the links
/// between the queue, focus mode and the export API.</summary>
public sealed class ReviewPageHelpersTests
{
    private static readonly Guid Project = Guid.NewGuid();
    private static readonly Guid Task = Guid.NewGuid();
    private static readonly Guid Other = Guid.NewGuid();

    private static SampleAccepted Sample(Guid run) => new(Project, run, Guid.NewGuid(), "praise", "text", 0, false);

    [Fact]
    public async Task Only_the_tasks_events_pass_and_each_run_is_looked_up_once()
    {
        var filter = new TaskEventFilter(Task);
        Guid ours = Guid.NewGuid(), theirs = Guid.NewGuid();
        var asked = new List<IReadOnlyCollection<Guid>>();
        Task<IReadOnlySet<Guid>> RunsOfTask(IReadOnlyCollection<Guid> runs)
        {
            asked.Add(runs.ToList());
            return System.Threading.Tasks.Task.FromResult<IReadOnlySet<Guid>>(new HashSet<Guid> { ours });
        }

        Assert.True(filter.Wants(new ReviewChanged(Project, Task, Guid.NewGuid(), CandidateStatus.Approved, "praise", null)));
        Assert.False(filter.Wants(new ReviewChanged(Project, Other, Guid.NewGuid(), CandidateStatus.Approved, "praise", null)));
        Assert.True(filter.Wants(new AssignmentChanged(Project, Task)));
        Assert.False(filter.Wants(new PresenceChanged(Project, Other)));
        Assert.False(filter.Wants(new ProjectChanged(Project, "corpora")));
        // An LLM labelling run's batches name their task.
        Assert.True(filter.Wants(new LabellingProgressed(Project, Guid.NewGuid(), Task, 5, 12, 4, 1, 0, 1, 100, 0m)));
        Assert.False(filter.Wants(new LabellingProgressed(Project, Guid.NewGuid(), Other, 5, 12, 4, 1, 0, 1, 100, 0m)));
        // A run not seen before might be the task's: it passes until the batch asks.
        Assert.True(filter.Wants(Sample(theirs)));

        var batch = new RunEvent[] { Sample(ours), Sample(theirs), Sample(ours), new AssignmentChanged(Project, Other), new PresenceChanged(Project, Task) };
        var mine = await filter.OfTaskAsync(batch, RunsOfTask);

        Assert.Equal([batch[0], batch[2], batch[4]], mine);
        Assert.Equal(2, Assert.Single(asked).Count);
        Assert.False(filter.Wants(Sample(theirs)));
        Assert.True(filter.Wants(Sample(ours)));
        // Known runs cost no lookup.
        Assert.Single(await filter.OfTaskAsync([Sample(ours), Sample(theirs)], RunsOfTask));
        Assert.Single(asked);
    }

    [Fact]
    public void Review_next_keeps_the_queues_view_and_the_way_back_restores_it()
    {
        var run = Guid.NewGuid();
        var focus = QueueLinks.Focus(Project, Task, run, "needs help", CandidateSource.Mining, CandidateSort.MostUncertain);
        Assert.Equal($"projects/{Project}/tasks/{Task}/review/focus?run={run}&label=needs%20help&source=Mining&sort=MostUncertain", focus);

        var scope = QueueLinks.Scope(run, Uri.UnescapeDataString("needs%20help"), "mining", "mostuncertain");
        Assert.Equal(new ClaimScope(run, "needs help", CandidateSource.Mining, CandidateSort.MostUncertain), scope);
        Assert.Equal($"projects/{Project}/tasks/{Task}/review?run={run}&label=needs%20help&source=Mining&sort=MostUncertain",
            QueueLinks.Queue(Project, Task, scope, sortGiven: true));

        // The queue's default order (labels spread) is a browsing order: focus mode then goes oldest first, and back in the
        // queue the default comes back. A chosen order, newest first included, comes along.
        Assert.Equal($"projects/{Project}/tasks/{Task}/review/focus", QueueLinks.Focus(Project, Task, null, null, null, CandidateSort.Spread));
        Assert.Equal($"projects/{Project}/tasks/{Task}/review/focus?sort=Newest", QueueLinks.Focus(Project, Task, null, null, null, CandidateSort.Newest));
        Assert.Equal(ClaimScope.All, QueueLinks.Scope(null, "", "nonsense", "7"));
        Assert.Equal($"projects/{Project}/tasks/{Task}/review", QueueLinks.Queue(Project, Task, ClaimScope.All, sortGiven: false));
    }

    [Fact]
    public void The_export_link_carries_every_filter()
    {
        var run = Guid.NewGuid();
        var filter = new CandidateFilter("a&b", CandidateStatus.Approved, CandidateStage.Selected, CandidateSource.Generation, run, true, "50% off");

        Assert.Equal($"api/tasks/{Task}/candidates/export?format=csv&label=a%26b&status=Approved&stage=Selected&ambiguous=true&search=50%25%20off&source=Generation&runId={run}",
            QueueLinks.Export(Task, "csv", filter));
        // Without a stage the export says so: the API's own default is the main view.
        Assert.Equal($"api/tasks/{Task}/candidates/export?format=tsv&view=All", QueueLinks.Export(Task, "tsv", new CandidateFilter(Ambiguous: false)));
        Assert.Equal($"api/tasks/{Task}/candidates/export?format=tsv&stage=Reserve", QueueLinks.Export(Task, "tsv", new CandidateFilter(Stage: CandidateStage.Reserve)));
    }
}
