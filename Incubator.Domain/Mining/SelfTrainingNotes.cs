using System.Globalization;
using Incubator.Domain.Jobs;

namespace Incubator.Domain.Mining;

/// <summary>What a self-training job says ("JobNote.SelfTrain.{Code}" in the portal's resources): the English sentence
/// goes to the job's log and the API, the code and its arguments let the page say it in the reader's language
/// (docs/decisions/0035-keyboard-review-and-server-messages.md).</summary>
public static class SelfTrainingNotes
{
    private static string F(double v) => v.ToString("0.000", CultureInfo.InvariantCulture);

    /// <summary>A round finished (round 0 is the model trained on the seeds alone).</summary>
    public static JobNote Round(int round, int maxRounds, double agreement, bool improved) => improved
        ? new("SelfTrain.Round", $"Round {round} of {maxRounds}: held-out agreement {F(agreement)}", round, maxRounds, F(agreement))
        : new("SelfTrain.RoundNoBetter", $"Round {round} of {maxRounds}: held-out agreement {F(agreement)}, no better: stopping", round, maxRounds, F(agreement));

    /// <summary>Stopped short: no round after the seed model agreed better, so the model is the seed model's.</summary>
    public static JobNote NoGain(int roundsTried) => new("SelfTrain.Short.NoGain",
        $"Stopped short: no pseudo-labelling round beat the model trained on the seeds alone ({roundsTried} tried); the model version is that seed model.",
        roundsTried);

    public static JobNote TooFewSeeds(string labels) => new("SelfTrain.Failed.TooFewSeeds",
        $"Failed: self-training needs at least 2 seeds (mined or reviewed, not rejected) for every label; too few for {labels}. Mine with a lower margin or more per label.",
        labels);

    public static JobNote CorpusGone() => new("SelfTrain.Failed.CorpusGone", "Failed: the corpus of the mining run was deleted.");
}
