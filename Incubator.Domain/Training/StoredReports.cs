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
    IReadOnlyList<StoredMisclassified> Misclassified);

public sealed record StoredClassMetrics(string Label, double Precision, double Recall, double F1, int Support);

public sealed record StoredMisclassified(string Text, string Actual, string Predicted, float Probability);

/// <summary>One family tried by an auto run, with its scores.</summary>
public sealed record StoredComparison(string Family, double Accuracy, double MacroF1, double? GoldAccuracy, double? GoldMacroF1);
