namespace Incubator.Domain.Projects;

public static class ActivityKinds
{
    public const string ProjectCreated = "project.created";
    public const string DatasetFrozen = "dataset.frozen";
    public const string GoldUploaded = "gold.uploaded";
    public const string ModelPublished = "model.published";
    public const string ModelRetired = "model.retired";
    public const string ProjectRenamed = "project.renamed";
    public const string ProjectDescribed = "project.described";
    public const string ProjectArchived = "project.archived";
    public const string ProjectRestored = "project.restored";
    public const string MemberAdded = "member.added";
    public const string MemberRoleChanged = "member.role";
    public const string MemberRemoved = "member.removed";
    public const string InvitationCreated = "invitation.created";
    public const string InvitationAccepted = "invitation.accepted";
    public const string JobQueued = "job.queued";
    public const string JobCancelled = "job.cancelled";
    public const string JobPaused = "job.paused";
    public const string JobResumed = "job.resumed";
    public const string JobCompleted = "job.completed";
    public const string JobStoppedShort = "job.stoppedshort";
    public const string JobFailed = "job.failed";
    public const string ReserveToppedUp = "review.toppedup";
    public const string TaskCreated = "task.created";
    public const string TaskSaved = "task.saved";
    public const string TeamDemonstrationsOn = "project.teamdemos.on";
    public const string TeamDemonstrationsOff = "project.teamdemos.off";
    public const string CorpusUploaded = "corpus.uploaded";
    public const string CorpusDeleted = "corpus.deleted";

    /// <summary>The feed's line for a job that ended this way, written by the worker with the job's end; null for a
    /// cancel (the person who cancelled already has their line).</summary>
    public static string? JobEnded(Jobs.JobState state) => state switch
    {
        Jobs.JobState.Succeeded => JobCompleted,
        Jobs.JobState.StoppedShort => JobStoppedShort,
        Jobs.JobState.Failed => JobFailed,
        _ => null,
    };
}
