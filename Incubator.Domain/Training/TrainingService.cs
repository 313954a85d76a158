using Incubator.Domain.Common.Events;
using System.Text.Json;
using Incubator.Domain.Common;
using Incubator.Domain.Data;
using Incubator.Domain.Datasets;
using Incubator.Domain.Jobs;
using Incubator.Domain.Projects;
using Microsoft.EntityFrameworkCore;

namespace Incubator.Domain.Training;

public sealed record ModelVersionSummary(
    Guid Id, Guid ProjectId, Guid TaskId, string TaskName, int Number, string RequestedFamily, string? Family, int Seed, ModelVersionState State,
    int DatasetNumber, double? Accuracy, double? MacroF1, double? GoldAccuracy, double? GoldMacroF1, Guid? JobId, DateTimeOffset CreatedAt,
    DateTimeOffset? PublishedAt, JobState? JobState)
{
    /// <summary>Gold wherever it exists, validation otherwise.</summary>
    public double? PreferredAccuracy => GoldAccuracy ?? Accuracy;

    public double? PreferredMacroF1 => GoldMacroF1 ?? MacroF1;
}

/// <param name="Encoder">The stored encoder fact ("none", "float", "int8"; see <see cref="ModelVersion.Encoder"/>), null when
/// not recorded.</param>
public sealed record ModelVersionDetail(
    ModelVersionSummary Summary, StoredReport? Validation, StoredReport? Gold, IReadOnlyList<StoredComparison> Compared, string? ModelCard,
    string? BundleSha256, long? BundleBytes, string? Error, double? TrainingSeconds, Guid DatasetVersionId, Guid? GoldSetId,
    string? CreatedByEmail, string? PublishedByEmail, string? Encoder = null, string? ModelCardLanguage = null, string? OtherModelCard = null)
{
    /// <summary>The card a reader of <paramref name="viewer"/> sees (decision 0012, amendment card22): the one in their
    /// language when the model has it; else (a model trained before cards were written in both languages) the one card
    /// it has, with <c>OnlyIn</c> its language. Null when the model has no card (not trained yet).</summary>
    public ReaderCard? CardFor(CardLanguage viewer) => ModelCards.ForReader(ModelCard, ModelCardLanguage, OtherModelCard, viewer);
}

/// <param name="Encoder">The sentence encoder of dense and hybrid models (auto's included): "float" (null: as shipped) or
/// "int8" (8-bit, about a quarter of the bundle's size; see docs/decisions/0019-training-speed.md for its accuracy).</param>
/// <param name="CardLanguage">The model card's language ("en", "ja"); null: the caller's UI culture (the portal user's
/// language, the API request's).</param>
public sealed record StartTrainingRequest(Guid TaskId, string Family = "auto", int Seed = 1, Guid? DatasetVersionId = null, string? Encoder = null,
    string? CardLanguage = null);

/// <summary>The model registry: start training (Author), list and read model versions (Viewer), publish and retire
/// (Author), and hand out bundles (Viewer for published models, Author for the rest).</summary>
public sealed class TrainingService(
    IDbContextFactory<IncubatorDbContext> dbFactory,
    ProjectAccess access,
    DatasetService datasets,
    JobQueue jobs,
    ModelStore store,
    IRunEvents events,
    TimeProvider time)
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task<ModelVersionSummary> StartTrainingAsync(string userId, StartTrainingRequest request, CancellationToken ct = default)
    {
        var family = (request.Family ?? "").Trim().ToLowerInvariant();
        if (!ModelFamilies.TryParse(family, out var requested))
            throw new DomainValidationException("family", "TrainingFamilyUnknown", $"Unknown model family '{request.Family}'; use sparse, dense, hybrid or auto.", request.Family ?? "");
        EncoderKind? encoder = null;
        if (!string.IsNullOrWhiteSpace(request.Encoder))
        {
            if (!ModelFamilies.TryParseEncoder(request.Encoder, out var kind))
                throw new DomainValidationException("encoder", "TrainingEncoderUnknown", $"Unknown encoder '{request.Encoder}'; use {ModelFamilies.EncoderNameList}.", request.Encoder);
            if (requested == ModelFamily.Sparse && kind != EncoderKind.MiniLm)
                throw new DomainValidationException("encoder", "TrainingEncoderSparse", "The sparse family has no sentence encoder; the 8-bit encoder applies to dense, hybrid and auto.");
            encoder = kind;
        }
        Guid projectId;
        string taskName;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            var task = await db.Tasks.AsNoTracking().SingleOrDefaultAsync(t => t.Id == request.TaskId, ct)
                ?? throw new ForbiddenException("You do not have access to this task.");
            projectId = task.ProjectId;
            taskName = task.Name;
        }
        await access.RequireWriteAsync(projectId, userId, ProjectRole.Author, ct);
        var dataset = request.DatasetVersionId is { } dv
            ? await datasets.GetAsync(userId, dv, ct)
            : await datasets.FreezeAsync(userId, request.TaskId, request.Seed, DatasetService.DefaultValidationShare, ct);
        if (dataset.TaskId != request.TaskId)
            throw new DomainValidationException("datasetVersionId", "TrainingDatasetOtherTask", "That dataset version belongs to another task.");
        var gold = await datasets.GetGoldAsync(userId, request.TaskId, ct);
        var model = new ModelVersion
        {
            Id = Guid.NewGuid(), ProjectId = projectId, TaskId = request.TaskId, DatasetVersionId = dataset.Id, GoldSetId = gold?.Id,
            RequestedFamily = family, Seed = request.Seed, State = ModelVersionState.Training, CreatedAt = time.GetUtcNow(), CreatedById = userId,
        };
        await jobs.StartAsync(userId, projectId, async (db, jobId) =>
        {
            // Numbered inside the start transaction, so two trainings started at once cannot both take the next number.
            model.Number = (await db.ModelVersions.Where(m => m.TaskId == request.TaskId).MaxAsync(m => (int?)m.Number, ct) ?? 0) + 1;
            model.JobId = jobId;
            db.ModelVersions.Add(model);
            return new JobStart(TrainingJob.KindName, JobTitles.Train(taskName, model.Number, family), new TrainingJob.Payload(model.Id, encoder is { } e ? ModelFamilies.EncoderName(e) : null,
                CardLanguages.Code(request.CardLanguage is { } lang ? CardLanguages.Parse(lang) : CardLanguages.Of(System.Globalization.CultureInfo.CurrentUICulture))));
        }, ct);
        return (await GetAsync(userId, model.Id, ct)).Summary;
    }

    public async Task<IReadOnlyList<ModelVersionSummary>> ListAsync(string userId, Guid projectId, Guid? taskId = null, bool publishedOnly = false,
        CancellationToken ct = default)
    {
        await access.RequireAsync(projectId, userId, ProjectRole.Viewer, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await Summaries(db, db.ModelVersions.AsNoTracking().Where(m => m.ProjectId == projectId && (taskId == null || m.TaskId == taskId)
            && (!publishedOnly || m.State == ModelVersionState.Published))).ToListAsync(ct);
        return rows.OrderByDescending(r => r.CreatedAt).ToList();
    }

    public async Task<ModelVersionDetail> GetAsync(string userId, Guid modelVersionId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var m = await db.ModelVersions.AsNoTracking().SingleOrDefaultAsync(x => x.Id == modelVersionId, ct)
            ?? throw new ForbiddenException("You do not have access to this model.");
        await access.RequireAsync(m.ProjectId, userId, ProjectRole.Viewer, ct);
        var summary = await Summaries(db, db.ModelVersions.AsNoTracking().Where(x => x.Id == modelVersionId)).SingleAsync(ct);
        // Read the row again after the summary: the training job may have finished between the two reads, and a summary
        // saying Draft must never come with the metrics of the row as it was while still training.
        m = await db.ModelVersions.AsNoTracking().SingleAsync(x => x.Id == modelVersionId, ct);
        var created = await db.Users.Where(u => u.Id == m.CreatedById).Select(u => u.Email).FirstOrDefaultAsync(ct);
        var published = m.PublishedById is null ? null : await db.Users.Where(u => u.Id == m.PublishedById).Select(u => u.Email).FirstOrDefaultAsync(ct);
        return new ModelVersionDetail(summary, Read<StoredReport>(m.ValidationJson), Read<StoredReport>(m.GoldJson),
            Read<List<StoredComparison>>(m.ComparedJson) ?? [], m.ModelCard, m.BundleSha256, m.BundleBytes, m.Error, m.TrainingSeconds,
            m.DatasetVersionId, m.GoldSetId, created, published, m.Encoder, m.ModelCardLanguage, m.OtherModelCard);
    }

    public Task<ModelVersionSummary> PublishAsync(string userId, Guid modelVersionId, CancellationToken ct = default) =>
        TransitionAsync(userId, modelVersionId, ModelVersionState.Published, [ModelVersionState.Draft, ModelVersionState.Retired], ct);

    public Task<ModelVersionSummary> RetireAsync(string userId, Guid modelVersionId, CancellationToken ct = default) =>
        TransitionAsync(userId, modelVersionId, ModelVersionState.Retired, [ModelVersionState.Published, ModelVersionState.Draft], ct);

    /// <summary>The bundle file of a model the caller may download: Viewers get published models, Authors any finished one.</summary>
    public async Task<(string Path, string FileName, ModelVersionSummary Model)> OpenBundleAsync(string userId, Guid modelVersionId, CancellationToken ct = default)
    {
        var (m, summary) = await RequireDownloadableAsync(userId, modelVersionId, ct);
        var path = store.BundlePath(m.ProjectId, m.Id);
        if (!File.Exists(path)) throw new NotFoundException("The model's bundle file is missing from the model store.");
        var safeName = new string(summary.TaskName.Select(ch => char.IsAsciiLetterOrDigit(ch) ? char.ToLowerInvariant(ch) : '-').ToArray()).Trim('-');
        return (path, $"{(safeName.Length == 0 ? "model" : safeName)}-v{m.Number}.zip", summary);
    }

    /// <summary>The in-app model file for prediction, with the same access rule as the bundle.</summary>
    public async Task<(string Path, ModelVersionSummary Model)> OpenModelAsync(string userId, Guid modelVersionId, CancellationToken ct = default)
    {
        var (m, summary) = await RequireDownloadableAsync(userId, modelVersionId, ct);
        var path = store.ModelPath(m.ProjectId, m.Id);
        if (!File.Exists(path)) throw new NotFoundException("The model file is missing from the model store.");
        return (path, summary);
    }

    private async Task<(ModelVersion Model, ModelVersionSummary Summary)> RequireDownloadableAsync(string userId, Guid modelVersionId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var m = await db.ModelVersions.AsNoTracking().SingleOrDefaultAsync(x => x.Id == modelVersionId, ct)
            ?? throw new ForbiddenException("You do not have access to this model.");
        var role = await access.RequireAsync(m.ProjectId, userId, ProjectRole.Viewer, ct);
        if (m.State is ModelVersionState.Training or ModelVersionState.Failed or ModelVersionState.Cancelled)
            throw new ConflictException("This model has no artefacts: its training did not finish.");
        if (m.State != ModelVersionState.Published && role < ProjectRole.Author)
            throw new ForbiddenException("Only published models can be downloaded with the Viewer role.");
        var summary = await Summaries(db, db.ModelVersions.AsNoTracking().Where(x => x.Id == modelVersionId)).SingleAsync(ct);
        return (m, summary);
    }

    private async Task<ModelVersionSummary> TransitionAsync(string userId, Guid modelVersionId, ModelVersionState to, ModelVersionState[] from, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var m = await db.ModelVersions.SingleOrDefaultAsync(x => x.Id == modelVersionId, ct)
            ?? throw new ForbiddenException("You do not have access to this model.");
        await access.RequireWriteAsync(m.ProjectId, userId, ProjectRole.Author, ct);
        if (!from.Contains(m.State))
            throw new ConflictException($"A {m.State.ToString().ToLowerInvariant()} model cannot become {to.ToString().ToLowerInvariant()}.");
        var now = time.GetUtcNow();
        m.State = to;
        if (to == ModelVersionState.Published)
        {
            m.PublishedAt = now;
            m.PublishedById = userId;
        }
        else
        {
            m.RetiredAt = now;
            m.RetiredById = userId;
        }
        var taskName = await db.Tasks.Where(t => t.Id == m.TaskId).Select(t => t.Name).SingleAsync(ct);
        db.Activity.Add(new ActivityEntry { ProjectId = m.ProjectId, UserId = userId, At = now, Kind = to == ModelVersionState.Published ? ActivityKinds.ModelPublished : ActivityKinds.ModelRetired, Detail = $"{taskName} · v{m.Number}" });
        await db.SaveChangesAsync(ct);
        await events.PublishAsync(new ModelChanged(m.ProjectId, m.Id, m.TaskId, m.State), ct);
        return (await GetAsync(userId, modelVersionId, ct)).Summary;
    }

    private static IQueryable<ModelVersionSummary> Summaries(IncubatorDbContext db, IQueryable<ModelVersion> q) =>
        q.Select(m => new ModelVersionSummary(m.Id, m.ProjectId, m.TaskId, db.Tasks.Where(t => t.Id == m.TaskId).Select(t => t.Name).FirstOrDefault() ?? "",
            m.Number, m.RequestedFamily, m.Family, m.Seed, m.State,
            db.DatasetVersions.Where(d => d.Id == m.DatasetVersionId).Select(d => d.Number).FirstOrDefault(),
            m.Accuracy, m.MacroF1, m.GoldAccuracy, m.GoldMacroF1, m.JobId, m.CreatedAt, m.PublishedAt,
            db.Jobs.Where(j => j.Id == m.JobId).Select(j => (JobState?)j.State).FirstOrDefault()));

    internal static T? Read<T>(string? json) where T : class => json is null ? null : JsonSerializer.Deserialize<T>(json, Json);
}
