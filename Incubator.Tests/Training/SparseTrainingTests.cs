using Incubator.Domain.Training;
using Xunit.Abstractions;

namespace Incubator.Tests.Training;

public sealed class SparseTrainingTests(ITestOutputHelper output)
{
    private static TrainingResult TrainSparse(List<LabeledText> rows, int seed = 1)
    {
        var (train, validation) = StratifiedSplit.Split(rows, 0.25, seed);
        return new ClassifierTrainer().Train(TrainingFixtures.LabelsOf(rows), train, validation, null,
            new TrainingOptions(ModelFamily.Sparse, seed), null, CancellationToken.None);
    }

    [Fact]
    public void English_fixture_reaches_90_percent_validation_accuracy_with_word_ngrams()
    {
        var result = TrainSparse(TrainingFixtures.English());
        output.WriteLine($"sparse en: accuracy {result.Validation.Accuracy:0.000}, macro-F1 {result.Validation.MacroF1:0.000}, features {result.Model.FeatureCount}");
        Assert.Equal(ModelFamily.Sparse, result.ChosenFamily);
        Assert.Equal(TokenMode.Word, result.Model.TokenMode);
        Assert.True(result.Validation.Accuracy >= 0.9, $"accuracy {result.Validation.Accuracy}");
        Assert.True(result.Validation.MacroF1 >= 0.9, $"macro-F1 {result.Validation.MacroF1}");
    }

    [Fact]
    public void Japanese_fixture_uses_character_ngrams_and_reaches_90_percent()
    {
        var result = TrainSparse(TrainingFixtures.Japanese());
        output.WriteLine($"sparse ja: accuracy {result.Validation.Accuracy:0.000}, macro-F1 {result.Validation.MacroF1:0.000}");
        Assert.Equal(TokenMode.Char, result.Model.TokenMode);
        Assert.True(result.Validation.Accuracy >= 0.9, $"accuracy {result.Validation.Accuracy}");
    }

    [Fact]
    public void Onnx_export_matches_in_app_predictions_on_evaluation_rows_and_tricky_input()
    {
        foreach (var rows in new[] { TrainingFixtures.English(), TrainingFixtures.Japanese() })
        {
            var result = TrainSparse(rows);
            // The graph's conjunction part is exercised: the model has conjunctions and most rows switch some on.
            var sparse = result.Model.Sparse!;
            Assert.Equal(60, sparse.Conjunctions.Count);
            Assert.True(rows.Count(r => sparse.Featurize(r.Text).Indices.Any(i => i >= sparse.NGramCount)) > rows.Count / 2);
            var texts = rows.Select(r => r.Text).Concat(rows.Take(40).Select(r => r.Text.ToUpperInvariant())).Concat(TrainingFixtures.TrickyTexts()).ToList();
            var graph = result.Model.ExportOnnx();
            // The graph works on the n-gram occurrences of the batch, sorted into runs and summed per row by scatter-add;
            // neither TfIdfVectorizer's batch × vocabulary output nor a hash Unique over the padded batch is left.
            var ops = OnnxProbe.OpTypes(graph);
            Assert.DoesNotContain("TfIdfVectorizer", ops);
            Assert.DoesNotContain("Unique", ops);
            Assert.Contains("TopK", ops);
            Assert.Contains("ScatterElements", ops);
            using var onnx = new OnnxClassifier(graph, result.Model.Labels, ModelFamily.Sparse);
            var dev = ParityAssert.SameAsOnnx(result.Model, onnx, texts);
            // Each row is summed over its own features only, in the same order whatever else is in the batch: a text's
            // probabilities alone are bit for bit those it gets in a batch of 64 next to texts of other lengths.
            using var single = new OnnxClassifier(graph, result.Model.Labels, ModelFamily.Sparse) { BatchSize = 1 };
            var batched = onnx.Predict(texts);
            var alone = single.Predict(texts);
            for (var i = 0; i < texts.Count; i++) Assert.Equal(alone[i].Probabilities, batched[i].Probabilities);
            // One text at a time too: an empty string alone makes the tokenizer emit a [1, 0] tensor.
            foreach (var t in TrainingFixtures.TrickyTexts()) ParityAssert.SameAsOnnx(result.Model, onnx, [t]);
            ParityAssert.SameAsOnnx(result.Model, onnx, ["", "", " "]);
            output.WriteLine($"{result.Model.TokenMode}: {texts.Count} texts, max probability deviation {dev:E2}");
        }
    }

    [Fact]
    public void Case_is_ignored()
    {
        var model = TrainSparse(TrainingFixtures.English()).Model;
        var p = model.Predict(["my card was charged twice", "MY CARD WAS CHARGED TWICE", "My Card Was Charged Twice"]);
        Assert.Equal(p[0].Probabilities, p[1].Probabilities);
        Assert.Equal(p[0].Probabilities, p[2].Probabilities);
    }

    [Fact]
    public void Same_seed_gives_identical_model_and_other_seed_gives_other_split()
    {
        var rows = TrainingFixtures.English();
        var a = TrainSparse(rows, seed: 5).Model;
        var b = TrainSparse(rows, seed: 5).Model;
        Assert.Equal(Save(a), Save(b));
        Assert.NotEqual(Save(a), Save(TrainSparse(rows, seed: 6).Model));
    }

    [Fact]
    public void Save_and_load_round_trip_predicts_the_same()
    {
        var model = TrainSparse(TrainingFixtures.English()).Model;
        using var ms = new MemoryStream(Save(model));
        var loaded = TrainedClassifier.Load(ms);
        var texts = TrainingFixtures.TrickyTexts();
        var a = model.Predict(texts);
        var b = loaded.Predict(texts);
        for (var i = 0; i < texts.Count; i++) Assert.Equal(a[i].Probabilities, b[i].Probabilities);
        Assert.Equal(model.Labels, loaded.Labels);
    }

    [Fact]
    public void Explain_names_the_words_that_pushed_the_decision()
    {
        var model = TrainSparse(TrainingFixtures.English()).Model;
        var terms = model.Explain("the refund never arrived and my card was charged", 5);
        Assert.NotEmpty(terms);
        Assert.All(terms, t => Assert.Equal("billing", t.Label));
        Assert.Contains(terms, t => t.Term is "refund" or "charged" or "card");
        Assert.True(terms[0].Weight >= terms[^1].Weight);
        Assert.Empty(model.Explain("", 5));
    }

    private static byte[] Save(TrainedClassifier model)
    {
        using var ms = new MemoryStream();
        model.Save(ms);
        return ms.ToArray();
    }
}
