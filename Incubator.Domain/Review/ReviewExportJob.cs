using System.Text;
using Incubator.Domain.Common;
using Incubator.Domain.Data;
using Incubator.Domain.Generation;
using Incubator.Domain.Jobs;
using Incubator.Domain.Projects;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Incubator.Domain.Review;

/// <summary>Large queue exports: more rows than <see cref="ReviewOptions.ExportJobThreshold"/> are written by a durable
/// job into the data folder (exports/{jobId}.{ext}) and downloaded when done; smaller ones stream at once.</summary>
public sealed class ReviewExports(
    IDbContextFactory<IncubatorDbContext> dbFactory, ProjectAccess access, ReviewQueries review, JobQueue jobs,
    IOptions<ReviewOptions> options, IOptions<IncubatorOptions> incubator)
{
    public int Threshold => options.Value.ExportJobThreshold;

    /// <summary>How many rows the filter would export (checks the caller may read the task).</summary>
    public async Task<int> CountAsync(string userId, Guid taskId, CandidateFilter filter, CancellationToken ct = default) =>
        (await review.QueryAsync(userId, taskId, filter, 0, 1, CandidateSort.Oldest, ct)).Total;

    /// <summary>Queues the export job. Anyone who may read the queue may export it.</summary>
    public async Task<JobView> StartAsync(string userId, Guid taskId, CandidateFilter filter, ExportFormat format, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var total = await CountAsync(userId, taskId, filter, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var task = await db.Tasks.AsNoTracking().Where(t => t.Id == taskId).Select(t => new { t.ProjectId, t.Name }).SingleAsync(ct);
        var title = $"Export {total:N0} samples of '{task.Name}' as {ReviewExport.Extension(format).ToUpperInvariant()}";
        return await jobs.EnqueueInternalAsync(userId, task.ProjectId, ReviewExportJob.KindName, title.Length > 200 ? title[..200] : title,
            new ReviewExportJob.Payload(taskId, userId, filter, format), ct);
    }

    /// <summary>The finished file of an export job, for a member of its project.</summary>
    public async Task<(string Path, string ContentType, string FileName)> FileAsync(string userId, Guid jobId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var job = await db.Jobs.AsNoTracking().SingleOrDefaultAsync(j => j.Id == jobId && j.Kind == ReviewExportJob.KindName, ct)
            ?? throw new ForbiddenException("You do not have access to this export.");
        await access.RequireAsync(job.ProjectId, userId, ProjectRole.Viewer, ct);
        if (job.State != JobState.Succeeded)
            throw new DomainValidationException("job", "ExportNotReady", "This export is not finished yet.");
        var payload = System.Text.Json.JsonSerializer.Deserialize<ReviewExportJob.Payload>(job.Payload, JsonOptions)!;
        var path = PathFor(jobId, payload.Format);
        if (!File.Exists(path)) throw new NotFoundException("The export file is gone; start the export again.");
        return (path, ReviewExport.ContentType(payload.Format), $"candidates.{ReviewExport.Extension(payload.Format)}");
    }

    internal string PathFor(Guid jobId, ExportFormat format) =>
        Path.Combine(incubator.Value.ResolveSharedDirectory(), "exports", $"{jobId:N}.{ReviewExport.Extension(format)}");

    internal static readonly System.Text.Json.JsonSerializerOptions JsonOptions = new(System.Text.Json.JsonSerializerDefaults.Web);
}

/// <summary>Writes a queue export page by page; the checkpoint is the next page and the file length after the last
/// full page, so a restarted job cuts off a half-written page and carries on.</summary>
public sealed class ReviewExportJob(ReviewQueries review, ReviewExports exports) : IJobHandler
{
    public const string KindName = "review.export";
    private const int PageSize = 500;

    public sealed record Payload(Guid TaskId, string UserId, CandidateFilter Filter, ExportFormat Format);

    public sealed record Checkpoint(int NextPage, long Bytes, int Written);

    public string Kind => KindName;

    public async Task RunAsync(JobContext context)
    {
        var p = context.ReadPayload<Payload>();
        var path = exports.PathFor(context.JobId, p.Format);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var cp = context.ReadCheckpoint<Checkpoint>() ?? new Checkpoint(0, 0, 0);
        if (cp.NextPage > 0) await context.LogAsync($"Resuming at page {cp.NextPage + 1} ({cp.Written:N0} rows written).");
        await using var file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.Write, FileShare.Read);
        file.SetLength(cp.Bytes);
        file.Position = cp.Bytes;
        await using var writer = new StreamWriter(file, new UTF8Encoding(false));
        if (cp.Bytes == 0 && p.Format == ExportFormat.Csv) await writer.WriteLineAsync(ReviewExport.CsvHeader);
        var written = cp.Written;
        for (var page = cp.NextPage; ; page++)
        {
            context.CancellationToken.ThrowIfCancellationRequested();
            var rows = await review.QueryAsync(p.UserId, p.TaskId, p.Filter, page, PageSize, CandidateSort.Oldest, context.CancellationToken);
            foreach (var r in rows.Items) await ReviewExport.WriteRowAsync(r, p.Format, writer);
            written += rows.Items.Count;
            await writer.FlushAsync(context.CancellationToken);
            var last = (page + 1) * PageSize >= rows.Total || rows.Items.Count == 0;
            await context.CommitAsync(rows.Total == 0 ? 1 : Math.Min(1, (double)written / rows.Total), $"{written:N0} of {rows.Total:N0} rows written",
                new Checkpoint(page + 1, file.Length, written), last ? $"Export finished: {written:N0} rows." : null);
            if (last) break;
        }
    }
}
