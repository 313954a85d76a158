namespace Incubator.Domain.Training;

/// <summary>The stages a training reports progress in (<see cref="TrainingProgress.Stage"/>): stable codes the portal
/// names in the reader's language ("TrainingStage.{stage}").</summary>
public static class TrainingStages
{
    public const string Prepare = "prepare";
    public const string Featurize = "featurize";
    public const string Fit = "fit";
    public const string Evaluate = "evaluate";
    public const string Choose = "choose";
    public const string Refit = "refit";
    public const string Export = "export";

    public static readonly IReadOnlyList<string> All = [Prepare, Featurize, Fit, Evaluate, Choose, Refit, Export];
}
