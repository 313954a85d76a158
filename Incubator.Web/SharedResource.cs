using Incubator.Domain.Common;
using Microsoft.Extensions.Localization;

namespace Incubator.Web;

/// <summary>Marker for the portal's one resource set: Resources/SharedResource.resx (English) and
/// Resources/SharedResource.ja.resx (Japanese). Keys are dotted identifiers, so a missing translation is visible.</summary>
public sealed class SharedResource;

public static class LocalizerExtensions
{
    /// <summary>The resource <paramref name="key"/> in the reader's language, or <paramref name="stored"/> as it is when
    /// there is none (a name a newer version may store, a value with no name of its own): never a raw resource key.</summary>
    public static string OrAsStored(this IStringLocalizer localizer, string key, string stored)
    {
        var s = localizer[key];
        return s.ResourceNotFound ? stored : s.Value;
    }

    /// <summary>Localises a domain error by its code ("Error.{Code}"), falling back to the domain's English text.</summary>
    public static string Error(this IStringLocalizer localizer, DomainError error)
    {
        // An argument that is itself a sentence (a note, say the spending cap reached) is said in the reader's language too.
        var args = error.Args.Select(a => a is Incubator.Domain.Jobs.JobNote note ? localizer.JobNote(note) : a).ToArray();
        var s = localizer["Error." + error.Code, args];
        return s.ResourceNotFound ? error.Message : s.Value;
    }

    /// <summary>One line of a project's activity ("Activity.{kind}" with its detail). A kind without a resource (written
    /// by a newer instance, say) is told as "other activity" with its detail, never as a raw key.</summary>
    public static string Activity(this IStringLocalizer localizer, string kind, string detail)
    {
        var s = localizer["Activity." + kind, detail];
        return s.ResourceNotFound ? localizer["Activity.Other", kind, detail] : s.Value;
    }

    /// <summary>A training's stage in the reader's language (<see cref="Incubator.Domain.Training.TrainingStages"/>).</summary>
    public static string TrainingStage(this IStringLocalizer localizer, string stage) => localizer.OrAsStored("TrainingStage." + stage, stage);

    /// <summary>"Fitting: iteration 2 / 3 · 14 s": a training's live progress line.</summary>
    public static string TrainingProgress(this IStringLocalizer localizer, Incubator.Domain.Common.Events.TrainingProgressed p)
    {
        var seconds = p.ElapsedSeconds.ToString("0", System.Globalization.CultureInfo.CurrentCulture);
        return p.Iteration is { } it
            ? localizer["Train.ProgressIter", localizer.TrainingStage(p.Stage), it, p.TotalIterations ?? 0, seconds]
            : localizer["Train.ProgressStage", localizer.TrainingStage(p.Stage), seconds];
    }

    /// <summary>A corpus's guessed language (<see cref="Incubator.Domain.Mining.LanguageGuess"/>: en, ja, ko, zh, ru or
    /// "other") named in the reader's language, as the task editor names a task's language: "Japanese" in an English
    /// sentence, 英語 in a Japanese one, never the language's own name or the raw tag.</summary>
    public static string CorpusLanguage(this IStringLocalizer localizer, string tag)
    {
        var s = localizer["CorpusLanguage." + tag];
        return s.ResourceNotFound ? localizer["CorpusLanguage.other"] : s.Value;
    }

    /// <summary>An LLM connection's name as shown: the one from appsettings/environment has a fixed English name in the
    /// database and the job logs (<see cref="Incubator.Domain.Llm.LlmConnectionService.ConfiguredConnectionName"/>) and is
    /// named in the reader's language; a connection someone named is shown as named.</summary>
    public static string ConnectionName(this IStringLocalizer localizer, string name) =>
        name == Incubator.Domain.Llm.LlmConnectionService.ConfiguredConnectionName ? localizer["Llm.ConfiguredName"] : name;

    /// <summary>A connection as a picker shows it ("name · model"); nothing when <paramref name="id"/> is none of them (no
    /// connection picked yet), never the empty id's zeros.</summary>
    public static string ConnectionChoice(this IStringLocalizer localizer, IEnumerable<Incubator.Domain.Llm.LlmConnectionView>? connections, Guid id) =>
        connections?.FirstOrDefault(c => c.Id == id) is { } c ? $"{localizer.ConnectionName(c.Name)} · {c.Model}" : "";

    public static string Role(this IStringLocalizer localizer, Incubator.Domain.Projects.ProjectRole role) => localizer["Role." + role];

    public static string JobState(this IStringLocalizer localizer, Incubator.Domain.Jobs.JobState state) => localizer["JobState." + state];

    /// <summary>What a line of the task-version diff is about (<see cref="Incubator.Domain.Tasks.TaskDiffLine.Path"/>:
    /// "preferences.minChars", "label \"billing\" · description", "labels[1].name"), named with the task editor's own field
    /// names in the reader's language (「ラベル「billing」· 定義」), label names as typed. A path a newer version may write is
    /// shown as stored.</summary>
    public static string DiffWhat(this IStringLocalizer localizer, string path)
    {
        string Field(string field) => localizer.OrAsStored(field switch
        {
            "name" => "Task.Name", "instruction" => "Task.Instruction", "description" => "Task.LabelDefinition",
            "isOther" => "Task.IsOther", "examples" => "Task.Examples", "counterExamples" => "Task.CounterExamples",
            _ when field.StartsWith("preferences.", StringComparison.Ordinal) => "Task." + char.ToUpperInvariant(field[12]) + field[13..],
            _ => "DiffField." + field,
        }, field);
        if (System.Text.RegularExpressions.Regex.Match(path, "^label \"(.*)\" · ([A-Za-z]+)$") is { Success: true } f)
            return localizer["DiffPath.LabelField", f.Groups[1].Value, Field(f.Groups[2].Value)];
        if (System.Text.RegularExpressions.Regex.Match(path, "^label \"(.*)\"$") is { Success: true } l)
            return localizer["DiffPath.Label", l.Groups[1].Value];
        if (System.Text.RegularExpressions.Regex.Match(path, "^labels\\[(\\d+)\\]\\.name$") is { Success: true } n)
            return localizer["DiffPath.LabelName", int.Parse(n.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) + 1];
        return path == "label order" ? localizer["DiffPath.LabelOrder"] : Field(path);
    }

    /// <summary>A model version's state as a reader would write it ("Draft", 下書き), never the stored enum word.</summary>
    public static string ModelState(this IStringLocalizer localizer, Incubator.Domain.Training.ModelVersionState state) => localizer["ModelState." + state];

    /// <summary>How texts are compared (an embedder's stored name: "char-ngram", "all-MiniLM-L6-v2") in the reader's words
    /// ("character n-grams (overlap of letter sequences; any language)"); a name a newer version may store is shown as stored.</summary>
    public static string Representation(this IStringLocalizer localizer, string name) => localizer.OrAsStored("Representation." + name, name);

    /// <summary>The same in a few words, for inside a sentence ("5,000 texts embedded (character n-grams)").</summary>
    public static string RepresentationShort(this IStringLocalizer localizer, string name) => localizer.OrAsStored("RepresentationShort." + name, name);

    /// <summary>A model family's short name in the reader's language ("FamilyName.{id}"): the id itself in English
    /// ("sparse"), a Japanese name with the id in parentheses in Japanese (「n-gram 特徴（sparse）」), the same names the
    /// Japanese model card uses (<see cref="Incubator.Domain.Training.CardLanguages.Family"/>). An id a newer version may
    /// store is shown as stored.</summary>
    public static string FamilyName(this IStringLocalizer localizer, string id) => localizer.OrAsStored("FamilyName." + id.ToLowerInvariant(), id);

    /// <summary>The notes whose arguments at these places are a model family's id ("sparse", "pooled"): said with
    /// <see cref="FamilyName"/>.</summary>
    private static readonly Dictionary<string, int[]> FamilyArgs = new(StringComparer.Ordinal)
    {
        ["Train.CoverageWarning"] = [1], ["Train.Evaluated"] = [0], ["Train.EvaluatedGold"] = [0], ["Train.L2Tried"] = [0],
        ["Train.L2Stop"] = [0], ["Train.L2Kept"] = [0], ["Train.OnlyFamily"] = [0], ["Train.ChosenGold"] = [0],
        ["Train.ChosenValidation"] = [0], ["Train.ChosenCrossValidation"] = [0], ["Train.ChosenNearTie"] = [0], ["Train.ChosenTieRule"] = [0],
        ["Train.Refitting"] = [0], ["Train.Refitted"] = [0], ["Train.RefittedGold"] = [0],
        ["Log.TrainingStarted"] = [0], ["Log.TrainingStartedGold"] = [0], ["Progress.TrainingDone"] = [0],
        ["Log.TrainingChosen"] = [0], ["Log.TrainingChosenGold"] = [0], ["Title.Train"] = [2],
        ["SelfTrain.Log.KeptAgreement"] = [5], ["SelfTrain.Log.KeptGold"] = [5],
        ["SelfTrain.Log.KeptSeedAgreement"] = [5], ["SelfTrain.Log.KeptSeedGold"] = [5],
    };

    /// <summary>What a job says about how it stands or ended ("JobNote.{Code}" with its arguments), falling back to the
    /// domain's English sentence.</summary>
    public static string JobNote(this IStringLocalizer localizer, Incubator.Domain.Jobs.JobNote note)
    {
        var args = note.Args.Cast<object>().ToArray();
        // The last argument is a sentence of its own: say it in the reader's language too.
        if (note.Cause is { } cause && args.Length > 0) args[^1] = localizer.JobNote(cause);
        // A run's rejections per reason ("Unparseable 3, Duplicate 1"): the reasons are codes with names of their own.
        if (note.Code == Incubator.Domain.Jobs.ProgressNotes.GenerationSummaryCode && args.Length > Incubator.Domain.Jobs.ProgressNotes.GenerationSummaryRejectedArg)
            args[Incubator.Domain.Jobs.ProgressNotes.GenerationSummaryRejectedArg] = RejectedPerReason(localizer, note.Args[Incubator.Domain.Jobs.ProgressNotes.GenerationSummaryRejectedArg]);
        if (Incubator.Domain.Jobs.ProgressNotes.EmbedderLastArgCodes.Contains(note.Code) && args.Length > 0)
            args[^1] = localizer.RepresentationShort(note.Args[^1]);
        if (FamilyArgs.TryGetValue(note.Code, out var familyAt))
            foreach (var i in familyAt.Where(i => i < note.Args.Count && !(note.Cause is not null && i == args.Length - 1)))
                args[i] = localizer.FamilyName(note.Args[i]);
        var s = localizer["JobNote." + note.Code, args];
        return s.ResourceNotFound ? note.Message : s.Value;
    }

    /// <summary>Why a failed job failed when it has no note (the worker giving up, a run written before its job had
    /// notes): the job's own error as data in the reader's sentence, or that none was recorded — never the state alone.</summary>
    public static string JobFailure(this IStringLocalizer localizer, string? error) =>
        string.IsNullOrWhiteSpace(error) ? localizer["Job.FailedNoReason"] : localizer["Job.FailedWith", error];

    private static string RejectedPerReason(IStringLocalizer localizer, string perReason) => string.Join(localizer["List.Separator"], perReason
        .Split(", ", StringSplitOptions.RemoveEmptyEntries)
        .Select(part => part.LastIndexOf(' ') is var space and > 0 && localizer["Reject." + part[..space]] is { ResourceNotFound: false } name
            ? $"{name.Value} {part[(space + 1)..]}"
            : part));

    /// <summary>A job's progress line in the reader's language (its note), or the stored English line of a job written
    /// before progress lines had notes.</summary>
    public static string JobProgress(this IStringLocalizer localizer, Incubator.Domain.Jobs.JobNote? note, string? english) =>
        note is not null ? localizer.JobNote(note) : english ?? "";

    /// <summary>A line of a job's log in the reader's language (its note), else its stored English.</summary>
    public static string JobLogLine(this IStringLocalizer localizer, Incubator.Domain.Jobs.JobLogView line) =>
        line.Note is { } note ? localizer.JobNote(note) : line.Message;

    /// <summary>The state a person reads: "Waiting for the endpoint" while a running job waits, else the job state.</summary>
    public static string JobStatus(this IStringLocalizer localizer, Incubator.Domain.Jobs.JobState state, bool waiting) =>
        waiting && state == Incubator.Domain.Jobs.JobState.Running ? localizer["Job.Waiting"] : localizer.JobState(state);
}
