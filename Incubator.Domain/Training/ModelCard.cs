using System.Globalization;
using System.Text;
using Incubator.Domain.Datasets;
using Incubator.Domain.Tasks;

namespace Incubator.Domain.Training;

/// <summary>What the model card is written from: everything is read from rows, nothing is typed in by hand.</summary>
public sealed record ModelCardInput(
    string ProjectName,
    TaskSpec Task,
    int TaskVersion,
    int ModelNumber,
    string Family,
    string RequestedFamily,
    int Seed,
    DatasetVersionView Dataset,
    IReadOnlyList<string> Llms,
    StoredReport Validation,
    StoredReport? Gold,
    string? GoldFileName,
    IReadOnlyList<StoredComparison> Compared,
    DateTimeOffset TrainedAt)
{
    /// <summary>The model was fitted again on training + validation after the choice; the validation figures are
    /// those of the selection fit.</summary>
    public bool Refitted { get; init; }

    /// <summary>Dense and hybrid: the encoder's name (e.g. "all-MiniLM-L6-v2 (8-bit quantised)").</summary>
    public string? Encoder { get; init; }

    public BundleSpeed? Speed { get; init; }
}

/// <summary>Writes the model card (markdown) that goes into the bundle and the registry.</summary>
public static class ModelCardBuilder
{
    public static string Write(ModelCardInput m)
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine(c, $"# {Md(m.Task.Name)} — model v{m.ModelNumber}");
        sb.AppendLine();
        sb.AppendLine(c, $"Project: {Md(m.ProjectName)} · task version {m.TaskVersion} · trained {m.TrainedAt:yyyy-MM-dd HH:mm} UTC.");
        sb.AppendLine();
        sb.AppendLine("## Task");
        sb.AppendLine();
        sb.AppendLine(Md(m.Task.Instruction));
        sb.AppendLine();
        sb.AppendLine(c, $"Language: {m.Task.Preferences.Language}.");
        sb.AppendLine();
        sb.AppendLine("## Labels");
        sb.AppendLine();
        sb.AppendLine("| label | definition |");
        sb.AppendLine("|---|---|");
        foreach (var l in m.Task.Labels)
            sb.AppendLine(c, $"| {Cell(l.Name)} | {Cell(l.Description)}{(l.IsOther ? " (none of the other labels)" : "")} |");
        sb.AppendLine();
        sb.AppendLine("## Model");
        sb.AppendLine();
        sb.AppendLine(c, $"- Family: **{m.Family}** (requested: {m.RequestedFamily}), seed {m.Seed}.");
        sb.AppendLine(m.Family switch
        {
            "dense" => "- Features: all-MiniLM-L6-v2 sentence embeddings (English only) and a linear head.",
            "hybrid" => "- Features: word uni- and bi-grams with sublinear TF-IDF weighting (character n-grams for text written without spaces) plus conjunctions of the 60 most decisive n-grams (both occur), side by side with all-MiniLM-L6-v2 sentence embeddings (English only); one linear maximum-entropy classifier.",
            _ => "- Features: word uni- and bi-grams with sublinear TF-IDF weighting (character n-grams for text written without spaces) plus conjunctions of the 60 most decisive n-grams (both occur), and a linear maximum-entropy classifier.",
        });
        if (m.Encoder is not null) sb.AppendLine(c, $"- Encoder: {m.Encoder}.");
        if (m.Refitted)
            sb.AppendLine("- Refit on training + validation: after the family and its settings were chosen on the validation split, the model was fitted again on all training and validation samples; the validation figures below are those of the fit on the training part alone.");
        if (m.Speed is { } speed) sb.AppendLine(c, $"- Size and speed: {speed.Describe()}.");
        foreach (var x in m.Compared)
        {
            var gold = x.GoldAccuracy is { } ga ? string.Format(c, "; gold accuracy {0:0.000}, macro-F1 {1:0.000}", ga, x.GoldMacroF1) : "";
            sb.AppendLine(c, $"- Tried {x.Family}: validation accuracy {x.Accuracy:0.000}, macro-F1 {x.MacroF1:0.000}{gold}.");
        }
        sb.AppendLine();
        sb.AppendLine("## Data provenance");
        sb.AppendLine();
        var d = m.Dataset;
        sb.AppendLine(c, $"- Dataset version {d.Number}: {d.Count} approved samples ({d.TrainCount} train, {d.ValidationCount} validation; seeded stratified split, seed {d.Seed}, validation share {d.ValidationShare:0.##}).");
        sb.AppendLine(c, $"- Content hash (SHA-256): `{d.ContentHash}`.");
        sb.AppendLine(c, $"- Per label: {string.Join(", ", d.Counts.Select(kv => $"{kv.Key} {kv.Value}"))}.");
        sb.AppendLine(c, $"- Synthetic (written by an LLM): {Pct(d.Lineage.SyntheticShare)}; mined from a corpus: {Pct(d.Lineage.MinedShare)}; edited by a reviewer: {Pct(d.Lineage.EditedShare)}; relabelled by a reviewer: {d.Lineage.Relabelled}; approved by spot-check: {d.Lineage.AcceptedBySpotCheck}.");
        sb.AppendLine(c, $"- Generation runs: {d.Lineage.RunIds.Count}; reviewers: {(d.Lineage.Reviewers.Count == 0 ? "none recorded" : string.Join(", ", d.Lineage.Reviewers.Select(Md)))}.");
        sb.AppendLine(c, $"- LLM used to write samples: {(m.Llms.Count == 0 ? "none (no generated samples)" : string.Join(", ", m.Llms.Select(Md)))}.");
        sb.AppendLine();
        sb.AppendLine("## Metrics");
        sb.AppendLine();
        if (m.Gold is { } g)
        {
            sb.AppendLine(c, $"On the human-labelled gold set ({Md(m.GoldFileName ?? "gold")}, {g.Count} texts) — **preferred**:");
            sb.AppendLine();
            Metrics(sb, g);
            sb.AppendLine();
            sb.AppendLine(c, $"On the validation split ({m.Validation.Count} texts, same source as the training data):");
        }
        else
        {
            sb.AppendLine(c, $"On the validation split ({m.Validation.Count} texts, same source as the training data; no gold set was uploaded):");
        }
        sb.AppendLine();
        Metrics(sb, m.Validation);
        sb.AppendLine();
        sb.AppendLine("## Known limits");
        sb.AppendLine();
        if (m.Gold is null)
            sb.AppendLine("- No human-labelled gold set: validation texts come from the same (mostly synthetic) source as the training texts, so these numbers are likely optimistic for real-world text.");
        if (d.Lineage.SyntheticShare > 0.5)
            sb.AppendLine(c, $"- {Pct(d.Lineage.SyntheticShare)} of the training data was written by an LLM and approved by people; real texts may differ in style and length.");
        if (m.Family is "dense" or "hybrid")
            sb.AppendLine($"- The {m.Family} family's encoder (all-MiniLM-L6-v2) knows English only; other languages will be classified poorly.");
        var smallest = d.Counts.OrderBy(kv => kv.Value).FirstOrDefault();
        if (smallest.Key is not null && smallest.Value < 20)
            sb.AppendLine(c, $"- Few examples for '{Md(smallest.Key)}' ({smallest.Value}); its scores are uncertain.");
        sb.AppendLine("- The model only knows the labels above; every text gets one of them, even when none fits.");
        sb.AppendLine("- Intended use: routing and triage with a person able to correct mistakes; not for decisions about people.");
        return sb.ToString();
    }

    private static void Metrics(StringBuilder sb, StoredReport r)
    {
        var c = CultureInfo.InvariantCulture;
        sb.AppendLine(c, $"Accuracy {r.Accuracy:0.000}, macro-F1 {r.MacroF1:0.000}.");
        sb.AppendLine();
        sb.AppendLine("| label | precision | recall | F1 | support |");
        sb.AppendLine("|---|---|---|---|---|");
        foreach (var p in r.PerClass)
            sb.AppendLine(c, $"| {Cell(p.Label)} | {p.Precision:0.000} | {p.Recall:0.000} | {p.F1:0.000} | {p.Support} |");
    }

    private static string Pct(double share) => (share * 100).ToString("0", CultureInfo.InvariantCulture) + "%";

    private static string Md(string s) => s.Replace("\r", " ").Replace("\n", " ");

    private static string Cell(string s) => Md(s).Replace("|", "\\|");
}
