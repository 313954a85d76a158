namespace Incubator.Domain.Datasets;

public enum DatasetSplit
{
    Train,
    Validation,
}

/// <summary>A frozen snapshot of a task's approved samples. Never updated after it is written: training reads it, the
/// model version records it, and the hash proves two versions hold the same data.</summary>
public sealed class DatasetVersion
{
    public Guid Id { get; set; }
    public Guid ProjectId { get; set; }
    public Guid TaskId { get; set; }
    /// <summary>1, 2, 3... per task.</summary>
    public int Number { get; set; }
    /// <summary>The task version current when the snapshot was taken.</summary>
    public int TaskVersionNumber { get; set; }
    /// <summary>SHA-256 (hex) over the sorted (label, text) pairs: equal content, equal hash.</summary>
    public string ContentHash { get; set; } = "";
    public int Count { get; set; }
    /// <summary>Label → count, as JSON.</summary>
    public string CountsJson { get; set; } = "{}";
    /// <summary><see cref="DatasetLineage"/> as JSON.</summary>
    public string LineageJson { get; set; } = "{}";
    public int Seed { get; set; }
    public double ValidationShare { get; set; }
    public int TrainCount { get; set; }
    public int ValidationCount { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public string? CreatedById { get; set; }
    /// <summary>Set while the version's items are written in short transactions (<see cref="DatasetWriter"/>): the id of
    /// the job writing it, or a freeze's own writer id. Such a version is invisible to every query (a filter on the
    /// model) and has a negative placeholder number until its writer's last commit numbers it and clears this.</summary>
    public Guid? WriterId { get; set; }
    /// <summary>A freeze's lease (a request, not a job: nothing else says whether it still runs): renewed by each batch;
    /// once it has passed, the sweep removes the version. Null for a job's write, which ends with its job.</summary>
    public DateTimeOffset? WriteExpiresAt { get; set; }
}

/// <summary>One sample of a dataset version with the split it belongs to.</summary>
public sealed class DatasetItem
{
    public long Id { get; set; }
    public Guid DatasetVersionId { get; set; }
    /// <summary>Position in the canonical (sorted) order the hash is computed over.</summary>
    public int Ordinal { get; set; }
    public string Label { get; set; } = "";
    public string Text { get; set; } = "";
    public DatasetSplit Split { get; set; }
    public Guid? CandidateId { get; set; }
}

/// <summary>A human-labelled evaluation set uploaded for a task. The newest one is the task's gold set; results on it are
/// reported separately and preferred wherever they exist.</summary>
public sealed class GoldSet
{
    public Guid Id { get; set; }
    public Guid ProjectId { get; set; }
    public Guid TaskId { get; set; }
    public string FileName { get; set; } = "";
    public int Count { get; set; }
    public string ContentHash { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
    public string? CreatedById { get; set; }
}

public sealed class GoldItem
{
    public long Id { get; set; }
    public Guid GoldSetId { get; set; }
    public int Line { get; set; }
    public string Label { get; set; } = "";
    public string Text { get; set; } = "";
}

/// <summary>Where a dataset version's samples came from.</summary>
public sealed record DatasetLineage(
    int TaskVersionNumber,
    IReadOnlyList<Guid> RunIds,
    IReadOnlyList<string> Reviewers,
    int Generated,
    int Mined,
    int Edited,
    int Relabelled,
    int AcceptedBySpotCheck)
{
    public int Total => Generated + Mined;

    public double SyntheticShare => Total == 0 ? 0 : Generated / (double)Total;

    public double MinedShare => Total == 0 ? 0 : Mined / (double)Total;

    public double EditedShare => Total == 0 ? 0 : Edited / (double)Total;
}
