using System.Globalization;
using Incubator.Domain.Common;
using Incubator.Domain.Jobs;

namespace Incubator.Domain.Mining;

/// <summary>What a self-training job says ("JobNote.SelfTrain.{Code}" in the portal's resources): the English sentence
/// goes to the job's log and the API, the code and its arguments let the page say it in the reader's language
/// (docs/decisions/0035-keyboard-review-and-server-messages.md).</summary>
public static class SelfTrainingNotes
{
    private static string F(double v) => v.ToString("0.000", CultureInfo.InvariantCulture);

    /// <summary>A round finished. Round 0 is the model trained on the seeds alone, said as "Seed model", not as a round:
    /// <paramref name="maxRounds"/> counts the pseudo-labelling rounds after it, so they read "Round 1 of 3" … "Round 3 of 3".</summary>
    public static JobNote Round(int round, int maxRounds, double agreement, bool improved) => round == 0
        ? new("SelfTrain.Seed", $"Seed model: held-out agreement {F(agreement)}", F(agreement))
        : improved
        ? new("SelfTrain.Round", $"Round {round} of {maxRounds}: held-out agreement {F(agreement)}", round, maxRounds, F(agreement))
        : new("SelfTrain.RoundNoBetter", $"Round {round} of {maxRounds}: held-out agreement {F(agreement)}, no better: stopping", round, maxRounds, F(agreement));

    /// <summary>The English name of a round in the CLI's and the trainer's own lines: "seed model" for round 0, else
    /// "round 2 of 3" (<paramref name="maxRounds"/>: the pseudo-labelling rounds after the seed model).</summary>
    public static string RoundName(int round, int maxRounds) =>
        round == 0 ? "seed model" : string.Create(CultureInfo.InvariantCulture, $"round {round} of {maxRounds}");

    /// <summary>Stopped short: no round after the seed model agreed better, so the model is the seed model's.</summary>
    public static JobNote NoGain(int roundsTried) => new("SelfTrain.Short.NoGain",
        $"Stopped short: no pseudo-labelling round beat the model trained on the seeds alone ({roundsTried} tried); the model version is that seed model.",
        roundsTried);

    public static JobNote TooFewSeeds(string labels) => new("SelfTrain.Failed.TooFewSeeds",
        $"Failed: self-training needs at least 2 seeds (mined or reviewed, not rejected) for every label; too few for {labels}. Mine with a lower margin or more per label.",
        labels);

    /// <summary>Only the task's other label has fewer than 2 seeds. Its candidates are corpus texts close to the task
    /// yet below the corpus's average similarity for every specific label (<see cref="MiningScorer"/>); the margin does
    /// not apply to them, so "a lower margin" would not help.</summary>
    public static JobNote TooFewOtherSeeds(string label) => new("SelfTrain.Failed.TooFewOtherSeeds",
        $"Failed: self-training needs at least 2 seeds for every label; too few for {label}, the task's other label. The miner takes its seeds from corpus texts close to the task yet below the corpus's average for every other label, and the margin does not apply to them: approve a few {label} samples in the review queue (they count as seeds), or mine a corpus with more texts that belong to none of the labels.",
        label);

    public static JobNote CorpusGone() => new("SelfTrain.Failed.CorpusGone", "Failed: the corpus of the mining run was deleted.");

    /// <summary>Anything else that ended the run (a bug, a damaged row, a database that went away): the error's own text as data.</summary>
    public static JobNote Error(string error) => new("SelfTrain.Failed.Error", $"Failed: {error}", error);

    private static string N(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    private static string StartedEnglish(string task, string corpus, int texts, string embedder, int seeds, int reviewed, int weight, int rejected) =>
        $"Self-training {task} on {corpus} ({N(texts)} texts, {embedder}): {seeds} mined seeds, {reviewed} reviewed samples weighted ×{weight}, {rejected} rejected left out";

    /// <summary>Started with no gold set: the figures will be agreement, not accuracy.</summary>
    public static JobNote Started(string task, string corpus, int texts, string embedder, int seeds, int reviewed, int weight, int rejected) => new("SelfTrain.Log.Started",
        StartedEnglish(task, corpus, texts, embedder, seeds, reviewed, weight, rejected) + "; no gold: the figures are agreement, not accuracy.",
        task, corpus, N(texts), embedder, seeds, reviewed, weight, rejected);

    /// <summary>Started with a gold set: its name and size. The name is the last argument, so a held-out share of the
    /// approved samples (<see cref="HeldOutGold"/>) is said in the reader's language.</summary>
    public static JobNote StartedGold(string task, string corpus, int texts, string embedder, int seeds, int reviewed, int weight, int rejected, string gold, int goldRows) =>
        StartedGold(task, corpus, texts, embedder, seeds, reviewed, weight, rejected, gold, goldRows, null);

    public static JobNote StartedHeldOut(string task, string corpus, int texts, string embedder, int seeds, int reviewed, int weight, int rejected, int goldRows) =>
        StartedGold(task, corpus, texts, embedder, seeds, reviewed, weight, rejected, HeldOutGold().Message, goldRows, HeldOutGold());

    private static JobNote StartedGold(string task, string corpus, int texts, string embedder, int seeds, int reviewed, int weight, int rejected, string gold, int goldRows, JobNote? heldOut) =>
        new("SelfTrain.Log.StartedGold", StartedEnglish(task, corpus, texts, embedder, seeds, reviewed, weight, rejected) + $"; gold: {gold} ({goldRows}).",
            [task, corpus, N(texts), embedder, S(seeds), S(reviewed), S(weight), S(rejected), S(goldRows), gold], heldOut);

    /// <summary>The gold set when the task has none uploaded: a share of the approved samples, never trained on.</summary>
    public static JobNote HeldOutGold() => new("SelfTrain.HeldOutGold", "approved samples held out from training");

    private static string S(int n) => n.ToString(CultureInfo.InvariantCulture);

    /// <summary>English rounds: the miner's raw similarity scores lean to some labels over the pool (their argmax label
    /// counts are more than <paramref name="threshold"/> nats from equal shares), so the rounds took those scores and
    /// counted label shares, and the final model the surest share of the pool (decision 0032, amendment st19).</summary>
    public static JobNote RawView(double lean, double threshold, double finalShare) => new("SelfTrain.Log.RawView",
        $"The miner's raw similarity scores lean to some labels over the pool (their label counts are {F(lean)} nats from equal shares, more than {F(threshold)}): the rounds averaged those raw scores and shared pseudo-labels out by counted label shares; the final model trained on the surest {Pct(finalShare)} of the pool.",
        F(lean), F(threshold), Pct(finalShare));

    /// <summary>English rounds: the miner's raw similarity scores' label counts over the pool were close to equal shares,
    /// so the rounds kept the miner's per-label z-scored scores and the same number of pseudo-labels per label.</summary>
    public static JobNote EvenView(double lean, double threshold) => new("SelfTrain.Log.EvenView",
        $"The miner's raw similarity scores split the pool close to equal label shares ({F(lean)} nats from equal, at most {F(threshold)}): the rounds averaged the miner's per-label z-scored scores, the same number of pseudo-labels per label.",
        F(lean), F(threshold));

    /// <summary>English rounds as <see cref="EvenView"/>, with curriculum labelling: after each round a growing share of
    /// the pool by confidence, whatever the label (<paramref name="steps"/>, e.g. "25%, 50%, 75%, 100%"; decision 0032,
    /// amendment "st").</summary>
    public static JobNote EvenViewCurriculum(double lean, double threshold, string steps) => new("SelfTrain.Log.EvenViewCurriculum",
        $"The miner's raw similarity scores split the pool close to equal label shares ({F(lean)} nats from equal, at most {F(threshold)}): the rounds averaged the miner's per-label z-scored scores; curriculum labelling: after each round the surest {steps} of the pool by confidence, whatever the label; the final model the same number per label.",
        F(lean), F(threshold), steps);

    private static string Pct(double share) => share.ToString("0%", CultureInfo.InvariantCulture);

    public static JobNote Scored(int texts) => new("SelfTrain.Progress.Scored", $"{N(texts)} texts scored", N(texts));

    public static JobNote ChoosingUncertain() => new("SelfTrain.Progress.ChoosingUncertain", "Choosing the uncertain texts");

    public static JobNote Ready(int round, int uncertain) => round == 0
        ? new("SelfTrain.Progress.ReadySeed", $"Model ready: the seed model kept; {EnglishCount.Of(uncertain, "uncertain text", "uncertain texts")} to review", round, uncertain)
        : new("SelfTrain.Progress.Ready", $"Model ready: round {round} kept; {EnglishCount.Of(uncertain, "uncertain text", "uncertain texts")} to review", round, uncertain);

    /// <summary>Round 0 kept is the seed model ("Kept the seed model", codes <c>KeptSeed…</c>), not "round 0 of 3".</summary>
    private static string KeptEnglish(int round, int rounds, int seeds, int pseudoLabels, int reviewed, string family) =>
        (round == 0 ? "Kept the seed model" : $"Kept round {round} of {rounds}") + $" ({seeds} seeds + {EnglishCount.Of(pseudoLabels, "pseudo-label", "pseudo-labels")} + {reviewed} reviewed); {family} model";

    /// <summary>The model kept, with no gold set: its figure is the agreement with pseudo-labels.</summary>
    public static JobNote KeptAgreement(int round, int rounds, int seeds, int pseudoLabels, int reviewed, string family, double agreement, int uncertain) =>
        new(round == 0 ? "SelfTrain.Log.KeptSeedAgreement" : "SelfTrain.Log.KeptAgreement",
            KeptEnglish(round, rounds, seeds, pseudoLabels, reviewed, family) + $", agreement with pseudo-labels {F(agreement)} (not accuracy); {EnglishCount.Of(uncertain, "uncertain text", "uncertain texts")} sent to review.",
            round, rounds, seeds, pseudoLabels, reviewed, family, F(agreement), uncertain);

    public static JobNote KeptGold(int round, int rounds, int seeds, int pseudoLabels, int reviewed, string family, double accuracy, int uncertain, string gold) =>
        KeptGold(round, rounds, seeds, pseudoLabels, reviewed, family, accuracy, uncertain, gold, null);

    public static JobNote KeptHeldOut(int round, int rounds, int seeds, int pseudoLabels, int reviewed, string family, double accuracy, int uncertain) =>
        KeptGold(round, rounds, seeds, pseudoLabels, reviewed, family, accuracy, uncertain, HeldOutGold().Message, HeldOutGold());

    private static JobNote KeptGold(int round, int rounds, int seeds, int pseudoLabels, int reviewed, string family, double accuracy, int uncertain, string gold, JobNote? heldOut) =>
        new(round == 0 ? "SelfTrain.Log.KeptSeedGold" : "SelfTrain.Log.KeptGold",
            KeptEnglish(round, rounds, seeds, pseudoLabels, reviewed, family) + $", accuracy on {gold} {F(accuracy)}; {EnglishCount.Of(uncertain, "uncertain text", "uncertain texts")} sent to review.",
            [S(round), S(rounds), S(seeds), S(pseudoLabels), S(reviewed), family, F(accuracy), S(uncertain), gold], heldOut);
}
