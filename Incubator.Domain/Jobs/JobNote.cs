using System.Text.Json;
using System.Text.Json.Serialization;

namespace Incubator.Domain.Jobs;

/// <summary>What a job says about how it stands or how it ended — why it stopped short, why it failed, what it is
/// waiting for — as a stable code the portal localises (resource key "JobNote.{Code}", formatted with
/// <see cref="Args"/>) and the English sentence the API, the job log and the command line show. Arguments are data
/// (label names, counts, the provider's own error text), never English prose, so both languages can say the whole
/// sentence (docs/decisions/0020-truthful-outcomes.md).</summary>
public sealed record JobNote
{
    [JsonConstructor]
    public JobNote(string code, string message, IReadOnlyList<string> args, JobNote? cause = null)
    {
        Code = code ?? throw new ArgumentNullException(nameof(code));
        Message = message ?? "";
        Args = args ?? [];
        Cause = cause;
    }

    /// <summary>Arguments are written in the invariant culture (numbers without group separators).</summary>
    public JobNote(string code, string message, params object[] args)
        : this(code, message, (IReadOnlyList<string>)args.Select(a => Convert.ToString(a, System.Globalization.CultureInfo.InvariantCulture) ?? "").ToArray())
    {
    }

    public string Code { get; }

    public string Message { get; }

    public IReadOnlyList<string> Args { get; }

    /// <summary>When the last argument is itself a sentence (the spending cap that stopped a run), that sentence as a
    /// note, so the portal can say it in the reader's language too; the last argument keeps its English.</summary>
    public JobNote? Cause { get; }

    /// <summary>Two notes are the same sentence with the same data (the arguments compared by value).</summary>
    public bool Equals(JobNote? other) => other is not null && Code == other.Code && Message == other.Message && Args.SequenceEqual(other.Args)
        && Equals(Cause, other.Cause);

    public override int GetHashCode() => HashCode.Combine(Code, Message, Args.Count);

    internal string ToJson() => JsonSerializer.Serialize(this, JobContext.JsonOptions);

    /// <summary>The note as JSON when it fits a column of <paramref name="max"/> characters, else null (the row keeps
    /// the English sentence only).</summary>
    internal static string? JsonWithin(JobNote? note, int max) => note?.ToJson() is { } json && json.Length <= max ? json : null;

    internal static JobNote? FromJson(string? json)
    {
        if (string.IsNullOrEmpty(json)) return null;
        try
        {
            return JsonSerializer.Deserialize<JobNote>(json, JobContext.JsonOptions);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>Thrown by a handler to end its job Failed with a reason the user can read in their language (the job's
/// <see cref="Job.Error"/> is the note's English message).</summary>
public sealed class JobFailedException(JobNote note, Exception? inner = null) : Exception(note.Message, inner)
{
    public JobNote Note { get; } = note;
}

/// <summary>Every way a job fails carries a note (docs/decisions/0020-truthful-outcomes.md): the failures a handler
/// foresees have their own, and <see cref="WithNoteAsync"/> gives anything else — a bug, a damaged row, a database that
/// went away — a note whose argument is the error's own text, so the page can say "Failed: ..." in the reader's
/// language. A lost lease, a <see cref="JobFailedException"/> and a stop the worker asked for pass through unchanged.
/// The worker logs the original exception with its stack.</summary>
public static class JobFailures
{
    public static async Task WithNoteAsync(JobContext context, Func<Task> work, Func<string, JobNote> note)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(work);
        ArgumentNullException.ThrowIfNull(note);
        try
        {
            await work();
        }
        catch (Exception ex) when (ex is not (JobFailedException or LeaseLostException)
                                   && !(ex is OperationCanceledException && context.CancellationToken.IsCancellationRequested))
        {
            throw new JobFailedException(note(ex.Message), ex);
        }
    }
}
