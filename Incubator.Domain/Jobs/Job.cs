namespace Incubator.Domain.Jobs;

public enum JobState
{
    Queued = 0,
    Running = 1,
    Succeeded = 2,
    Failed = 3,
    Cancelled = 4,
    /// <summary>Stopped on request with its checkpoint kept; resuming queues it again.</summary>
    Paused = 5,
    /// <summary>Finished without meeting every target it was given (what is missing and why is its
    /// <see cref="Job.NoteJson"/>): not a success, not a failure — what was made is kept.</summary>
    StoppedShort = 6,
}

public sealed class Job
{
    public Guid Id { get; set; }
    public Guid ProjectId { get; set; }
    /// <summary>Which handler runs it, for example "diagnostics.count" or, later, "generation.run".</summary>
    public string Kind { get; set; } = "";
    public string Title { get; set; } = "";
    /// <summary>The title as a <see cref="JobNote"/> (JSON) for the portal to say in the reader's language (<see cref="JobTitles"/>);
    /// null for jobs started with a plain title.</summary>
    public string? TitleNoteJson { get; set; }
    public JobState State { get; set; }
    /// <summary>0..1.</summary>
    public double Progress { get; set; }
    /// <summary>The progress line in English (the API and the CLI show it).</summary>
    public string? ProgressMessage { get; set; }
    /// <summary>The same line as a <see cref="JobNote"/> (JSON), for the portal to say in the reader's language.</summary>
    public string? ProgressNoteJson { get; set; }
    /// <summary>Handler input as JSON, fixed when the job is queued.</summary>
    public string Payload { get; set; } = "{}";
    /// <summary>Handler-defined resume point as JSON; written as work is done so a restarted job skips what is finished.</summary>
    public string? Checkpoint { get; set; }
    public string? LeaseOwner { get; set; }
    public DateTimeOffset? LeaseExpiresAt { get; set; }
    public int Attempts { get; set; }
    public int MaxAttempts { get; set; } = 5;
    public string? Error { get; set; }
    /// <summary>The job's <see cref="JobNote"/> as JSON: why it stopped short or failed, or what it is waiting for.</summary>
    public string? NoteJson { get; set; }
    /// <summary>Set while a running job waits for something outside it (an LLM endpoint that stopped answering); it
    /// keeps its lease and resumes by itself.</summary>
    public DateTimeOffset? WaitingSince { get; set; }
    public bool CancelRequested { get; set; }
    /// <summary>A user asked a running job to pause; the worker stops it at the next step and marks it Paused.</summary>
    public bool PauseRequested { get; set; }
    public string? CreatedById { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    /// <summary>Optimistic-concurrency token, bumped on every write the worker makes.</summary>
    public long Version { get; set; }

    public bool IsFinished => State is JobState.Succeeded or JobState.StoppedShort or JobState.Failed or JobState.Cancelled;

    /// <summary>The job ended with its results committed: succeeded, or stopped short with part of them (a mining run
    /// whose candidates can seed self-training and count toward a task's review target).</summary>
    public static bool EndedWithResults(JobState? state) => state is JobState.Succeeded or JobState.StoppedShort;
}

public sealed class JobLogEntry
{
    public long Id { get; set; }
    public Guid JobId { get; set; }
    public DateTimeOffset At { get; set; }
    public string Level { get; set; } = "info";
    /// <summary>The line in English (the API and the CLI show it).</summary>
    public string Message { get; set; } = "";
    /// <summary>The same line as a <see cref="JobNote"/> (JSON), for the portal to say in the reader's language; null
    /// for lines written before notes existed.</summary>
    public string? NoteJson { get; set; }
}
