using System.Collections.Concurrent;
using System.IO.Compression;
using System.Text.Json;
using Incubator.Domain.Data;
using Incubator.Domain.Training;
using Microsoft.EntityFrameworkCore;

namespace Incubator.Domain.Mining.Query;

/// <summary>Queries use the registry's published model versions. A query names a model by its task's name, which
/// means the task's newest published version; older published versions are "task name vN".</summary>
public sealed class PublishedModelSource(IDbContextFactory<IncubatorDbContext> dbFactory, ModelStore store) : IQueryModelSource
{
    // Model versions are immutable, so their labels can be kept for the life of the process.
    private readonly ConcurrentDictionary<Guid, IReadOnlyList<string>> _labels = new();

    public async Task<IReadOnlyList<QueryModelInfo>> PublishedAsync(Guid projectId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await db.ModelVersions.AsNoTracking()
            .Where(m => m.ProjectId == projectId && m.State == ModelVersionState.Published)
            .Select(m => new { m.Id, m.TaskId, m.Number, m.Family, TaskName = db.Tasks.Where(t => t.Id == m.TaskId).Select(t => t.Name).FirstOrDefault() })
            .ToListAsync(ct);
        var result = new List<QueryModelInfo>();
        var used = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var task in rows.GroupBy(r => r.TaskId).OrderBy(g => g.First().TaskName, StringComparer.OrdinalIgnoreCase))
        {
            var newestFirst = task.OrderByDescending(r => r.Number).ToList();
            for (var i = 0; i < newestFirst.Count; i++)
            {
                var r = newestFirst[i];
                var labels = LabelsOf(projectId, r.Id);
                if (labels is null) continue; // bundle missing from the store: not usable
                var baseName = (r.TaskName ?? "model").Trim();
                var name = i == 0 && used.Add(baseName) ? baseName : $"{baseName} v{r.Number}";
                used.Add(name);
                result.Add(new QueryModelInfo(name, r.Id, labels, $"{baseName} v{r.Number} ({r.Family})"));
            }
        }
        return result;
    }

    public Task<ITextClassifier> LoadAsync(Guid projectId, Guid modelVersionId, CancellationToken ct)
    {
        // The in-app model: the registry proves it predicts like the published ONNX bundle.
        using var stream = File.OpenRead(store.ModelPath(projectId, modelVersionId));
        return Task.FromResult<ITextClassifier>(TrainedClassifier.Load(stream));
    }

    private IReadOnlyList<string>? LabelsOf(Guid projectId, Guid modelVersionId)
    {
        if (_labels.TryGetValue(modelVersionId, out var known)) return known;
        var path = store.BundlePath(projectId, modelVersionId);
        if (!File.Exists(path)) return null;
        try
        {
            using var zip = ZipFile.OpenRead(path);
            using var s = zip.GetEntry(ModelBundle.LabelsFile)?.Open();
            if (s is null) return null;
            using var doc = JsonDocument.Parse(s);
            var labels = doc.RootElement.EnumerateObject().FirstOrDefault(p => p.NameEquals("labels") || p.Name.Equals("Labels", StringComparison.OrdinalIgnoreCase))
                .Value is { ValueKind: JsonValueKind.Array } arr ? arr.EnumerateArray().Select(e => e.GetString() ?? "").ToList() : null;
            if (labels is not { Count: >= 2 }) return null;
            _labels[modelVersionId] = labels;
            return labels;
        }
        catch (Exception ex) when (ex is InvalidDataException or JsonException or IOException)
        {
            return null;
        }
    }
}
