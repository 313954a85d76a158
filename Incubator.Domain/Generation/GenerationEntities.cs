namespace Incubator.Domain.Generation;

/// <summary>One generation run of a task version through one LLM connection. Settings are fixed when it is created;
/// counters grow as calls return. Its live state (queued, running, paused...) is the job's.</summary>
public sealed class GenerationRun
{
    public Guid Id { get; set; }
    public Guid ProjectId { get; set; }
    public Guid TaskId { get; set; }
    public Guid TaskVersionId { get; set; }
    public int TaskVersionNumber { get; set; }
    public Guid ConnectionId { get; set; }
    /// <summary>Snapshot for lineage: the connection may be edited or deleted later.</summary>
    public string ConnectionName { get; set; } = "";
    public string Model { get; set; } = "";
    public int PerLabelTarget { get; set; }
    public double Oversample { get; set; } = 3;
    public int Concurrency { get; set; } = 4;
    public long? BudgetTokens { get; set; }
    public decimal? BudgetMoney { get; set; }
    public int Seed { get; set; }
    public int Round { get; set; }
    public long InputTokens { get; set; }
    public long OutputTokens { get; set; }
    public bool TokensEstimated { get; set; }
    public decimal Cost { get; set; }
    public int Calls { get; set; }
    public int FailedCalls { get; set; }
    /// <summary>How the run ended (null while it has not): what its job's state says too.</summary>
    public RunOutcome? Outcome { get; set; }
    /// <summary>The English sentence of its end when it stopped short or failed (the job's note has the localisable
    /// form), or null.</summary>
    public string? StopReason { get; set; }
    /// <summary>The labels that ended short of the target, as JSON (<see cref="LabelShortfall"/> list), or null.</summary>
    public string? ShortfallJson { get; set; }
    /// <summary>Samples that arrived for labels whose pools were already full, and were therefore not kept.</summary>
    public int Surplus { get; set; }
    /// <summary>Per-label diversity before and after selection, as JSON (see <see cref="RoundStats"/>).</summary>
    public string? DiversityJson { get; set; }
    public Guid? JobId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public string? CreatedById { get; set; }
}

/// <summary>A piece of LLM output that did not become a candidate, with the reason — visible, never silently dropped.</summary>
public sealed class RejectedSample
{
    public long Id { get; set; }
    public Guid RunId { get; set; }
    public Guid ProjectId { get; set; }
    public string? Label { get; set; }
    public string Text { get; set; } = "";
    public RejectReason Reason { get; set; }
    public string Detail { get; set; } = "";
    /// <summary>The detail as a code with arguments (<see cref="Jobs.JobNote"/> as JSON), so the portal can say it in the
    /// reader's language; null for rows written before it existed and when there is no detail.</summary>
    public string? DetailNote { get; set; }
    public int Round { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}
