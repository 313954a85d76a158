using System.Globalization;
using System.Text;
using Incubator.Domain.Common;
using Incubator.Domain.Datasets;
using Incubator.Domain.Jobs;
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

    /// <summary>Self-trained in the portal: the project's name and the mined corpus's, said in the card's language
    /// (before <see cref="Origin"/>, which is English).</summary>
    public string? OriginProject { get; init; }

    public string? OriginCorpus { get; init; }

    /// <summary><see cref="Rounds"/> as notes (the same order), so a card in another language can say them; Kept: the
    /// round this model is.</summary>
    public IReadOnlyList<(JobNote Note, bool Kept)>? RoundNotes { get; init; }

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
            ChoiceNote = result.Compared.Count > 1 || options.Family == ModelFamily.Auto ? result.ChoiceNote : null,
            ChoseOnGold = options.Family == ModelFamily.Auto && !result.Pooled && result.Compared.Count > 1 && result.Compared.All(c => c.Gold is not null),
        };

    /// <summary>Auto chose the family by its score on the gold set, so the gold figures are those of the best of several
    /// families on that same set: a little optimistic.</summary>
    public bool ChoseOnGold { get; init; }

    /// <summary>Auto: why the family was chosen (<see cref="TrainingResult.Choice"/>).</summary>
    public string? Choice { get; init; }

    /// <summary>The same as a note, so a card in another language can say it (<see cref="TrainingResult.ChoiceNote"/>).</summary>
    public JobNote? ChoiceNote { get; init; }

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

/// <summary>The language a model card is written in: that of the person who started the training (the portal's UI
/// language, the CLI's <c>--lang</c>); see docs/decisions/0012-training-web.md, amendment card21.</summary>
public enum CardLanguage
{
    En,
    Ja,
}

public static class CardLanguages
{
    /// <summary>"ja" (or "ja-JP", any case) is Japanese; anything else, null included, is English.</summary>
    public static CardLanguage Parse(string? name) =>
        name is not null && name.Trim().StartsWith("ja", StringComparison.OrdinalIgnoreCase) ? CardLanguage.Ja : CardLanguage.En;

    /// <summary>The culture of the portal user or the CLI's default: Japanese for a "ja" UI culture, else English.</summary>
    public static CardLanguage Of(CultureInfo culture) => Parse(culture.TwoLetterISOLanguageName);

    public static string Code(CardLanguage language) => language == CardLanguage.Ja ? "ja" : "en";

    /// <summary>The other of the two languages every card is written in.</summary>
    public static CardLanguage Other(CardLanguage language) => language == CardLanguage.Ja ? CardLanguage.En : CardLanguage.Ja;

    /// <summary>The language of a stored card whose language was not recorded (a model trained before cards were written
    /// in both languages): Japanese when it has the Japanese writer's "## モデル" section, else English (every card
    /// before amendment card21 was English).</summary>
    public static CardLanguage Detect(string markdown) =>
        markdown.Contains("\n## モデル", StringComparison.Ordinal) || markdown.StartsWith("## モデル", StringComparison.Ordinal) ? CardLanguage.Ja : CardLanguage.En;

    /// <summary>A family's name for a reader of <paramref name="language"/>: the technical id in English ("sparse"), a
    /// Japanese name with the id in parentheses in Japanese ("n-gram 特徴（sparse）"), so the id a user types stays findable.</summary>
    public static string Family(string id, CardLanguage language) => language == CardLanguage.En ? id : id switch
    {
        "sparse" => "n-gram 特徴（sparse）",
        "dense" => "文埋め込み（dense）",
        "hybrid" => "n-gram＋文埋め込み（hybrid）",
        "auto" => "自動選択（auto）",
        ModelFamilies.PooledName => "三ファミリーのプール（" + ModelFamilies.PooledName + "）",
        _ => id,
    };

    /// <summary>The model card's title for the portal's training, self-training and the CLI's trainings.</summary>
    public static string ModelTitle(string task, int number, CardLanguage language) =>
        language == CardLanguage.Ja ? $"{task} — モデル v{number}" : $"{task} — model v{number}";

    public static string SelfTrainedTitle(string task, CardLanguage language) =>
        language == CardLanguage.Ja ? $"{task} — 自己学習（人手のラベルなし）" : $"{task} — self-trained, no human labels";

    public static string CliSelfTrainedTitle(string task, CardLanguage language) =>
        language == CardLanguage.Ja ? $"{task}（自己学習、人手のラベルなし）" : $"{task} (self-trained, no human labels)";

    public static string FileTitle(string file, CardLanguage language) =>
        language == CardLanguage.Ja ? $"{file} 分類器" : $"{file} classifier";
}

/// <summary>A model's card in both languages (decision 0012, amendment card22): <see cref="Card"/> in the language of
/// whoever started the training (the bundle's model-card.md, as before), <see cref="OtherCard"/> in the other one (the
/// bundle's model-card.{en|ja}.md).</summary>
public sealed record ModelCards(CardLanguage Language, string Card, string OtherCard)
{
    public CardLanguage OtherLanguage => CardLanguages.Other(Language);

    /// <summary>Writes the card in <paramref name="starter"/>'s language and then in the other one.</summary>
    public static ModelCards Write(CardLanguage starter, Func<CardLanguage, string> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        return new ModelCards(starter, write(starter), write(CardLanguages.Other(starter)));
    }

    /// <summary>The card in <paramref name="language"/>.</summary>
    public string In(CardLanguage language) => language == Language ? Card : OtherCard;

    /// <summary>The card a reader of <paramref name="viewer"/> sees of a stored model: the one in their language when the
    /// model has it; else (a model trained before cards were written in both languages) the one card it has, its language
    /// recorded or <see cref="CardLanguages.Detect"/>ed. Null when there is no card (not trained yet).</summary>
    public static ReaderCard? ForReader(string? card, string? cardLanguage, string? otherCard, CardLanguage viewer)
    {
        if (card is null) return null;
        var language = cardLanguage is { } code ? CardLanguages.Parse(code) : CardLanguages.Detect(card);
        if (language == viewer) return new ReaderCard(card, language, OnlyThisLanguage: otherCard is null);
        if (otherCard is not null) return new ReaderCard(otherCard, viewer, OnlyThisLanguage: false);
        return new ReaderCard(card, language, OnlyThisLanguage: true);
    }
}

/// <summary>The card shown to a reader: its markdown and language; <paramref name="OnlyThisLanguage"/> when the model has
/// no card in the other language (trained before cards were written in both).</summary>
public sealed record ReaderCard(string Markdown, CardLanguage Language, bool OnlyThisLanguage);

/// <summary>Writes the model card (markdown) that goes into every bundle, from the portal and from the command line
/// alike, and into the registry, in English or Japanese (<see cref="CardLanguage"/>): the same facts, sections and
/// numbers in both; names and texts users typed stay as typed. The job notes a card repeats (auto's choice, the
/// self-training rounds) are said in the card's language by <paramref name="say"/> when given (the portal's resources),
/// else in their English.</summary>
public static class ModelCardBuilder
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;
    private static readonly CultureInfo J = CultureInfo.GetCultureInfo("ja-JP");

    public static string Write(ModelCardInput m) => Write(m, CardLanguage.En);

    public static string Write(ModelCardInput m, CardLanguage language, Func<JobNote, string?>? say = null)
    {
        if (language == CardLanguage.Ja) return Japanese.Write(m, say);
        var sb = new StringBuilder();
        sb.AppendLine(C, $"# {Md(m.Title)}");
        sb.AppendLine();
        sb.AppendLine(m.Source switch
        {
            DatasetCardSource d => string.Create(C, $"Project: {Md(d.ProjectName)} · task version {d.TaskVersion} · trained {m.TrainedAt:yyyy-MM-dd HH:mm} UTC."),
            SelfTrainingCardSource { ReviewedSeeds: > 0 and var n } st when OriginOf(st, CardLanguage.En) is { } origin => string.Create(C, $"Self-trained in the portal ({Md(origin)}) on {m.TrainedAt:yyyy-MM-dd HH:mm} UTC. **No human labels** except {N(n, "reviewed sample", "reviewed samples")}: every other training label was assigned by the miner or by the model itself."),
            SelfTrainingCardSource st when OriginOf(st, CardLanguage.En) is { } origin => string.Create(C, $"Self-trained in the portal ({Md(origin)}) on {m.TrainedAt:yyyy-MM-dd HH:mm} UTC. **No human labels**: every training label was assigned by the miner or by the model itself."),
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

    /// <summary>Where a portal self-training came from, in the card's language; null on the command line.</summary>
    private static string? OriginOf(SelfTrainingCardSource st, CardLanguage language) => st switch
    {
        { OriginProject: { } p, OriginCorpus: { } c } => language == CardLanguage.Ja ? $"プロジェクト {p}、{c} のマイニング実行" : $"project {p}, mining run of {c}",
        _ => st.Origin,
    };

    /// <summary>A self-training round's line: its note in the card's language, "(kept)" on the round the model is.</summary>
    private static IEnumerable<string> RoundLines(SelfTrainingCardSource st, CardLanguage language, Func<JobNote, string?>? say)
    {
        if (language == CardLanguage.En || st.RoundNotes is null || st.RoundNotes.Count != st.Rounds.Count) return st.Rounds;
        return st.RoundNotes.Select((r, i) => say?.Invoke(r.Note) is { } text ? text.TrimEnd('。') + (r.Kept ? "（採用）" : "") : st.Rounds[i]);
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
        sb.AppendLine(C, $"- Classifier: one linear maximum-entropy head (ML.NET L-BFGS) over {EnglishCount.Of(model.FeatureCount, "feature", "features", "N0")}, {N(model.Labels.Count, "label", "labels")}.");
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
            var sparse = string.Create(C, $"{EnglishCount.Of(s.NGramCount, $"{unit} {s.MinGram}–{s.MaxGram}-gram", $"{unit} {s.MinGram}–{s.MaxGram}-grams", "N0")} with {(s.Sublinear ? "sublinear " : "")}TF-IDF weights, L2-normalised");
            if (s.Conjunctions.Count > 0)
                sparse += string.Create(C, $", plus \"both occur\" conjunctions of the {N(s.Conjunctions.Count, "most decisive n-gram", "most decisive n-grams")}");
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
                sb.AppendLine(C, $"- Dataset version {d.Number}: {N(d.Count, "approved sample", "approved samples")} ({d.TrainCount} train, {d.ValidationCount} validation; seeded stratified split, seed {d.Seed}, validation share {d.ValidationShare:0.##}).");
                sb.AppendLine(C, $"- Content hash (SHA-256): `{d.ContentHash}`.");
                sb.AppendLine(C, $"- Per label: {string.Join(", ", d.Counts.Select(kv => $"{Md(kv.Key)} {kv.Value}"))}.");
                sb.AppendLine(C, $"- Synthetic (written by an LLM): {Pct(d.Lineage.SyntheticShare)}; mined from a corpus: {Pct(d.Lineage.MinedShare)}; edited by a reviewer: {Pct(d.Lineage.EditedShare)}; relabelled by a reviewer: {d.Lineage.Relabelled}; approved by spot-check: {d.Lineage.AcceptedBySpotCheck}.");
                sb.AppendLine(C, $"- Generation runs: {d.Lineage.RunIds.Count}; reviewers: {(d.Lineage.Reviewers.Count == 0 ? "none recorded" : string.Join(", ", d.Lineage.Reviewers.Select(Md)))}.");
                sb.AppendLine(C, $"- LLM used to write samples: {(source.Llms.Count == 0 ? "none (no generated samples)" : string.Join(", ", source.Llms.Select(Md)))}.");
                break;
            case SelfTrainingCardSource st:
                sb.AppendLine(st.ReviewedSeeds > 0
                    ? string.Create(C, $"- No human labels but {N(st.ReviewedSeeds, "reviewed sample", "reviewed samples")} (approved or corrected by a reviewer), each weighted ×{st.ReviewedWeight} over a seed or pseudo-label. Pool: `{Code(st.PoolFile)}`, {N(st.PoolTexts, "distinct text", "distinct texts")}.")
                    : string.Create(C, $"- No human labels. Pool: `{Code(st.PoolFile)}`, {N(st.PoolTexts, "distinct text", "distinct texts")}."));
                sb.AppendLine(st.EmbeddingRounds
                    ? string.Create(C, $"- {N(st.Seeds, "mined seed", "mined seeds")} (labelled by similarity to the label definitions, with a margin over the runner-up) and {N(st.PseudoLabels, "pseudo-label", "pseudo-labels")}: each round a logistic regression on the pool's MiniLM embeddings learnt from the seeds and the previous round's most confident texts ({(st.ProportionalShares ? "per label in proportion to how many pool texts lean to it, at least a quarter of an equal share" : st.CurriculumRounds > 0 ? $"curriculum labelling: the surest {SelfTrainer.CurriculumSteps(st.CurriculumRounds)} of the pool by confidence, whatever the label, one step a round" : "the same number per label")}), its probabilities {(st.MinersView ? st.RawView ? $"averaged with the miner's raw similarity scores (their label counts over the pool leaned away from equal shares{(st.RawLean is { } e ? string.Create(C, $": {e:0.000} nats") : "")})" : "averaged with the miner's scores" : "alone")}; the last round labelled {(st.FinalShare < 1 ? string.Create(C, $"the surest {st.FinalShare:0%} of the pool") : "the pool")} for this model. {N(st.HeldOutSeeds, "further seed", "further seeds")} held out to check agreement.")
                    : string.Create(C, $"- {N(st.Seeds, "mined seed", "mined seeds")} (labelled by similarity to the label definitions, with a margin over the runner-up) and {N(st.PseudoLabels, "pseudo-label", "pseudo-labels")} (labelled by the previous round's model {(st.MinersView ? "together with the miner's scores" : "alone")}, the most confident the same number per label); {N(st.HeldOutSeeds, "further seed", "further seeds")} held out to check agreement."));
                sb.AppendLine(C, $"- Training rows: {st.TrainRows} training, {st.ValidationRows} validation (seeded stratified split, seed {m.Seed}). Per label: {string.Join(", ", st.RowsPerLabel.Select(kv => $"{Md(kv.Key)} {kv.Value}"))}.");
                foreach (var round in st.Rounds) sb.AppendLine(C, $"- {Md(round)}");
                break;
            case FileCardSource f:
                sb.AppendLine(C, $"- Source file: `{Code(f.FileName)}`, {N(f.TrainRows + f.ValidationRows, "row", "rows")}; seeded stratified split (seed {m.Seed}): {f.TrainRows} training, {N(f.ValidationRows, "validation row", "validation rows")}.");
                sb.AppendLine(C, $"- Per label: {string.Join(", ", f.RowsPerLabel.Select(kv => $"{Md(kv.Key)} {kv.Value}"))}.");
                break;
        }
        if (m.Gold is not null) sb.AppendLine(C, $"- Gold set: `{Code(m.GoldName ?? "gold")}`, {N(m.Gold.Count, "human-labelled text", "human-labelled texts")} (evaluation only).");
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
            sb.AppendLine(C, $"On the human-labelled gold set ({Md(m.GoldName ?? "gold")}, {N(g.Count, "text", "texts")}) — **preferred**:");
            sb.AppendLine();
            Report(sb, g);
            sb.AppendLine();
            sb.AppendLine(C, $"On the validation split ({N(m.Validation.Count, "text", "texts")}, {same}):");
        }
        else
        {
            sb.AppendLine(C, $"On the validation split ({N(m.Validation.Count, "text", "texts")}, {same}; no gold set was given):");
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
            sb.AppendLine(C, $"- Auto chose the family by its score on this gold set{(m.GoldName is { } g ? $" ({Md(g)})" : "")}, so the gold figures are those of the best of {N(m.Compared.Count, "family", "families")} on it and a little optimistic. Score the model on a second labelled set for a figure no choice has seen.");
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

    /// <summary>The card in Japanese: every section, sentence and table header of the English card with the same facts
    /// and numbers (formatted in ja-JP), written as a Japanese reader would say them rather than word for word.</summary>
    private static class Japanese
    {
        private static string Fam(string id) => CardLanguages.Family(id, CardLanguage.Ja);

        private static string When(DateTimeOffset t) => t.ToString("yyyy年M月d日 HH:mm", J) + " (UTC)";

        private static string List(IEnumerable<string> items) => string.Join("、", items);

        private static string PerLabel(IReadOnlyDictionary<string, int> counts) => List(counts.Select(kv => string.Create(J, $"{Md(kv.Key)} {kv.Value}")));

        public static string Write(ModelCardInput m, Func<JobNote, string?>? say)
        {
            var sb = new StringBuilder();
            sb.AppendLine(J, $"# {Md(m.Title)}");
            sb.AppendLine();
            var when = When(m.TrainedAt);
            sb.AppendLine(m.Source switch
            {
                DatasetCardSource d => string.Create(J, $"プロジェクト: {Md(d.ProjectName)} · タスク バージョン {d.TaskVersion} · 学習 {when}。"),
                SelfTrainingCardSource { ReviewedSeeds: > 0 and var n } st when OriginOf(st, CardLanguage.Ja) is { } origin => string.Create(J, $"{when} にポータルで自己学習（{Md(origin)}）。レビュー済みサンプル {n} 件を除いて**人手のラベルなし**: ほかの学習ラベルはすべてマイナーかモデル自身が付けたものです。"),
                SelfTrainingCardSource st when OriginOf(st, CardLanguage.Ja) is { } origin => string.Create(J, $"{when} にポータルで自己学習（{Md(origin)}）。**人手のラベルなし**: 学習ラベルはすべてマイナーかモデル自身が付けたものです。"),
                SelfTrainingCardSource => string.Create(J, $"{when} に `Incubator mine --self-train` で学習。**人手のラベルなし**: 学習ラベルはすべてマイナーかモデル自身が付けたものです。"),
                _ => string.Create(J, $"{when} に `Incubator train` で学習。"),
            });
            sb.AppendLine();
            if (m.Source is DatasetCardSource task) Task(sb, task.Task);
            else if (m.Source is SelfTrainingCardSource self) Task(sb, self.Task);
            else
            {
                sb.AppendLine("## ラベル");
                sb.AppendLine();
                sb.AppendLine(List(m.Model.Labels.Select(Md)) + "（学習ファイルから。定義はありません）。");
                sb.AppendLine();
            }
            Model(sb, m, say);
            Provenance(sb, m, say);
            Metrics(sb, m);
            Limits(sb, m);
            return sb.ToString();
        }

        private static void Task(StringBuilder sb, TaskSpec task)
        {
            sb.AppendLine("## タスク");
            sb.AppendLine();
            sb.AppendLine(Md(task.Instruction));
            sb.AppendLine();
            var language = task.Preferences.Language switch { "ja" => "日本語 (ja)", "en" => "英語 (en)", var other => other };
            sb.AppendLine(J, $"言語: {language}。");
            sb.AppendLine();
            sb.AppendLine("## ラベル");
            sb.AppendLine();
            sb.AppendLine("| ラベル | 定義 |");
            sb.AppendLine("|---|---|");
            foreach (var l in task.Labels)
                sb.AppendLine(J, $"| {Cell(l.Name)} | {Cell(l.Description)}{(l.IsOther ? "（ほかのどのラベルにも当たらないもの）" : "")} |");
            sb.AppendLine();
        }

        internal static string Features(TrainedClassifier model)
        {
            var parts = new List<string>();
            if (model.Sparse is { } s)
            {
                var unit = s.Mode == TokenMode.Char ? "文字" : "単語";
                var sparse = string.Create(J, $"{unit} {s.MinGram}–{s.MaxGram}-gram {s.NGramCount:N0} 個（{(s.Sublinear ? "サブリニア " : "")}TF-IDF 重み、L2 正規化）");
                if (s.Conjunctions.Count > 0)
                    sparse += string.Create(J, $"、それに最も決め手になる n-gram {s.Conjunctions.Count} 個の「両方が出現」連言特徴");
                parts.Add(sparse);
            }
            if (model.EnglishOnly) parts.Add(string.Create(J, $"all-MiniLM-L6-v2 の文埋め込み（{DenseFeaturizer.Dimension} 次元。エンコーダーは英語しか知りません）"));
            return string.Join(" と並べて ", parts);
        }

        private static void Model(StringBuilder sb, ModelCardInput m, Func<JobNote, string?>? say)
        {
            var model = m.Model;
            sb.AppendLine("## モデル");
            sb.AppendLine();
            if (m.Pooled)
                sb.AppendLine(J, $"- ファミリー: **{Fam(ModelFamilies.PooledName)}**。{Fam(ModelFamilies.Name(model.Family))} のヘッドひとつとしてエクスポート（指定: {Fam(m.RequestedFamily)}）。");
            else
                sb.AppendLine(J, $"- ファミリー: **{Fam(ModelFamilies.Name(model.Family))}**（指定: {Fam(m.RequestedFamily)}）。");
            sb.AppendLine(J, $"- シード {m.Seed}。ラベルの偏りに対するクラス重み付け: {(m.ClassWeighting ? "あり" : "なし")}。");
            sb.AppendLine("- 特徴量: " + Features(model) + "。");
            sb.AppendLine(J, $"- 分類器: 特徴量 {model.FeatureCount:N0} 個の上の線形最大エントロピー ヘッドひとつ（ML.NET L-BFGS）、ラベル {model.Labels.Count} 個。");
            if (m.Encoder is not null)
                sb.AppendLine(J, $"- エンコーダー: {m.Encoder.Replace("(8-bit quantised)", "（8 ビット量子化）", StringComparison.Ordinal)}。");
            if (m.Choice is { } choice)
                sb.AppendLine(J, $"- 選択: {(m.ChoiceNote is { } note && say?.Invoke(note) is { } text ? Md(text).TrimEnd('。') : Md(choice))}。");
            if (m.Pooled)
                sb.AppendLine("- プール: ヘッドは sparse・dense・hybrid 各ファミリーのヘッド（それぞれ自分の特徴量の上）の平均で、確率の対数線形平均にあたります。ファミリーは選んでいません。");
            if (m.Refitted && m.Pooled)
                sb.AppendLine("- 学習＋検証での再学習: sparse・dense・hybrid の各ファミリーを、検証分割で選んだ設定のまま学習と検証の全サンプルで学習し直してからプールしました。下の検証の数値は、学習部分だけで学習した各ファミリーのプールのものです。");
            else if (m.Refitted)
                sb.AppendLine("- 学習＋検証での再学習: ファミリーと設定を選んだあと（設定は検証分割で、ファミリーは「選択」の行のとおり）、学習と検証の全サンプルでモデルを学習し直しました。下の検証の数値は、学習部分だけで学習したときのものです。");
            if (m.Speed is { } speed)
                sb.AppendLine(J, $"- サイズと速度: model.onnx {BundleSpeed.Size(speed.OnnxBytes)}。素の ONNX Runtime で毎秒 {speed.TextsPerSecond:0} テキスト（バッチ {speed.BatchSize}、シングルスレッド、検証テキスト {speed.Texts} 件{(speed.Passes > 1 ? $"を {speed.Passes} 回通した最速値" : "")}、学習したマシンで計測）。");
            foreach (var x in m.Compared)
            {
                var gold = x.GoldAccuracy is { } ga ? string.Format(J, "、ゴールド 正解率 {0:0.000}、マクロ F1 {1:0.000}", ga, x.GoldMacroF1) : "";
                if (x.Family == ModelFamilies.PooledName)
                    sb.AppendLine(J, $"- 三ファミリーのプール: 検証 正解率 {x.Accuracy:0.000}、マクロ F1 {x.MacroF1:0.000}{gold}。");
                else
                    sb.AppendLine(J, $"- {Fam(x.Family)}を試行: 検証 正解率 {x.Accuracy:0.000}、マクロ F1 {x.MacroF1:0.000}{gold}。");
            }
            sb.AppendLine();
        }

        private static void Provenance(StringBuilder sb, ModelCardInput m, Func<JobNote, string?>? say)
        {
            sb.AppendLine("## データの来歴");
            sb.AppendLine();
            switch (m.Source)
            {
                case DatasetCardSource { Dataset: var d } source:
                    sb.AppendLine(J, $"- データセット バージョン {d.Number}: 承認済みサンプル {d.Count} 件（学習 {d.TrainCount} 件、検証 {d.ValidationCount} 件。シード付き層化分割、シード {d.Seed}、検証の割合 {d.ValidationShare:0.##}）。");
                    sb.AppendLine(J, $"- コンテンツ ハッシュ (SHA-256): `{d.ContentHash}`。");
                    sb.AppendLine(J, $"- ラベル別: {PerLabel(d.Counts)}。");
                    sb.AppendLine(J, $"- LLM が書いた合成サンプル: {Pct(d.Lineage.SyntheticShare)}、コーパスからマイニング: {Pct(d.Lineage.MinedShare)}、レビュー担当者が編集: {Pct(d.Lineage.EditedShare)}、レビュー担当者がラベルを変更: {d.Lineage.Relabelled} 件、抜き取り確認で承認: {d.Lineage.AcceptedBySpotCheck} 件。");
                    sb.AppendLine(J, $"- 生成実行: {d.Lineage.RunIds.Count} 回。レビュー担当者: {(d.Lineage.Reviewers.Count == 0 ? "記録なし" : List(d.Lineage.Reviewers.Select(Md)))}。");
                    sb.AppendLine(J, $"- サンプルを書いた LLM: {(source.Llms.Count == 0 ? "なし（生成したサンプルなし）" : List(source.Llms.Select(Md)))}。");
                    break;
                case SelfTrainingCardSource st:
                    sb.AppendLine(st.ReviewedSeeds > 0
                        ? string.Create(J, $"- 人手のラベルはレビュー済みサンプル {st.ReviewedSeeds} 件（レビュー担当者が承認または修正したもの）だけで、それぞれシードや疑似ラベルの {st.ReviewedWeight} 倍の重み。プール: `{Code(st.PoolFile)}`、異なるテキスト {st.PoolTexts} 件。")
                        : string.Create(J, $"- 人手のラベルなし。プール: `{Code(st.PoolFile)}`、異なるテキスト {st.PoolTexts} 件。"));
                    var shares = st.ProportionalShares ? "ラベルごとに、そのラベルに傾くプールのテキスト数に比例した数、ただし均等配分の四分の一以上"
                        : st.CurriculumRounds > 0 ? $"カリキュラム方式のラベル付け: ラベルを問わず確信度の高い順にプールの {SelfTrainer.CurriculumSteps(st.CurriculumRounds).Replace(", ", "、", StringComparison.Ordinal)}、ラウンドごとに一段階"
                        : "ラベルごとに同じ数";
                    var view = st.MinersView
                        ? st.RawView ? $"マイナーの生の類似度スコアと平均したもの（プール全体でのそのラベル数が均等配分から離れていたため{(st.RawLean is { } e ? string.Create(J, $": {e:0.000} nats") : "")}）" : "マイナーのスコアと平均したもの"
                        : "単独のもの";
                    var final = st.FinalShare < 1 ? string.Create(J, $"プールのうち確信度の高い {st.FinalShare:0%} ") : "プール全体";
                    sb.AppendLine(st.EmbeddingRounds
                        ? string.Create(J, $"- マイニングしたシード {st.Seeds} 件（ラベル定義との類似度で、次点との差をつけてラベル付け）と疑似ラベル {st.PseudoLabels} 件: 各ラウンドで、プールの MiniLM 埋め込みに対するロジスティック回帰をシードと前のラウンドの最も確信度の高いテキスト（{shares}）から学習し、その確率は{view}です。最後のラウンドがこのモデルのために{final}にラベルを付けました。一致の確認用にさらにシード {st.HeldOutSeeds} 件を取り分けています。")
                        : string.Create(J, $"- マイニングしたシード {st.Seeds} 件（ラベル定義との類似度で、次点との差をつけてラベル付け）と疑似ラベル {st.PseudoLabels} 件（前のラウンドのモデルが{(st.MinersView ? "マイナーのスコアと合わせて" : "単独で")}付け、最も確信度の高いものをラベルごとに同じ数）。一致の確認用にさらにシード {st.HeldOutSeeds} 件を取り分けています。"));
                    sb.AppendLine(J, $"- 学習の行: 学習 {st.TrainRows} 行、検証 {st.ValidationRows} 行（シード付き層化分割、シード {m.Seed}）。ラベル別: {PerLabel(st.RowsPerLabel)}。");
                    foreach (var round in RoundLines(st, CardLanguage.Ja, say)) sb.AppendLine(J, $"- {Md(round)}");
                    break;
                case FileCardSource f:
                    sb.AppendLine(J, $"- 元のファイル: `{Code(f.FileName)}`、{f.TrainRows + f.ValidationRows} 行。シード付き層化分割（シード {m.Seed}）: 学習 {f.TrainRows} 行、検証 {f.ValidationRows} 行。");
                    sb.AppendLine(J, $"- ラベル別: {PerLabel(f.RowsPerLabel)}。");
                    break;
            }
            if (m.Gold is not null) sb.AppendLine(J, $"- ゴールドセット: `{Code(m.GoldName ?? "gold")}`、人手でラベル付けしたテキスト {m.Gold.Count} 件（評価にだけ使用）。");
            sb.AppendLine();
        }

        private static void Metrics(StringBuilder sb, ModelCardInput m)
        {
            sb.AppendLine("## 評価指標");
            sb.AppendLine();
            var same = m.Source switch
            {
                FileCardSource => "学習データと同じファイル",
                SelfTrainingCardSource => "学習の行と同じ方法でラベル付け — 正解率ではなく、モデル自身の疑似ラベルとの一致率",
                _ => "学習データと同じ出どころ",
            };
            if (m.Gold is { } g)
            {
                sb.AppendLine(J, $"人手でラベル付けしたゴールドセット（{Md(m.GoldName ?? "gold")}、{g.Count} 件）での結果 — **こちらを優先**:");
                sb.AppendLine();
                Report(sb, g);
                sb.AppendLine();
                sb.AppendLine(J, $"検証分割（{m.Validation.Count} 件、{same}）での結果:");
            }
            else
            {
                sb.AppendLine(J, $"検証分割（{m.Validation.Count} 件、{same}。ゴールドセットなし）での結果:");
            }
            sb.AppendLine();
            Report(sb, m.Validation);
            sb.AppendLine();
        }

        private static void Limits(StringBuilder sb, ModelCardInput m)
        {
            sb.AppendLine("## 既知の限界");
            sb.AppendLine();
            if (m.Gold is null)
                sb.AppendLine(m.Source is SelfTrainingCardSource
                    ? "- 人手のラベルがどこにもありません。検証の数値はモデルを疑似ラベルと比べたもので、正解と比べたものではありません。頼る前に数百件のテキストを人手でラベル付けしてください（`train` の `--gold`、またはポータルのゴールドセット）。"
                    : m.Source is DatasetCardSource
                    ? "- 人手でラベル付けしたゴールドセットがありません。検証テキストは学習テキストと同じ（大半が合成の）出どころなので、実際のテキストに対しては数値が楽観的になりがちです。"
                    : "- 人手でラベル付けしたゴールドセットがありません。検証の行は学習の行と同じファイルから来ているので、ほかのデータでは正解率が下がると考えてください。");
            else if (m.ChoseOnGold)
                sb.AppendLine(J, $"- auto はこのゴールドセット{(m.GoldName is { } g ? $"（{Md(g)}）" : "")}での成績でファミリーを選んだため、ゴールドの数値はそのセットで試した {m.Compared.Count} 個のファミリーのうち最良のもので、やや楽観的です。どの選択にも使っていないもうひとつのラベル付きセットで評価すると、偏りのない数値が得られます。");
            var counts = m.Source switch
            {
                DatasetCardSource d => d.Dataset.Counts,
                FileCardSource f => f.RowsPerLabel,
                SelfTrainingCardSource st => st.RowsPerLabel,
                _ => new Dictionary<string, int>(),
            };
            if (m.Source is DatasetCardSource { Dataset.Lineage.SyntheticShare: > 0.5 and var share })
                sb.AppendLine(J, $"- 学習データの {Pct(share)} は LLM が書き、人が承認したものです。実際のテキストは文体や長さが違うかもしれません。");
            if (m.Model.EnglishOnly)
                sb.AppendLine(J, $"- {Fam(ModelFamilies.Name(m.Model.Family))} ファミリーのエンコーダー（all-MiniLM-L6-v2）は英語しか知りません。ほかの言語はうまく分類できません。");
            var smallest = counts.OrderBy(kv => kv.Value).FirstOrDefault();
            if (smallest.Key is not null && smallest.Value < 20)
                sb.AppendLine(J, $"- 「{Md(smallest.Key)}」の例が少ない（{smallest.Value} 件）ため、そのスコアは不確かです。");
            sb.AppendLine("- モデルは上のラベルしか知りません。どのラベルも当てはまらないテキストにも、必ずどれかひとつを付けます。");
            sb.AppendLine("- 想定する用途: 間違いを直せる人がいる前提での振り分けとトリアージ。人についての判断には使わないでください。");
        }

        private static void Report(StringBuilder sb, StoredReport r)
        {
            sb.AppendLine(J, $"正解率 {r.Accuracy:0.000}、マクロ F1 {r.MacroF1:0.000}。");
            sb.AppendLine();
            sb.AppendLine("| ラベル | 適合率 | 再現率 | F1 | 件数 |");
            sb.AppendLine("|---|---|---|---|---|");
            foreach (var p in r.PerClass)
                sb.AppendLine(J, $"| {Cell(p.Label)} | {p.Precision:0.000} | {p.Recall:0.000} | {p.F1:0.000} | {p.Support} |");
        }
    }

    /// <summary>A count and its English word ("1 text", "3 texts"; decision 0039).</summary>
    private static string N(long n, string one, string other) => EnglishCount.Of(n, one, other);

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

/// <summary>Says a job note (auto's choice, a self-training round) in a model card's language: the portal's resources
/// ("JobNote.{Code}"); null when it has no such sentence, and the card keeps the note's English.</summary>
public interface ICardNotes
{
    string? Say(JobNote note, CardLanguage language);
}
