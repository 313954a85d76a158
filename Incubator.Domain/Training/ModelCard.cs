using System.Globalization;
using System.Text;
using Incubator.Domain.Datasets;
using Incubator.Domain.Mining;
using Incubator.Domain.Tasks;

namespace Incubator.Domain.Training;

/// <summary>Where the training data came from: a frozen dataset version in the portal, or a file on the command line.</summary>
public abstract record ModelCardSource;

/// <summary>Trained in the portal: the task as it was, and the dataset version's lineage.</summary>
public sealed record DatasetCardSource(string ProjectName, TaskSpec Task, int TaskVersion, DatasetVersionView Dataset, IReadOnlyList<string> Llms) : ModelCardSource;

/// <summary>Trained by self-training from mined seeds (<c>Incubator mine --self-train</c>): no human label at all.
/// <paramref name="Rounds"/> says each round in a line (what it trained on, its held-out agreement);
/// <paramref name="MinersView"/> whether pseudo-labels averaged the model with the miner's scores (English) or came
/// from the model alone (character n-grams, where the miner's view is below chance).</summary>
public sealed record SelfTrainingCardSource(TaskSpec Task, string PoolFile, int PoolTexts, int Seeds, int HeldOutSeeds, int PseudoLabels,
    IReadOnlyDictionary<string, int> RowsPerLabel, int TrainRows, int ValidationRows, IReadOnlyList<string> Rounds, bool MinersView = true) : ModelCardSource
{
    /// <summary>Self-trained in the portal: the project and the mining run it started from; null on the command line.</summary>
    public string? Origin { get; init; }

    /// <summary>Texts a reviewer approved or corrected, in the training rows with <see cref="ReviewedWeight"/> times the
    /// weight of a seed or pseudo-label. Then the model is no longer free of human labels, and the card says so.</summary>
    public int ReviewedSeeds { get; init; }

    public int ReviewedWeight { get; init; } = 1;

    /// <summary>The rounds were a logistic regression on the pool's MiniLM embeddings (English), and the last one labelled
    /// the pool for this model; false: the rounds trained the sparse family and this model is the kept round's.</summary>
    public bool EmbeddingRounds { get; init; }

    /// <summary>Embedding rounds shared pseudo-labels out in proportion to how many pool texts lean to each label, not
    /// the same number per label.</summary>
    public bool ProportionalShares { get; init; }

    /// <summary>Embedding rounds averaged the miner's raw cosine similarities (chosen because their own argmax label
    /// counts over the pool leaned far from equal shares), not its per-label z-scored ones.</summary>
    public bool RawView { get; init; }

    /// <summary>Embedding rounds: how far (nats) the miner's raw view's argmax label counts over the pool are from equal
    /// shares (0: even), which chose the view and the shares; null when not measured.</summary>
    public double? RawLean { get; init; }

    /// <summary>Embedding rounds: share of the pool the last round labelled for this model, its surest texts first (1: all).</summary>
    public double FinalShare { get; init; } = 1.0;

    /// <summary>Embedding rounds used curriculum labelling: after each of the rounds (their number, 0: not used) a growing
    /// share of the pool by confidence, whatever the label, instead of the same number per label.</summary>
    public int CurriculumRounds { get; init; }
}

/// <summary>Trained with <c>Incubator train</c> from a file, split into training and validation rows.</summary>
public sealed record FileCardSource(string FileName, IReadOnlyDictionary<string, int> RowsPerLabel, int TrainRows, int ValidationRows) : ModelCardSource;

/// <summary>What the model card is written from. Everything is read from the trained model, its evaluations and the
/// data's source; nothing is typed in by hand.</summary>
public sealed record ModelCardInput(
    string Title,
    TrainedClassifier Model,
    string RequestedFamily,
    int Seed,
    bool ClassWeighting,
    StoredReport Validation,
    StoredReport? Gold,
    string? GoldName,
    IReadOnlyList<StoredComparison> Compared,
    DateTimeOffset TrainedAt,
    ModelCardSource Source)
{
    /// <summary>The input for a finished training: the evaluations as stored, every family it tried.</summary>
    public static ModelCardInput For(string title, TrainingResult result, TrainingOptions options, string? goldName, DateTimeOffset trainedAt,
        ModelCardSource source) =>
        new(title, result.Model, ModelFamilies.Name(options.Family), options.Seed, options.ClassWeighting,
            StoredReport.From(result.Model.Labels, result.Validation), result.Gold is null ? null : StoredReport.From(result.Model.Labels, result.Gold),
            goldName, StoredComparison.From(result), trainedAt, source)
        {
            Refitted = result.Refitted,
            Pooled = result.Pooled,
            Encoder = result.Model.Encoder is { } encoder ? Onnx.EncoderGraph.DisplayName(encoder) : null,
            // One family trained: its name says it all when it was asked for; auto says why it tried only one.
            Choice = result.Compared.Count > 1 || options.Family == ModelFamily.Auto ? result.Choice : null,
            ChoseOnGold = options.Family == ModelFamily.Auto && !result.Pooled && result.Compared.Count > 1 && result.Compared.All(c => c.Gold is not null),
        };

    /// <summary>Auto chose the family by its score on the gold set, so the gold figures are those of the best of several
    /// families on that same set: a little optimistic.</summary>
    public bool ChoseOnGold { get; init; }

    /// <summary>Auto: why the family was chosen (<see cref="TrainingResult.Choice"/>).</summary>
    public string? Choice { get; init; }

    /// <summary>The model was fitted again on training + validation after the choice; the validation figures are
    /// those of the selection fit.</summary>
    public bool Refitted { get; init; }

    /// <summary>The model is the log-linear pool of sparse, dense and hybrid (<see cref="TrainingResult.Pooled"/>); the
    /// validation figures are those of the pool of their selection fits.</summary>
    public bool Pooled { get; init; }

    /// <summary>Dense and hybrid: the encoder's name (e.g. "all-MiniLM-L6-v2 (8-bit quantised)").</summary>
    public string? Encoder { get; init; }

    /// <summary>The exported model's size and speed, measured on it.</summary>
    public BundleSpeed? Speed { get; init; }
}

/// <summary>Writes the model card (markdown) that goes into every bundle, from the portal and from the command line
/// alike, and into the registry.</summary>
public static class ModelCardBuilder
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    public static string Write(ModelCardInput m)
    {
        var sb = new StringBuilder();
        sb.AppendLine(C, $"# {Md(m.Title)}");
        sb.AppendLine();
        sb.AppendLine(m.Source switch
        {
            DatasetCardSource d => string.Create(C, $"Project: {Md(d.ProjectName)} · task version {d.TaskVersion} · trained {m.TrainedAt:yyyy-MM-dd HH:mm} UTC."),
            SelfTrainingCardSource { Origin: { } origin, ReviewedSeeds: > 0 and var n } => string.Create(C, $"Self-trained in the portal ({Md(origin)}) on {m.TrainedAt:yyyy-MM-dd HH:mm} UTC. **No human labels** except {n} reviewed samples: every other training label was assigned by the miner or by the model itself."),
            SelfTrainingCardSource { Origin: { } origin } => string.Create(C, $"Self-trained in the portal ({Md(origin)}) on {m.TrainedAt:yyyy-MM-dd HH:mm} UTC. **No human labels**: every training label was assigned by the miner or by the model itself."),
            SelfTrainingCardSource => string.Create(C, $"Trained with `Incubator mine --self-train` on {m.TrainedAt:yyyy-MM-dd HH:mm} UTC. **No human labels**: every training label was assigned by the miner or by the model itself."),
            _ => string.Create(C, $"Trained with `Incubator train` on {m.TrainedAt:yyyy-MM-dd HH:mm} UTC."),
        });
        sb.AppendLine();
        if (m.Source is DatasetCardSource task) Task(sb, task.Task);
        else if (m.Source is SelfTrainingCardSource self) Task(sb, self.Task);
        else Labels(sb, m.Model.Labels);
        Model(sb, m);
        Provenance(sb, m);
        Metrics(sb, m);
        Limits(sb, m);
        return sb.ToString();
    }

    private static void Task(StringBuilder sb, TaskSpec task)
    {
        sb.AppendLine("## Task");
        sb.AppendLine();
        sb.AppendLine(Md(task.Instruction));
        sb.AppendLine();
        sb.AppendLine(C, $"Language: {task.Preferences.Language}.");
        sb.AppendLine();
        sb.AppendLine("## Labels");
        sb.AppendLine();
        sb.AppendLine("| label | definition |");
        sb.AppendLine("|---|---|");
        foreach (var l in task.Labels)
            sb.AppendLine(C, $"| {Cell(l.Name)} | {Cell(l.Description)}{(l.IsOther ? " (none of the other labels)" : "")} |");
        sb.AppendLine();
    }

    /// <summary>Trained from a file, the labels have no definitions to show.</summary>
    private static void Labels(StringBuilder sb, IReadOnlyList<string> labels)
    {
        sb.AppendLine("## Labels");
        sb.AppendLine();
        sb.AppendLine(string.Join(", ", labels.Select(Md)) + " (from the training file; no definitions).");
        sb.AppendLine();
    }

    private static void Model(StringBuilder sb, ModelCardInput m)
    {
        var model = m.Model;
        sb.AppendLine("## Model");
        sb.AppendLine();
        if (m.Pooled)
            sb.AppendLine(C, $"- Family: **{ModelFamilies.PooledName}**, exported as one {ModelFamilies.Name(model.Family)} head (requested: {m.RequestedFamily}).");
        else
            sb.AppendLine(C, $"- Family: **{ModelFamilies.Name(model.Family)}** (requested: {m.RequestedFamily}).");
        sb.AppendLine(C, $"- Seed {m.Seed}; class weighting for imbalance: {(m.ClassWeighting ? "on" : "off")}.");
        sb.AppendLine("- Features: " + Features(model) + ".");
        sb.AppendLine(C, $"- Classifier: one linear maximum-entropy head (ML.NET L-BFGS) over {model.FeatureCount:N0} features, {model.Labels.Count} labels.");
        if (m.Encoder is not null) sb.AppendLine(C, $"- Encoder: {m.Encoder}.");
        if (m.Choice is { } choice) sb.AppendLine(C, $"- Choice: {Md(choice)}.");
        if (m.Pooled)
            sb.AppendLine("- Pool: the head is the mean of the sparse, dense and hybrid families' heads, each at its own features (the log-linear average of their probabilities); no family was chosen.");
        if (m.Refitted && m.Pooled)
            sb.AppendLine("- Refit on training + validation: the sparse, dense and hybrid families were each fitted again on all training and validation samples with the settings chosen on the validation split, then pooled; the validation figures below are those of the pool of their fits on the training part alone.");
        else if (m.Refitted)
            sb.AppendLine("- Refit on training + validation: after the family and its settings were chosen (the settings on the validation split, the family as the choice line says), the model was fitted again on all training and validation samples; the validation figures below are those of the fit on the training part alone.");
        if (m.Speed is { } speed) sb.AppendLine(C, $"- Size and speed: {speed.Describe()}.");
        foreach (var x in m.Compared)
        {
            var gold = x.GoldAccuracy is { } ga ? string.Format(C, "; gold accuracy {0:0.000}, macro-F1 {1:0.000}", ga, x.GoldMacroF1) : "";
            if (x.Family == ModelFamilies.PooledName)
                sb.AppendLine(C, $"- The pool of the three: validation accuracy {x.Accuracy:0.000}, macro-F1 {x.MacroF1:0.000}{gold}.");
            else
                sb.AppendLine(C, $"- Tried {x.Family}: validation accuracy {x.Accuracy:0.000}, macro-F1 {x.MacroF1:0.000}{gold}.");
        }
        sb.AppendLine();
    }

    /// <summary>The feature set as the trained model holds it (n-gram range and count, conjunctions, encoder).</summary>
    internal static string Features(TrainedClassifier model)
    {
        var parts = new List<string>();
        if (model.Sparse is { } s)
        {
            var unit = s.Mode == TokenMode.Char ? "character" : "word";
            var sparse = string.Create(C, $"{s.NGramCount:N0} {unit} {s.MinGram}–{s.MaxGram}-grams with {(s.Sublinear ? "sublinear " : "")}TF-IDF weights, L2-normalised");
            if (s.Conjunctions.Count > 0)
                sparse += string.Create(C, $", plus \"both occur\" conjunctions of the {s.Conjunctions.Count} most decisive n-grams");
            parts.Add(sparse);
        }
        if (model.EnglishOnly) parts.Add(string.Create(C, $"all-MiniLM-L6-v2 sentence embeddings ({DenseFeaturizer.Dimension} dimensions; the encoder knows English only)"));
        return string.Join(", side by side with ", parts);
    }

    private static void Provenance(StringBuilder sb, ModelCardInput m)
    {
        sb.AppendLine("## Data provenance");
        sb.AppendLine();
        switch (m.Source)
        {
            case DatasetCardSource { Dataset: var d } source:
                sb.AppendLine(C, $"- Dataset version {d.Number}: {d.Count} approved samples ({d.TrainCount} train, {d.ValidationCount} validation; seeded stratified split, seed {d.Seed}, validation share {d.ValidationShare:0.##}).");
                sb.AppendLine(C, $"- Content hash (SHA-256): `{d.ContentHash}`.");
                sb.AppendLine(C, $"- Per label: {string.Join(", ", d.Counts.Select(kv => $"{Md(kv.Key)} {kv.Value}"))}.");
                sb.AppendLine(C, $"- Synthetic (written by an LLM): {Pct(d.Lineage.SyntheticShare)}; mined from a corpus: {Pct(d.Lineage.MinedShare)}; edited by a reviewer: {Pct(d.Lineage.EditedShare)}; relabelled by a reviewer: {d.Lineage.Relabelled}; approved by spot-check: {d.Lineage.AcceptedBySpotCheck}.");
                sb.AppendLine(C, $"- Generation runs: {d.Lineage.RunIds.Count}; reviewers: {(d.Lineage.Reviewers.Count == 0 ? "none recorded" : string.Join(", ", d.Lineage.Reviewers.Select(Md)))}.");
                sb.AppendLine(C, $"- LLM used to write samples: {(source.Llms.Count == 0 ? "none (no generated samples)" : string.Join(", ", source.Llms.Select(Md)))}.");
                break;
            case SelfTrainingCardSource st:
                sb.AppendLine(st.ReviewedSeeds > 0
                    ? string.Create(C, $"- No human labels but {st.ReviewedSeeds} reviewed samples (approved or corrected by a reviewer), each weighted ×{st.ReviewedWeight} over a seed or pseudo-label. Pool: `{Code(st.PoolFile)}`, {st.PoolTexts} distinct texts.")
                    : string.Create(C, $"- No human labels. Pool: `{Code(st.PoolFile)}`, {st.PoolTexts} distinct texts."));
                sb.AppendLine(st.EmbeddingRounds
                    ? string.Create(C, $"- {st.Seeds} mined seeds (labelled by similarity to the label definitions, with a margin over the runner-up) and {st.PseudoLabels} pseudo-labels: each round a logistic regression on the pool's MiniLM embeddings learnt from the seeds and the previous round's most confident texts ({(st.ProportionalShares ? "per label in proportion to how many pool texts lean to it, at least a quarter of an equal share" : st.CurriculumRounds > 0 ? $"curriculum labelling: the surest {SelfTrainer.CurriculumSteps(st.CurriculumRounds)} of the pool by confidence, whatever the label, one step a round" : "the same number per label")}), its probabilities {(st.MinersView ? st.RawView ? $"averaged with the miner's raw similarity scores (their label counts over the pool leaned away from equal shares{(st.RawLean is { } e ? string.Create(C, $": {e:0.000} nats") : "")})" : "averaged with the miner's scores" : "alone")}; the last round labelled {(st.FinalShare < 1 ? string.Create(C, $"the surest {st.FinalShare:0%} of the pool") : "the pool")} for this model. {st.HeldOutSeeds} further seeds held out to check agreement.")
                    : string.Create(C, $"- {st.Seeds} mined seeds (labelled by similarity to the label definitions, with a margin over the runner-up) and {st.PseudoLabels} pseudo-labels (labelled by the previous round's model {(st.MinersView ? "together with the miner's scores" : "alone")}, the most confident the same number per label); {st.HeldOutSeeds} further seeds held out to check agreement."));
                sb.AppendLine(C, $"- Training rows: {st.TrainRows} training, {st.ValidationRows} validation (seeded stratified split, seed {m.Seed}). Per label: {string.Join(", ", st.RowsPerLabel.Select(kv => $"{Md(kv.Key)} {kv.Value}"))}.");
                foreach (var round in st.Rounds) sb.AppendLine(C, $"- {Md(round)}");
                break;
            case FileCardSource f:
                sb.AppendLine(C, $"- Source file: `{Code(f.FileName)}`, {f.TrainRows + f.ValidationRows} rows; seeded stratified split (seed {m.Seed}): {f.TrainRows} training, {f.ValidationRows} validation rows.");
                sb.AppendLine(C, $"- Per label: {string.Join(", ", f.RowsPerLabel.Select(kv => $"{Md(kv.Key)} {kv.Value}"))}.");
                break;
        }
        if (m.Gold is not null) sb.AppendLine(C, $"- Gold set: `{Code(m.GoldName ?? "gold")}`, {m.Gold.Count} human-labelled texts (evaluation only).");
        sb.AppendLine();
    }

    private static void Metrics(StringBuilder sb, ModelCardInput m)
    {
        sb.AppendLine("## Metrics");
        sb.AppendLine();
        var same = m.Source switch
        {
            FileCardSource => "same file as the training data",
            SelfTrainingCardSource => "labelled the same way as the training rows — agreement with the model's own pseudo-labels, not accuracy",
            _ => "same source as the training data",
        };
        if (m.Gold is { } g)
        {
            sb.AppendLine(C, $"On the human-labelled gold set ({Md(m.GoldName ?? "gold")}, {g.Count} texts) — **preferred**:");
            sb.AppendLine();
            Report(sb, g);
            sb.AppendLine();
            sb.AppendLine(C, $"On the validation split ({m.Validation.Count} texts, {same}):");
        }
        else
        {
            sb.AppendLine(C, $"On the validation split ({m.Validation.Count} texts, {same}; no gold set was given):");
        }
        sb.AppendLine();
        Report(sb, m.Validation);
        sb.AppendLine();
    }

    private static void Limits(StringBuilder sb, ModelCardInput m)
    {
        sb.AppendLine("## Known limits");
        sb.AppendLine();
        if (m.Gold is null)
            sb.AppendLine(m.Source is SelfTrainingCardSource
                ? "- No human label anywhere: the validation figures compare the model with pseudo-labels, not with the truth. Label a few hundred texts by hand (`--gold` with `train`, or a gold set in the portal) before relying on it."
                : m.Source is DatasetCardSource
                ? "- No human-labelled gold set: validation texts come from the same (mostly synthetic) source as the training texts, so these numbers are likely optimistic for real-world text."
                : "- No human-labelled gold set: validation rows come from the same file as the training rows; expect lower accuracy on data from elsewhere.");
        else if (m.ChoseOnGold)
            sb.AppendLine(C, $"- Auto chose the family by its score on this gold set{(m.GoldName is { } g ? $" ({Md(g)})" : "")}, so the gold figures are those of the best of {m.Compared.Count} families on it and a little optimistic. Score the model on a second labelled set for a figure no choice has seen.");
        var counts = m.Source switch
        {
            DatasetCardSource d => d.Dataset.Counts,
            FileCardSource f => f.RowsPerLabel,
            SelfTrainingCardSource st => st.RowsPerLabel,
            _ => new Dictionary<string, int>(),
        };
        if (m.Source is DatasetCardSource { Dataset.Lineage.SyntheticShare: > 0.5 and var share })
            sb.AppendLine(C, $"- {Pct(share)} of the training data was written by an LLM and approved by people; real texts may differ in style and length.");
        if (m.Model.EnglishOnly)
            sb.AppendLine(C, $"- The {ModelFamilies.Name(m.Model.Family)} family's encoder (all-MiniLM-L6-v2) knows English only; other languages will be classified poorly.");
        var smallest = counts.OrderBy(kv => kv.Value).FirstOrDefault();
        if (smallest.Key is not null && smallest.Value < 20)
            sb.AppendLine(C, $"- Few examples for '{Md(smallest.Key)}' ({smallest.Value}); its scores are uncertain.");
        sb.AppendLine("- The model only knows the labels above; every text gets one of them, even when none fits.");
        sb.AppendLine("- Intended use: routing and triage with a person able to correct mistakes; not for decisions about people.");
    }

    private static void Report(StringBuilder sb, StoredReport r)
    {
        sb.AppendLine(C, $"Accuracy {r.Accuracy:0.000}, macro-F1 {r.MacroF1:0.000}.");
        sb.AppendLine();
        sb.AppendLine("| label | precision | recall | F1 | support |");
        sb.AppendLine("|---|---|---|---|---|");
        foreach (var p in r.PerClass)
            sb.AppendLine(C, $"| {Cell(p.Label)} | {p.Precision:0.000} | {p.Recall:0.000} | {p.F1:0.000} | {p.Support} |");
    }

    private static string Pct(double share) => (share * 100).ToString("0", C) + "%";

    /// <summary>Text from users or an LLM (names, instruction, labels) as markdown that says exactly that text: on one
    /// line, with the characters markdown would read as formatting or HTML (<c>\ * ` [ ] &lt; &gt;</c>, a leading
    /// heading, list or table mark, and in a table cell "|") escaped with a backslash, so "**x**" in a task name stays
    /// "**x**" in any viewer and in the portal's card view (ModelCardView). "_" is left as typed: label names such as
    /// not_spam read better without a backslash, and a "_" inside a word is no emphasis in markdown.</summary>
    internal static string Md(string s) => Escape(s, cell: false);

    private static string Escape(string s, bool cell)
    {
        var line = s.Replace("\r", " ").Replace("\n", " ");
        var sb = new StringBuilder(line.Length + 8);
        foreach (var c in line)
        {
            if (c is '\\' or '*' or '`' or '[' or ']' or '<' or '>' || cell && c == '|') sb.Append('\\');
            sb.Append(c);
        }
        if (line.Length > 0 && line[0] is '-' or '+' or '#' || !cell && line.StartsWith('|')) sb.Insert(0, '\\');
        return sb.ToString();
    }

    /// <summary>Text inside a code span (a file name): backslashes are literal there, so a backtick, which would end the
    /// span, becomes an apostrophe.</summary>
    private static string Code(string s) => s.Replace("\r", " ").Replace("\n", " ").Replace('`', '\'');

    private static string Cell(string s) => Escape(s, cell: true);
}
