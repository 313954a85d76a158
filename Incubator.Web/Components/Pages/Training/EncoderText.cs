using Incubator.Domain.Training;
using Microsoft.Extensions.Localization;

namespace Incubator.Web.Components.Pages.Training;

/// <summary>A model version's encoder as the compare and model pages say it: the stored fact ("none", "float", "int8")
/// localised, "not recorded" for a finished version trained before the fact was stored (never guessed from the card or
/// the size), and "—" while nothing was produced (training, failed, cancelled).</summary>
public static class EncoderText
{
    public static string For(IStringLocalizer l, ModelVersionDetail m) => m.Encoder switch
    {
        null when m.Summary.State is ModelVersionState.Training or ModelVersionState.Failed or ModelVersionState.Cancelled => "—",
        null => l["ModelEncoder.NotRecorded"],
        ModelFamilies.NoEncoder or "float" or "int8" => l["ModelEncoder." + m.Encoder],
        // A name a later version may store: shown as stored rather than as a missing resource key.
        var other => other,
    };
}
