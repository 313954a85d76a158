using System.Globalization;
using Incubator.Domain.Jobs;

namespace Incubator.Domain.Mining;

/// <summary>How a mining run ended when it did not give every label candidates ("JobNote.Mining.{Code}" in the portal's
/// resources; docs/decisions/0020-truthful-outcomes.md): no candidate at all fails the run, none for some labels stops it
/// short. Each says how many texts were read, the margin, and what the miner chose for the labels left without any —
/// the texts that passed its rule for the label (for specific labels: closer to the label than to every other by the
/// margin; for the other label: far from every specific label yet on the task's topic), before those already candidates
/// of the task were skipped. Label names and counts are data.</summary>
public static class MiningNotes
{
    private static string N(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    private static string M(double margin) => margin.ToString("0.###", CultureInfo.InvariantCulture);

    /// <summary>No text passed the miner's rule for any label (<paramref name="otherLabel"/>: the task has an other label,
    /// whose rule is not the margin).</summary>
    public static JobNote NothingChosen(int texts, double margin, bool otherLabel) => otherLabel
        ? new("Mining.Failed.NothingChosenOther",
            $"Failed: no candidates. None of the {N(texts)} texts read was closer to one label than to every other by the margin {M(margin)}, "
            + "nor far from every label yet on the task's topic (the other label). Lower the margin, or add texts of the task's labels to the corpus.",
            N(texts), M(margin))
        : new("Mining.Failed.NothingChosen",
            $"Failed: no candidates. None of the {N(texts)} texts read was closer to one label than to every other by the margin {M(margin)}. "
            + "Lower the margin, or add texts of the task's labels to the corpus.",
            N(texts), M(margin));

    /// <summary>The miner chose texts, but every one is already a candidate of the task (an earlier run, generation, labelling).</summary>
    public static JobNote AllQueued(int texts, int chosen, double margin) => new("Mining.Failed.AllQueued",
        $"Failed: no new candidates. The miner chose {N(chosen)} of the {N(texts)} texts read (margin {M(margin)}), but every one is already a candidate of this task. "
        + "Add new texts to the corpus, or mine another corpus.",
        N(texts), N(chosen), M(margin));

    /// <param name="labels">The labels without candidates ("login, other").</param>
    /// <param name="chosen">What the miner chose for each of them, as data ("login 0, other 3").</param>
    public static JobNote NoneFor(string labels, int created, int texts, double margin, string chosen) => new("Mining.Short.NoneFor",
        $"Stopped short: no candidates for {labels}; {N(created)} candidates for the other labels from {N(texts)} texts read. "
        + $"Texts the miner chose for {labels} (margin {M(margin)}): {chosen}; any it chose are already candidates of this task. "
        + $"Lower the margin, or add texts of {labels} to the corpus.",
        labels, N(created), N(texts), M(margin), chosen);

    /// <summary>Anything else that ended the run (a bug, a damaged row, a database that went away): the error's own text as data.</summary>
    public static JobNote Error(string error) => new("Mining.Failed.Error", $"Failed: {error}", error);
}
