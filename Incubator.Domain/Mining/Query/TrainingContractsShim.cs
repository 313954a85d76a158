// TEMPORARY: the training-core branch owns these types (Incubator.Domain/Training/Contracts.cs). This copy of the
// agreed interface lets the query evaluator build before that branch is merged; it is deleted in the merge commit.
namespace Incubator.Domain.Training;

public enum ModelFamily { Sparse, Dense, Auto }

public sealed record Prediction(string Label, float Probability, float[] Probabilities);

public interface ITextClassifier
{
    IReadOnlyList<string> Labels { get; }

    ModelFamily Family { get; }

    IReadOnlyList<Prediction> Predict(IReadOnlyList<string> texts);
}
