using System.Text;
using Incubator.Domain.Common;
using Incubator.Domain.Generation;
using Incubator.Domain.Jobs;
using Incubator.Domain.Projects;
using Incubator.Domain.Review;
using Incubator.Domain.Tasks;
using Incubator.Tests.Jobs;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.Review;

/// <summary>Large exports as a durable job: the file is written page by page into the data folder, only members can
/// fetch it, and a restarted job cuts off a half-written page and carries on from its checkpoint.</summary>
public sealed class ReviewExportJobTests
{
    private const int Rows = 1100;   // three pages of 500

    private static async Task<(JobTestHost Host, Guid ProjectId, Guid TaskId, string Viewer, string Outsider)> ArrangeAsync()
    {
        var host = await JobTestHost.CreateAsync(configure: s => s.AddIncubatorReview(JobTestHost.NoSettings));
        var projectId = await host.CreateProjectAsync("export");
        var viewer = await host.CreateUserAsync(projectId, ProjectRole.Viewer, "viewer");
        var outsider = await host.CreateUserAsync(projectId, null, "outsider");
        var taskId = Guid.NewGuid();
        var spec = new TaskSpec
        {
            Name = "Reviews", Instruction = "Sort guest reviews.", Labels = [new LabelSpec { Name = "praise" }, new LabelSpec { Name = "complaint" }],
        };
        var t0 = JobTestHost.UtcNowMs().AddDays(-1);
        await using var db = await host.Db.CreateDbContextAsync();
        db.Tasks.Add(new ClassifierTask { Id = taskId, ProjectId = projectId, Name = spec.Name, CurrentVersion = 1, CreatedAt = t0, UpdatedAt = t0 });
        db.TaskVersions.Add(new TaskVersion { Id = Guid.NewGuid(), TaskId = taskId, Number = 1, SpecJson = TaskJson.Serialize(spec), ContentHash = "x", CreatedAt = t0 });
        for (var i = 0; i < Rows; i++)
        {
            var text = $"Guest review {i:0000}.";
            db.Candidates.Add(new Candidate
            {
                Id = Guid.NewGuid(), ProjectId = projectId, TaskId = taskId, TaskVersionNumber = 1, Label = i % 3 == 0 ? "complaint" : "praise", Text = text,
                NormalizedText = TextNormalizer.Normalize(text), Source = CandidateSource.Generation, Stage = CandidateStage.Selected,
                Status = CandidateStatus.Pending, CreatedAt = t0.AddSeconds(i),
            });
        }
        await db.SaveChangesAsync();
        return (host, projectId, taskId, viewer, outsider);
    }

    private static string Expected(int from = 0) =>
        string.Concat(Enumerable.Range(from, Rows - from).Select(i => $"{(i % 3 == 0 ? "complaint" : "praise")}\tGuest review {i:0000}.\n"));

    [Fact]
    public async Task A_viewer_starts_an_export_job_and_only_members_download_the_file()
    {
        var (host, _, taskId, viewer, outsider) = await ArrangeAsync();
        await using var _ = host;
        var exports = host.Services.GetRequiredService<ReviewExports>();
        Assert.Equal(Rows, await exports.CountAsync(viewer, taskId, new CandidateFilter()));
        await Assert.ThrowsAsync<ForbiddenException>(() => exports.StartAsync(outsider, taskId, new CandidateFilter(), ExportFormat.Tsv));

        var job = await exports.StartAsync(viewer, taskId, new CandidateFilter(), ExportFormat.Tsv);
        var notReady = await Assert.ThrowsAsync<DomainValidationException>(() => exports.FileAsync(viewer, job.Id));
        Assert.Equal("ExportNotReady", Assert.Single(notReady.Details).Code);
        await host.StartWorkerAsync();
        var done = await host.WaitForJobAsync(job.Id, j => j.IsFinished, "finished");

        Assert.Equal((JobState.Succeeded, 1.0), (done.State, done.Progress));
        var (path, contentType, name) = await exports.FileAsync(viewer, job.Id);
        Assert.Equal(Expected(), await File.ReadAllTextAsync(path));
        Assert.Equal(("candidates.tsv", true), (name, contentType.StartsWith("text/tab-separated-values", StringComparison.Ordinal)));
        Assert.StartsWith(Path.Combine(host.DataDirectory, "exports"), path);
        await Assert.ThrowsAsync<ForbiddenException>(() => exports.FileAsync(outsider, job.Id));
    }

    [Fact]
    public async Task A_restarted_export_cuts_off_the_half_written_page_and_continues_from_its_checkpoint()
    {
        var (host, projectId, taskId, viewer, _) = await ArrangeAsync();
        await using var __ = host;
        var jobId = Guid.NewGuid();
        var path = Path.Combine(host.DataDirectory, "exports", $"{jobId:N}.tsv");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var firstPage = Expected()[..Expected().IndexOf("Guest review 0500.", StringComparison.Ordinal)];
        firstPage = firstPage[..(firstPage.LastIndexOf('\n') + 1)];
        var bytes = Encoding.UTF8.GetByteCount(firstPage);
        // What a crash left behind: the first page (checkpointed) and part of the second (not checkpointed).
        await File.WriteAllTextAsync(path, firstPage + "praise\tGuest review 0500.\npraise\tGuest rev", new UTF8Encoding(false));
        await host.InsertJobAsync(new Job
        {
            Id = jobId, ProjectId = projectId, Kind = ReviewExportJob.KindName, Title = "export", State = JobState.Queued, CreatedAt = JobTestHost.UtcNowMs(),
            Payload = JobTestHost.Json(new ReviewExportJob.Payload(taskId, viewer, new CandidateFilter(), ExportFormat.Tsv)),
            Checkpoint = JobTestHost.Json(new ReviewExportJob.Checkpoint(1, bytes, 500)), Attempts = 1,
        });

        await host.StartWorkerAsync();
        var done = await host.WaitForJobAsync(jobId, j => j.IsFinished, "finished");

        Assert.Equal(JobState.Succeeded, done.State);
        Assert.Equal(Expected(), await File.ReadAllTextAsync(path));
        var log = await host.GetLogAsync(jobId);
        Assert.Contains(log, l => l.Message == "Resuming at page 2 (500 rows written).");
        Assert.Contains(log, l => l.Message == $"Export finished: {Rows:N0} rows.");
    }
}
