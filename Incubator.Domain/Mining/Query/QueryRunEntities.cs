namespace Incubator.Domain.Mining.Query;

public enum QueryRunKind
{
    /// <summary>A boolean query over several models; the hits are the texts that matched.</summary>
    Query,

    /// <summary>One model applied to every text; each text's predicted label is kept.</summary>
    Apply,
}

/// <summary>A query (or a single model) run over a corpus. The models used are frozen at start (name → model version),
/// so a later publication does not change what a finished run means.</summary>
public sealed class QueryRun
{
    public Guid Id { get; set; }
    public Guid ProjectId { get; set; }
    public QueryRunKind Kind { get; set; }
    public Guid CorpusId { get; set; }
    public string CorpusName { get; set; } = "";

    /// <summary>Canonical query text (Kind Query) or the model's name (Kind Apply).</summary>
    public string Expression { get; set; } = "";

    /// <summary>JSON list of <see cref="QueryRunModel"/>.</summary>
    public string ModelsJson { get; set; } = "[]";

    /// <summary>JSON list of the result columns: clause texts (Query) or the model's labels (Apply).</summary>
    public string ColumnsJson { get; set; } = "[]";

    public Guid? JobId { get; set; }
    public int Total { get; set; }
    public int Processed { get; set; }
    public int Matched { get; set; }

    /// <summary>The <see cref="QueryFunnel"/> so far (Query), or label → count (Apply).</summary>
    public string FunnelJson { get; set; } = "{}";

    public DateTimeOffset CreatedAt { get; set; }
    public string? CreatedById { get; set; }
}

public sealed record QueryRunModel(string Name, Guid ModelVersionId, IReadOnlyList<string> Labels);

/// <summary>One result row: a matching text (Query) or every text with its predicted label (Apply), with the
/// probabilities of the run's columns in <see cref="Probabilities"/> (space-separated, invariant, 4 decimals).</summary>
public sealed class QueryHit
{
    public long Id { get; set; }
    public Guid RunId { get; set; }

    /// <summary>The text's position in the corpus (its ordinal); results page in corpus order.</summary>
    public int Ordinal { get; set; }

    public string Text { get; set; } = "";
    public string? Label { get; set; }
    public string Probabilities { get; set; } = "";
}
