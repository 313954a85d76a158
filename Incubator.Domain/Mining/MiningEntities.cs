using Incubator.Domain.Common.TextFiles;

namespace Incubator.Domain.Mining;

/// <summary>Where a corpus is in its life. Only <see cref="Ready"/> corpora are mined, queried or embedded.</summary>
public enum CorpusState
{
    /// <summary>Every text is stored and counted.</summary>
    Ready = 0,

    /// <summary>An upload is being written in batches; invisible to mining and queries.</summary>
    Importing = 1,

    /// <summary>The import stopped (its process died, or it was refused part-way); its texts are removed.</summary>
    Failed = 2,
}

/// <summary>An uploaded pile of unlabelled texts in a project. Texts are <see cref="CorpusText"/> rows (distinct, in
/// file order); the import report is kept as JSON so the user can read it again later.</summary>
public sealed class Corpus
{
    public Guid Id { get; set; }
    /// <summary>Written in bounded batches while <see cref="CorpusState.Importing"/> (docs/decisions/0028-write-discipline.md).</summary>
    public CorpusState State { get; set; }
    /// <summary>While importing: renewed with every stored batch. An import whose time has passed belongs to a
    /// process that died; the next start (of any instance) fails it and removes its texts.</summary>
    public DateTimeOffset? ImportExpiresAt { get; set; }
    public Guid ProjectId { get; set; }
    public string Name { get; set; } = "";
    public string FileName { get; set; } = "";
    public TextFileFormat Format { get; set; }
    public string Encoding { get; set; } = "";
    /// <summary>Guessed from the texts' scripts and common words: "en", "ja", "zh", "ko", "ru", "other".</summary>
    public string Language { get; set; } = "en";
    /// <summary>Distinct texts kept.</summary>
    public int TextCount { get; set; }
    public long RowsRead { get; set; }
    public long DuplicatesCollapsed { get; set; }
    public long BadRows { get; set; }
    public long Bytes { get; set; }
    public string ReportJson { get; set; } = "{}";
    /// <summary>The representation the embeddings job uses (MiniLM for English, char n-grams otherwise).</summary>
    public string Embedder { get; set; } = "";
    /// <summary>How many texts (from ordinal 0) have stored vectors.</summary>
    public int EmbeddedCount { get; set; }
    public Guid? EmbeddingJobId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public string? CreatedById { get; set; }
}

/// <summary>One distinct text of a corpus; <see cref="Count"/> is how often it occurred in the upload.</summary>
public sealed class CorpusText
{
    public long Id { get; set; }
    public Guid CorpusId { get; set; }
    /// <summary>0-based position among the corpus's distinct texts, in file order.</summary>
    public int Ordinal { get; set; }
    public string Text { get; set; } = "";
    public int Count { get; set; } = 1;
    /// <summary>The first line it was read from.</summary>
    public long Line { get; set; }
}

/// <summary>Vectors of <see cref="Count"/> consecutive texts from <see cref="StartOrdinal"/>, in one binary blob
/// (see <see cref="EmbeddingBlob"/>): a 50,000-text MiniLM corpus is ~200 rows, not 19 million.</summary>
public sealed class CorpusEmbeddingBatch
{
    public long Id { get; set; }
    public Guid CorpusId { get; set; }
    public string Embedder { get; set; } = "";
    public int StartOrdinal { get; set; }
    public int Count { get; set; }
    public int Dimensions { get; set; }
    public byte[] Data { get; set; } = [];
}

/// <summary>One mining pass of a corpus for a task: settings fixed at start, counters written when it finishes.
/// Its candidates carry <see cref="Review.Candidate.MiningRunId"/>.</summary>
public sealed class MiningRun
{
    public Guid Id { get; set; }
    public Guid ProjectId { get; set; }
    public Guid TaskId { get; set; }
    public int TaskVersionNumber { get; set; }
    /// <summary>Null once the corpus is deleted; <see cref="CorpusName"/> keeps the lineage.</summary>
    public Guid? CorpusId { get; set; }
    public string CorpusName { get; set; } = "";
    public string Embedder { get; set; } = "";
    public int PerLabel { get; set; }
    public double Margin { get; set; }
    public int ApprovedUsed { get; set; }
    public int CandidatesCreated { get; set; }
    /// <summary>Per label: how many were created and how many passed the margin, as JSON.</summary>
    public string? SummaryJson { get; set; }
    public Guid? JobId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public string? CreatedById { get; set; }
    /// <summary>Set on a self-training run (docs/decisions/0036-self-training-in-the-portal.md): the mining run whose
    /// candidates were its seeds. Its own candidates are the uncertain texts it sent to review; null on ordinary runs.</summary>
    public Guid? SourceRunId { get; set; }
    /// <summary>A self-training run's model version once it finished (the same id as the run).</summary>
    public Guid? ModelVersionId { get; set; }
}
