using Incubator.Domain.Common.Events;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using Incubator.Domain.Data;
using Incubator.Domain.Datasets;
using Incubator.Domain.Jobs;
using Incubator.Domain.Tasks;
using Microsoft.EntityFrameworkCore;

namespace Incubator.Domain.Training;

/// <summary>Runs one training of a <see cref="ModelVersion"/> as a durable job: reads the frozen dataset (and the task's
/// gold set), trains with <see cref="ClassifierTrainer"/>, writes the bundle and the in-app model into the model store,
/// and records metrics and the model card on the row. Training is deterministic for a seed, so a job interrupted by a
/// restart simply trains again from the start. However the job ends without finishing (cancelled while queued or
/// training, failed, given up), <see cref="CloseOwnerAsync"/> ends the model version with it.</summary>
public sealed class TrainingJob(
    IDbContextFactory<IncubatorDbContext> dbFactory,
    DatasetService datasets,
    ModelStore store,
    ClassifierTrainer trainer,
    IRunEvents events,
    TimeProvider time,
    ICardNotes? cardNotes = null) : IJobHandler, IJobOwnerCloser
{
    public const string KindName = "training.run";

    /// <param name="Encoder">The requested encoder's name ("float", "int8"); null: the trainer's default.</param>
    /// <param name="CardLanguage">The model card's language, that of the person who started the training ("en", "ja");
    /// null (a job queued before cards had a language): English.</param>
    public sealed record Payload(Guid ModelVersionId, string? Encoder = null, string? CardLanguage = null);

    public string Kind => KindName;

    public async Task RunAsync(JobContext context)
    {
        var ct = context.CancellationToken;
        var payload = context.ReadPayload<Payload>();
        ModelVersion model;
        TaskSpec spec;
        string projectName;
        IReadOnlyList<string> llms;
        GoldSet? goldSet = null;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            model = await db.ModelVersions.AsNoTracking().SingleAsync(m => m.Id == payload.ModelVersionId, ct);
            if (model.State != ModelVersionState.Training) return; // finished before a restart: nothing left to do
            var task = await db.Tasks.AsNoTracking().SingleAsync(t => t.Id == model.TaskId, ct);
            spec = await DatasetService.CurrentSpecAsync(db, task, ct);
            projectName = await db.Projects.Where(p => p.Id == model.ProjectId).Select(p => p.Name).SingleAsync(ct);
            if (model.GoldSetId is { } gid) goldSet = await db.GoldSets.AsNoTracking().SingleOrDefaultAsync(g => g.Id == gid, ct);
            var lineageJson = await db.DatasetVersions.Where(d => d.Id == model.DatasetVersionId).Select(d => d.LineageJson).SingleAsync(ct);
            var runIds = (JsonSerializer.Deserialize<DatasetLineage>(lineageJson)?.RunIds ?? []).ToList();
            llms = (await db.GenerationRuns.AsNoTracking().Where(r => runIds.Contains(r.Id)).Select(r => new { r.ConnectionName, r.Model }).Distinct().ToListAsync(ct))
                .Select(r => $"{r.Model} (connection “{r.ConnectionName}”)").Order(StringComparer.Ordinal).ToList();
        }
        var started = time.GetTimestamp();
        var content = await datasets.ReadContentAsync(model.DatasetVersionId, ct);
        var present = content.Train.Concat(content.Validation).Select(r => r.Label).ToHashSet(StringComparer.Ordinal);
        // The task's order, limited to labels that have data (a label without samples cannot be learned).
        var labels = spec.Labels.Select(l => l.Name).Where(present.Contains).ToList();
        var train = content.Train.Select(r => new LabeledText(r.Label, r.Text)).ToList();
        var validation = content.Validation.Select(r => new LabeledText(r.Label, r.Text)).ToList();
        List<LabeledText>? gold = null;
        if (goldSet is not null)
        {
            var rows = await datasets.ReadGoldAsync(goldSet.Id, ct);
            gold = rows.Where(r => labels.Contains(r.Label)).Select(r => new LabeledText(r.Label, r.Text)).ToList();
            if (gold.Count < rows.Count)
                await context.LogAsync(ProgressNotes.GoldLeftOut(rows.Count - gold.Count), "warning");
            if (gold.Count == 0) gold = null;
        }
        await context.LogAsync(ProgressNotes.TrainingStarted(model.RequestedFamily, model.Seed, train.Count, validation.Count, gold is null ? null : goldSet!.FileName, gold?.Count ?? 0));
        var reporter = new Reporter(context, events, model, time, started);
        var family = ModelFamilies.TryParse(model.RequestedFamily, out var requested) ? requested : ModelFamily.Auto;
        var options = new TrainingOptions(family, model.Seed)
        {
            Encoder = ModelFamilies.TryParseEncoder(payload.Encoder, out var encoder) ? encoder : null,
        };
        TrainingResult result;
        try
        {
            result = await Task.Run(() => trainer.Train(labels, train, validation, gold, options, reporter, ct), ct);
        }
        catch (TrainingDataException bad) when (bad.Note is { } why)
        {
            // The data's fault, not a bug: the model page says why in the reader's language.
            throw new JobFailedException(why, bad);
        }
        await reporter.FlushAsync();
        // The trainer's lines as the reporter heard them (the same lines as result.Log, each with its note).
        foreach (var line in reporter.Lines) await context.LogAsync(line);
        ct.ThrowIfCancellationRequested();

        var chosen = ModelFamilies.Chosen(result);
        var dataset = await datasets.ReadViewAsync(model.DatasetVersionId, ct);
        var language = CardLanguages.Parse(payload.CardLanguage);
        var cardInput = ModelCardInput.For(CardLanguages.ModelTitle(spec.Name, model.Number, language), result, options, goldSet?.FileName, time.GetUtcNow(),
            new DatasetCardSource(projectName, spec, dataset.TaskVersionNumber, dataset, llms));
        var (validationReport, goldReport, compared) = (cardInput.Validation, cardInput.Gold, cardInput.Compared);
        await publishStage(TrainingStages.Export, TrainingNotes.Exporting());
        var onnx = await Task.Run(() => result.Model.ExportOnnx(), ct);
        var speed = await Task.Run(() => ModelBundle.MeasureSpeed(onnx, result.Model, validation.Select(r => r.Text).ToList()), ct);
        // Both languages (decision 0012, amendment card22): the starter's is model-card.md, the other beside it.
        var cards = ModelCards.Write(language, lang => ModelCardBuilder.Write(cardInput with { Title = CardLanguages.ModelTitle(spec.Name, model.Number, lang), Speed = speed },
            lang, cardNotes is null ? null : note => cardNotes.Say(note, lang)));

        await publishStage(TrainingStages.Export, TrainingNotes.Writing());
        await store.WriteAsync(store.ModelPath(model.ProjectId, model.Id), s => { result.Model.Save(s); return Task.CompletedTask; }, ct);
        await store.WriteAsync(store.BundlePath(model.ProjectId, model.Id), s =>
        {
            ModelBundle.Write(s, result.Model, BundleInfo.For($"{spec.Name}", $"v{model.Number}", cards), onnx);
            return Task.CompletedTask;
        }, ct);
        string sha;
        long bytes;
        await using (var f = File.OpenRead(store.BundlePath(model.ProjectId, model.Id)))
        {
            bytes = f.Length;
            sha = Convert.ToHexStringLower(await SHA256.HashDataAsync(f, ct));
        }
        var seconds = time.GetElapsedTime(started).TotalSeconds;
        await context.CommitAsync(1, ProgressNotes.TrainingDone(chosen, result.Validation.Accuracy),
            log: ProgressNotes.TrainingChosen(chosen, result.Validation.Accuracy, result.Validation.MacroF1, result.Gold?.Accuracy, result.Gold?.MacroF1, bytes, sha),
            extraWrites: db => db.ModelVersions.Where(m => m.Id == model.Id && m.State == ModelVersionState.Training).ExecuteUpdateAsync(s => s
                .SetProperty(m => m.State, ModelVersionState.Draft)
                .SetProperty(m => m.Family, chosen)
                .SetProperty(m => m.Encoder, ModelFamilies.EncoderFact(result.Model.Encoder))
                .SetProperty(m => m.Accuracy, result.Validation.Accuracy)
                .SetProperty(m => m.MacroF1, result.Validation.MacroF1)
                .SetProperty(m => m.GoldAccuracy, result.Gold == null ? null : result.Gold.Accuracy)
                .SetProperty(m => m.GoldMacroF1, result.Gold == null ? null : result.Gold.MacroF1)
                .SetProperty(m => m.ValidationJson, JsonSerializer.Serialize(validationReport, TrainingService.Json))
                .SetProperty(m => m.GoldJson, goldReport == null ? null : JsonSerializer.Serialize(goldReport, TrainingService.Json))
                .SetProperty(m => m.ComparedJson, JsonSerializer.Serialize(compared, TrainingService.Json))
                .SetProperty(m => m.ModelCard, cards.Card)
                .SetProperty(m => m.ModelCardLanguage, CardLanguages.Code(cards.Language))
                .SetProperty(m => m.OtherModelCard, cards.OtherCard)
                .SetProperty(m => m.BundleSha256, sha)
                .SetProperty(m => m.BundleBytes, bytes)
                .SetProperty(m => m.TrainingSeconds, seconds)));
        await events.PublishAsync(new ModelChanged(model.ProjectId, model.Id, model.TaskId, ModelVersionState.Draft), CancellationToken.None);

        Task publishStage(string stage, JobNote note) =>
            events.PublishAsync(new TrainingProgressed(model.ProjectId, model.Id, stage, null, null, note.Message, time.GetElapsedTime(started).TotalSeconds)
            {
                Note = note,
            }).AsTask();
    }

    /// <summary>Only a user's cancel or a failure ends the model version; a pause or shutdown leaves it Training, to be
    /// trained again on resume.</summary>
    public async Task<bool> CloseOwnerAsync(JobEnd end, IncubatorDbContext db)
    {
        var id = end.ReadPayload<Payload>().ModelVersionId;
        var state = end.State == JobState.Cancelled ? ModelVersionState.Cancelled : ModelVersionState.Failed;
        var error = end.Error is { Length: > 2000 } e ? e[..2000] : end.Error;
        return await db.ModelVersions.Where(m => m.Id == id && m.State == ModelVersionState.Training)
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.State, state).SetProperty(m => m.Error, error), CancellationToken.None) > 0;
    }

    public async Task OwnerClosedAsync(JobEnd end)
    {
        var id = end.ReadPayload<Payload>().ModelVersionId;
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        var model = await db.ModelVersions.AsNoTracking().Where(m => m.Id == id).Select(m => new { m.ProjectId, m.TaskId, m.State }).SingleAsync();
        store.DeleteFolder(model.ProjectId, id);
        await events.PublishAsync(new ModelChanged(model.ProjectId, id, model.TaskId, model.State), CancellationToken.None);
    }

    /// <summary>Relays trainer progress: each report is published as a live event (which never waits for a watcher);
    /// the job row is written at most once a second, in the background, one write after another.</summary>
    private sealed class Reporter(JobContext context, IRunEvents events, ModelVersion model, TimeProvider time, long started) : IProgress<TrainingProgress>
    {
        private readonly object _gate = new();
        private Task _chain = Task.CompletedTask;
        private long _lastCommit;
        private readonly List<JobNote> _lines = [];

        /// <summary>Every line reported, in order, for the job's log.</summary>
        public IReadOnlyList<JobNote> Lines
        {
            get { lock (_gate) return _lines.ToList(); }
        }

        public void Report(TrainingProgress value)
        {
            var line = ProgressNotes.TrainingStage(value.Stage, value.Note);
            lock (_gate) _lines.Add(line);
            var elapsed = time.GetElapsedTime(started).TotalSeconds;
            events.PublishAsync(new TrainingProgressed(model.ProjectId, model.Id, value.Stage, value.Iteration, value.TotalIterations, value.Message, elapsed)
                {
                    Note = value.Note,
                })
                .AsTask().GetAwaiter().GetResult();
            if (_lastCommit != 0 && time.GetElapsedTime(_lastCommit) < TimeSpan.FromSeconds(1)) return;
            _lastCommit = time.GetTimestamp();
            var fraction = value.Iteration is { } i && value.TotalIterations is { } n && n > 0 ? Math.Clamp((i - 1) / (double)n, 0, 0.99) : 0;
            lock (_gate)
                _chain = _chain.ContinueWith(_ => context.CommitAsync(fraction, line), TaskScheduler.Default).Unwrap();
        }

        public Task FlushAsync()
        {
            lock (_gate) return _chain;
        }
    }
}
