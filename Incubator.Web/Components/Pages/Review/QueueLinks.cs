using Incubator.Domain.Review;

namespace Incubator.Web.Components.Pages.Review;

/// <summary>A review queue's view (run, label, source, order; for exports every filter) as the links between the queue,
/// focus mode and the export API, and back. Query keys: run, label, source, sort, search (pages); the API's own names
/// for exports.</summary>
public static class QueueLinks
{
    /// <summary>"Review next" from a queue view: focus mode hands out pending items of that run, label and source (of the
    /// main view), in the queue's order unless it is the queue's default (focus mode then goes oldest first).</summary>
    public static string Focus(Guid projectId, Guid taskId, Guid? run, string? label, CandidateSource? source, CandidateSort queueSort)
    {
        var q = new List<string>();
        if (run is { } r) q.Add("run=" + r);
        if (!string.IsNullOrEmpty(label)) q.Add("label=" + Uri.EscapeDataString(label));
        if (source is { } s) q.Add("source=" + s);
        if (queueSort != CandidateSort.Spread) q.Add("sort=" + queueSort);
        return $"projects/{projectId}/tasks/{taskId}/review/focus" + Query(q);
    }

    /// <summary>Back from focus mode to the queue with the same view. The queue's order comes along only when focus mode was
    /// given one (the queue's default spreads the labels, focus mode's is oldest first).</summary>
    public static string Queue(Guid projectId, Guid taskId, ClaimScope scope, bool sortGiven)
    {
        var q = new List<string>();
        if (scope.RunId is { } r) q.Add("run=" + r);
        if (!string.IsNullOrEmpty(scope.Label)) q.Add("label=" + Uri.EscapeDataString(scope.Label));
        if (scope.Source is { } s) q.Add("source=" + s);
        if (scope.Order != CandidateSort.Oldest || sortGiven) q.Add("sort=" + scope.Order);
        return $"projects/{projectId}/tasks/{taskId}/review" + Query(q);
    }

    /// <summary>The queue's current filters as a download link (the browser sends its cookie; the API checks the role).</summary>
    public static string Export(Guid taskId, string format, CandidateFilter filter)
    {
        var q = new List<string> { "format=" + format };
        if (!string.IsNullOrEmpty(filter.Label)) q.Add("label=" + Uri.EscapeDataString(filter.Label));
        if (filter.Status is { } st) q.Add("status=" + st);
        q.Add(filter.Stage is { } sg ? "stage=" + sg : "view=All");
        if (filter.Ambiguous == true) q.Add("ambiguous=true");
        if (!string.IsNullOrWhiteSpace(filter.Search)) q.Add("search=" + Uri.EscapeDataString(filter.Search));
        if (filter.Source is { } src) q.Add("source=" + src);
        if (filter.RunId is { } run) q.Add("runId=" + run);
        return $"api/tasks/{taskId}/candidates/export" + Query(q);
    }

    /// <summary>Focus mode's scope from its query values; unknown source or sort values are ignored (all sources, oldest first).</summary>
    public static ClaimScope Scope(Guid? run, string? label, string? source, string? sort) =>
        new(run, string.IsNullOrEmpty(label) ? null : label,
            Enum.TryParse<CandidateSource>(source, true, out var src) && Enum.IsDefined(src) ? src : null,
            Enum.TryParse<CandidateSort>(sort, true, out var srt) && Enum.IsDefined(srt) ? srt : CandidateSort.Oldest);

    private static string Query(List<string> parts) => parts.Count > 0 ? "?" + string.Join('&', parts) : "";
}
