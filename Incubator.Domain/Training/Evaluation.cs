namespace Incubator.Domain.Training;

/// <summary>Accuracy, macro-F1 (mean F1 over the labels that occur in the truth or the predictions), per-class
/// precision/recall/F1, the confusion matrix and the misclassified rows (most confident mistakes first).</summary>
public static class Evaluation
{
    public static EvaluationReport Evaluate(ITextClassifier model, IReadOnlyList<LabeledText> rows)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(rows);
        var predictions = model.Predict(rows.Select(r => r.Text).ToList());
        return FromPredictions(model.Labels, rows, predictions);
    }

    public static EvaluationReport FromPredictions(IReadOnlyList<string> labels, IReadOnlyList<LabeledText> rows, IReadOnlyList<Prediction> predictions)
    {
        if (rows.Count != predictions.Count) throw new ArgumentException("One prediction per row is required.", nameof(predictions));
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < labels.Count; i++) index[labels[i]] = i;
        var k = labels.Count;
        var confusion = new int[k][];
        for (var i = 0; i < k; i++) confusion[i] = new int[k];
        var wrong = new List<Misclassified>();
        var correct = 0;
        for (var i = 0; i < rows.Count; i++)
        {
            if (!index.TryGetValue(rows[i].Label, out var actual))
                throw new TrainingDataException($"Row {i + 1} has the label '{rows[i].Label}', which the model does not know (labels: {string.Join(", ", labels)}).");
            var predicted = index[predictions[i].Label];
            confusion[actual][predicted]++;
            if (actual == predicted) correct++;
            else wrong.Add(new Misclassified(rows[i].Text, rows[i].Label, predictions[i].Label, predictions[i].Probability));
        }
        var perClass = new List<ClassMetrics>(k);
        var f1s = new List<double>();
        for (var c = 0; c < k; c++)
        {
            var tp = confusion[c][c];
            var support = confusion[c].Sum();
            var predictedCount = 0;
            for (var a = 0; a < k; a++) predictedCount += confusion[a][c];
            var precision = predictedCount == 0 ? 0 : (double)tp / predictedCount;
            var recall = support == 0 ? 0 : (double)tp / support;
            var f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
            perClass.Add(new ClassMetrics(labels[c], precision, recall, f1, support));
            if (support > 0 || predictedCount > 0) f1s.Add(f1);
        }
        return new EvaluationReport(
            rows.Count,
            rows.Count == 0 ? 0 : (double)correct / rows.Count,
            f1s.Count == 0 ? 0 : f1s.Average(),
            perClass,
            confusion,
            wrong.OrderByDescending(m => m.Probability).ToList());
    }
}

/// <summary>A seeded stratified split: each label's rows are shuffled with the seed and the first
/// round(n × share) go to validation — at least one when a label has two or more rows, never all of them.
/// Both parts keep the input order.</summary>
public static class StratifiedSplit
{
    public static (List<LabeledText> Train, List<LabeledText> Validation) Split(IReadOnlyList<LabeledText> rows, double validationShare, int seed)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (validationShare is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(validationShare), "The validation share must be in [0, 1).");
        var toValidation = new bool[rows.Count];
        var groups = Enumerable.Range(0, rows.Count).GroupBy(i => rows[i].Label, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal);
        foreach (var group in groups)
        {
            var idx = group.ToArray();
            var rng = new Random(unchecked(seed * 486187739 + StableHash(group.Key)));
            rng.Shuffle(idx);
            var take = (int)Math.Round(idx.Length * validationShare, MidpointRounding.AwayFromZero);
            if (validationShare > 0 && idx.Length >= 2) take = Math.Clamp(take, 1, idx.Length - 1);
            else take = Math.Min(take, Math.Max(0, idx.Length - 1));
            for (var j = 0; j < take; j++) toValidation[idx[j]] = true;
        }
        var train = new List<LabeledText>();
        var validation = new List<LabeledText>();
        for (var i = 0; i < rows.Count; i++) (toValidation[i] ? validation : train).Add(rows[i]);
        return (train, validation);
    }

    private static int StableHash(string s)
    {
        unchecked
        {
            var h = (int)2166136261;
            foreach (var ch in s) h = (h ^ ch) * 16777619;
            return h;
        }
    }
}
