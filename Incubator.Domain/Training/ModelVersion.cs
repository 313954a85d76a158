namespace Incubator.Domain.Training;

/// <summary>Where a model version stands. Training → Draft (or Failed/Cancelled); Draft → Published → Retired.</summary>
public enum ModelVersionState
{
    Training,
    Draft,
    Published,
    Retired,
    Failed,
    Cancelled,
}

/// <summary>One trained classifier of a task: the dataset version and settings it came from, its evaluation, its model
/// card and where its artefacts lie in the model store. Rows are written when training is queued, so a run that fails
/// or is cancelled stays visible with its log.</summary>
public sealed class ModelVersion
{
    public Guid Id { get; set; }
    public Guid ProjectId { get; set; }
    public Guid TaskId { get; set; }
    /// <summary>1, 2, 3... per task.</summary>
    public int Number { get; set; }
    public Guid DatasetVersionId { get; set; }
    public Guid? GoldSetId { get; set; }
    /// <summary>What was asked for: "sparse", "dense" or "auto".</summary>
    public string RequestedFamily { get; set; } = "auto";
    /// <summary>What training chose (null until it finishes).</summary>
    public string? Family { get; set; }
    /// <summary>The sentence encoder the trained model carries, as <see cref="ModelFamilies.EncoderFact"/> names it: "none"
    /// (sparse), "float" or "int8" (all-MiniLM-L6-v2, as shipped or 8-bit quantised). Null until training finishes, and
    /// for versions trained before it was recorded (migration ModelEncoder): the portal says "not recorded" then.</summary>
    public string? Encoder { get; set; }
    public int Seed { get; set; }
    public ModelVersionState State { get; set; }
    public Guid? JobId { get; set; }
    public double? Accuracy { get; set; }
    public double? MacroF1 { get; set; }
    public double? GoldAccuracy { get; set; }
    public double? GoldMacroF1 { get; set; }
    /// <summary>The full validation report as JSON.</summary>
    public string? ValidationJson { get; set; }
    public string? GoldJson { get; set; }
    /// <summary>Per family tried (auto): family, validation and gold metrics, as JSON.</summary>
    public string? ComparedJson { get; set; }
    /// <summary>The model card in the language of whoever started the training (<see cref="ModelCardLanguage"/>), as the
    /// bundle's model-card.md.</summary>
    public string? ModelCard { get; set; }
    /// <summary>"en" or "ja": the language of <see cref="ModelCard"/>. Null for versions trained before cards were
    /// written in both languages (migration ModelCardInBothLanguages): <see cref="CardLanguages.Detect"/> tells then.</summary>
    public string? ModelCardLanguage { get; set; }
    /// <summary>The same card in the other language (the bundle's model-card.en.md / model-card.ja.md); null for versions
    /// trained before cards were written in both languages.</summary>
    public string? OtherModelCard { get; set; }
    public string? BundleSha256 { get; set; }
    public long? BundleBytes { get; set; }
    public string? Error { get; set; }
    public double? TrainingSeconds { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public string? CreatedById { get; set; }
    public DateTimeOffset? PublishedAt { get; set; }
    public string? PublishedById { get; set; }
    public DateTimeOffset? RetiredAt { get; set; }
    public string? RetiredById { get; set; }
}
