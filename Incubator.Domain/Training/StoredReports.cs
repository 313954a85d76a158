namespace Incubator.Domain.Training;

/// <summary>An evaluation as the registry stores it (JSON in <see cref="ModelVersion"/>): self-contained, with the label
/// order the confusion matrix uses, so pages and cards never need the trained model to show it.</summary>
public sealed record StoredReport(
    IReadOnlyList<string> Labels,
    int Count,
    double Accuracy,
    double MacroF1,
    IReadOnlyList<StoredClassMetrics> PerClass,
    int[][] Confusion,
    IReadOnlyList<StoredMisclassified> Misclassified)
{
    /// <summary>An evaluation as stored: at most the first 200 misclassified texts are kept.</summary>
    public static StoredReport From(IReadOnlyList<string> labels, EvaluationReport r) =>
        new(labels.ToList(), r.Count, r.Accuracy, r.MacroF1,
            r.PerClass.Select(p => new StoredClassMetrics(p.Label, p.Precision, p.Recall, p.F1, p.Support)).ToList(),
            r.Confusion,
            r.Misclassified.Take(200).Select(m => new StoredMisclassified(m.Text, m.Actual, m.Predicted, m.Probability)).ToList());
}

public sealed record StoredClassMetrics(string Label, double Precision, double Recall, double F1, int Support);

public sealed record StoredMisclassified(string Text, string Actual, string Predicted, float Probability);

/// <summary>One family tried by an auto run, with its scores.</summary>
public sealed record StoredComparison(string Family, double Accuracy, double MacroF1, double? GoldAccuracy, double? GoldMacroF1)
{
    /// <summary>Every family a training tried, with its scores.</summary>
    /// <summary>Every family a training tried, with its scores; a pooled model adds a last row "pooled" with the pool's.</summary>
    public static IReadOnlyList<StoredComparison> From(TrainingResult result)
    {
        var rows = result.Compared.Select(c => new StoredComparison(ModelFamilies.Name(c.Family), c.Validation.Accuracy, c.Validation.MacroF1, c.Gold?.Accuracy, c.Gold?.MacroF1)).ToList();
        if (result.Pooled)
            rows.Add(new StoredComparison(ModelFamilies.PooledName, result.Validation.Accuracy, result.Validation.MacroF1, result.Gold?.Accuracy, result.Gold?.MacroF1));
        return rows;
    }
}
