using Incubator.Domain.Jobs;

namespace Incubator.Domain.Datasets;

/// <summary>How the activity feed names a frozen dataset version, as a note ("JobNote.Dataset.*") the portal says in
/// each reader's language — "Support · dataset v2 (self-training)", 「Support · データセット v2（自己学習）」 — rather than
/// an English name fixed when it was frozen. A project's members read the same feed in their own languages, so the
/// name is rendered from this stored kind, not written once in the language of whoever froze it. The task's name is
/// data and stays as typed; the message is the English sentence the API keeps.</summary>
public static class DatasetNotes
{
    public static JobNote Frozen(string task, int number) => new("Dataset.Frozen", $"{task} · dataset v{number}", task, number);

    public static JobNote SelfTrained(string task, int number) => new("Dataset.SelfTrained", $"{task} · dataset v{number} (self-training)", task, number);

    /// <summary>The feed's detail for the note: its JSON when it fits the column, else its English sentence.</summary>
    public static string Detail(JobNote note) =>
        JobNote.JsonWithin(note, Projects.ActivityEntry.DetailMaxLength) ?? (note.Message.Length > Projects.ActivityEntry.DetailMaxLength ? note.Message[..Projects.ActivityEntry.DetailMaxLength] : note.Message);
}
