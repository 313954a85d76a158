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
/// job into the data folder (exports/{jobId}.{ext}) and downloaded when done; smaller ones stream at once. Export jobs
/// are bounded so that reading rights cannot fill the disk: per person at most <see cref="ReviewOptions.ExportJobsAtOnce"/>
/// at once and <see cref="ReviewOptions.ExportJobsPerDay"/> per UTC day, none while the folder holds
/// <see cref="ReviewOptions.ExportFolderMegabytes"/>, and every file is deleted <see cref="ReviewOptions.ExportRetention"/>
/// after its job finished (<see cref="SweepAsync"/>).</summary>
public sealed class ReviewExports(
    IDbContextFactory<IncubatorDbContext> dbFactory, ProjectAccess access, ReviewQueries review, JobQueue jobs,
    IOptions<ReviewOptions> options, IOptions<IncubatorOptions> incubator, TimeProvider time)
{
    public int Threshold => options.Value.ExportJobThreshold;

    /// <summary>When a finished export's file is deleted (null while it runs).</summary>
    public DateTimeOffset? ExpiresAt(JobView job) => job.FinishedAt is { } at ? at + options.Value.ExportRetention : null;

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
        var title = JobTitles.Export(total, task.Name, ReviewExport.Extension(format).ToUpperInvariant());
        await SweepAsync(ct);
        var o = options.Value;
        var used = FolderBytes();
        if (used >= o.ExportFolderMegabytes * 1024L * 1024)
            throw new DomainValidationException("export", "ExportFolderFull",
                $"The server's export space is full ({used / (1024 * 1024):N0} MB of {o.ExportFolderMegabytes:N0} MB). Try again when older exports have expired.",
                o.ExportFolderMegabytes);
        return await jobs.EnqueueInternalAsync(userId, task.ProjectId, ReviewExportJob.KindName, title.Message.Length > 200 ? new JobNote(title.Code, title.Message[..200], title.Args) : title,
            new ReviewExportJob.Payload(taskId, userId, filter, format), ct, admit: (tx, token) => AdmitAsync(tx, userId, token));
    }

    /// <summary>Counted inside the start transaction, so starting many at once cannot pass the limits (on PostgreSQL
    /// under the person's export lock: READ COMMITTED alone would let two simultaneous starts both count the same rows).</summary>
    private async Task AdmitAsync(IncubatorDbContext db, string userId, CancellationToken ct)
    {
        await db.LockAsync("exports-of", userId, ct);
        var o = options.Value;
        var mine = db.Jobs.Where(j => j.Kind == ReviewExportJob.KindName && j.CreatedById == userId);
        var running = await mine.CountAsync(j => j.State == JobState.Queued || j.State == JobState.Running || j.State == JobState.Paused, ct);
        if (running >= o.ExportJobsAtOnce)
            throw new DomainValidationException("export", "ExportTooManyAtOnce",
                $"You already have {running} exports running; wait until one has finished (at most {o.ExportJobsAtOnce} at once).", o.ExportJobsAtOnce);
        var now = time.GetUtcNow();
        var today = new DateTimeOffset(now.Year, now.Month, now.Day, 0, 0, 0, TimeSpan.Zero);
        if (await mine.CountAsync(j => j.CreatedAt >= today, ct) >= o.ExportJobsPerDay)
            throw new DomainValidationException("export", "ExportDailyLimit",
                $"You have started {o.ExportJobsPerDay} exports today, the most allowed per day. The count starts again at midnight UTC.", o.ExportJobsPerDay);
    }

    /// <summary>Deletes export files whose retention has passed (a finished job's file, by its job's end; a file with no
    /// job, by its own age). Returns how many were deleted.</summary>
    public async Task<int> SweepAsync(CancellationToken ct = default)
    {
        var folder = Folder;
        if (!Directory.Exists(folder)) return 0;
        var cutoff = time.GetUtcNow() - options.Value.ExportRetention;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var deleted = 0;
        foreach (var file in Directory.EnumerateFiles(folder))
        {
            if (await EndOfAsync(db, file, ct) is not { } end || end > cutoff) continue;
            try
            {
                File.Delete(file);
                deleted++;
            }
            catch (IOException)
            {
                // In use (a download in progress): the next sweep takes it.
            }
        }
        return deleted;
    }

    /// <summary>When the file's retention starts: its job's end; its own last write when it has no job; null while its
    /// job is still writing it.</summary>
    private static async Task<DateTimeOffset?> EndOfAsync(IncubatorDbContext db, string file, CancellationToken ct)
    {
        var written = new DateTimeOffset(File.GetLastWriteTimeUtc(file), TimeSpan.Zero);
        if (!Guid.TryParseExact(Path.GetFileNameWithoutExtension(file), "N", out var jobId)) return written;
        var job = await db.Jobs.AsNoTracking().Where(j => j.Id == jobId).Select(j => new { j.State, j.FinishedAt }).FirstOrDefaultAsync(ct);
        if (job is null) return written;
        if (job.State is JobState.Queued or JobState.Running or JobState.Paused) return null;
        return job.FinishedAt ?? written;
    }

    private string Folder => Path.Combine(incubator.Value.ResolveSharedDirectory(), "exports");

    private long FolderBytes() => Directory.Exists(Folder) ? Directory.EnumerateFiles(Folder).Sum(f => new FileInfo(f).Length) : 0;

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
        var expires = job.FinishedAt + options.Value.ExportRetention;
        if (expires <= time.GetUtcNow() || !File.Exists(path))
            throw new NotFoundException($"This export expired{(expires is { } at ? $" at {at:yyyy-MM-dd HH:mm} UTC" : "")} and its file was deleted; start the export again.");
        return (path, ReviewExport.ContentType(payload.Format), $"candidates.{ReviewExport.Extension(payload.Format)}");
    }

    internal string PathFor(Guid jobId, ExportFormat format) => Path.Combine(Folder, $"{jobId:N}.{ReviewExport.Extension(format)}");

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
        if (cp.NextPage > 0) await context.LogAsync(ProgressNotes.ExportResuming(cp.NextPage + 1, cp.Written));
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
            await context.CommitAsync(rows.Total == 0 ? 1 : Math.Min(1, (double)written / rows.Total), ProgressNotes.ExportWritten(written, rows.Total),
                new Checkpoint(page + 1, file.Length, written), last ? ProgressNotes.ExportFinished(written) : null);
            if (last) break;
        }
    }
}
