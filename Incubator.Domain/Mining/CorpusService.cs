using System.Globalization;
using Incubator.Domain.Common.Events;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Incubator.Domain.Common;
using Incubator.Domain.Common.TextFiles;
using Incubator.Domain.Data;
using Incubator.Domain.Embeddings;
using Incubator.Domain.Jobs;
using Incubator.Domain.Projects;
using Microsoft.EntityFrameworkCore;

namespace Incubator.Domain.Mining;

public sealed record CorpusView(
    Guid Id, Guid ProjectId, string Name, string FileName, TextFileFormat Format, string Encoding, string Language, int TextCount, long RowsRead,
    long DuplicatesCollapsed, long BadRows, long Bytes, string Embedder, int EmbeddedCount, Guid? EmbeddingJobId, JobState? EmbeddingJobState,
    DateTimeOffset CreatedAt, CorpusState State = CorpusState.Ready, string? EmbeddingError = null, JobNote? EmbeddingNote = null)
{
    public bool EmbeddingsReady => TextCount > 0 && EmbeddedCount >= TextCount;

    /// <summary>True when the texts are not English and so are compared by character n-grams, not MiniLM.</summary>
    public bool UsesCharNgrams => Embedder == CharNgramEmbedder.RepresentationName;
}

/// <summary>The import report as stored and shown: counts, encoding, the first bad rows with line numbers.</summary>
public sealed record CorpusImportReport(
    string Encoding, long? Latin1FallbackAtByte, long RowsRead, long Kept, long DuplicatesCollapsed, long BadRowCount,
    IReadOnlyDictionary<string, long> BadByReason, IReadOnlyList<BadRow> BadRows, bool HeaderDetected, string? Source, string Language);

public sealed record CorpusImportResult(CorpusView Corpus, CorpusImportReport Report);

/// <summary>How far an import has read: bytes of the file (of <see cref="TotalBytes"/>, when the stream knows its
/// length) and rows so far.</summary>
public sealed record CorpusImportProgress(long BytesRead, long? TotalBytes, long RowsRead)
{
    /// <summary>0–100, or null when the total is unknown.</summary>
    public int? Percent => TotalBytes is > 0 and var total ? (int)Math.Clamp(BytesRead * 100 / total, 0, 100) : null;
}

/// <summary>Use cases on corpora with role checks: Authors upload and delete, Viewers read.</summary>
public sealed class CorpusService(
    IDbContextFactory<IncubatorDbContext> dbFactory,
    ProjectAccess access,
    CorpusEmbedders embedders,
    JobQueue jobs,
    IRunEvents events,
    TimeProvider time)
{
    public const long MaxUploadBytes = 256L * 1024 * 1024;
    public const int MaxTexts = 1_000_000;

    /// <summary>Reads the upload as a stream with the one <see cref="TextFileReader"/> (a file that is not text is refused
    /// before anything is written) and keeps good rows (duplicates folded into counts), reporting bad ones. The corpus is
    /// written in bounded batches, each its own short transaction, while it is <see cref="CorpusState.Importing"/> —
    /// invisible to mining and queries — so a large upload never holds the database's write lock for long
    /// (docs/decisions/0028-write-discipline.md); it becomes <see cref="CorpusState.Ready"/> with its counts in one
    /// last small transaction, then its embeddings job is queued. A refused or cancelled import removes what it wrote;
    /// one whose process dies is failed and removed by <see cref="CorpusImportSweeper"/>. <paramref name="progress"/>
    /// hears about every stored batch of rows and once more when the whole file is read.</summary>
    public async Task<CorpusImportResult> ImportAsync(string userId, Guid projectId, string? name, string fileName, Stream content,
        TextFileOptions options, CancellationToken ct = default, IProgress<CorpusImportProgress>? progress = null)
    {
        await access.RequireWriteAsync(projectId, userId, ProjectRole.Author, ct);
        var corpusName = string.IsNullOrWhiteSpace(name) ? Path.GetFileNameWithoutExtension(fileName ?? "") : name.Trim();
        if (corpusName.Length is 0 or > 200)
            throw new DomainValidationException("name", "CorpusNameInvalid", "A corpus needs a name of 1 to 200 characters.");
        if (content.CanSeek && content.Length > MaxUploadBytes)
            throw new DomainValidationException("file", "CorpusTooLarge", $"The file is larger than {MaxUploadBytes / (1024 * 1024)} MB.", MaxUploadBytes / (1024 * 1024));

        using var reader = TextFileReader.Open(content, options with { Labels = LabelMode.None });
        var report = reader.Report;
        var shortFileName = Path.GetFileName(fileName ?? "");
        var corpus = new Corpus
        {
            Id = Guid.NewGuid(), ProjectId = projectId, Name = corpusName, FileName = shortFileName.Length > 260 ? shortFileName[..260] : shortFileName,
            Format = options.Format, Bytes = content.Length, CreatedAt = time.GetUtcNow(), CreatedById = userId,
            State = CorpusState.Importing, ImportExpiresAt = time.GetUtcNow() + ImportLease,
        };
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            db.Corpora.Add(corpus);
            await db.SaveChangesAsync(ct);
        }
        await events.PublishAsync(new ProjectChanged(projectId, "corpora"), CancellationToken.None);
        try
        {
            var (language, embedder) = await WriteTextsAsync(corpus, reader, content, progress, ct);
            var stored = ToStored(report, language);
            var ready = await DbRetry.RunAsync(async () =>
            {
                await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
                await using var tx = await db.Database.BeginTransactionAsync(CancellationToken.None);
                var n = await db.Corpora.Where(c => c.Id == corpus.Id && c.State == CorpusState.Importing).ExecuteUpdateAsync(s => s
                    .SetProperty(c => c.State, CorpusState.Ready)
                    .SetProperty(c => c.ImportExpiresAt, (DateTimeOffset?)null)
                    .SetProperty(c => c.TextCount, (int)report.Kept)
                    .SetProperty(c => c.RowsRead, report.RowsRead)
                    .SetProperty(c => c.DuplicatesCollapsed, report.DuplicatesCollapsed)
                    .SetProperty(c => c.BadRows, report.BadRowCount)
                    .SetProperty(c => c.Encoding, report.Encoding)
                    .SetProperty(c => c.Language, language)
                    .SetProperty(c => c.Embedder, embedder)
                    .SetProperty(c => c.ReportJson, JsonSerializer.Serialize(stored, JsonOptions)), CancellationToken.None);
                if (n == 0) return false;
                db.Activity.Add(new ActivityEntry { ProjectId = projectId, UserId = userId, At = time.GetUtcNow(), Kind = ActivityKinds.CorpusUploaded, Detail = corpusName });
                await db.SaveChangesAsync(CancellationToken.None);
                await tx.CommitAsync(CancellationToken.None);
                return true;
            }, CancellationToken.None);
            if (!ready) throw ImportLost();

            var job = await jobs.EnqueueInternalAsync(userId, projectId, CorpusEmbeddingJob.KindName, JobTitles.Embed(corpusName),
                new CorpusEmbeddingJob.Payload(corpus.Id), CancellationToken.None);
            await using (var db = await dbFactory.CreateDbContextAsync(CancellationToken.None))
                await db.Corpora.Where(c => c.Id == corpus.Id).ExecuteUpdateAsync(s => s.SetProperty(c => c.EmbeddingJobId, job.Id), CancellationToken.None);
            await events.PublishAsync(new ProjectChanged(projectId, "corpora"), CancellationToken.None);
            return new CorpusImportResult(await GetAsync(userId, corpus.Id, CancellationToken.None), stored);
        }
        catch
        {
            // Refused part-way (too many texts, nothing readable), cancelled, or failed: nothing of it stays.
            await RemoveAsync(dbFactory, corpus.Id, deleteRow: true);
            await events.PublishAsync(new ProjectChanged(projectId, "corpora"), CancellationToken.None);
            throw;
        }
    }

    /// <summary>How long an import may go without storing a batch before it counts as dead.</summary>
    public static readonly TimeSpan ImportLease = TimeSpan.FromMinutes(5);

    /// <summary>Rows per insert transaction: about 20–60 ms of writing on two cores for either provider.</summary>
    internal const int InsertBatch = 2000;

    private static ConflictException ImportLost() =>
        new("The import was stopped from outside (its corpus is no longer importing). Nothing was kept; upload the file again.");

    /// <summary>Streams the texts into the corpus, one short transaction per <see cref="InsertBatch"/> rows, each renewing
    /// the import's lease; then folds duplicate counts in, again in small statements.</summary>
    private async Task<(string Language, string Embedder)> WriteTextsAsync(Corpus corpus, TextFileReader reader, Stream content,
        IProgress<CorpusImportProgress>? progress, CancellationToken ct)
    {
        var report = reader.Report;
        var seen = new Dictionary<UInt128, int>();
        var counts = new List<int>();
        var sample = new List<string>();
        var pending = new List<CorpusText>(InsertBatch);
        foreach (var row in reader.Records(ct))
        {
            var key = Hash(row.Text);
            if (seen.TryGetValue(key, out var ordinal))
            {
                counts[ordinal]++;
                report.DuplicatesCollapsed++;
                continue;
            }
            if (counts.Count >= MaxTexts)
                throw new DomainValidationException("file", "CorpusTooManyTexts", $"The file holds more than {MaxTexts:N0} distinct texts.", MaxTexts);
            ordinal = counts.Count;
            seen[key] = ordinal;
            counts.Add(1);
            if (sample.Count < 2000) sample.Add(row.Text);
            pending.Add(new CorpusText { CorpusId = corpus.Id, Ordinal = ordinal, Text = row.Text, Line = row.Line });
            if (pending.Count >= InsertBatch)
            {
                await InsertBatchAsync(corpus.Id, pending, ct);
                pending.Clear();
                progress?.Report(Progress(content, report));
            }
        }
        if (pending.Count > 0) await InsertBatchAsync(corpus.Id, pending, ct);
        progress?.Report(Progress(content, report));
        report.Kept = counts.Count;
        if (counts.Count == 0)
        {
            var first = report.BadRows.FirstOrDefault();
            throw new DomainValidationException("file", "CorpusEmpty",
                $"No text could be read from the file ({report.RowsRead} rows, {report.BadRowCount} bad" + (first is null ? ")." : $"; line {first.Line}: {first.Detail})."),
                report.RowsRead, report.BadRowCount);
        }
        // Fold duplicate counts in: one UPDATE per distinct count value and chunk, not one per text, each on its own.
        foreach (var group in Enumerable.Range(0, counts.Count).Where(i => counts[i] > 1).GroupBy(i => counts[i]))
        {
            foreach (var chunk in group.Chunk(500))
            {
                var c = group.Key;
                await DbRetry.RunAsync(async () =>
                {
                    await using var db = await dbFactory.CreateDbContextAsync(ct);
                    await db.CorpusTexts.Where(t => t.CorpusId == corpus.Id && chunk.Contains(t.Ordinal)).ExecuteUpdateAsync(s => s.SetProperty(t => t.Count, c), ct);
                }, ct);
            }
        }
        var language = LanguageGuess.Guess(sample);
        return (language, embedders.ForLanguage(language).Name);
    }

    private Task InsertBatchAsync(Guid corpusId, IReadOnlyList<CorpusText> rows, CancellationToken ct) =>
        DbRetry.RunAsync(async () =>
        {
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            db.ChangeTracker.AutoDetectChangesEnabled = false;
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            var alive = await db.Corpora.Where(c => c.Id == corpusId && c.State == CorpusState.Importing)
                .ExecuteUpdateAsync(s => s.SetProperty(c => c.ImportExpiresAt, time.GetUtcNow() + ImportLease), ct);
            if (alive == 0) throw ImportLost();
            foreach (var chunk in rows.Chunk(RowsPerStatement))
                await db.Database.ExecuteSqlRawAsync(InsertSql(chunk.Length), chunk.SelectMany(r => new object[] { r.CorpusId, r.Ordinal, r.Text, r.Count, r.Line }), ct);
            await tx.CommitAsync(ct);
        }, ct);

    /// <summary>Rows per multi-row INSERT (five parameters each; far below either provider's parameter limit).</summary>
    private const int RowsPerStatement = 400;

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<int, string> InsertSqlBySize = new();

    /// <summary>A multi-row INSERT of corpus texts in plain SQL both providers read (parameters typed by EF's mappings, so
    /// ids are stored exactly as EF stores them). The change tracker costs ten times more per row and a million rows is
    /// the documented limit.</summary>
    private static string InsertSql(int rows) => InsertSqlBySize.GetOrAdd(rows, n =>
    {
        var sql = new StringBuilder("""INSERT INTO "CorpusTexts" ("CorpusId", "Ordinal", "Text", "Count", "Line") VALUES """);
        for (var i = 0; i < n; i++)
        {
            var p = i * 5;
            sql.Append(i > 0 ? ", (" : "(").Append(CultureInfo.InvariantCulture, $"{{{p}}}, {{{p + 1}}}, {{{p + 2}}}, {{{p + 3}}}, {{{p + 4}}}").Append(')');
        }
        return sql.ToString();
    });

    /// <summary>Deletes a corpus's vectors and texts in bounded batches (each its own statement), then — with
    /// <paramref name="deleteRow"/> — the corpus row itself. Runs whatever the caller's cancellation says: a half-removed
    /// corpus would be worse.</summary>
    internal static async Task RemoveAsync(IDbContextFactory<IncubatorDbContext> dbFactory, Guid corpusId, bool deleteRow)
    {
        const int batch = 5000;
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        while (await DbRetry.RunAsync(() => db.CorpusEmbeddingBatches.Where(b => b.CorpusId == corpusId).OrderBy(b => b.Id).Take(100).ExecuteDeleteAsync()) > 0)
        {
        }
        while (await DbRetry.RunAsync(() => db.CorpusTexts.Where(t => t.CorpusId == corpusId).OrderBy(t => t.Id).Take(batch).ExecuteDeleteAsync()) > 0)
        {
        }
        if (deleteRow)
        {
            await DbRetry.RunAsync(() => db.MiningRuns.Where(r => r.CorpusId == corpusId).ExecuteUpdateAsync(s => s.SetProperty(r => r.CorpusId, (Guid?)null)));
            await DbRetry.RunAsync(() => db.Corpora.Where(c => c.Id == corpusId).ExecuteDeleteAsync());
        }
    }

    /// <summary>The stream's position counts what the reader has buffered, a few KB ahead of the parser: close
    /// enough for a percentage, and exact at the end.</summary>
    private static CorpusImportProgress Progress(Stream content, TextFileReport report) =>
        content.CanSeek ? new(content.Position, content.Length, report.RowsRead) : new(0, null, report.RowsRead);

    private static UInt128 Hash(string text)
    {
        Span<byte> digest = stackalloc byte[32];
        var max = Encoding.UTF8.GetMaxByteCount(text.Length);
        var bytes = max <= 4096 ? stackalloc byte[max] : new byte[max];
        var n = Encoding.UTF8.GetBytes(text, bytes);
        SHA256.HashData(bytes[..n], digest);
        return BitConverter.ToUInt128(digest);
    }

    private static CorpusImportReport ToStored(TextFileReport r, string language) => new(
        r.Encoding, r.Latin1FallbackAtByte, r.RowsRead, r.Kept, r.DuplicatesCollapsed, r.BadRowCount,
        r.BadByReason.ToDictionary(k => k.Key.ToString(), k => k.Value), r.BadRows.ToList(), r.HeaderDetected, r.Source, language);

    public async Task<IReadOnlyList<CorpusView>> ListAsync(string userId, Guid projectId, CancellationToken ct = default)
    {
        await access.RequireAsync(projectId, userId, ProjectRole.Viewer, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await Views(db, db.Corpora.AsNoTracking().Where(c => c.ProjectId == projectId)).ToListAsync(ct);
        return rows.OrderByDescending(c => c.CreatedAt).ToList();
    }

    public async Task<CorpusView> GetAsync(string userId, Guid corpusId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var view = await Views(db, db.Corpora.AsNoTracking().Where(c => c.Id == corpusId)).SingleOrDefaultAsync(ct)
            ?? throw new ForbiddenException("You do not have access to this corpus.");
        await access.RequireAsync(view.ProjectId, userId, ProjectRole.Viewer, ct);
        return view;
    }

    public async Task<CorpusImportReport> GetReportAsync(string userId, Guid corpusId, CancellationToken ct = default)
    {
        await GetAsync(userId, corpusId, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var json = await db.Corpora.Where(c => c.Id == corpusId).Select(c => c.ReportJson).SingleAsync(ct);
        return JsonSerializer.Deserialize<CorpusImportReport>(json, JsonOptions)!;
    }

    /// <summary>A page of a corpus's texts in order (Viewer).</summary>
    public async Task<Page<CorpusTextRow>> TextsAsync(string userId, Guid corpusId, int pageIndex, int pageSize, CancellationToken ct = default)
    {
        var corpus = await GetAsync(userId, corpusId, ct);
        pageSize = Math.Clamp(pageSize, 1, 1000);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var from = Math.Max(0, pageIndex) * pageSize;
        var items = await db.CorpusTexts.AsNoTracking().Where(t => t.CorpusId == corpusId && t.Ordinal >= from && t.Ordinal < from + pageSize)
            .OrderBy(t => t.Ordinal).Select(t => new CorpusTextRow(t.Ordinal, t.Text, t.Count, t.Line)).ToListAsync(ct);
        return new Page<CorpusTextRow>(items, corpus.TextCount, pageIndex, pageSize);
    }

    public async Task DeleteAsync(string userId, Guid corpusId, CancellationToken ct = default)
    {
        var corpus = await GetAsync(userId, corpusId, ct);
        await access.RequireWriteAsync(corpus.ProjectId, userId, ProjectRole.Author, ct);
        if (corpus.EmbeddingJobId is { } jobId && corpus.EmbeddingJobState is JobState.Queued or JobState.Running or JobState.Paused)
            await jobs.CancelAsync(userId, jobId, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        // Texts and vectors can be a million rows: out of sight first (no longer Ready), then deleted in SQL in bounded
        // batches, never in one long write (docs/decisions/0028-write-discipline.md).
        await db.Corpora.Where(c => c.Id == corpusId).ExecuteUpdateAsync(s => s.SetProperty(c => c.State, CorpusState.Failed), ct);
        await RemoveAsync(dbFactory, corpusId, deleteRow: true);
        db.Activity.Add(new ActivityEntry { ProjectId = corpus.ProjectId, UserId = userId, At = time.GetUtcNow(), Kind = ActivityKinds.CorpusDeleted, Detail = corpus.Name });
        await db.SaveChangesAsync(ct);
        await events.PublishAsync(new ProjectChanged(corpus.ProjectId, "corpora"), CancellationToken.None);
    }

    /// <summary>Queues the embeddings job again (after a failure or cancel); it continues from what is stored.</summary>
    public async Task<CorpusView> StartEmbeddingAsync(string userId, Guid corpusId, CancellationToken ct = default)
    {
        var corpus = await GetAsync(userId, corpusId, ct);
        await access.RequireWriteAsync(corpus.ProjectId, userId, ProjectRole.Author, ct);
        if (corpus.EmbeddingJobState is JobState.Queued or JobState.Running) return corpus;
        if (corpus.State != CorpusState.Ready)
            throw new DomainValidationException("corpusId", "CorpusNotReady", "This corpus is still being imported (or its import failed); choose a ready one.");
        var job = await jobs.EnqueueAsync(userId, corpus.ProjectId, CorpusEmbeddingJob.KindName, JobTitles.Embed(corpus.Name), new CorpusEmbeddingJob.Payload(corpusId), ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await db.Corpora.Where(c => c.Id == corpusId).ExecuteUpdateAsync(s => s.SetProperty(c => c.EmbeddingJobId, job.Id), ct);
        return await GetAsync(userId, corpusId, ct);
    }

    private static IQueryable<CorpusView> Views(IncubatorDbContext db, IQueryable<Corpus> q) =>
        from c in q
        join j in db.Jobs on c.EmbeddingJobId equals j.Id into jj
        from j in jj.DefaultIfEmpty()
        select new CorpusView(c.Id, c.ProjectId, c.Name, c.FileName, c.Format, c.Encoding, c.Language, c.TextCount, c.RowsRead, c.DuplicatesCollapsed,
            c.BadRows, c.Bytes, c.Embedder, c.EmbeddedCount, c.EmbeddingJobId, j == null ? null : j.State, c.CreatedAt, c.State,
            j == null ? null : j.Error, j == null ? null : JobNote.FromJson(j.NoteJson));

    internal static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web) { Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() } };
}
