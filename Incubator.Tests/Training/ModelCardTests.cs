using Incubator.Domain.Datasets;
using Incubator.Domain.Tasks;
using Incubator.Domain.Training;

namespace Incubator.Tests.Training;

/// <summary>The one model-card builder, for the portal and the command line: what it says about the model is read from
/// the trained model (n-grams, conjunctions, features), not written in by hand.</summary>
public sealed class ModelCardTests
{
    /// <summary>The size the card states is the size of model.onnx in a unit that shows it: a 34 KB sparse model is not
    /// "0.0 MiB".</summary>
    [Theory]
    [InlineData(35_000L, 16, "model.onnx 34 KiB; 3666 texts/s with plain ONNX Runtime (batch 64, one thread, 16 validation texts,")]
    [InlineData(900L, 1, "model.onnx 1 KiB; 3666 texts/s with plain ONNX Runtime (batch 64, one thread, 1 validation text,")]
    [InlineData(90_672_304L, 64, "model.onnx 86.5 MiB; 3666 texts/s with plain ONNX Runtime (batch 64, one thread, 64 validation texts,")]
    public void The_size_and_speed_line_states_the_size_in_a_unit_that_shows_it(long bytes, int texts, string expected) =>
        Assert.StartsWith(expected, new BundleSpeed(bytes, 3666.4, texts, 64).Describe());

    /// <summary>The card's texts/s is the fastest of several timed passes (one pass over 16 texts lasts about a
    /// millisecond: timed once, the figure was the machine's load), and the card says so.</summary>
    [Fact]
    public void Speed_is_the_fastest_of_several_timed_passes_and_the_card_says_so()
    {
        var rows = TrainingFixtures.English();
        var (train, validation) = StratifiedSplit.Split(rows, 0.2, 5);
        var model = new ClassifierTrainer().Train(TrainingFixtures.LabelsOf(rows), train, validation, null, new TrainingOptions(ModelFamily.Sparse), null, CancellationToken.None).Model;
        var texts = validation.Take(16).Select(r => r.Text).ToList();
        var speed = ModelBundle.MeasureSpeed(model.ExportOnnx(), model, texts);
        Assert.InRange(speed.Passes, ModelBundle.MinSpeedPasses, ModelBundle.MaxSpeedPasses);
        Assert.Equal(16, speed.Texts);
        Assert.Contains($"(batch 64, one thread, fastest of {speed.Passes} passes over 16 validation texts, measured on the training machine)", speed.Describe());
    }

    private static (TrainingResult Result, ModelCardInput Input) Train(ClassifierTrainer trainer, ModelCardSource source)
    {
        var rows = TrainingFixtures.English();
        var labels = TrainingFixtures.LabelsOf(rows);
        var (train, validation) = StratifiedSplit.Split(rows, 0.2, 5);
        var options = new TrainingOptions(ModelFamily.Sparse, 5);
        var result = trainer.Train(labels, train, validation, null, options, null, default);
        return (result, ModelCardInput.For("support classifier", result, options, null, DateTimeOffset.UnixEpoch, source));
    }

    private static FileCardSource File() => new("support-en.tsv", new Dictionary<string, int> { ["billing"] = 110, ["shipping"] = 110, ["technical"] = 110 }, 264, 66);

    [Fact]
    public void The_card_states_the_trained_models_own_numbers()
    {
        var (result, input) = Train(new ClassifierTrainer { ConjunctionCount = 12 }, File());
        var sparse = result.Model.Sparse!;
        Assert.Equal(12, sparse.Conjunctions.Count);
        var card = ModelCardBuilder.Write(input);
        Assert.Contains($"- Features: {sparse.NGramCount:N0} word 1–2-grams with sublinear TF-IDF weights, L2-normalised, plus \"both occur\" conjunctions of the 12 most decisive n-grams.", card);
        Assert.Contains($"over {result.Model.FeatureCount:N0} features, 3 labels.", card);
        Assert.DoesNotContain("60 most decisive", card);

        var (_, plain) = Train(new ClassifierTrainer { ConjunctionCount = 0 }, File());
        Assert.DoesNotContain("conjunctions", ModelCardBuilder.Write(plain));
    }

    [Fact]
    public void Portal_and_command_line_cards_share_the_model_and_metrics_and_differ_only_in_provenance()
    {
        var (result, fileInput) = Train(new ClassifierTrainer(), File());
        var task = new TaskSpec
        {
            Name = "Support",
            Instruction = "Route support mail.",
            Labels = [new LabelSpec { Name = "billing", Description = "Money" }, new LabelSpec { Name = "shipping", Description = "Parcels" }, new LabelSpec { Name = "technical", Description = "Bugs" }],
        };
        var dataset = new DatasetVersionView(Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), 2, 3, "abc123", 330,
            new Dictionary<string, int> { ["billing"] = 110, ["shipping"] = 110, ["technical"] = 110 },
            new DatasetLineage(3, [Guid.NewGuid()], ["reviewer@example.com"], 330, 0, 0, 0, 0), 5, 0.2, 264, 66, DateTimeOffset.UnixEpoch, null);
        var portal = ModelCardBuilder.Write(fileInput with { Source = new DatasetCardSource("Helpdesk", task, 3, dataset, ["gpt-test (connection “lab”)"]) });
        var cli = ModelCardBuilder.Write(fileInput);

        string Section(string card, string name) => card[card.IndexOf($"## {name}", StringComparison.Ordinal)..card.IndexOf("## ", card.IndexOf($"## {name}", StringComparison.Ordinal) + 3, StringComparison.Ordinal)];
        Assert.Equal(Section(cli, "Model"), Section(portal, "Model"));
        Assert.Contains("Seed 5", cli);
        Assert.Contains("| billing | Money |", portal);
        Assert.Contains("Project: Helpdesk · task version 3", portal);
        Assert.Contains("Dataset version 2: 330 approved samples", portal);
        Assert.Contains("Synthetic (written by an LLM): 100%", portal);
        Assert.Contains("Source file: `support-en.tsv`, 330 rows", cli);
        Assert.Contains("Trained with `Incubator train`", cli);
        Assert.Contains($"Accuracy {result.Validation.Accuracy:0.000}", cli);
    }

    /// <summary>A plural English noun after the number one ("1 texts", "1 validation rows", "1 word 1–2-grams").</summary>
    private static readonly System.Text.RegularExpressions.Regex OnePlural = new(
        @"(?<![\d.,])1 (?:[\p{L}-]+ ){0,2}?[\p{L}\d–-]*(?:texts|rows|labels|samples|seeds|features|families|grams)\b");

    /// <summary>Every counted phrase of the English card says its word for one in the singular (decision 0039,
    /// amendment card22): a validation split, a gold set, a source file, a dataset and a self-training of one text, row,
    /// sample or seed each say "1 text", "1 validation row", "1 approved sample", "1 mined seed"..., never "1 texts". The
    /// Japanese card counts them with their counters (件, 行).</summary>
    [Fact]
    public void An_english_card_of_one_text_or_row_says_it_in_the_singular()
    {
        var (_, input) = Train(new ClassifierTrainer(), File());
        var one = input with { Validation = input.Validation with { Count = 1 }, Gold = input.Validation with { Count = 1 }, GoldName = "gold.tsv" };
        var task = new TaskSpec
        {
            Name = "Support", Instruction = "Route support mail.",
            Labels = [new LabelSpec { Name = "billing", Description = "Money" }, new LabelSpec { Name = "shipping", Description = "Parcels" }, new LabelSpec { Name = "technical", Description = "Bugs" }],
        };
        var perLabel = new Dictionary<string, int> { ["billing"] = 1, ["shipping"] = 1, ["technical"] = 1 };
        var dataset = new DatasetVersionView(Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), 2, 3, "abc123", 1, perLabel,
            new DatasetLineage(3, [], [], 1, 0, 0, 0, 0), 5, 0.2, 1, 1, DateTimeOffset.UnixEpoch, null);
        var file = ModelCardBuilder.Write(one with { Source = new FileCardSource("one.tsv", perLabel, 1, 1) });
        var portal = ModelCardBuilder.Write(one with { Source = new DatasetCardSource("Helpdesk", task, 3, dataset, []) });
        var self = ModelCardBuilder.Write(one with { Source = new SelfTrainingCardSource(task, "pool.txt", 1, 1, 1, 1, perLabel, 1, 1, []) { ReviewedSeeds = 1, Origin = "project Helpdesk" } });
        var embedding = ModelCardBuilder.Write(one with { Source = new SelfTrainingCardSource(task, "pool.txt", 1, 1, 1, 1, perLabel, 1, 1, []) { EmbeddingRounds = true } });

        Assert.Contains("On the validation split (1 text, same file as the training data):", file);
        Assert.Contains("On the human-labelled gold set (gold.tsv, 1 text) — **preferred**:", file);
        Assert.Contains("- Gold set: `gold.tsv`, 1 human-labelled text (evaluation only).", file);
        Assert.Contains("- Source file: `one.tsv`, 2 rows; seeded stratified split (seed 5): 1 training, 1 validation row.", file);
        Assert.Contains("- Dataset version 2: 1 approved sample (1 train, 1 validation;", portal);
        Assert.Contains("**No human labels** except 1 reviewed sample: every other", self);
        Assert.Contains("- No human labels but 1 reviewed sample (approved or corrected by a reviewer), each weighted ×1 over a seed or pseudo-label. Pool: `pool.txt`, 1 distinct text.", self);
        Assert.Contains("- 1 mined seed (labelled by similarity to the label definitions, with a margin over the runner-up) and 1 pseudo-label (labelled", self);
        Assert.Contains("; 1 further seed held out to check agreement.", self);
        Assert.Contains("- 1 mined seed (labelled by similarity to the label definitions, with a margin over the runner-up) and 1 pseudo-label: each round", embedding);
        Assert.Contains(" 1 further seed held out to check agreement.", embedding);
        foreach (var card in new[] { file, portal, self, embedding })
            Assert.False(OnePlural.IsMatch(card), OnePlural.Match(card).Value + "\n" + card);

        // More than one keeps the plural, as before.
        Assert.Contains("- Source file: `support-en.tsv`, 330 rows; seeded stratified split (seed 5): 264 training, 66 validation rows.", ModelCardBuilder.Write(input));

        // Japanese counts with counters, one or many.
        var ja = ModelCardBuilder.Write(one with { Source = new DatasetCardSource("Helpdesk", task, 3, dataset, []) }, CardLanguage.Ja);
        Assert.Contains("承認済みサンプル 1 件（学習 1 件、検証 1 件。", ja);
        Assert.Contains("検証分割（1 件、", ja);
        var jaSelf = ModelCardBuilder.Write(one with { Source = new SelfTrainingCardSource(task, "pool.txt", 1, 1, 1, 1, perLabel, 1, 1, []) }, CardLanguage.Ja);
        Assert.Contains("- 学習の行: 学習 1 行、検証 1 行（", jaSelf);
    }
}
