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

    private static string N(int n) => n.ToString(CultureInfo.InvariantCulture);
}
