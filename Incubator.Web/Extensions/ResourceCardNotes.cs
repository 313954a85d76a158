using System.Globalization;
using Incubator.Domain.Jobs;
using Incubator.Domain.Training;
using Microsoft.Extensions.Localization;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Incubator.Web.Extensions;

/// <summary>The notes a model card repeats (auto's choice, the self-training rounds) in the card's language, from the
/// portal's resources ("JobNote.{Code}", as the training page says them), for cards written by background jobs and by
/// the CLI alike. English cards keep the notes' own English (the resources are not asked).</summary>
public sealed class ResourceCardNotes(IStringLocalizer<SharedResource> localizer) : ICardNotes
{
    /// <summary>For the CLI, which has no host: the same resources read from the assembly.</summary>
    public static ResourceCardNotes Standalone() => new(CountingLocalizer.Standalone());

    public string? Say(JobNote note, CardLanguage language)
    {
        if (language == CardLanguage.En) return null;
        // The localizer reads the current UI culture: set it for this call only (a job's thread has the server's).
        var before = CultureInfo.CurrentUICulture;
        try
        {
            CultureInfo.CurrentUICulture = CultureInfo.GetCultureInfo(CardLanguages.Code(language));
            var found = localizer["JobNote." + note.Code];
            return found.ResourceNotFound ? null : localizer.JobNote(note);
        }
        finally
        {
            CultureInfo.CurrentUICulture = before;
        }
    }
}
