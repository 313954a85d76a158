using Incubator.Domain.Review;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Incubator.Domain.Common;
using Incubator.Domain.Common.TextFiles;
using Incubator.Domain.Data;
using Incubator.Domain.Generation;
using Incubator.Domain.Projects;
using Incubator.Domain.Tasks;
using Microsoft.EntityFrameworkCore;

namespace Incubator.Domain.Datasets;

public sealed record DatasetVersionView(
    Guid Id, Guid ProjectId, Guid TaskId, int Number, int TaskVersionNumber, string ContentHash, int Count,
    IReadOnlyDictionary<string, int> Counts, DatasetLineage Lineage, int Seed, double ValidationShare, int TrainCount, int ValidationCount,
    DateTimeOffset CreatedAt, string? CreatedByEmail);

/// <param name="Encoding">How the uploaded file was decoded ("utf-8", "shift_jis", "windows-1252"…): set in the
/// answer to an import, null when the gold set is read back later.</param>
public sealed record GoldSetView(Guid Id, Guid TaskId, string FileName, int Count, IReadOnlyDictionary<string, int> Counts, string ContentHash,
    DateTimeOffset CreatedAt, string? CreatedByEmail, string? Encoding = null);

/// <summary>The samples of a dataset version as training reads them, in canonical order.</summary>
public sealed record DatasetContent(IReadOnlyList<(string Label, string Text)> Train, IReadOnlyList<(string Label, string Text)> Validation);

/// <summary>Use cases for dataset versions (freeze: Author; read: Viewer) and gold sets (upload: Author).</summary>
public sealed class DatasetService(IDbContextFactory<IncubatorDbContext> dbFactory, ProjectAccess access, TimeProvider time)
{
    public const double DefaultValidationShare = 0.2;
    public const int MaxGoldBytes = 10 * 1024 * 1024;
    public const int MaxGoldRows = 100_000;
    public const int MaxGoldTextLength = InputLimits.SampleText;

    /// <summary>Freezes the task's approved samples (the reviewer's edited text where there is one, the current label) into a
    /// new immutable version with a seeded stratified train/validation split. Freezing unchanged data with the same seed
    /// and share returns the existing version instead of a copy — also when two such freezes run at once. The items are
    /// written in short transactions into a version nobody sees; one last short transaction numbers it and makes it
    /// visible (<see cref="DatasetWriter"/>; docs/decisions/0028-write-discipline.md).</summary>
    public async Task<DatasetVersionView> FreezeAsync(string userId, Guid taskId, int seed = 1, double validationShare = DefaultValidationShare,
        CancellationToken ct = default)
    {
        var plan = await PlanFreezeAsync(userId, taskId, seed, validationShare, ct);
        return await WriteAndPublishAsync(userId, plan, DbBatches.Yield, ct);
    }

    /// <summary>Writes a planned freeze in batches, <paramref name="pause"/> apart, and publishes it (or returns the
    /// existing version). Internal so the bench can compare pauses.</summary>
    internal async Task<DatasetVersionView> WriteAndPublishAsync(string userId, FreezePlan plan, TimeSpan pause, CancellationToken ct)
    {
        if (plan.Existing is { } found) return await GetAsync(userId, found, ct);
        var id = await DatasetWriter.WriteLeasedAsync(dbFactory, time, plan.Version, plan.Items, pause, ct);
        Guid published;
        try
        {
            published = await DbRetry.RunAsync(() => PublishFreezeAsync(plan, userId, id, ct), ct);
        }
        catch
        {
            await DatasetWriter.DiscardAsync(dbFactory, id);
            throw;
        }
        // Another freeze of the same content was published while this one wrote: that one is the answer.
        if (published != id) await DatasetWriter.DiscardAsync(dbFactory, id);
        return await GetAsync(userId, published, ct);
    }

    /// <summary>What a freeze writes: the version (unnumbered) and its items in canonical order — or the existing version
    /// with the same content, seed and share. Reads only.</summary>
    internal sealed record FreezePlan(Guid? Existing, DatasetVersion Version, IReadOnlyList<DatasetItem> Items, string TaskName);

    /// <summary>Checks the request and reads the task's approved samples once (the reviewed snapshot the version holds).</summary>
    internal async Task<FreezePlan> PlanFreezeAsync(string userId, Guid taskId, int seed, double validationShare, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var task = await db.Tasks.AsNoTracking().SingleOrDefaultAsync(t => t.Id == taskId, ct)
            ?? throw new ForbiddenException("You do not have access to this task.");
        await access.RequireWriteAsync(task.ProjectId, userId, ProjectRole.Author, ct);
        if (!(validationShare is >= 0.05 and <= 0.5))
            throw new DomainValidationException("validationShare", "DatasetValidationShare", "The validation share must be between 0.05 and 0.5.");
        var spec = await CurrentSpecAsync(db, task, ct);
        var taskLabels = spec.Labels.Select(l => l.Name).ToHashSet(StringComparer.Ordinal);

        var approved = await db.Candidates.AsNoTracking()
            .Where(c => c.TaskId == taskId && c.Status == CandidateStatus.Approved)
            .Select(c => new { c.Id, c.Label, c.Text, c.EditedText, c.Source, c.RunId, c.ReviewedById, c.OriginalLabel, c.AcceptedBySpotCheckId })
            .ToListAsync(ct);
        var errors = new List<DomainError>();
        var emptyLabels = approved.Count(c => string.IsNullOrWhiteSpace(c.Label));
        if (emptyLabels > 0)
            errors.Add(new DomainError("label", "DatasetEmptyLabel", $"{emptyLabels} approved samples have an empty label; relabel them in the review queue.", [emptyLabels]));
        var samples = approved
            .Where(c => !string.IsNullOrWhiteSpace(c.Label))
            .Select(c => new { c.Id, Label = c.Label.Trim(), Text = (c.EditedText ?? c.Text).Trim(), c.Source, c.RunId, c.ReviewedById, Edited = c.EditedText is not null,
                Relabelled = c.OriginalLabel is not null, SpotCheck = c.AcceptedBySpotCheckId is not null })
            .Where(c => c.Text.Length > 0)
            .ToList();
        var unknown = samples.Select(s => s.Label).Where(l => !taskLabels.Contains(l)).Distinct().Order(StringComparer.Ordinal).ToList();
        if (unknown.Count > 0)
            errors.Add(new DomainError("label", "DatasetLabelNotInTask",
                $"Approved samples carry labels the task no longer has: {string.Join(", ", unknown)}. Relabel them or add the labels back.", [string.Join(", ", unknown)]));
        var perLabel = samples.GroupBy(s => s.Label).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        if (perLabel.Count < 2)
            errors.Add(new DomainError("labels", "DatasetTooFewLabels",
                $"Training needs approved samples for at least 2 labels; this task has them for {perLabel.Count}.", [perLabel.Count]));
        if (errors.Count > 0) throw new DomainValidationException(errors);

        var ordered = samples.OrderBy(s => s.Label, StringComparer.Ordinal).ThenBy(s => s.Text, StringComparer.Ordinal).ThenBy(s => s.Id).ToList();
        var hash = ContentHash(ordered.Select(s => (s.Label, s.Text)));
        var existing = await SameContentAsync(db, taskId, hash, seed, validationShare, task.CurrentVersion, ct);
        if (existing is not null) return new FreezePlan(existing, new DatasetVersion(), [], task.Name);

        var splits = StratifiedSplit(ordered.Select(s => s.Label).ToList(), validationShare, seed);
        var reviewerIds = samples.Select(s => s.ReviewedById).Where(r => r is not null).Distinct().ToList();
        var reviewers = await db.Users.AsNoTracking().Where(u => reviewerIds.Contains(u.Id)).Select(u => u.Email ?? u.Id).ToListAsync(ct);
        var lineage = new DatasetLineage(task.CurrentVersion,
            samples.Where(s => s.RunId is not null).Select(s => s.RunId!.Value).Distinct().Order().ToList(),
            reviewers.Order(StringComparer.Ordinal).ToList(),
            samples.Count(s => s.Source == CandidateSource.Generation), samples.Count(s => s.Source == CandidateSource.Mining),
            samples.Count(s => s.Edited), samples.Count(s => s.Relabelled), samples.Count(s => s.SpotCheck));
        var version = new DatasetVersion
        {
            Id = Guid.NewGuid(), ProjectId = task.ProjectId, TaskId = taskId, TaskVersionNumber = task.CurrentVersion,
            ContentHash = hash, Count = ordered.Count,
            CountsJson = JsonSerializer.Serialize(perLabel.OrderBy(p => p.Key, StringComparer.Ordinal).ToDictionary(p => p.Key, p => p.Value)),
            LineageJson = JsonSerializer.Serialize(lineage), Seed = seed, ValidationShare = validationShare,
            TrainCount = splits.Count(s => s == DatasetSplit.Train), ValidationCount = splits.Count(s => s == DatasetSplit.Validation),
            CreatedAt = time.GetUtcNow(), CreatedById = userId,
        };
        var items = ordered.Select((s, i) => new DatasetItem { DatasetVersionId = version.Id, Ordinal = i, Label = s.Label, Text = s.Text, Split = splits[i], CandidateId = s.Id })
            .ToList();
        return new FreezePlan(null, version, items, task.Name);
    }

    /// <summary>The freeze's last transaction: under the task's number lock, either the same content was published
    /// meanwhile (its id is returned and nothing changes) or the written version gets the next number, becomes visible
    /// and is logged.</summary>
    private async Task<Guid> PublishFreezeAsync(FreezePlan plan, string userId, Guid versionId, CancellationToken ct)
    {
        var v = plan.Version;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await DatasetWriter.LockNumbersAsync(db, v.TaskId, ct);
        if (await SameContentAsync(db, v.TaskId, v.ContentHash, v.Seed, v.ValidationShare, v.TaskVersionNumber, ct) is { } existing) return existing;
        var number = await DatasetWriter.PublishAsync(db, versionId, v.TaskId);
        db.Activity.Add(new ActivityEntry { ProjectId = v.ProjectId, UserId = userId, At = v.CreatedAt, Kind = ActivityKinds.DatasetFrozen, Detail = DatasetNotes.Detail(DatasetNotes.Frozen(plan.TaskName, number)) });
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return versionId;
    }

    /// <summary>A published version of the task with the same content, seed, share and task version (versions still
    /// being written are filtered out), or null.</summary>
    private static Task<Guid?> SameContentAsync(IncubatorDbContext db, Guid taskId, string hash, int seed, double validationShare, int taskVersion,
        CancellationToken ct) =>
        db.DatasetVersions.AsNoTracking()
            .Where(d => d.TaskId == taskId && d.ContentHash == hash && d.Seed == seed && d.ValidationShare == validationShare && d.TaskVersionNumber == taskVersion)
            .Select(d => (Guid?)d.Id).FirstOrDefaultAsync(ct);

    public async Task<IReadOnlyList<DatasetVersionView>> ListAsync(string userId, Guid taskId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var projectId = await access.RequireTaskAsync(taskId, userId, ProjectRole.Viewer, ct);
        var rows = await (from d in db.DatasetVersions.AsNoTracking()
                          where d.TaskId == taskId
                          join u in db.Users on d.CreatedById equals u.Id into us
                          from u in us.DefaultIfEmpty()
                          select new { d, Email = u == null ? null : u.Email }).ToListAsync(ct);
        return rows.OrderByDescending(r => r.d.Number).Select(r => ToView(r.d, r.Email)).ToList();
    }

    public async Task<DatasetVersionView> GetAsync(string userId, Guid datasetVersionId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var row = await (from d in db.DatasetVersions.AsNoTracking()
                         where d.Id == datasetVersionId
                         join u in db.Users on d.CreatedById equals u.Id into us
                         from u in us.DefaultIfEmpty()
                         select new { d, Email = u == null ? null : u.Email }).SingleOrDefaultAsync(ct)
            ?? throw new ForbiddenException("You do not have access to this dataset version.");
        await access.RequireAsync(row.d.ProjectId, userId, ProjectRole.Viewer, ct);
        return ToView(row.d, row.Email);
    }

    /// <summary>For training and model cards (already authorised): a version's summary without an access check.</summary>
    public async Task<DatasetVersionView> ReadViewAsync(Guid datasetVersionId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var d = await db.DatasetVersions.AsNoTracking().SingleAsync(x => x.Id == datasetVersionId, ct);
        var email = await db.Users.Where(u => u.Id == d.CreatedById).Select(u => u.Email).FirstOrDefaultAsync(ct);
        return ToView(d, email);
    }

    /// <summary>For training (a job already authorised when it was queued): the samples of a version, split.</summary>
    public async Task<DatasetContent> ReadContentAsync(Guid datasetVersionId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var items = await db.DatasetItems.AsNoTracking().Where(i => i.DatasetVersionId == datasetVersionId)
            .Select(i => new { i.Ordinal, i.Label, i.Text, i.Split }).ToListAsync(ct);
        items.Sort((a, b) => a.Ordinal.CompareTo(b.Ordinal));
        return new DatasetContent(
            items.Where(i => i.Split == DatasetSplit.Train).Select(i => (i.Label, i.Text)).ToList(),
            items.Where(i => i.Split == DatasetSplit.Validation).Select(i => (i.Label, i.Text)).ToList());
    }

    /// <summary>Replaces the task's gold set with the uploaded file. Labels must be the task's; every problem is reported
    /// with its line number and nothing is written unless the whole file is good.</summary>
    public async Task<GoldSetView> ImportGoldAsync(string userId, Guid taskId, string fileName, Stream content, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var task = await db.Tasks.AsNoTracking().SingleOrDefaultAsync(t => t.Id == taskId, ct)
            ?? throw new ForbiddenException("You do not have access to this task.");
        await access.RequireWriteAsync(task.ProjectId, userId, ProjectRole.Author, ct);
        var format = TextFileFormats.FromFileName(fileName) ?? throw new DomainValidationException("file", "UploadFormatUnknown",
                $"'{fileName}' is not a supported file: use .tsv (label<TAB>text), .csv (label,text) or .jsonl ({{\"label\":..., \"text\":...}}).", fileName ?? "");
        await using var buffer = await BufferAsync(content, ct);
        using var reader = TextFileReader.Open(buffer, TextFileOptions.ForLabels(format, maxTextChars: MaxGoldTextLength));
        var rows = reader.ReadAll(MaxGoldRows, ct);
        var spec = await CurrentSpecAsync(db, task, ct);
        var taskLabels = spec.Labels.Select(l => l.Name).ToHashSet(StringComparer.Ordinal);
        var unknown = rows.Where(r => !taskLabels.Contains(r.Label!)).GroupBy(r => r.Label!, StringComparer.Ordinal).ToList();
        if (unknown.Count > 0)
        {
            var known = string.Join(", ", spec.Labels.Select(l => l.Name));
            throw new DomainValidationException(unknown.Take(50).Select(g =>
            {
                var lines = string.Join(", ", g.Select(r => r.Line).Take(20)) + (g.Count() > 20 ? ", …" : "");
                return new DomainError("label", "GoldUnknownLabel", $"Label '{g.Key}' is not one of the task's labels ({known}); lines {lines}.", [g.Key, known, lines]);
            }).ToList());
        }
        var set = new GoldSet
        {
            Id = Guid.NewGuid(), ProjectId = task.ProjectId, TaskId = taskId, FileName = Path.GetFileName(fileName), Count = rows.Count,
            ContentHash = ContentHash(rows.Select(r => (Label: r.Label!, r.Text)).OrderBy(p => p.Label, StringComparer.Ordinal).ThenBy(p => p.Text, StringComparer.Ordinal)),
            CreatedAt = time.GetUtcNow(), CreatedById = userId,
        };
        db.GoldSets.Add(set);
        foreach (var r in rows) db.GoldItems.Add(new GoldItem { GoldSetId = set.Id, Line = (int)r.Line, Label = r.Label!, Text = r.Text });
        db.Activity.Add(new ActivityEntry { ProjectId = task.ProjectId, UserId = userId, At = set.CreatedAt, Kind = ActivityKinds.GoldUploaded, Detail = $"{task.Name} · {set.FileName} ({rows.Count})" });
        await db.SaveChangesAsync(ct);
        return (await GetGoldAsync(userId, taskId, ct))! with { Encoding = reader.Report.Encoding };
    }

    /// <summary>The task's current (newest) gold set, or null.</summary>
    public async Task<GoldSetView?> GetGoldAsync(string userId, Guid taskId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var projectId = await access.RequireTaskAsync(taskId, userId, ProjectRole.Viewer, ct);
        var sets = await db.GoldSets.AsNoTracking().Where(g => g.TaskId == taskId).ToListAsync(ct);
        var set = sets.OrderByDescending(g => g.CreatedAt).FirstOrDefault();
        if (set is null) return null;
        var counts = await db.GoldItems.AsNoTracking().Where(i => i.GoldSetId == set.Id).GroupBy(i => i.Label)
            .Select(g => new { g.Key, Count = g.Count() }).ToListAsync(ct);
        var email = await db.Users.Where(u => u.Id == set.CreatedById).Select(u => u.Email).FirstOrDefaultAsync(ct);
        return new GoldSetView(set.Id, set.TaskId, set.FileName, set.Count,
            counts.OrderBy(c => c.Key, StringComparer.Ordinal).ToDictionary(c => c.Key, c => c.Count), set.ContentHash, set.CreatedAt, email);
    }

    /// <summary>For training: the rows of a gold set.</summary>
    public async Task<IReadOnlyList<(string Label, string Text)>> ReadGoldAsync(Guid goldSetId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await db.GoldItems.AsNoTracking().Where(i => i.GoldSetId == goldSetId).OrderBy(i => i.Id).Select(i => new { i.Label, i.Text }).ToListAsync(ct);
        return rows.Select(r => (r.Label, r.Text)).ToList();
    }

    /// <summary>SHA-256 over the (label, text) pairs in the given order, with separators that cannot occur in a label.</summary>
    public static string ContentHash(IEnumerable<(string Label, string Text)> orderedPairs)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (label, text) in orderedPairs)
        {
            sha.AppendData(Encoding.UTF8.GetBytes(label));
            sha.AppendData([0x1F]);
            sha.AppendData(Encoding.UTF8.GetBytes(text));
            sha.AppendData([0x1E]);
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    /// <summary>Seeded and stratified: within each label (in ordinal order) the samples are shuffled with one seeded
    /// generator and the first round(n × share) go to validation — at least one when a label has 2 or more samples,
    /// never all of them. Same labels, same seed, same split.</summary>
    public static DatasetSplit[] StratifiedSplit(IReadOnlyList<string> labelsInOrder, double validationShare, int seed)
    {
        var result = new DatasetSplit[labelsInOrder.Count];
        var random = new Random(seed);
        foreach (var group in Enumerable.Range(0, labelsInOrder.Count).GroupBy(i => labelsInOrder[i]).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var idx = group.ToArray();
            random.Shuffle(idx);
            var n = idx.Length;
            var take = n < 2 ? 0 : Math.Clamp((int)Math.Round(n * validationShare, MidpointRounding.AwayFromZero), 1, n - 1);
            for (var k = 0; k < n; k++) result[idx[k]] = k < take ? DatasetSplit.Validation : DatasetSplit.Train;
        }
        return result;
    }

    internal static async Task<TaskSpec> CurrentSpecAsync(IncubatorDbContext db, ClassifierTask task, CancellationToken ct) =>
        TaskJson.Parse(await db.TaskVersions.AsNoTracking().Where(v => v.TaskId == task.Id && v.Number == task.CurrentVersion)
            .Select(v => v.SpecJson).SingleAsync(ct));

    /// <summary>The upload in memory (gold sets are small; the reader needs a seekable stream), refused past
    /// <see cref="MaxGoldBytes"/>.</summary>
    private static async Task<MemoryStream> BufferAsync(Stream content, CancellationToken ct)
    {
        var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await content.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > MaxGoldBytes)
                throw new DomainValidationException("file", "UploadTooLarge", $"The file is larger than {MaxGoldBytes / (1024 * 1024)} MB.", MaxGoldBytes / (1024 * 1024));
            buffer.Write(chunk, 0, read);
        }
        buffer.Position = 0;
        return buffer;
    }

    private static DatasetVersionView ToView(DatasetVersion d, string? email) =>
        new(d.Id, d.ProjectId, d.TaskId, d.Number, d.TaskVersionNumber, d.ContentHash, d.Count,
            JsonSerializer.Deserialize<Dictionary<string, int>>(d.CountsJson) ?? [],
            JsonSerializer.Deserialize<DatasetLineage>(d.LineageJson) ?? new DatasetLineage(d.TaskVersionNumber, [], [], 0, 0, 0, 0, 0),
            d.Seed, d.ValidationShare, d.TrainCount, d.ValidationCount, d.CreatedAt, email);
}
