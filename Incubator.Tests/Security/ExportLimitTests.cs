using Incubator.Domain.Common;
using Incubator.Domain.Generation;
using Incubator.Domain.Jobs;
using Incubator.Domain.Projects;
using Incubator.Domain.Review;
using Incubator.Domain.Tasks;
using Incubator.Tests.Jobs;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.Security;

/// <summary>Export jobs cannot fill the disk: per person at most two at once and thirty per day, none while the exports
/// folder is full, and every file deleted 24 hours after its job finished. Time moves by a clock the test shifts; the
/// worker runs only where a test needs a finished export.</summary>
public sealed class ExportLimitTests
{
    private sealed class ShiftedClock : TimeProvider
    {
        public TimeSpan Offset { get; set; }

        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + Offset;
    }

    private static async Task<(JobTestHost Host, ShiftedClock Clock, Guid TaskId, string Viewer, string Other)> ArrangeAsync(
        Dictionary<string, string?>? settings = null)
    {
        var clock = new ShiftedClock();
        var config = new ConfigurationBuilder().AddInMemoryCollection(settings ?? []).Build();
        var host = await JobTestHost.CreateAsync(configure: s =>
        {
            s.AddIncubatorReview(config);
            s.AddSingleton<TimeProvider>(clock);
        }, settings: settings);
        var projectId = await host.CreateProjectAsync("exports");
        var viewer = await host.CreateUserAsync(projectId, ProjectRole.Viewer, "viewer");
        var other = await host.CreateUserAsync(projectId, ProjectRole.Viewer, "other");
        var taskId = Guid.NewGuid();
        var spec = new TaskSpec { Name = "Mail", Instruction = "Sort mail.", Labels = [new LabelSpec { Name = "billing" }, new LabelSpec { Name = "shipping" }] };
        var t0 = JobTestHost.UtcNowMs().AddDays(-1);
        await using var db = await host.Db.CreateDbContextAsync();
        db.Tasks.Add(new ClassifierTask { Id = taskId, ProjectId = projectId, Name = spec.Name, CurrentVersion = 1, CreatedAt = t0, UpdatedAt = t0 });
        db.TaskVersions.Add(new TaskVersion { Id = Guid.NewGuid(), TaskId = taskId, Number = 1, SpecJson = TaskJson.Serialize(spec), ContentHash = "x", CreatedAt = t0 });
        for (var i = 0; i < 3; i++)
            db.Candidates.Add(new Candidate
            {
                Id = Guid.NewGuid(), ProjectId = projectId, TaskId = taskId, TaskVersionNumber = 1, Label = "billing", Text = $"Invoice question {i}.",
                NormalizedText = TextNormalizer.Normalize($"Invoice question {i}."), Source = CandidateSource.Generation, Stage = CandidateStage.Selected,
                Status = CandidateStatus.Pending, CreatedAt = t0.AddSeconds(i),
            });
        await db.SaveChangesAsync();
        return (host, clock, taskId, viewer, other);
    }

    [Fact]
    public async Task The_31st_export_of_a_day_is_refused_another_person_may_still_export_and_the_next_day_counts_again()
    {
        var (host, clock, taskId, viewer, other) = await ArrangeAsync(new() { ["Review:ExportJobsAtOnce"] = "100" });
        await using var _ = host;
        var exports = host.Services.GetRequiredService<ReviewExports>();
        for (var i = 0; i < 30; i++) await exports.StartAsync(viewer, taskId, new CandidateFilter(), ExportFormat.Tsv);

        var refused = await Assert.ThrowsAsync<DomainValidationException>(() => exports.StartAsync(viewer, taskId, new CandidateFilter(), ExportFormat.Tsv));

        Assert.Equal("ExportDailyLimit", refused.Details.Single().Code);
        Assert.Equal(30, (await host.Queue.ListAsync(viewer, (await ProjectOfAsync(host, taskId)), 0, 100)).Total);
        await exports.StartAsync(other, taskId, new CandidateFilter(), ExportFormat.Tsv);
        clock.Offset = TimeSpan.FromDays(1);
        await exports.StartAsync(viewer, taskId, new CandidateFilter(), ExportFormat.Tsv);
    }

    [Fact]
    public async Task Two_running_exports_per_person_are_the_most_at_once()
    {
        var (host, _, taskId, viewer, _) = await ArrangeAsync();
        await using var _ = host;
        var exports = host.Services.GetRequiredService<ReviewExports>();
        await exports.StartAsync(viewer, taskId, new CandidateFilter(), ExportFormat.Tsv);
        await exports.StartAsync(viewer, taskId, new CandidateFilter(), ExportFormat.Csv);

        var refused = await Assert.ThrowsAsync<DomainValidationException>(() => exports.StartAsync(viewer, taskId, new CandidateFilter(), ExportFormat.Jsonl));

        Assert.Equal("ExportTooManyAtOnce", refused.Details.Single().Code);
    }

    [Fact]
    public async Task An_expired_export_disappears_and_its_link_says_it_expired()
    {
        var (host, clock, taskId, viewer, _) = await ArrangeAsync();
        await using var _ = host;
        var exports = host.Services.GetRequiredService<ReviewExports>();
        var job = await exports.StartAsync(viewer, taskId, new CandidateFilter(), ExportFormat.Tsv);
        await host.StartWorkerAsync();
        await host.WaitForJobAsync(job.Id, j => j.IsFinished, "finished");
        var finished = await host.Queue.GetAsync(viewer, job.Id);
        Assert.Equal(finished.FinishedAt + TimeSpan.FromHours(24), exports.ExpiresAt(finished));
        var (path, _, _) = await exports.FileAsync(viewer, job.Id);
        Assert.True(File.Exists(path));

        clock.Offset = TimeSpan.FromHours(23);
        Assert.Equal(0, await exports.SweepAsync());
        Assert.True(File.Exists(path));
        clock.Offset = TimeSpan.FromHours(25);
        Assert.Equal(1, await exports.SweepAsync());

        Assert.False(File.Exists(path));
        var gone = await Assert.ThrowsAsync<NotFoundException>(() => exports.FileAsync(viewer, job.Id));
        Assert.Contains("expired", gone.Message);
    }

    [Fact]
    public async Task No_export_starts_while_the_folder_is_full_and_expired_files_make_room()
    {
        var (host, clock, taskId, viewer, _) = await ArrangeAsync(new() { ["Review:ExportFolderMegabytes"] = "1" });
        await using var _ = host;
        var exports = host.Services.GetRequiredService<ReviewExports>();
        var folder = Path.Combine(host.DataDirectory, "exports");
        Directory.CreateDirectory(folder);
        await File.WriteAllBytesAsync(Path.Combine(folder, "left-over.tsv"), new byte[2 * 1024 * 1024]);

        var refused = await Assert.ThrowsAsync<DomainValidationException>(() => exports.StartAsync(viewer, taskId, new CandidateFilter(), ExportFormat.Tsv));
        Assert.Equal("ExportFolderFull", refused.Details.Single().Code);

        clock.Offset = TimeSpan.FromHours(25);
        await exports.StartAsync(viewer, taskId, new CandidateFilter(), ExportFormat.Tsv);
        Assert.False(File.Exists(Path.Combine(folder, "left-over.tsv")));
    }

    private static async Task<Guid> ProjectOfAsync(JobTestHost host, Guid taskId)
    {
        await using var db = await host.Db.CreateDbContextAsync();
        return db.Tasks.Where(t => t.Id == taskId).Select(t => t.ProjectId).Single();
    }
}
