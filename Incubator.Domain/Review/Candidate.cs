namespace Incubator.Domain.Review;

public enum CandidateSource
{
    Generation,
    Mining,
    /// <summary>A corpus text the LLM labelled (docs/decisions/0037-llm-labels-a-corpus.md); <see cref="Candidate.MinerLabel"/>
    /// is the miner's label for it.</summary>
    LlmLabelled,
}

/// <summary>Where a sample stands: in the oversampled pool of a label still filling, selected (a cluster centre, a
/// mined sample, or one topped up from reserve: the queue's main view), or kept in reserve (not lost, reviewed only
/// on purpose, in its own view).</summary>
public enum CandidateStage
{
    Pool,
    Selected,
    Reserve,
}

public enum CandidateStatus
{
    Pending,
    Approved,
    Rejected,
}

/// <summary>A labelled sample waiting for (or past) review. Written the moment it is accepted, so nothing shown is lost.</summary>
public sealed class Candidate
{
    /// <summary>The creation time of the <paramref name="index"/>-th candidate a job writes at <paramref name="now"/>:
    /// 0.1 ms apart, so that their order survives the database. SQLite stores a timestamp as a 64-bit integer of 0.1 ms
    /// (EF's DateTimeOffsetToBinaryConverter) and PostgreSQL to the microsecond: one tick apart, as before, a mining run's
    /// candidates came back tied and in the order of their random ids, and self-training's seeded split of the same seeds
    /// differed from run to run.</summary>
    public static DateTimeOffset InWriteOrder(DateTimeOffset now, int index) => now.AddTicks(index * 1_000L);

    public Guid Id { get; set; }
    public Guid ProjectId { get; set; }
    public Guid TaskId { get; set; }
    public int TaskVersionNumber { get; set; }
    public Guid? RunId { get; set; }
    public string Label { get; set; } = "";
    public string Text { get; set; } = "";
    /// <summary>Unicode-normalised, case-folded text for exact duplicate checks.</summary>
    public string NormalizedText { get; set; } = "";
    public CandidateSource Source { get; set; }
    public CandidateStage Stage { get; set; }
    public CandidateStatus Status { get; set; }
    public bool IsAmbiguous { get; set; }
    public int Round { get; set; }
    /// <summary>Set by review: why it was rejected (feeds later prompts).</summary>
    public string? ReviewReason { get; set; }
    /// <summary>Set by review when a reviewer corrected the text; <see cref="Text"/> keeps the original.</summary>
    public string? EditedText { get; set; }
    /// <summary>Set by review on rejection (with <see cref="ReviewReason"/> as "{reason}: {comment}").</summary>
    public Review.RejectionReason? RejectionReason { get; set; }
    /// <summary>The generator's label, kept on the first relabel so disagreement with the generator stays measurable;
    /// null while <see cref="Label"/> is still the generator's.</summary>
    public string? OriginalLabel { get; set; }
    public string? ReviewedById { get; set; }
    public DateTimeOffset? ReviewedAt { get; set; }
    /// <summary>Optimistic-concurrency token: every review decision bumps it and only applies to the version it read.</summary>
    public long Version { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    /// <summary>Set when the sample was approved in one step by an Owner after a spot-check of its run cleared the
    /// threshold; such approvals are never mixed up with individual ones.</summary>
    public Guid? AcceptedBySpotCheckId { get; set; }
    /// <summary>The mining run that found it (<see cref="Source"/> = Mining); <see cref="RunId"/> is for generation runs.</summary>
    public Guid? MiningRunId { get; set; }
    /// <summary>Mining: the cosine margin of its label over the next best (or, for the other label, its distance from
    /// every specific label).</summary>
    public double? MiningScore { get; set; }
    /// <summary>Active learning: 1 − (p1 − p2) of the quick model trained on approved samples; higher = more to learn.</summary>
    public double? Uncertainty { get; set; }
    /// <summary>Overlap mode: the item's independent reviews disagreed and it waits for the Owner to settle it.</summary>
    public bool InConflict { get; set; }
    /// <summary>Its place among its label's samples in the queue's main view (0 first): set when it is selected, mined
    /// or topped up from reserve. The default order goes rank by rank over the labels, so every label shows up at the
    /// top of the queue (docs/decisions/0022-review-queue-views.md).</summary>
    public int SpreadRank { get; set; }
    /// <summary>The labelling run that labelled it (<see cref="Source"/> = LlmLabelled).</summary>
    public Guid? LabellingRunId { get; set; }
    /// <summary>LLM-labelled: the miner's label for the same text, shown beside the LLM's (agreement or not).</summary>
    public string? MinerLabel { get; set; }
}
