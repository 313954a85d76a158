using Incubator.Domain.Common;
using Microsoft.Extensions.Localization;

namespace Incubator.Web;

/// <summary>Marker for the portal's one resource set: Resources/SharedResource.resx (English) and
/// Resources/SharedResource.ja.resx (Japanese). Keys are dotted identifiers, so a missing translation is visible.</summary>
public sealed class SharedResource;

public static class LocalizerExtensions
{
    /// <summary>Localises a domain error by its code ("Error.{Code}"), falling back to the domain's English text.</summary>
    public static string Error(this IStringLocalizer localizer, DomainError error)
    {
        // An argument that is itself a sentence (a note, say the spending cap reached) is said in the reader's language too.
        var args = error.Args.Select(a => a is Incubator.Domain.Jobs.JobNote note ? localizer.JobNote(note) : a).ToArray();
        var s = localizer["Error." + error.Code, args];
        return s.ResourceNotFound ? error.Message : s.Value;
    }

    public static string Role(this IStringLocalizer localizer, Incubator.Domain.Projects.ProjectRole role) => localizer["Role." + role];

    public static string JobState(this IStringLocalizer localizer, Incubator.Domain.Jobs.JobState state) => localizer["JobState." + state];

    /// <summary>What a job says about how it stands or ended ("JobNote.{Code}" with its arguments), falling back to the
    /// domain's English sentence.</summary>
    public static string JobNote(this IStringLocalizer localizer, Incubator.Domain.Jobs.JobNote note)
    {
        var s = localizer["JobNote." + note.Code, note.Args.Cast<object>().ToArray()];
        return s.ResourceNotFound ? note.Message : s.Value;
    }

    /// <summary>The state a person reads: "Waiting for the endpoint" while a running job waits, else the job state.</summary>
    public static string JobStatus(this IStringLocalizer localizer, Incubator.Domain.Jobs.JobState state, bool waiting) =>
        waiting && state == Incubator.Domain.Jobs.JobState.Running ? localizer["Job.Waiting"] : localizer.JobState(state);
}
