namespace Incubator.Domain.Projects;

public sealed class Project
{
    public Guid Id { get; set; }
    public string Name { get; set; } = "";
    public string Description { get; set; } = "";
    public bool IsArchived { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public string CreatedById { get; set; } = "";
    /// <summary>Approved samples from the project's other tasks join the demonstration bank for generation prompts.
    /// On by default; an Owner can turn it off (for example when tasks must not see each other's data).</summary>
    public bool UseTeamDemonstrations { get; set; } = true;
    /// <summary>The LLM connection the Generate page preselects (an Owner chooses it in the project's settings); null:
    /// the one the author used last. Never follows a newly added connection by itself.</summary>
    public Guid? DefaultConnectionId { get; set; }
    public List<ProjectMember> Members { get; set; } = [];
}

/// <summary>Roles are ordered: each one can do everything the ones below it can.</summary>
public enum ProjectRole
{
    Viewer = 0,
    Reviewer = 1,
    Author = 2,
    Owner = 3,
}

public sealed class ProjectMember
{
    public Guid ProjectId { get; set; }
    public string UserId { get; set; } = "";
    public ProjectRole Role { get; set; }
    public DateTimeOffset AddedAt { get; set; }
    public Project? Project { get; set; }
    public Accounts.AppUser? User { get; set; }
}

/// <summary>One line of a project's recent-activity feed. Written in the same transaction as the change it describes.</summary>
public sealed class ActivityEntry
{
    public long Id { get; set; }
    public Guid ProjectId { get; set; }
    public string? UserId { get; set; }
    public DateTimeOffset At { get; set; }
    /// <summary>A stable key (for example "project.created") that the UI localises.</summary>
    public string Kind { get; set; } = "";
    /// <summary>The variable part of the sentence (a name, a role), shown as text — or, for a job's lines, its title as
    /// a note's JSON (<see cref="DetailFor"/>), which the feed says in the reader's language.</summary>
    public string Detail { get; set; } = "";

    /// <summary>Fits the column.</summary>
    public const int DetailMaxLength = 400;

    /// <summary>A job's title for the feed: its note when it has one that fits, else the English title.</summary>
    public static string DetailFor(Jobs.Job job) => job.TitleNoteJson is { Length: <= DetailMaxLength } json ? json : job.Title;
}
