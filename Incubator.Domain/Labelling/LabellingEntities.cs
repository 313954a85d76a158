namespace Incubator.Domain.Labelling;

/// <summary>One pass of an LLM over (part of) a corpus for a task (docs/decisions/0037-llm-labels-a-corpus.md). Settings
/// are fixed at start; the texts it labels (<see cref="SampleJson"/>) are chosen once by its job and then never change, so
/// a restart labels the same texts and skips the batches its checkpoint says are done. Counters are written with each
/// batch, in the transaction that adds the batch's candidates: what the page shows is what the database holds.</summary>
public sealed class LabellingRun
{
    public Guid Id { get; set; }
    public Guid ProjectId { get; set; }
    public Guid TaskId { get; set; }
    public int TaskVersionNumber { get; set; }
    /// <summary>Null once the corpus is deleted; <see cref="CorpusName"/> keeps the lineage.</summary>
    public Guid? CorpusId { get; set; }
    public string CorpusName { get; set; } = "";
    public Guid ConnectionId { get; set; }
    public string ConnectionName { get; set; } = "";
    public string Model { get; set; } = "";
    /// <summary>How many texts to label (a stratified sample by the miner's labels); null: every text.</summary>
    public int? Limit { get; set; }
    public int BatchSize { get; set; }
    public long? BudgetTokens { get; set; }
    public decimal? BudgetMoney { get; set; }
    /// <summary>The chosen texts in labelling order, as JSON (<see cref="SampleItem"/> list); null until the job chose them.</summary>
    public string? SampleJson { get; set; }
    public int SampleSize { get; set; }
    /// <summary>Texts whose batch is done (labelled, "none" or rejected).</summary>
    public int TextsDone { get; set; }
    /// <summary>Candidates written (labels the LLM gave).</summary>
    public int Labelled { get; set; }
    /// <summary>Of <see cref="Labelled"/>: where the LLM's label is not the miner's.</summary>
    public int Disagreed { get; set; }
    /// <summary>Texts the LLM said none of the labels fits.</summary>
    public int NoneOfThese { get; set; }
    /// <summary>Rejected pieces per <see cref="LabelRejectReason"/>, as JSON.</summary>
    public string RejectedJson { get; set; } = "{}";
    public long InputTokens { get; set; }
    public long OutputTokens { get; set; }
    public decimal Cost { get; set; }
    public int Calls { get; set; }
    public Guid? JobId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public string? CreatedById { get; set; }
}

/// <summary>One chosen text: its ordinal in the corpus and the miner's label for it (the label the LLM's is compared with).</summary>
public sealed record SampleItem(int Ordinal, string MinerLabel);

/// <summary>Why a piece of a labelling answer was not used. Persisted by name (counts per reason).</summary>
public enum LabelRejectReason
{
    /// <summary>The value is not one of the task's labels (nor "none").</summary>
    UnknownLabel,
    /// <summary>A key that is not the id of a text of the batch.</summary>
    UnknownId,
    /// <summary>A text of the batch the answer did not label.</summary>
    MissingId,
    /// <summary>Not readable: no JSON, a broken object, a value that is not text or was cut off.</summary>
    Malformed,
    /// <summary>The same id twice in one answer (the first is kept).</summary>
    Duplicate,
    /// <summary>The text is already a candidate of the task (another run or source found it first).</summary>
    AlreadyQueued,
}
