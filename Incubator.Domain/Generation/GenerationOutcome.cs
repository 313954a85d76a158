using System.Globalization;
using Incubator.Domain.Jobs;

namespace Incubator.Domain.Generation;

/// <summary>How a generation run ended (docs/decisions/0020-truthful-outcomes.md). Cancelled is not here: a cancelled
/// run never reaches its end, its job says so.</summary>
public enum RunOutcome
{
    /// <summary>Every label has its target of selected samples.</summary>
    Completed,
    /// <summary>At least one label has fewer selected samples than asked for; <see cref="RunEnd.Shortfalls"/> says which and why.</summary>
    StoppedShort,
    /// <summary>The run could not do its work: <see cref="RunEnd.Failure"/> says why.</summary>
    Failed,
}

/// <summary>Why a label ended with fewer samples than its target.</summary>
public enum ShortReason
{
    /// <summary>Its pool stopped growing: the model's new samples for it were duplicates or near-duplicates.</summary>
    Repeats,
    /// <summary>Its pool stopped growing: the model left it out or wrote samples that failed the checks.</summary>
    Unusable,
    /// <summary>The run's budget (tokens or money) was spent.</summary>
    Budget,
    /// <summary>The run made as many calls as it may (its worst-case estimate, raised with the budget).</summary>
    Cap,
    /// <summary>The run failed before the label was full.</summary>
    Failure,
    /// <summary>A site-wide daily spending cap (per user or per project) was reached; the detail says which and when it resets.</summary>
    SpendingCap,
}

public enum RunFailure
{
    /// <summary>No answer: connection refused, timeouts, server errors — from the start, or for longer than the run waits.</summary>
    Unreachable,
    /// <summary>The endpoint answered 401 or 403.</summary>
    AuthRefused,
    /// <summary>The endpoint keeps refusing the requests themselves (a 4xx other than 401, 403, 408 and 429).</summary>
    Refused,
    /// <summary>The model answered, but no answer held a sample that passed the checks (and none was a mere repeat).</summary>
    NoUsableOutput,
}

/// <summary>One label that ended short of its target.</summary>
public sealed record LabelShortfall(string Label, int Selected, int Target, ShortReason Reason)
{
    public int Missing => Math.Max(0, Target - Selected);
}

/// <summary>The end of a run as the engine saw it. <see cref="Answered"/>: at least one call of the run (in any
/// process life) got an answer; <see cref="FailureDetail"/> is the provider's last error, as data.</summary>
public sealed record RunEnd(
    RunOutcome Outcome,
    IReadOnlyList<LabelShortfall> Shortfalls,
    ShortReason? Reason = null,
    RunFailure? Failure = null,
    string? FailureDetail = null,
    bool Answered = true,
    int Calls = 0,
    int CallCap = 0,
    TimeSpan? WaitedFor = null)
{
    public static readonly RunEnd Complete = new(RunOutcome.Completed, []);

    /// <summary>The spending cap that stopped the run (<see cref="SpendingNotes"/>), when one did.</summary>
    public JobNote? Cap { get; init; }

    /// <summary>The job's note for this end: null when completed.</summary>
    public JobNote? Note => RunNotes.For(this);
}

/// <summary>The sentences a run's end and its waiting are told in: one code per situation (resource key
/// "JobNote.{Code}"), the English message for the API, logs and the command line, and the data as arguments.</summary>
public static class RunNotes
{
    /// <summary>"label 8/20, other 15/20": names and numbers only, so it reads the same in every language.</summary>
    public static string LabelList(IEnumerable<LabelShortfall> shortfalls) =>
        string.Join(", ", shortfalls.Select(s => $"{s.Label} {s.Selected.ToString(CultureInfo.InvariantCulture)}/{s.Target.ToString(CultureInfo.InvariantCulture)}"));

    public static JobNote? For(RunEnd end)
    {
        var list = LabelList(end.Shortfalls);
        var missing = end.Shortfalls.Sum(s => s.Missing);
        return end.Outcome switch
        {
            RunOutcome.Completed => null,
            RunOutcome.StoppedShort => end.Reason switch
            {
                ShortReason.Budget => new JobNote("Run.Short.Budget", $"Stopped short: the budget was reached. Short: {list} ({missing} samples missing).", list, missing),
                ShortReason.Cap => new JobNote("Run.Short.Cap", $"Stopped short: the run made its {end.CallCap} calls (its worst case). Short: {list} ({missing} samples missing).", list, missing, end.CallCap),
                ShortReason.SpendingCap => new JobNote("Run.Short.SpendingCap", $"Stopped short: {end.FailureDetail} Short: {list} ({missing} samples missing).",
                    [list, missing.ToString(CultureInfo.InvariantCulture), end.FailureDetail ?? ""], end.Cap),
                ShortReason.Unusable => new JobNote("Run.Short.Unusable", $"Stopped short: the model gave no usable new samples for some labels. Short: {list} ({missing} samples missing).", list, missing),
                _ => new JobNote("Run.Short.Repeats", $"Stopped short: the model keeps repeating itself. Short: {list} ({missing} samples missing).", list, missing),
            },
            _ => end.Failure switch
            {
                RunFailure.AuthRefused => new JobNote("Run.Failed.Auth", $"Failed: the endpoint refused the credentials: {end.FailureDetail}", end.FailureDetail ?? ""),
                RunFailure.Refused => new JobNote("Run.Failed.Refused", $"Failed: the endpoint refused the requests: {end.FailureDetail}", end.FailureDetail ?? ""),
                RunFailure.NoUsableOutput => new JobNote("Run.Failed.NoOutput", $"Failed: the model answered {end.Calls} times, but no answer held a usable sample.", end.Calls),
                _ when end.WaitedFor is { } waited => new JobNote("Run.Failed.Gone",
                    $"Failed: the endpoint stopped answering and did not come back within {Minutes(waited)} min: {end.FailureDetail}", end.FailureDetail ?? "", Minutes(waited)),
                _ => new JobNote("Run.Failed.Unreachable", $"Failed: the endpoint never answered: {end.FailureDetail}", end.FailureDetail ?? ""),
            },
        };
    }

    /// <summary>A run that never got one answer, with what a fresh connection test said.</summary>
    public static JobNote UnreachableTested(string detail, ConnectionTestSummary test) => test.Ok
        ? new JobNote("Run.Failed.UnreachableTestOk",
            $"Failed: the endpoint never answered the run: {detail} A connection test just now succeeded in {test.Seconds} s, so the endpoint may be overloaded or the requests too large.",
            detail, test.Seconds)
        : new JobNote("Run.Failed.UnreachableTest", $"Failed: the endpoint never answered: {detail} Connection test: {test.Error}", detail, test.Error ?? "");

    /// <summary>The endpoint stopped answering mid-run: what it said last and how long the run keeps trying.</summary>
    public static JobNote Waiting(string lastError, TimeSpan limit) =>
        new JobNote("Run.Waiting", $"Waiting for the endpoint: {lastError} Retrying with back-off for up to {Minutes(limit)} min, then the run fails.", lastError, Minutes(limit));

    private static string Minutes(TimeSpan t) => Math.Max(1, Math.Ceiling(t.TotalMinutes)).ToString(CultureInfo.InvariantCulture);
}

/// <summary>A connection test reduced to what a note shows (no key, no raw exception).</summary>
public sealed record ConnectionTestSummary(bool Ok, string? Error, string Seconds);
