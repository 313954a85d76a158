using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Incubator.Domain.Common;
using Incubator.Domain.Generation;
using Incubator.Domain.Tasks;

namespace Incubator.Domain.Datasets;

/// <summary>One instruction→data training pair: the two prompt messages Incubator sends for the task, and the JSON object
/// (one approved sample per label) a generator should answer with.</summary>
public sealed record FineTuningPair(string System, string User, string Output, DatasetSplit Split);

/// <summary>The pairs of one task and how they were made (for the data card and the counts a caller reports).</summary>
public sealed record TaskPairs(
    string TaskName, string Source, IReadOnlyList<string> Labels, IReadOnlyDictionary<string, int> SamplesPerLabel, IReadOnlyList<FineTuningPair> Pairs)
{
    public int TrainCount => Pairs.Count(p => p.Split == DatasetSplit.Train);

    public int ValidationCount => Pairs.Count(p => p.Split == DatasetSplit.Validation);

    /// <summary>Approved samples that are in no pair: a pair takes one sample of every label, so a label with more
    /// samples than the rarest label leaves the rest out rather than repeating samples of the rare one.</summary>
    public int Unused => SamplesPerLabel.Values.Sum() - Pairs.Count * Labels.Count;

    /// <summary>Samples given again with the same label and text: counted once (a pair never repeats a sample, and a
    /// repeat could otherwise sit in both splits).</summary>
    public int Repeated { get; init; }

    /// <summary>Texts approved under more than one label: in no pair, since a pair's output would teach both labels the
    /// same text.</summary>
    public int Conflicting { get; init; }
}

/// <summary>Fine-tuning pairs for a generator, built the way Incubator (Peng &amp; Shang, 2024) trained its own: the input is
/// the task's instruction with its labels and preferences — exactly the prompt <see cref="PromptBuilder"/> sends, without
/// demonstrations, so a model tuned on these pairs answers the portal's own calls — and the output is one JSON object with
/// one approved sample per label. Samples are grouped per label, each label's samples shuffled with the seed, and the
/// i-th pair takes the i-th sample of every label; no sample is used twice. Written as OpenAI chat fine-tuning JSONL and
/// as instruction/input/output JSONL (Alpaca style, read by common open-source tuning tools), each split into train and
/// validation with the same seed, with a data card.</summary>
public static class FineTuningPairs
{
    public const double DefaultValidationShare = 0.1;
    public const string ChatTrainFile = "openai-chat/train.jsonl";
    public const string ChatValidationFile = "openai-chat/validation.jsonl";
    public const string InstructionTrainFile = "instruction-input-output/train.jsonl";
    public const string InstructionValidationFile = "instruction-input-output/validation.jsonl";
    public const string DataCardFile = "data-card.md";

    private static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static void EnsureValidationShare(double validationShare)
    {
        if (!(validationShare is >= 0.05 and <= 0.5))
            throw new DomainValidationException("validationShare", "DatasetValidationShare", "The validation share must be between 0.05 and 0.5.");
    }

    /// <summary>The pairs of one task. Samples whose label the task does not have are refused (the caller names them).</summary>
    public static TaskPairs Build(TaskSpec spec, string source, IReadOnlyList<(string Label, string Text)> samples, int seed, double validationShare)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(samples);
        EnsureValidationShare(validationShare);
        var labels = spec.Labels.Select(l => l.Name).ToList();
        var unknown = samples.Select(s => s.Label).Where(l => !labels.Contains(l, StringComparer.Ordinal)).Distinct(StringComparer.Ordinal).ToList();
        if (unknown.Count > 0)
            throw new DomainValidationException("label", "PairsLabelNotInTask",
                $"Samples carry labels the task does not have: {string.Join(", ", unknown)}.", string.Join(", ", unknown));
        // One sample per (label, text); a text under two labels belongs to neither pair slot.
        var distinct = samples.Distinct().ToList();
        var conflicting = distinct.GroupBy(s => s.Text, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key).ToHashSet(StringComparer.Ordinal);
        var random = new Random(seed);
        var perLabel = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var label in labels)
        {
            // Canonical order first, then the seeded shuffle: the same samples and seed give the same pairs whatever order they came in.
            var texts = distinct.Where(s => s.Label == label && !conflicting.Contains(s.Text)).Select(s => s.Text).Order(StringComparer.Ordinal).ToArray();
            random.Shuffle(texts);
            perLabel[label] = [.. texts];
        }
        var count = labels.Count == 0 ? 0 : perLabel.Values.Min(t => t.Count);
        // The split is the dataset split with every pair under one key: a seeded shuffle, round(n × share) to validation,
        // at least one once there are two pairs.
        var splits = DatasetService.StratifiedSplit(Enumerable.Repeat("pair", count).ToList(), validationShare, seed);
        var pairs = new List<FineTuningPair>(count);
        for (var i = 0; i < count; i++)
        {
            var prompt = PromptBuilder.Build(spec, [], [], null, seed + i);
            var output = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var label in labels) output[label] = perLabel[label][i];
            pairs.Add(new FineTuningPair(prompt.System, prompt.User, JsonSerializer.Serialize(output, Json), splits[i]));
        }
        return new TaskPairs(spec.Name, source, labels, perLabel.ToDictionary(p => p.Key, p => p.Value.Count, StringComparer.Ordinal), pairs)
        {
            Repeated = samples.Count - distinct.Count,
            Conflicting = conflicting.Count,
        };
    }

    /// <summary>The zip: both formats split into train and validation, the data card and checksums.</summary>
    public static void Write(Stream zip, IReadOnlyList<TaskPairs> tasks, int seed, double validationShare, DateTimeOffset createdAt,
        IReadOnlyList<string>? omitted = null)
    {
        ArgumentNullException.ThrowIfNull(tasks);
        var all = tasks.SelectMany(t => t.Pairs).ToList();
        ZipFiles.Write(zip,
        [
            Lines(ChatTrainFile, all.Where(p => p.Split == DatasetSplit.Train), ChatLine),
            Lines(ChatValidationFile, all.Where(p => p.Split == DatasetSplit.Validation), ChatLine),
            Lines(InstructionTrainFile, all.Where(p => p.Split == DatasetSplit.Train), InstructionLine),
            Lines(InstructionValidationFile, all.Where(p => p.Split == DatasetSplit.Validation), InstructionLine),
            ZipFileEntry.Of(DataCardFile, Encoding.UTF8.GetBytes(DataCard(tasks, seed, validationShare, createdAt, omitted))),
        ]);
    }

    /// <summary>{"messages":[{"role":"system",...},{"role":"user",...},{"role":"assistant",...}]} — OpenAI's chat fine-tuning format.</summary>
    public static string ChatLine(FineTuningPair p) => JsonSerializer.Serialize(new
    {
        messages = new[]
        {
            new { role = "system", content = p.System },
            new { role = "user", content = p.User },
            new { role = "assistant", content = p.Output },
        },
    }, Json);

    /// <summary>{"instruction":..., "input":..., "output":...}: the task's system prompt, the call's user message, the answer.</summary>
    public static string InstructionLine(FineTuningPair p) => JsonSerializer.Serialize(new { instruction = p.System, input = p.User, output = p.Output }, Json);

    private static ZipFileEntry Lines(string name, IEnumerable<FineTuningPair> pairs, Func<FineTuningPair, string> line) => new(name, stream =>
    {
        using var writer = new StreamWriter(stream, new UTF8Encoding(false), 65536, leaveOpen: true) { NewLine = "\n" };
        foreach (var p in pairs) writer.WriteLine(line(p));
    });

    /// <param name="omitted">Tasks that contributed no pair, each a sentence saying which and why (a project export).</param>
    public static string DataCard(IReadOnlyList<TaskPairs> tasks, int seed, double validationShare, DateTimeOffset createdAt, IReadOnlyList<string>? omitted = null)
    {
        var ci = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine("# Fine-tuning pairs: data card");
        sb.AppendLine();
        sb.AppendLine(string.Create(ci, $"Created {createdAt:yyyy-MM-dd HH:mm} UTC by Incubator. Seed {seed}; validation share {validationShare:0.00}."));
        sb.AppendLine();
        sb.AppendLine("## What this is");
        sb.AppendLine();
        sb.AppendLine("Instruction→data pairs for tuning a generator, the way the Incubator paper (Peng & Shang, 2024) trained its own. "
            + "Each pair's input is the prompt Incubator sends for the task (the instruction, every label with its definition and examples, the preferences and the output contract; no demonstrations); "
            + "its output is one JSON object with exactly one sample per label, each an approved, human-reviewed sample of this task.");
        sb.AppendLine("Samples are grouped per label and shuffled with the seed; the i-th pair takes the i-th sample of every label, so no sample appears twice. "
            + "Samples beyond the rarest label's count are left out (\"unused\" below).");
        sb.AppendLine();
        sb.AppendLine("## Files");
        sb.AppendLine();
        sb.AppendLine($"- `{ChatTrainFile}`, `{ChatValidationFile}`: OpenAI chat fine-tuning JSONL, one `{{\"messages\": [system, user, assistant]}}` per line.");
        sb.AppendLine($"- `{InstructionTrainFile}`, `{InstructionValidationFile}`: `{{\"instruction\", \"input\", \"output\"}}` per line (Alpaca style), read by common open-source tuning tools.");
        sb.AppendLine($"- `{ZipFiles.ChecksumsFile}`: SHA-256 of every other file (`sha256sum -c checksums.sha256`).");
        sb.AppendLine();
        sb.AppendLine("## Counts");
        sb.AppendLine();
        sb.AppendLine("| task | source | samples per label | pairs | train | validation | unused samples |");
        sb.AppendLine("|---|---|---|---:|---:|---:|---:|");
        foreach (var t in tasks)
            sb.AppendLine(string.Create(ci, $"| {Cell(t.TaskName)} | {Cell(t.Source)} | {Cell(string.Join(", ", t.Labels.Select(l => $"{l} {t.SamplesPerLabel.GetValueOrDefault(l)}")))} | {t.Pairs.Count} | {t.TrainCount} | {t.ValidationCount} | {t.Unused} |"));
        sb.AppendLine(string.Create(ci, $"| **total** | | | {tasks.Sum(t => t.Pairs.Count)} | {tasks.Sum(t => t.TrainCount)} | {tasks.Sum(t => t.ValidationCount)} | {tasks.Sum(t => t.Unused)} |"));
        sb.AppendLine();
        foreach (var t in tasks.Where(t => t.Repeated > 0 || t.Conflicting > 0))
            sb.AppendLine($"- {Cell(t.TaskName)}: "
                + string.Join("; ", new[]
                {
                    t.Repeated > 0 ? $"{EnglishCount.Of(t.Repeated, "repeated sample", "repeated samples")} (the same text under the same label) counted once" : null,
                    t.Conflicting > 0 ? $"{EnglishCount.Of(t.Conflicting, "text", "texts")} approved under more than one label left out (a pair would teach both labels the same text; settle them in the review queue)" : null,
                }.OfType<string>()) + ".");
        if (tasks.Any(t => t.Repeated > 0 || t.Conflicting > 0)) sb.AppendLine();
        if (omitted is { Count: > 0 })
        {
            sb.AppendLine("## Tasks that contributed no pairs");
            sb.AppendLine();
            foreach (var line in omitted) sb.AppendLine($"- {line.ReplaceLineEndings(" ")}");
            sb.AppendLine();
        }
        sb.AppendLine("## Use");
        sb.AppendLine();
        sb.AppendLine("Tune on the train files, watch the loss on the validation files. A tuned model served by an OpenAI-compatible endpoint is then just another LLM connection of the project. "
            + "The samples are only as good as the review that approved them; tasks with few pairs teach little.");
        return sb.ToString();
    }

    private static string Cell(string s) => s.Replace("|", "\\|", StringComparison.Ordinal).ReplaceLineEndings(" ");
}
