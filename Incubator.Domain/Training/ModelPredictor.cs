using System.Collections.Concurrent;
using Incubator.Domain.Common;

namespace Incubator.Domain.Training;

public sealed record TextPrediction(string Label, float Probability, IReadOnlyDictionary<string, float> Probabilities, IReadOnlyList<TermContribution> Terms);

public sealed record PredictionResult(Guid ModelId, string TaskName, int ModelNumber, string Family, IReadOnlyList<string> Labels, IReadOnlyList<TextPrediction> Predictions);

/// <summary>Predicts with a model version's in-app model (the playground and the REST API). Access follows the bundle's
/// rule: Viewers use published models, Authors any finished one. Loaded models are kept per process (keyed by the
/// immutable model version, so every instance loads the same file and nothing can go stale).</summary>
public sealed class ModelPredictor(TrainingService training)
{
    public const int MaxTexts = 256;
    public const int MaxTextLength = 10_000;
    private const int MaxCached = 16;

    private readonly ConcurrentDictionary<Guid, Lazy<TrainedClassifier>> _cache = new();

    public async Task<PredictionResult> PredictAsync(string userId, Guid modelId, IReadOnlyList<string?>? texts, bool explain, CancellationToken ct = default)
    {
        var problems = new List<DomainError>();
        if (texts is null || texts.Count == 0)
            problems.Add(new DomainError("texts", "PredictNoTexts", "Send at least one text in \"texts\".", []));
        else
        {
            if (texts.Count > MaxTexts)
                problems.Add(new DomainError("texts", "PredictTooManyTexts", $"Send at most {MaxTexts} texts per request; this one has {texts.Count}.", [MaxTexts, texts.Count]));
            for (var i = 0; i < texts.Count && problems.Count < 50; i++)
            {
                if (texts[i] is null)
                    problems.Add(new DomainError($"texts[{i}]", "PredictTextMissing", $"Text {i + 1} is null.", [i + 1]));
                else if (texts[i]!.Length > MaxTextLength)
                    problems.Add(new DomainError($"texts[{i}]", "PredictTextTooLong", $"Text {i + 1} has {texts[i]!.Length} characters; at most {MaxTextLength} are allowed.", [i + 1, texts[i]!.Length, MaxTextLength]));
            }
        }
        if (problems.Count > 0) throw new DomainValidationException(problems);
        var (path, summary) = await training.OpenModelAsync(userId, modelId, ct);
        var model = Load(modelId, path);
        var input = texts!.Select(t => t!).ToList();
        IReadOnlyList<Prediction> predictions;
        lock (model) predictions = model.Predict(input);
        var result = new List<TextPrediction>(input.Count);
        for (var i = 0; i < input.Count; i++)
        {
            var p = predictions[i];
            var probabilities = new Dictionary<string, float>(StringComparer.Ordinal);
            for (var k = 0; k < model.Labels.Count; k++) probabilities[model.Labels[k]] = p.Probabilities[k];
            IReadOnlyList<TermContribution> terms = [];
            if (explain && model.Family is ModelFamily.Sparse or ModelFamily.Hybrid)
                lock (model) terms = model.Explain(input[i], 8);
            result.Add(new TextPrediction(p.Label, p.Probability, probabilities, terms));
        }
        return new PredictionResult(modelId, summary.TaskName, summary.Number, summary.Family ?? "", model.Labels.ToList(), result);
    }

    private TrainedClassifier Load(Guid modelId, string path)
    {
        if (_cache.Count >= MaxCached && !_cache.ContainsKey(modelId)) _cache.Clear();
        var lazy = _cache.GetOrAdd(modelId, _ => new Lazy<TrainedClassifier>(() =>
        {
            using var stream = File.OpenRead(path);
            return TrainedClassifier.Load(stream);
        }));
        try
        {
            return lazy.Value;
        }
        catch
        {
            _cache.TryRemove(modelId, out _);
            throw;
        }
    }
}
