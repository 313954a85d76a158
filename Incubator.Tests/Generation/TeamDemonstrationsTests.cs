using Incubator.Domain.Review;
using Incubator.Domain.Common;
using Incubator.Domain.Embeddings;
using Incubator.Domain.Generation;
using Incubator.Domain.Llm;
using Incubator.Domain.Projects;
using Incubator.Domain.Tasks;
using Incubator.Tests.Jobs;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Incubator.Tests.Generation;

/// <summary>Approved samples from the team's other tasks join the demonstration bank unless the project opts out:
/// observed in the prompts the engine actually sends (a scripted model records every request), on a real SQLite
/// database through <see cref="DbGenerationStore"/>.</summary>
public sealed class TeamDemonstrationsTests
{
    private static readonly LlmProfile Profile = new(null, "scripted", LlmProvider.OpenAICompatible, "http://127.0.0.1:1/v1", "fake", null, 0.9, 1024, 4, null, 1m, 2m);

    // Two tasks about the same hotel's reviews: task A's approved data is the nearest demonstration for task B.
    private static readonly TaskSpec TaskA = Spec("Hotel reviews", "Sort guest reviews of the Seaside Inn hotel into praise and complaint.");
    private static readonly TaskSpec TaskB = Spec("Restaurant reviews", "Sort guest reviews of the Seaside Inn restaurant into praise and complaint.");

    private const string OldPraise = "The breakfast terrace at the Seaside Inn was lovely on our first morning.";
    private const string OriginalPraise = "Staff upgraded our room for free and the sea view was stunning.";
    private const string EditedPraise = "Staff upgraded our room without being asked and the sea view from the balcony was stunning.";
    private const string Complaint = "The air conditioning rattled all night and nobody came to fix it.";
    private const string PendingPraise = "Pending sample that nobody has reviewed about the spa and its warm pool.";
    private const string RejectedComplaint = "Rejected sample complaining loudly about the car park fees at night.";

    private static TaskSpec Spec(string name, string instruction) => new()
    {
        Name = name,
        Instruction = instruction,
        Labels =
        [
            new LabelSpec { Name = "praise", Description = "The guest liked something." },
            new LabelSpec { Name = "complaint", Description = "The guest reports a problem." },
        ],
        Preferences = new TaskPreferences { Language = "en" },
    };

    // Character n-grams for both the bank and the engine: no model to load, and the hotel/restaurant instructions
    // are near neighbours for it.
    private static GenerationEngine Engine()
    {
        var selector = new EmbedderSelector(new CharNgramEmbedder(), new CharNgramEmbedder());
        return new GenerationEngine(new DemonstrationBank(selector), selector, NullLogger<GenerationEngine>.Instance);
    }

    private static string Answer(int n) =>
        $"{{\"praise\": \"Visit {n}: the waiter remembered my name and dessert number {n * 3} was perfect.\", "
        + $"\"complaint\": \"Visit {n}: we waited {n + 40} minutes for a table that was already free.\"}}";

    private sealed record Fixture(JobTestHost Host, Guid ProjectId, string OwnerId, string AuthorId, Guid TaskA, Guid TaskB);

    private static async Task<Fixture> ArrangeAsync()
    {
        var host = await JobTestHost.CreateAsync();
        var projectId = await host.CreateProjectAsync("team demos");
        var owner = await host.CreateUserAsync(projectId, ProjectRole.Owner, "owner");
        var author = await host.CreateUserAsync(projectId, ProjectRole.Author, "author");
        var a = await AddTaskAsync(host, projectId, TaskA);
        var b = await AddTaskAsync(host, projectId, TaskB);
        var t0 = DateTimeOffset.UtcNow.AddHours(-1);
        await using (var db = await host.Db.CreateDbContextAsync())
        {
            db.Candidates.AddRange(
                Candidate(projectId, a, "praise", OldPraise, CandidateStatus.Approved, t0),
                Candidate(projectId, a, "praise", OriginalPraise, CandidateStatus.Approved, t0.AddMinutes(5), edited: EditedPraise),
                Candidate(projectId, a, "complaint", Complaint, CandidateStatus.Approved, t0.AddMinutes(1)),
                Candidate(projectId, a, "praise", PendingPraise, CandidateStatus.Pending, t0.AddMinutes(9)),
                Candidate(projectId, a, "complaint", RejectedComplaint, CandidateStatus.Rejected, t0.AddMinutes(9)));
            await db.SaveChangesAsync();
        }
        return new Fixture(host, projectId, owner, author, a, b);
    }

    private static async Task<Guid> AddTaskAsync(JobTestHost host, Guid projectId, TaskSpec spec)
    {
        var id = Guid.NewGuid();
        await using var db = await host.Db.CreateDbContextAsync();
        db.Tasks.Add(new ClassifierTask { Id = id, ProjectId = projectId, Name = spec.Name, CurrentVersion = 1, CreatedAt = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow });
        db.TaskVersions.Add(new TaskVersion { Id = Guid.NewGuid(), TaskId = id, Number = 1, SpecJson = TaskJson.Serialize(spec), ContentHash = Guid.NewGuid().ToString("N"), CreatedAt = DateTimeOffset.UtcNow });
        await db.SaveChangesAsync();
        return id;
    }

    private static Candidate Candidate(Guid projectId, Guid taskId, string label, string text, CandidateStatus status, DateTimeOffset at, string? edited = null) => new()
    {
        Id = Guid.NewGuid(), ProjectId = projectId, TaskId = taskId, TaskVersionNumber = 1, Label = label, Text = text,
        NormalizedText = TextNormalizer.Normalize(text), Source = CandidateSource.Generation, Stage = CandidateStage.Selected,
        Status = status, EditedText = edited, CreatedAt = at,
    };

    private static async Task<GenerationRun> AddRunAsync(JobTestHost host, Guid projectId, Guid taskId)
    {
        await using var db = await host.Db.CreateDbContextAsync();
        var version = await db.TaskVersions.AsNoTracking().SingleAsync(v => v.TaskId == taskId && v.Number == 1);
        var run = new GenerationRun
        {
            Id = Guid.NewGuid(), ProjectId = projectId, TaskId = taskId, TaskVersionId = version.Id, TaskVersionNumber = 1,
            ConnectionId = Guid.NewGuid(), ConnectionName = "scripted", Model = "fake", PerLabelTarget = 1, Oversample = 1, Concurrency = 1,
            Seed = 1, CreatedAt = DateTimeOffset.UtcNow,
        };
        db.GenerationRuns.Add(run);
        await db.SaveChangesAsync();
        return run;
    }

    /// <summary>Runs task B through the engine with the database store and returns every prompt it sent.</summary>
    private static async Task<IReadOnlyList<LlmRequest>> GenerateForTaskBAsync(Fixture f)
    {
        var run = await AddRunAsync(f.Host, f.ProjectId, f.TaskB);
        var client = new ScriptedLlmClient((n, _) => Answer(n));
        var summary = await Engine().RunAsync(TaskB, client, Profile, new GenerationSettings(PerLabel: 1, Oversample: 1, Concurrency: 1),
            new DbGenerationStore(f.Host.Db, run, TimeProvider.System), NullGenerationObserver.Instance, CancellationToken.None);
        Assert.Null(summary.StopReason);
        Assert.NotEmpty(client.Requests);
        return client.Requests.ToList();
    }

    [Fact]
    public async Task With_the_setting_on_a_prompt_for_task_B_shows_task_As_approved_samples()
    {
        var f = await ArrangeAsync();
        await using var _ = f.Host;

        var requests = await GenerateForTaskBAsync(f);

        foreach (var r in requests)
        {
            Assert.Contains(TaskA.Instruction, r.User);
            // The most recent approved sample per label, as the reviewer corrected it.
            Assert.Contains(EditedPraise, r.User);
            Assert.Contains(Complaint, r.User);
            Assert.DoesNotContain(OriginalPraise, r.User);
            Assert.DoesNotContain(OldPraise, r.User);
            Assert.DoesNotContain(PendingPraise, r.User);
            Assert.DoesNotContain(RejectedComplaint, r.User);
        }
    }

    [Fact]
    public async Task With_the_setting_off_no_prompt_for_task_B_shows_task_As_samples()
    {
        var f = await ArrangeAsync();
        await using var _ = f.Host;
        var projects = f.Host.Services.GetRequiredService<ProjectService>();
        Assert.True(await projects.GetTeamDemonstrationsAsync(f.OwnerId, f.ProjectId)); // on by default

        await projects.SetTeamDemonstrationsAsync(f.OwnerId, f.ProjectId, false);
        var requests = await GenerateForTaskBAsync(f);

        Assert.False(await projects.GetTeamDemonstrationsAsync(f.OwnerId, f.ProjectId));
        foreach (var r in requests)
        {
            Assert.DoesNotContain(TaskA.Instruction, r.User);
            Assert.DoesNotContain(EditedPraise, r.User);
            Assert.DoesNotContain(Complaint, r.User);
        }
    }

    [Fact]
    public async Task The_store_builds_one_demonstration_per_other_task_version_with_every_label_approved()
    {
        var f = await ArrangeAsync();
        await using var _ = f.Host;
        // Task C has an approved sample for one of its two labels only: left out. Task B's own approved samples are
        // never its own demonstration.
        var c = await AddTaskAsync(f.Host, f.ProjectId, Spec("Spa reviews", "Sort guest reviews of the spa into praise and complaint."));
        await using (var db = await f.Host.Db.CreateDbContextAsync())
        {
            db.Candidates.Add(Candidate(f.ProjectId, c, "praise", "The massage was the best part of our stay by far.", CandidateStatus.Approved, DateTimeOffset.UtcNow));
            db.Candidates.Add(Candidate(f.ProjectId, f.TaskB, "praise", "The soup of the day was rich and hot.", CandidateStatus.Approved, DateTimeOffset.UtcNow));
            db.Candidates.Add(Candidate(f.ProjectId, f.TaskB, "complaint", "Our main course arrived cold.", CandidateStatus.Approved, DateTimeOffset.UtcNow));
            await db.SaveChangesAsync();
        }
        var run = await AddRunAsync(f.Host, f.ProjectId, f.TaskB);

        var state = await new DbGenerationStore(f.Host.Db, run, TimeProvider.System).LoadAsync(CancellationToken.None);

        var demo = Assert.Single(state.TeamDemonstrations);
        Assert.Equal(TaskA.Instruction, demo.Instruction);
        Assert.Equal(["praise", "complaint"], demo.Labels);
        Assert.Equal(EditedPraise, demo.Samples["praise"]);
        Assert.Equal(Complaint, demo.Samples["complaint"]);
        Assert.Equal("en", demo.Language);
    }

    [Fact]
    public async Task Only_an_Owner_can_change_the_setting_and_each_change_writes_one_activity_row()
    {
        var f = await ArrangeAsync();
        await using var _ = f.Host;
        var projects = f.Host.Services.GetRequiredService<ProjectService>();
        var viewer = await f.Host.CreateUserAsync(f.ProjectId, ProjectRole.Viewer, "viewer");
        var outsider = await f.Host.CreateUserAsync(f.ProjectId, null, "outsider");

        await Assert.ThrowsAsync<ForbiddenException>(() => projects.SetTeamDemonstrationsAsync(f.AuthorId, f.ProjectId, false));
        await Assert.ThrowsAsync<ForbiddenException>(() => projects.SetTeamDemonstrationsAsync(viewer, f.ProjectId, false));
        await Assert.ThrowsAsync<ForbiddenException>(() => projects.SetTeamDemonstrationsAsync(outsider, f.ProjectId, false));
        Assert.True(await projects.GetTeamDemonstrationsAsync(f.AuthorId, f.ProjectId));

        await projects.SetTeamDemonstrationsAsync(f.OwnerId, f.ProjectId, false);
        await projects.SetTeamDemonstrationsAsync(f.OwnerId, f.ProjectId, false); // no change, no row
        await projects.SetTeamDemonstrationsAsync(f.OwnerId, f.ProjectId, true);

        await using var db = await f.Host.Db.CreateDbContextAsync();
        var kinds = await db.Activity.Where(a => a.ProjectId == f.ProjectId).OrderBy(a => a.Id).Select(a => a.Kind).ToListAsync();
        Assert.Equal([ActivityKinds.TeamDemonstrationsOff, ActivityKinds.TeamDemonstrationsOn], kinds);
        Assert.True(await db.Projects.Where(p => p.Id == f.ProjectId).Select(p => p.UseTeamDemonstrations).SingleAsync());
    }

    [Fact]
    public async Task Reviewer_rejections_with_reasons_and_edits_on_the_task_steer_its_next_prompts()
    {
        var f = await ArrangeAsync();
        await using var _ = f.Host;
        const string rejected = "The restaurant car park was full so we left before eating anything at all.";
        const string reason = "off-topic: about parking, not the restaurant";
        const string before = "Food was ok.";
        const string after = "The grilled fish was perfectly cooked and the waiter recommended a great local wine.";
        await using (var db = await f.Host.Db.CreateDbContextAsync())
        {
            var r = Candidate(f.ProjectId, f.TaskB, "complaint", rejected, CandidateStatus.Rejected, DateTimeOffset.UtcNow.AddMinutes(-3));
            r.ReviewReason = reason;
            db.Candidates.AddRange(r, Candidate(f.ProjectId, f.TaskB, "praise", before, CandidateStatus.Approved, DateTimeOffset.UtcNow.AddMinutes(-2), edited: after));
            await db.SaveChangesAsync();
        }

        var requests = await GenerateForTaskBAsync(f);

        foreach (var request in requests)
        {
            Assert.Contains(reason, request.User);
            Assert.Contains(after, request.User);
        }
    }
}
