using Incubator.Domain.Training;

namespace Incubator.Tests.Training;

public sealed class EvaluationAndSplitTests
{
    private sealed class FixedClassifier(IReadOnlyList<string> labels, Dictionary<string, string> answers) : ITextClassifier
    {
        public IReadOnlyList<string> Labels => labels;

        public ModelFamily Family => ModelFamily.Sparse;

        public IReadOnlyList<Prediction> Predict(IReadOnlyList<string> texts) => texts.Select(t =>
        {
            var label = answers[t];
            var p = labels.Select(l => l == label ? 0.8f : 0.2f / (labels.Count - 1)).ToArray();
            return new Prediction(label, 0.8f, p);
        }).ToList();
    }

    [Fact]
    public void Metrics_match_a_hand_computed_example()
    {
        // truth:     a a a b b c     predicted: a a b b c c
        // a: tp 2, predicted 2, support 3 → P 1, R 2/3, F1 0.8
        // b: tp 1, predicted 2, support 2 → P 0.5, R 0.5, F1 0.5
        // c: tp 1, predicted 2, support 1 → P 0.5, R 1, F1 2/3
        var rows = new List<LabeledText> { new("a", "1"), new("a", "2"), new("a", "3"), new("b", "4"), new("b", "5"), new("c", "6") };
        var answers = new Dictionary<string, string> { ["1"] = "a", ["2"] = "a", ["3"] = "b", ["4"] = "b", ["5"] = "c", ["6"] = "c" };
        var report = Evaluation.Evaluate(new FixedClassifier(["a", "b", "c"], answers), rows);
        Assert.Equal(6, report.Count);
        Assert.Equal(4.0 / 6, report.Accuracy, 10);
        Assert.Equal((0.8 + 0.5 + 2.0 / 3) / 3, report.MacroF1, 10);
        Assert.Equal(1.0, report.PerClass[0].Precision, 10);
        Assert.Equal(2.0 / 3, report.PerClass[0].Recall, 10);
        Assert.Equal(0.5, report.PerClass[1].F1, 10);
        Assert.Equal(1, report.PerClass[2].Support);
        Assert.Equal([2, 1, 0], report.Confusion[0]);
        Assert.Equal([0, 1, 1], report.Confusion[1]);
        Assert.Equal([0, 0, 1], report.Confusion[2]);
        Assert.Equal(2, report.Misclassified.Count);
        Assert.Contains(report.Misclassified, m => m is { Text: "3", Actual: "a", Predicted: "b" });
    }

    [Fact]
    public void A_label_never_seen_nor_predicted_does_not_count_in_macro_f1()
    {
        var rows = new List<LabeledText> { new("a", "1"), new("b", "2") };
        var answers = new Dictionary<string, string> { ["1"] = "a", ["2"] = "b" };
        var report = Evaluation.Evaluate(new FixedClassifier(["a", "b", "c"], answers), rows);
        Assert.Equal(1.0, report.MacroF1);
        Assert.Equal(0, report.PerClass[2].Support);
    }

    [Fact]
    public void Stratified_split_keeps_label_shares_is_seeded_and_keeps_input_order()
    {
        var rows = Enumerable.Range(0, 100).Select(i => new LabeledText(i % 10 == 0 ? "rare" : "common", $"t{i}")).ToList();
        var (train, validation) = StratifiedSplit.Split(rows, 0.2, seed: 4);
        Assert.Equal(100, train.Count + validation.Count);
        Assert.Empty(train.Select(r => r.Text).Intersect(validation.Select(r => r.Text)));
        Assert.Equal(2, validation.Count(r => r.Label == "rare"));
        Assert.Equal(18, validation.Count(r => r.Label == "common"));
        Assert.Equal(validation.OrderBy(r => int.Parse(r.Text[1..])).ToList(), validation);
        var again = StratifiedSplit.Split(rows, 0.2, seed: 4);
        Assert.Equal(validation, again.Validation);
        Assert.NotEqual(validation, StratifiedSplit.Split(rows, 0.2, seed: 5).Validation);
    }

    [Fact]
    public void Stratified_split_puts_one_of_two_in_validation_and_never_empties_training()
    {
        var rows = new List<LabeledText> { new("x", "1"), new("x", "2"), new("y", "3"), new("z", "4"), new("z", "5"), new("z", "6") };
        var (train, validation) = StratifiedSplit.Split(rows, 0.1, 1);
        Assert.Single(validation, r => r.Label == "x");
        Assert.DoesNotContain(validation, r => r.Label == "y");
        Assert.Single(validation, r => r.Label == "z");
        Assert.Contains(train, r => r.Label == "x");
    }

    [Fact]
    public void Trainer_rejects_fewer_than_two_labels_empty_labels_and_unknown_gold_labels()
    {
        var trainer = new ClassifierTrainer();
        var rows = new List<LabeledText> { new("a", "one"), new("b", "two") };
        var opts = new TrainingOptions(ModelFamily.Sparse);
        Assert.Contains("at least 2 labels", Assert.Throws<TrainingDataException>(() => trainer.Train(["a"], [new("a", "x")], [new("a", "y")], null, opts, null, default)).Message);
        Assert.Contains("empty", Assert.Throws<TrainingDataException>(() => trainer.Train(["a", ""], rows, rows, null, opts, null, default)).Message);
        Assert.Contains("row 2", Assert.Throws<TrainingDataException>(() => trainer.Train(["a", "b"], [new("a", "x"), new(" ", "y")], rows, null, opts, null, default)).Message);
        Assert.Contains("'c'", Assert.Throws<TrainingDataException>(() => trainer.Train(["a", "b"], rows, rows, [new("c", "z")], opts, null, default)).Message);
        Assert.Contains("cover 1 label", Assert.Throws<TrainingDataException>(() => trainer.Train(["a", "b"], [new("a", "x")], rows, null, opts, null, default)).Message);
    }

    [Fact]
    public void Class_weighting_helps_the_rare_class()
    {
        // 90 "common" rows and 10 "rare" rows that share words: without weighting the rare class is drowned out.
        var rng = new Random(2);
        var common = "order status delivery package update tracking shipping".Split(' ');
        var rare = "order status refund money back package".Split(' ');
        string Sentence(string[] words) => string.Join(' ', Enumerable.Range(0, 5).Select(_ => words[rng.Next(words.Length)]));
        var rows = Enumerable.Range(0, 90).Select(_ => new LabeledText("common", Sentence(common)))
            .Concat(Enumerable.Range(0, 10).Select(_ => new LabeledText("rare", Sentence(rare)))).ToList();
        var probe = Enumerable.Range(0, 50).Select(_ => new LabeledText("rare", Sentence(rare))).ToList();
        double RareRecall(bool weighting)
        {
            var r = new ClassifierTrainer().Train(["common", "rare"], rows, rows, null, new TrainingOptions(ModelFamily.Sparse, 1, weighting), null, default);
            return Evaluation.Evaluate(r.Model, probe).Accuracy;
        }
        Assert.True(RareRecall(true) > RareRecall(false), $"weighted {RareRecall(true)} vs unweighted {RareRecall(false)}");
    }
}
