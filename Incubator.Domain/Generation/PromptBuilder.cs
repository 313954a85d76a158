using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Incubator.Domain.Tasks;

namespace Incubator.Domain.Generation;

/// <summary>The two chat messages of one generation call.</summary>
public sealed record GenerationPrompt(string System, string User);

/// <summary>What reviewers said about earlier samples of this task: rejections with their reasons, and edits
/// (before → after). Folded into the next prompts as guidance.</summary>
public sealed record GenerationFeedback(IReadOnlyList<FeedbackItem> Rejections, IReadOnlyList<FeedbackEdit> Edits);

public sealed record FeedbackItem(string Label, string Text, string Reason);

public sealed record FeedbackEdit(string Label, string Before, string After);

/// <summary>Builds the prompt for one LLM call that returns one JSON object with a sample for every label, following
/// Incubator (Peng &amp; Shang, 2024).
/// <para>The system message carries the task and the output contract; the user message carries the in-context
/// instruction-to-data demonstrations, what earlier rounds already produced, reviewer feedback and a variation hint,
/// and ends with the task's own instruction in the same "Instruction: … / Output:" shape as the demonstrations, so the
/// model completes the pattern rather than interpreting a request. The instructions to the model are in English
/// whatever the sample language: every model we target follows English instructions best, and the language of the
/// samples is stated explicitly (and shown by same-language demonstrations).</para></summary>
public static class PromptBuilder
{
    /// <summary>At most this many earlier centre objects are shown: enough to steer away from covered ground without
    /// drowning the task in its own output.</summary>
    public const int MaxPreviousCentres = 20;

    public const int MaxRejectionsShown = 10;
    public const int MaxEditsShown = 5;
    public const int MaxExamplesPerLabel = 5;

    /// <summary>Feedback and example texts longer than this are cut (with "…") so one long sample cannot crowd out the rest.</summary>
    public const int MaxQuotedLength = 300;

    /// <summary>Small nudges that change what a call writes about without changing the task or the preferences
    /// (length, tone and language stay as asked). Concurrent calls get different seeds, so they do not all write the
    /// model's single most likely answer.</summary>
    internal static readonly string[] VariationHints =
    [
        "Choose a situation or setting you have not used before.",
        "Put in one concrete detail: a number, a date, a place or the name of a thing.",
        "Write as someone doing this for the first time.",
        "Write as an experienced, long-time user.",
        "Start each text differently from the most obvious opening.",
        "Make the deciding cue present but not obvious, as real texts often are.",
        "Let the writer be in a hurry.",
        "Let the writer give a little background before the point.",
        "Pick a less common but realistic case for each label.",
        "Write about a different person, product or event than usual.",
        "Let the writer mention what they tried already.",
        "Use everyday wording rather than textbook phrasing.",
    ];

    private static readonly JsonSerializerOptions s_json = new()
    {
        // The prompt is plain text for a model, not HTML: keep Japanese and quotes readable rather than \u-escaped.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <param name="only">The labels to write this time (null or all of them: every label). The system message still
    /// defines every label, so a sample written for a few labels — or for one alone — is told apart from all the
    /// others (docs/decisions/0021-proportional-generation.md).</param>
    public static GenerationPrompt Build(TaskSpec spec, IReadOnlyList<Demonstration> demonstrations,
        IReadOnlyList<IReadOnlyDictionary<string, string>> previousCentres, GenerationFeedback? feedback, int seed,
        IReadOnlyCollection<string>? only = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        demonstrations ??= [];
        previousCentres ??= [];
        return new GenerationPrompt(BuildSystem(spec, only), BuildUser(spec, demonstrations, previousCentres, feedback, seed));
    }

    private static string BuildSystem(TaskSpec spec, IReadOnlyCollection<string>? only)
    {
        var labels = (spec.Labels ?? []).Where(l => !string.IsNullOrWhiteSpace(l.Name)).ToList();
        var asked = only is null ? labels : labels.Where(l => only.Contains(l.Name)).ToList();
        if (asked.Count == 0) asked = labels;
        var others = labels.Where(l => !asked.Contains(l)).ToList();
        var p = spec.Preferences ?? new TaskPreferences();
        var sb = new StringBuilder();
        sb.AppendLine("You write training data for a text classifier.");
        sb.AppendLine();
        sb.AppendLine("Task instruction:");
        sb.AppendLine((spec.Instruction ?? "").Trim());
        sb.AppendLine();
        sb.AppendLine("Labels:");
        foreach (var label in labels)
        {
            var definition = string.IsNullOrWhiteSpace(label.Description) ? "" : $": {label.Description.Trim()}";
            sb.AppendLine($"- {Quote(label.Name)}{(label.IsOther ? " (none of the other labels)" : "")}{definition}");
            foreach (var example in (label.Examples ?? []).Where(e => !string.IsNullOrWhiteSpace(e)).Take(MaxExamplesPerLabel))
                sb.AppendLine($"  Belongs to this label: {Quote(Cut(example))}");
            foreach (var counter in (label.CounterExamples ?? []).Where(e => !string.IsNullOrWhiteSpace(e)).Take(MaxExamplesPerLabel))
                sb.AppendLine($"  Looks close but does NOT belong to this label: {Quote(Cut(counter))}");
        }
        sb.AppendLine();

        // One object with every label at once is the core of the method: the model writes the labels side by side,
        // so it has to make them differ in exactly what the task decides on, and mutually dependent labels ("given
        // by an educator" vs "other") stay consistent with each other.
        sb.AppendLine("Output format:");
        if (asked.Count == 1)
        {
            // One label still short: asked for alone, with the labels it must not be mistaken for named, so the sample
            // keeps the same boundaries it would have had written beside them.
            var one = asked[0];
            sb.AppendLine($"This time write a sample for ONE label only: {Quote(one.Name)}. Answer with exactly ONE JSON object and nothing else (no explanation, no Markdown), with the single key {Quote(one.Name)}, written verbatim; its value is one sample text, as a JSON string.");
            sb.AppendLine($"The sample must clearly belong to {Quote(one.Name)} and to none of the other labels ({string.Join(", ", others.Select(l => Quote(l.Name)))}): keep it close to the texts they would get — the same kind of text, setting and level of detail — so that it differs from them mainly in what decides the label.");
        }
        else
        {
            sb.AppendLine($"Answer with exactly ONE JSON object and nothing else (no explanation, no Markdown). Its keys are exactly these {asked.Count} label names, written verbatim: {string.Join(", ", asked.Select(l => Quote(l.Name)))}.");
            sb.AppendLine("Each value is one sample text for that label, as a JSON string.");
            sb.AppendLine("Write the samples side by side as a set: keep them alike in setting, kind of text and level of detail, so that they differ mainly in what decides the label. Each sample must clearly belong to its label and to no other.");
            if (others.Count > 0)
                sb.AppendLine($"The other labels ({string.Join(", ", others.Select(l => Quote(l.Name)))}) have enough samples: leave them out, but no sample may belong to them.");
        }
        var other = asked.FirstOrDefault(l => l.IsOther);
        if (other is not null)
        {
            // A random unrelated text teaches the classifier nothing: "other" must be a near miss, the kind of text
            // the classifier will actually meet and must not confuse with the real labels.
            sb.AppendLine($"For {Quote(other.Name)}: write a near miss — a text close to the task (the same kind of text, the same topic area and setting as the others) that belongs to none of the other labels. Do not write something unrelated.");
        }
        sb.AppendLine();

        sb.AppendLine("Requirements for every sample:");
        sb.AppendLine($"- Language: {LanguageName(p.Language)}. Write every sample in this language.");
        if (p.TextType != TextType.Free) sb.AppendLine($"- Kind of text: {TextTypeName(p.TextType)}.");
        var length = LengthRequirement(p);
        if (length is not null) sb.AppendLine($"- Length: {length}.");
        if (!string.IsNullOrWhiteSpace(p.Tone)) sb.AppendLine($"- Tone: {p.Tone.Trim()}.");
        if (!string.IsNullOrWhiteSpace(p.Domain)) sb.AppendLine($"- Domain: {p.Domain.Trim()}.");
        var include = (p.Include ?? []).Where(s => !string.IsNullOrWhiteSpace(s)).ToList();
        if (include.Count > 0) sb.AppendLine($"- Include where it fits: {string.Join("; ", include.Select(s => s.Trim()))}.");
        var avoid = (p.Avoid ?? []).Where(s => !string.IsNullOrWhiteSpace(s)).ToList();
        if (avoid.Count > 0) sb.AppendLine($"- Avoid: {string.Join("; ", avoid.Select(s => s.Trim()))}.");
        if (!string.IsNullOrWhiteSpace(p.Notes)) sb.AppendLine($"- Notes from the task author: {p.Notes.Trim()}");
        sb.AppendLine("- Write realistic texts as the people who produce them would write them; do not copy the instruction, the label definitions, the examples or the demonstrations, and do not state the label inside a sample (no \"This is a complaint:\").");
        return sb.ToString().TrimEnd() + "\n";
    }

    private static string BuildUser(TaskSpec spec, IReadOnlyList<Demonstration> demonstrations,
        IReadOnlyList<IReadOnlyDictionary<string, string>> previousCentres, GenerationFeedback? feedback, int seed)
    {
        var sb = new StringBuilder();
        var demos = demonstrations.Where(d => d is not null && d.Labels.Count > 0).ToList();
        if (demos.Count > 0)
        {
            sb.AppendLine("Examples of instructions and the JSON object written for them (other tasks, same format):");
            sb.AppendLine();
            foreach (var d in demos)
            {
                sb.AppendLine($"Instruction: {d.Instruction.Trim()}");
                sb.AppendLine($"Output: {JsonObject(d.Labels, l => d.Samples.GetValueOrDefault(l) ?? "")}");
                sb.AppendLine();
            }
        }

        var labelNames = (spec.Labels ?? []).Select(l => l.Name).Where(n => !string.IsNullOrWhiteSpace(n)).ToList();
        var centres = previousCentres.Where(c => c is not null && c.Count > 0).TakeLast(MaxPreviousCentres).ToList();
        if (centres.Count > 0)
        {
            // The centres of earlier rounds stand for whole clusters of similar samples: showing them is the cheapest
            // way to push the next round into parts of the space that are still empty (self-diversification).
            sb.AppendLine("Samples this task already has (each stands for many similar ones). Write something clearly different from all of them: new situations, new wording, new details.");
            foreach (var c in centres)
            {
                var keys = labelNames.Where(c.ContainsKey).Concat(c.Keys.Where(k => !labelNames.Contains(k))).ToList();
                sb.AppendLine($"- {JsonObject(keys, k => c[k])}");
            }
            sb.AppendLine();
        }

        AppendFeedback(sb, feedback);

        var hint = VariationHints[new Random(seed).Next(VariationHints.Length)];
        sb.AppendLine($"For this answer: {hint}");
        sb.AppendLine();
        sb.AppendLine($"Instruction: {(spec.Instruction ?? "").Trim()}");
        sb.Append("Output:");
        return sb.ToString();
    }

    private static void AppendFeedback(StringBuilder sb, GenerationFeedback? feedback)
    {
        var rejections = (feedback?.Rejections ?? []).Where(r => r is not null).ToList();
        var edits = (feedback?.Edits ?? []).Where(e => e is not null).ToList();
        if (rejections.Count == 0 && edits.Count == 0) return;
        sb.AppendLine("Reviewer feedback on earlier samples of this task — learn from it:");
        if (rejections.Count > 0)
        {
            // Reasons counted first: a pattern ("too generic" ×7) is more useful guidance than any single case.
            var reasons = rejections.GroupBy(r => (r.Reason ?? "").Trim(), StringComparer.OrdinalIgnoreCase)
                .Where(g => g.Key.Length > 0)
                .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => g.Count() > 1 ? $"{g.Key} (×{g.Count()})" : g.Key).ToList();
            sb.AppendLine($"Rejected {rejections.Count} sample{(rejections.Count == 1 ? "" : "s")}{(reasons.Count > 0 ? "; reasons: " + string.Join("; ", reasons) : "")}. Do not write samples like these:");
            foreach (var r in rejections.TakeLast(MaxRejectionsShown))
                sb.AppendLine($"- [{r.Label}] {Quote(Cut(r.Text))} — {(string.IsNullOrWhiteSpace(r.Reason) ? "no reason given" : r.Reason.Trim())}");
            if (rejections.Count > MaxRejectionsShown) sb.AppendLine($"  (and {rejections.Count - MaxRejectionsShown} more)");
        }
        if (edits.Count > 0)
        {
            sb.AppendLine("Samples reviewers corrected — write like the corrected versions:");
            foreach (var e in edits.TakeLast(MaxEditsShown))
                sb.AppendLine($"- [{e.Label}] {Quote(Cut(e.Before))} → {Quote(Cut(e.After))}");
            if (edits.Count > MaxEditsShown) sb.AppendLine($"  (and {edits.Count - MaxEditsShown} more)");
        }
        sb.AppendLine();
    }

    /// <summary>The labels a prompt built here asks for, read back from its system message (what a model following it
    /// writes): the keys of the output contract, or the single label of a one-label prompt. For fakes that answer like a
    /// model would.</summary>
    internal static IReadOnlyList<string> AskedLabels(string system, IReadOnlyList<string> labels)
    {
        var line = system.Split('\n').FirstOrDefault(l => l.Contains("Its keys are exactly these", StringComparison.Ordinal)
            || l.Contains("ONE label only", StringComparison.Ordinal)) ?? "";
        if (line.Contains("ONE label only", StringComparison.Ordinal))
            return labels.Where(l => line.Contains($"with the single key {Quote(l)}", StringComparison.Ordinal)).ToList();
        return labels.Where(l => line.Contains(Quote(l), StringComparison.Ordinal)).ToList();
    }

    internal static string? LengthRequirement(TaskPreferences p)
    {
        var chars = TaskSpecValidator.CountsCharacters(p.Language);
        var (min, max) = chars ? (p.MinChars, p.MaxChars) : (p.MinWords, p.MaxWords);
        // Spelled out as a unit the model can count: characters for scripts without spaces, words otherwise.
        var unit = chars ? "characters (not counting spaces)" : "words";
        var inv = CultureInfo.InvariantCulture;
        return (min, max) switch
        {
            (int a, int b) => $"between {a.ToString(inv)} and {b.ToString(inv)} {unit} each",
            (int a, null) => $"at least {a.ToString(inv)} {unit} each",
            (null, int b) => $"at most {b.ToString(inv)} {unit} each",
            _ => null,
        };
    }

    internal static string LanguageName(string? tag)
    {
        var code = string.IsNullOrWhiteSpace(tag) ? "en" : tag.Trim();
        try
        {
            var culture = CultureInfo.GetCultureInfo(code.Replace('_', '-'));
            var name = culture.EnglishName;
            // Unknown tags come back as "Unknown language (xx)" or as the tag itself; the tag is clearer then.
            if (!string.IsNullOrWhiteSpace(name) && !name.StartsWith("Unknown", StringComparison.OrdinalIgnoreCase) && !name.Equals(code, StringComparison.OrdinalIgnoreCase))
                return $"{name} ({code})";
        }
        catch (CultureNotFoundException)
        {
        }
        return code;
    }

    private static string TextTypeName(TextType type) => type switch
    {
        TextType.Tweet => "a short social media post (tweet)",
        TextType.Email => "an email",
        TextType.Review => "a review",
        TextType.Question => "a question",
        TextType.Headline => "a headline",
        TextType.Chat => "a chat message",
        _ => "free text",
    };

    private static string JsonObject(IEnumerable<string> keys, Func<string, string> value)
    {
        var parts = keys.Select(k => $"{Quote(k)}: {Quote(value(k))}");
        return "{" + string.Join(", ", parts) + "}";
    }

    private static string Quote(string s) => JsonSerializer.Serialize(s ?? "", s_json);

    private static string Cut(string s)
    {
        var t = (s ?? "").Trim();
        if (t.Length <= MaxQuotedLength) return t;
        var cut = MaxQuotedLength;
        if (char.IsHighSurrogate(t[cut - 1])) cut--;
        return t[..cut] + "…";
    }
}
