using System.Globalization;
using Incubator.Domain.Jobs;

namespace Incubator.Domain.Labelling;

/// <summary>How a labelling run stopped short ("JobNote.Label.{Code}"): texts done of the sample, and why. Failures and
/// waiting use the generation run's notes (<see cref="Generation.RunNotes"/>): the endpoint is the same.</summary>
public static class LabelNotes
{
    public static JobNote Budget(int done, int total) =>
        new("Label.Short.Budget", $"Stopped short: the budget was reached after {N(done)} of {N(total)} texts.", N(done), N(total));

    /// <param name="cap">The English sentence of the cap that was reached (its note is the cause).</param>
    public static JobNote SpendingCap(int done, int total, string cap, JobNote? cause = null) =>
        new("Label.Short.SpendingCap", $"Stopped short after {N(done)} of {N(total)} texts: {cap}", [N(done), N(total), cap], cause);

    /// <summary>The run's corpus was deleted before its texts were chosen or labelled: a reason the user can read, not a bare exception.</summary>
    public static JobNote CorpusGone() => new("Label.Failed.CorpusGone", "Failed: the corpus of this labelling run was deleted.");

    /// <summary>The run's connection was deleted before it ran.</summary>
    public static JobNote ConnectionGone() => new("Label.Failed.ConnectionGone", "Failed: the LLM connection of this labelling run was deleted.");

    /// <summary>Every text of the corpus is already a candidate of the task: nothing was sent to the model.</summary>
    public static JobNote NothingToLabel(int texts) => new("Label.Failed.NothingToLabel",
        $"Failed: nothing to label: all {N(texts)} texts of the corpus are already candidates of this task.", N(texts));

    /// <summary>Every batch was answered, yet no text got a label of the task: nothing went to the review queue.</summary>
    public static JobNote NoneLabelled(int texts, int none, int rejected) => new("Label.Failed.NoneLabelled",
        $"Failed: the model labelled none of the {N(texts)} texts: {N(none)} none of these, {N(rejected)} rejected (the job's log says why, batch by batch).",
        N(texts), N(none), N(rejected));

    /// <summary>Anything else that ended the run (a bug, a database that went away): the error's own text as data.</summary>
    public static JobNote Error(string error) => new("Label.Failed.Error", $"Failed: {error}", error);

    private static string N(int n) => n.ToString(CultureInfo.InvariantCulture);
}
