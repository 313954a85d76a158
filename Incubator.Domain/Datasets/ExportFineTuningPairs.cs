using Incubator.Domain.Common;
using Incubator.Domain.Data;
using Incubator.Domain.Projects;
using Incubator.Domain.Tasks;
using Microsoft.EntityFrameworkCore;

namespace Incubator.Domain.Datasets;

/// <summary>An export ready to be written: the pairs of each task and the settings they were made with.</summary>
public sealed record FineTuningExport(string FileName, IReadOnlyList<TaskPairs> Tasks, int Seed, double ValidationShare, DateTimeOffset CreatedAt)
{
    public int PairCount => Tasks.Sum(t => t.Pairs.Count);

    /// <summary>The tasks of a project export that contributed no pair, each with why (texts approved under two labels,
    /// a label without samples, no dataset version): said in the data card and to whoever started the export, never
    /// left for the reader to notice.</summary>
    public IReadOnlyList<DomainError> Omitted { get; init; } = [];

    public void WriteZip(Stream zip) => FineTuningPairs.Write(zip, Tasks, Seed, ValidationShare, CreatedAt, Omitted.Select(o => o.Message).ToList());

    /// <summary>The zip written to a temporary file that is deleted when the returned stream is closed, positioned at its
    /// start: pairs of a large dataset are never held in memory whole, and the length is known before sending.</summary>
    public FileStream WriteTempZip()
    {
        var file = new FileStream(Path.GetTempFileName(), FileMode.Create, FileAccess.ReadWrite, FileShare.None, 65536, FileOptions.DeleteOnClose);
        try
        {
            WriteZip(file);
            file.Position = 0;
            return file;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }
}

/// <summary>Fine-tuning pairs from frozen dataset versions (immutable and hashed, so an export can be reproduced): one
/// version, or the newest version of every task of a project. Needs <see cref="MinimumRole"/>: the export is the
/// project's reviewed data packaged to train a model elsewhere, which is a decision for the people who review that data,
/// not for read-only members.</summary>
public sealed class ExportFineTuningPairs(IDbContextFactory<IncubatorDbContext> dbFactory, ProjectAccess access, TimeProvider time)
{
    public const ProjectRole MinimumRole = ProjectRole.Reviewer;

    public async Task<FineTuningExport> ForDatasetAsync(string userId, Guid datasetVersionId, int seed = 1,
        double validationShare = FineTuningPairs.DefaultValidationShare, CancellationToken ct = default)
    {
        FineTuningPairs.EnsureValidationShare(validationShare);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var version = await db.DatasetVersions.AsNoTracking().SingleOrDefaultAsync(d => d.Id == datasetVersionId, ct)
            ?? throw new ForbiddenException("You do not have access to this dataset version.");
        await access.RequireAsync(version.ProjectId, userId, MinimumRole, ct);
        var task = await BuildAsync(db, version, seed, validationShare, ct);
        var export = new FineTuningExport($"{FileStem(task.TaskName)}-dataset-v{version.Number}-pairs.zip", [task], seed, validationShare, time.GetUtcNow());
        return export.PairCount > 0 ? export : throw NoPairs(task);
    }

    /// <summary>The newest dataset version of every task of the project. A task that contributes no pair — its newest
    /// version has no sample of some label (perhaps because its only samples are texts approved under two labels), or
    /// it has no dataset version (archived tasks without one are not counted) — is named with why in
    /// <see cref="FineTuningExport.Omitted"/>; when no task has pairs, the refusal says the same per task.</summary>
    public async Task<FineTuningExport> ForProjectAsync(string userId, Guid projectId, int seed = 1,
        double validationShare = FineTuningPairs.DefaultValidationShare, CancellationToken ct = default)
    {
        FineTuningPairs.EnsureValidationShare(validationShare);
        await access.RequireAsync(projectId, userId, MinimumRole, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var versions = await db.DatasetVersions.AsNoTracking().Where(d => d.ProjectId == projectId).ToListAsync(ct);
        var tasks = new List<TaskPairs>();
        var omitted = new List<DomainError>();
        foreach (var newest in versions.GroupBy(d => d.TaskId).Select(g => g.MaxBy(d => d.Number)!).OrderBy(d => d.CreatedAt))
        {
            var task = await BuildAsync(db, newest, seed, validationShare, ct);
            tasks.Add(task);
            if (task.Pairs.Count == 0) omitted.Add(Omitted(task, newest.Number));
        }
        var withVersion = versions.Select(d => d.TaskId).ToHashSet();
        var withoutVersion = (await db.Tasks.AsNoTracking().Where(t => t.ProjectId == projectId && !t.IsArchived).Select(t => new { t.Id, t.Name }).ToListAsync(ct))
            .Where(t => !withVersion.Contains(t.Id)).Select(t => t.Name).Order(StringComparer.Ordinal);
        omitted.AddRange(withoutVersion.Select(NoDatasetVersion));
        var name = await db.Projects.AsNoTracking().Where(p => p.Id == projectId).Select(p => p.Name).SingleAsync(ct);
        var export = new FineTuningExport($"{FileStem(name)}-pairs.zip", tasks, seed, validationShare, time.GetUtcNow()) { Omitted = omitted };
        return export.PairCount > 0 ? export : throw new DomainValidationException([NoPairs().Details[0], .. omitted]);
    }

    /// <summary>Why one task of a project export contributed no pair, with its counts (the per-version refusal's reasons,
    /// <see cref="NoPairs(TaskPairs)"/>, said of one task among several).</summary>
    internal static DomainError Omitted(TaskPairs task, int versionNumber)
    {
        var empty = string.Join(", ", task.Labels.Where(l => task.SamplesPerLabel.GetValueOrDefault(l) == 0));
        var counts = string.Join(", ", task.Labels.Select(l => $"{l} {task.SamplesPerLabel.GetValueOrDefault(l)}"));
        var version = versionNumber.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return task.Conflicting > 0
            ? new("tasks", "PairsOmittedConflicting",
                $"{task.TaskName} (dataset v{version}) contributed no pairs: {EnglishCount.Of(task.Conflicting, "text", "texts")} approved under more than one label {EnglishCount.Be(task.Conflicting)} left out, which leaves no sample of {empty} "
                + $"(samples per label once they are left out: {counts}). Settle those texts in the review queue, then freeze a new dataset version.",
                [task.TaskName, version, task.Conflicting, empty, counts])
            : new("tasks", "PairsOmittedNoneFor",
                $"{task.TaskName} (dataset v{version}) contributed no pairs: a pair needs a sample of every label, and it has none of {empty} (samples per label: {counts}).",
                [task.TaskName, version, empty, counts]);
    }

    internal static DomainError NoDatasetVersion(string taskName) => new("tasks", "PairsOmittedNoDataset",
        $"{taskName} contributed no pairs: it has no dataset version. Freeze one on its Models page to include it.", [taskName]);

    /// <summary>Per dataset version of a task, the labels of its task version with no sample in it: a pair needs a sample
    /// of every label, so such a version has no pairs and its download is refused (<c>PairsNone</c>). The page says so
    /// instead of offering a download that fails.</summary>
    public async Task<IReadOnlyDictionary<Guid, IReadOnlyList<string>>> LabelsWithoutSamplesAsync(string userId, Guid taskId, CancellationToken ct = default)
    {
        await access.RequireTaskAsync(taskId, userId, MinimumRole, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var versions = await db.DatasetVersions.AsNoTracking().Where(d => d.TaskId == taskId)
            .Select(d => new { d.Id, d.TaskVersionNumber, d.CountsJson }).ToListAsync(ct);
        var numbers = versions.Select(v => v.TaskVersionNumber).Distinct().ToList();
        var labels = (await db.TaskVersions.AsNoTracking().Where(v => v.TaskId == taskId && numbers.Contains(v.Number))
                .Select(v => new { v.Number, v.SpecJson }).ToListAsync(ct))
            .ToDictionary(v => v.Number, v => TaskJson.Parse(v.SpecJson).Labels.Select(l => l.Name).ToList());
        return versions.ToDictionary(v => v.Id, v =>
        {
            var counts = System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, int>>(v.CountsJson) ?? [];
            return (IReadOnlyList<string>)labels.GetValueOrDefault(v.TaskVersionNumber, []).Where(l => counts.GetValueOrDefault(l) == 0).ToList();
        });
    }

    private static async Task<TaskPairs> BuildAsync(IncubatorDbContext db, DatasetVersion version, int seed, double validationShare, CancellationToken ct)
    {
        var specJson = await db.TaskVersions.AsNoTracking().Where(v => v.TaskId == version.TaskId && v.Number == version.TaskVersionNumber)
            .Select(v => v.SpecJson).SingleAsync(ct);
        var items = await db.DatasetItems.AsNoTracking().Where(i => i.DatasetVersionId == version.Id)
            .Select(i => new { i.Label, i.Text }).ToListAsync(ct);
        var spec = TaskJson.Parse(specJson);
        return FineTuningPairs.Build(spec, $"dataset v{version.Number} ({version.ContentHash[..12]})",
            items.Select(i => (i.Label, i.Text)).ToList(), seed, validationShare);
    }

    /// <summary>Why one dataset version has no pairs, with the counts: the labels left without a sample and how many
    /// each has, and — when texts approved under more than one label were left out (<see cref="TaskPairs.Conflicting"/>)
    /// — how many, since then the version's own counts show a sample of every label and only this explains the refusal.</summary>
    internal static DomainValidationException NoPairs(TaskPairs task)
    {
        var empty = string.Join(", ", task.Labels.Where(l => task.SamplesPerLabel.GetValueOrDefault(l) == 0));
        var counts = string.Join(", ", task.Labels.Select(l => $"{l} {task.SamplesPerLabel.GetValueOrDefault(l)}"));
        return task.Conflicting > 0
            ? new("dataset", "PairsConflicting",
                $"There are no pairs to export: {EnglishCount.Of(task.Conflicting, "text", "texts")} of this dataset version {EnglishCount.Be(task.Conflicting)} approved under more than one label and left out (a pair would teach both labels "
                + $"the same text), which leaves no sample of {empty}. Samples per label once they are left out: {counts}. Settle those texts in the review queue, then freeze a new dataset version.",
                task.Conflicting, empty, counts)
            : new("dataset", "PairsNoneFor",
                $"There are no pairs to export: a pair needs a sample of every label, and this dataset version has none of {empty} (samples per label: {counts}).",
                empty, counts);
    }

    private static DomainValidationException NoPairs() => new("dataset", "PairsNone",
        "There are no pairs to export: a pair needs an approved sample of every label of the task. Freeze a dataset version that has samples for every label first.");

    private static string FileStem(string name)
    {
        var stem = string.Concat(name.Select(c => char.IsAsciiLetterOrDigit(c) ? char.ToLowerInvariant(c) : '-')).Trim('-');
        while (stem.Contains("--", StringComparison.Ordinal)) stem = stem.Replace("--", "-", StringComparison.Ordinal);
        return stem.Length == 0 ? "task" : stem[..Math.Min(stem.Length, 60)];
    }
}
