using System.Globalization;

namespace Incubator.Domain.Jobs;

/// <summary>Job titles as notes ("JobNote.Title.*"): the Jobs page says what a job is in the reader's language, the
/// row keeps the English title (<see cref="Job.Title"/>, for the API, the CLI and the activity feed). Names are data.</summary>
public static class JobTitles
{
    public static JobNote Generate(string task) => new("Title.Generate", $"Generate · {task}", task);

    public static JobNote Train(string task, int version, string family) => new("Title.Train", $"Train · {task} · v{version} ({family})", task, version, family);

    public static JobNote Mine(string corpus, string task) => new("Title.Mine", $"Mine {corpus} for {task}", corpus, task);

    public static JobNote Label(string corpus, string task) => new("Title.Label", $"Label {corpus} for {task}", corpus, task);

    public static JobNote SelfTrain(string task, string corpus) => new("Title.SelfTrain", $"Self-train {task} on {corpus}", task, corpus);

    public static JobNote Rescore(string task) => new("Title.Rescore", $"Score uncertainty for {task}", task);

    public static JobNote Embed(string corpus) => new("Title.Embed", $"Embed corpus {corpus}", corpus);

    public static JobNote Query(string expression) => new("Title.Query", $"Query · {expression}", expression);

    public static JobNote Apply(string model) => new("Title.Apply", $"Apply · {model}", model);

    public static JobNote Export(int samples, string task, string format) => new("Title.Export",
        $"Export {samples.ToString("N0", CultureInfo.InvariantCulture)} samples of '{task}' as {format}", samples.ToString("N0", CultureInfo.InvariantCulture), task, format);

    public static JobNote WorkerCheck() => new("Title.WorkerCheck", "Worker check");
}
