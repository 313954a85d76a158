namespace Incubator.Domain.Tasks;

/// <summary>A classifier task in a project. Its content lives in immutable <see cref="TaskVersion"/> rows; every
/// change to the instruction, labels or preferences adds a version, and downstream work records the version it used.</summary>
public sealed class ClassifierTask
{
    public Guid Id { get; set; }
    public Guid ProjectId { get; set; }
    /// <summary>Copy of the current version's name, for lists.</summary>
    public string Name { get; set; } = "";
    public int CurrentVersion { get; set; }
    public bool IsArchived { get; set; }
    public string? SourceTemplate { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public string? CreatedById { get; set; }
}

public sealed class TaskVersion
{
    public Guid Id { get; set; }
    public Guid TaskId { get; set; }
    /// <summary>1, 2, 3... per task.</summary>
    public int Number { get; set; }
    /// <summary>The <see cref="TaskSpec"/> as canonical JSON (the import/export shape).</summary>
    public string SpecJson { get; set; } = "";
    /// <summary>SHA-256 of <see cref="SpecJson"/>: equal content, equal hash.</summary>
    public string ContentHash { get; set; } = "";
    public string? Comment { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public string? CreatedById { get; set; }
}

/// <summary>A template saved by users: to one project, or (by a site administrator) shared site-wide.
/// Built-in templates ship with the product and are not rows.</summary>
public sealed class TaskTemplate
{
    public Guid Id { get; set; }
    /// <summary>Null for a site-wide template.</summary>
    public Guid? ProjectId { get; set; }
    public string Name { get; set; } = "";
    public string Description { get; set; } = "";
    public string Language { get; set; } = "en";
    /// <summary>A <see cref="TaskSpec"/> JSON whose strings may contain {variables}.</summary>
    public string SpecJson { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
    public string? CreatedById { get; set; }
}
