using Incubator.Domain.Common;
using Microsoft.Extensions.Localization;
using MudBlazor;

namespace Incubator.Web.Components.Pages.Shared;

public enum FailureKind
{
    /// <summary><see cref="DomainValidationException"/>: the input breaks a rule; the user can fix it.</summary>
    Invalid,
    /// <summary><see cref="ForbiddenException"/>: not allowed (or no longer: a role changed while the page was open).</summary>
    Forbidden,
    /// <summary><see cref="ConflictException"/>: someone else changed the same thing first.</summary>
    Conflict,
    /// <summary><see cref="NotFoundException"/>: it is gone.</summary>
    NotFound,
}

/// <summary>A failed page action as the user sees it: its kind, the localised text, and for invalid input every
/// problem with its field.</summary>
public sealed record PageFailure(FailureKind Kind, string Text, IReadOnlyList<DomainError> Errors);

/// <summary>Problems of a form, per field, localised: bound beside the fields (<c>Error="@_errors.Has("name")"
/// ErrorText="@_errors["name"]"</c>). Filled by <see cref="PageErrors.RunAsync"/> when the action's input is invalid.</summary>
public sealed class FieldErrors
{
    private Dictionary<string, string> _byField = new(StringComparer.OrdinalIgnoreCase);

    public IReadOnlyList<DomainError> Details { get; private set; } = [];

    /// <summary>Every problem of the last failure, localised, in one line.</summary>
    public string? Text { get; private set; }

    public bool Any => Details.Count > 0;

    public bool Has(string field) => _byField.ContainsKey(field);

    /// <summary>The localised problems of one field, or null when it has none.</summary>
    public string? this[string field] => _byField.GetValueOrDefault(field);

    public void Clear()
    {
        Details = [];
        Text = null;
        _byField = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
    }

    public void Set(IReadOnlyList<DomainError> details, IStringLocalizer localizer)
    {
        Details = details;
        Text = string.Join(" ", details.Select(localizer.Error));
        _byField = details.GroupBy(d => d.Field, StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => string.Join(" ", g.Select(localizer.Error)), StringComparer.OrdinalIgnoreCase);
    }
}

/// <summary>The one way pages handle what the domain refuses. <see cref="RunAsync"/> runs an action and turns
/// <see cref="DomainValidationException"/>, <see cref="ForbiddenException"/>, <see cref="ConflictException"/> and
/// <see cref="NotFoundException"/> into field errors (when the page passes a <see cref="FieldErrors"/>) or a localised
/// snackbar; <see cref="LoadAsync"/> turns "forbidden" and "not found" while loading into "show no access". Anything
/// else is a bug and propagates to the layout's error boundary.</summary>
public sealed class PageErrors(ISnackbar snackbar, IStringLocalizer<SharedResource> localizer)
{
    /// <summary>The code of <see cref="Incubator.Domain.Projects.ProjectAccess.Archived"/>.</summary>
    public const string ProjectArchivedCode = Incubator.Domain.Projects.ProjectAccess.ArchivedCode;

    /// <summary>The user-facing form of a domain refusal; null for any other exception.</summary>
    public static PageFailure? Describe(Exception ex, IStringLocalizer localizer) => ex switch
    {
        DomainValidationException v => new PageFailure(FailureKind.Invalid, string.Join(" ", v.Details.Select(localizer.Error)), v.Details),
        ForbiddenException => new PageFailure(FailureKind.Forbidden, localizer["Common.Forbidden"], []),
        ConflictException => new PageFailure(FailureKind.Conflict, localizer["Common.Conflict"], []),
        NotFoundException => new PageFailure(FailureKind.NotFound, localizer["Common.NotFound"], []),
        _ => null,
    };

    /// <summary>Runs <paramref name="action"/>; true when it succeeded. On a domain refusal: <paramref name="handle"/> may
    /// take it (return true: the page shows it its own way); otherwise invalid input goes to <paramref name="fields"/> when
    /// given, and everything else to a snackbar — a conflict with <paramref name="conflict"/> when given.</summary>
    public async Task<bool> RunAsync(Func<Task> action, FieldErrors? fields = null, string? conflict = null, Func<PageFailure, bool>? handle = null)
    {
        fields?.Clear();
        try
        {
            await action();
            return true;
        }
        catch (Exception ex) when (Describe(ex, localizer) is { } failure)
        {
            if (conflict is not null && failure.Kind == FailureKind.Conflict) failure = failure with { Text = conflict };
            if (handle?.Invoke(failure) == true) return false;
            // "This project is archived" is about no field of the form (a stale tab's write after the project was archived):
            // it goes to the snackbar, where the user sees it, not beside a field the form does not have.
            if (failure.Kind == FailureKind.Invalid && fields is not null && !failure.Errors.Any(e => e.Code == ProjectArchivedCode))
                fields.Set(failure.Errors, localizer);
            else
                Show(failure);
            return false;
        }
    }

    /// <summary><see cref="RunAsync"/> for an action with a result: the result, or null when the action was refused.</summary>
    public async Task<T?> TryGetAsync<T>(Func<Task<T>> action, FieldErrors? fields = null, string? conflict = null, Func<PageFailure, bool>? handle = null)
        where T : class
    {
        T? result = null;
        await RunAsync(async () => result = await action(), fields, conflict, handle);
        return result;
    }

    /// <summary>Loads what a page shows; false when the user may not see it (any more) or it does not exist, which the
    /// page shows as "no access" — a foreign id and a missing one look the same.</summary>
    /// <summary>Something of another project asked for under this project's address is not found here, whatever the
    /// reader's role there: the page would show it under the wrong project's header, beside this project's data.</summary>
    public static T InProject<T>(T item, Guid itemProject, Guid pageProject) =>
        itemProject == pageProject ? item : throw new NotFoundException("It is not in this project.");

    public static async Task<bool> LoadAsync(Func<Task> load)
    {
        try
        {
            await load();
            return true;
        }
        catch (Exception ex) when (ex is ForbiddenException or NotFoundException)
        {
            return false;
        }
    }

    public void Show(PageFailure failure) =>
        snackbar.Add(failure.Text, failure.Kind is FailureKind.Conflict or FailureKind.NotFound ? Severity.Warning : Severity.Error);
}
