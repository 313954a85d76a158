using Incubator.Domain.Training;
using Xunit.Abstractions;

namespace Incubator.Tests.Training;

/// <summary>One dense model trained on the English fixture, shared by the tests (MiniLM embedding is the slow part).</summary>
public sealed class DenseFixture
{
    public DenseFixture()
    {
        Rows = TrainingFixtures.English();
        (Train, Validation) = StratifiedSplit.Split(Rows, 0.25, 1);
        Result = new ClassifierTrainer().Train(TrainingFixtures.LabelsOf(Rows), Train, Validation, null,
            new TrainingOptions(ModelFamily.Dense, 1), null, CancellationToken.None);
    }

    public List<LabeledText> Rows { get; }

    public List<LabeledText> Train { get; }

    public List<LabeledText> Validation { get; }

    public TrainingResult Result { get; }
}

public sealed class DenseTrainingTests(DenseFixture fixture, ITestOutputHelper output) : IClassFixture<DenseFixture>
{
    [Fact]
    public void English_fixture_reaches_85_percent_validation_accuracy()
    {
        var r = fixture.Result;
        output.WriteLine($"dense en: accuracy {r.Validation.Accuracy:0.000}, macro-F1 {r.Validation.MacroF1:0.000}");
        Assert.Equal(ModelFamily.Dense, r.ChosenFamily);
        Assert.True(r.Model.EnglishOnly);
        Assert.True(r.Model.NeedsOnnxRuntimeExtensions);
        Assert.True(r.Validation.Accuracy >= 0.85, $"accuracy {r.Validation.Accuracy}");
    }

    [Fact]
    public void Onnx_export_matches_in_app_predictions_on_evaluation_rows_and_tricky_input()
    {
        var model = fixture.Result.Model;
        var texts = fixture.Validation.Select(r => r.Text).Concat(fixture.Validation.Take(20).Select(r => r.Text.ToUpperInvariant())).Concat(TrainingFixtures.TrickyTexts()).ToList();
        using var onnx = new OnnxClassifier(model.ExportOnnx(), model.Labels, ModelFamily.Dense, needsExtensions: true);
        var dev = ParityAssert.SameAsOnnx(model, onnx, texts);
        ParityAssert.SameAsOnnx(model, onnx, [""]);
        ParityAssert.SameAsOnnx(model, onnx, [TrainingFixtures.TrickyTexts()[^1]]);
        output.WriteLine($"dense: {texts.Count} texts, max probability deviation {dev:E2}");
    }

    [Fact]
    public void Save_load_and_bundle_round_trip()
    {
        var model = fixture.Result.Model;
        using var ms = new MemoryStream();
        model.Save(ms);
        ms.Position = 0;
        var loaded = TrainedClassifier.Load(ms);
        Assert.Equal(ModelFamily.Dense, loaded.Family);
        var texts = fixture.Validation.Take(10).Select(r => r.Text).ToList();
        Assert.Equal(model.Predict(texts).Select(p => p.Probabilities), loaded.Predict(texts).Select(p => p.Probabilities));

        using var zip = new MemoryStream();
        ModelBundle.Write(zip, model, new BundleInfo("dense", "1", "card"));
        zip.Position = 0;
        using var bundle = ModelBundle.Read(zip);
        Assert.True(bundle.Manifest.NeedsOnnxRuntimeExtensions);
        Assert.True(bundle.Manifest.EnglishOnly);
        Assert.Contains("onnxruntime-extensions", bundle.Readme);
        ParityAssert.SameAsOnnx(model, bundle.Classifier, texts);
        Assert.Empty(model.Explain("my card was charged twice", 5));
    }
}

public sealed class DenseEmbeddingAndAutoTests(ITestOutputHelper output)
{
    [Fact]
    public void Graph_embeddings_agree_with_the_sentence_transformers_package()
    {
        // The dense family tokenizes with onnxruntime-extensions' BertTokenizer inside the graph; the package uses its
        // own C# tokenizer. Same encoder and pooling, so the vectors must be nearly identical on ordinary text.
        var texts = TrainingFixtures.English().Take(30).Select(r => r.Text).ToList();
        var ours = DenseFeaturizer.Shared.Embed(texts);
        using var package = new Incubator.Domain.Embeddings.MiniLmEmbedder();
        var theirs = package.Embed(texts);
        var worst = 1.0;
        for (var i = 0; i < texts.Count; i++)
        {
            var cos = 0.0;
            for (var k = 0; k < DenseFeaturizer.Dimension; k++) cos += ours[i][k] * theirs[i][k];
            worst = Math.Min(worst, cos);
        }
        output.WriteLine($"lowest cosine {worst:0.00000}");
        Assert.True(worst > 0.99, $"lowest cosine {worst}");
    }

    [Fact]
    public void Auto_does_not_train_the_encoder_families_on_text_the_encoder_cannot_represent()
    {
        var rows = TrainingFixtures.Japanese();
        var (train, validation) = StratifiedSplit.Split(rows, 0.25, 1);
        var log = new List<TrainingProgress>();
        var dense = new DenseFeaturizer();
        var result = new ClassifierTrainer { Dense = dense }.Train(TrainingFixtures.LabelsOf(rows), train, validation, null,
            new TrainingOptions(ModelFamily.Auto, 1), new InlineProgress(log.Add), CancellationToken.None);
        output.WriteLine($"ja encoder share {result.EncoderShare:0.000}; {string.Join(" | ", result.Log.Take(3))}");
        Assert.True(result.EncoderShare < EncoderCoverage.MinimumShare, $"share {result.EncoderShare}");
        var only = Assert.Single(result.Compared);
        Assert.Equal(ModelFamily.Sparse, only.Family);
        Assert.Equal(ModelFamily.Sparse, result.ChosenFamily);
        Assert.Equal(0, dense.EmbeddedTexts);
        Assert.Contains(result.Log, l => l.Contains("cannot read it and are not trained", StringComparison.Ordinal));
        Assert.Contains(log, p => p.Stage == "fit");
        // Auto's choice says why it ended with sparse (not "the only family trained"), and so does the model card.
        Assert.StartsWith("Auto: only ", result.Choice);
        Assert.EndsWith("cannot read it and are not trained; sparse only", result.Choice);
        Assert.Equal("choose: " + result.Choice, Assert.Single(result.Log, l => l.StartsWith("choose:", StringComparison.Ordinal)));
        var card = ModelCardBuilder.Write(ModelCardInput.For("ja", result, new TrainingOptions(ModelFamily.Auto, 1), null, DateTimeOffset.UnixEpoch,
            new FileCardSource("ja.tsv", TrainingFixtures.LabelsOf(rows).ToDictionary(l => l, l => rows.Count(r => r.Label == l)), train.Count, validation.Count)));
        Assert.Contains("- Family: **sparse** (requested: auto).", card);
        Assert.Contains("- Choice: Auto: only ", card);

        // Asked for by name, the dense family is still trained, with a warning.
        var forced = new ClassifierTrainer { Dense = dense }.Train(TrainingFixtures.LabelsOf(rows), train, validation, null,
            new TrainingOptions(ModelFamily.Dense, 1), null, CancellationToken.None);
        Assert.Equal(ModelFamily.Dense, forced.ChosenFamily);
        Assert.Contains(forced.Log, l => l.StartsWith("prepare: Warning: only", StringComparison.Ordinal));
    }

    [Fact]
    public void Auto_embeds_every_text_once_and_refits_the_chosen_family_on_training_and_validation()
    {
        var rows = TrainingFixtures.English();
        var (train, validation) = StratifiedSplit.Split(rows, 0.25, 1);
        var dense = new DenseFeaturizer();
        var result = new ClassifierTrainer { Dense = dense }.Train(TrainingFixtures.LabelsOf(rows), train, validation, null,
            new TrainingOptions(ModelFamily.Auto, 1), null, CancellationToken.None);
        output.WriteLine(string.Join(Environment.NewLine, result.Log.Where(l => !l.StartsWith("featurize: Dense: embedded", StringComparison.Ordinal))));
        Assert.True(result.EncoderShare > 0.9, $"share {result.EncoderShare}");
        Assert.Equal(3, result.Compared.Count);
        // Every training and validation text went through the encoder exactly once: the L2 sweeps, the scores of
        // every family and the refit all read the cached vectors (before, validation was embedded again for each).
        Assert.Equal(train.Count + validation.Count, dense.EmbeddedTexts);

        Assert.True(result.Refitted);
        Assert.NotSame(result.Models[result.ChosenFamily], result.Model);
        Assert.Equal(result.ChosenFamily, result.Model.Family);
        // The reported validation scores are those of the selection fit.
        Assert.Same(result.Compared.Single(c => c.Family == result.ChosenFamily).Validation, result.Validation);
        Assert.Contains(result.Log, l => l.StartsWith("refit:", StringComparison.Ordinal));
    }

    [Fact]
    public void Auto_says_one_row_not_rows_when_validation_has_a_single_row_for_some_label()
    {
        // Decision 0039, amendment words22: "only 1 row", never "only 1 row(s)".
        var rows = TrainingFixtures.English();
        var tiny = rows.GroupBy(r => r.Label).SelectMany(g => g.Take(4)).ToList();
        var (train, validation) = StratifiedSplit.Split(tiny, 0.25, 1);
        Assert.Equal(1, validation.GroupBy(r => r.Label).Min(g => g.Count()));
        var result = new ClassifierTrainer { CrossValidateUpTo = 0 }.Train(TrainingFixtures.LabelsOf(rows), train, validation, null,
            new TrainingOptions(ModelFamily.Auto, 1), null, CancellationToken.None);
        var choice = Assert.Single(result.Log, l => l.StartsWith("choose:", StringComparison.Ordinal));
        Assert.Contains("Caution: validation has only 1 row for some label, so this choice", choice);
    }

    [Fact]
    public void Auto_says_when_its_choice_rests_on_a_handful_of_validation_rows()
    {
        var rows = TrainingFixtures.English();
        var small = rows.GroupBy(r => r.Label).SelectMany(g => g.Take(8)).ToList();
        var (train, validation) = StratifiedSplit.Split(small, 0.25, 1);
        var result = new ClassifierTrainer { CrossValidateUpTo = 0 }.Train(TrainingFixtures.LabelsOf(rows), train, validation, null,
            new TrainingOptions(ModelFamily.Auto, 1), null, CancellationToken.None);
        var choice = Assert.Single(result.Log, l => l.StartsWith("choose:", StringComparison.Ordinal));
        Assert.Contains("Caution: validation has only 2 rows for some label", choice);

        // Chosen by cross-validation (the default at this size), every one of the 8 rows per label is scored once.
        var folds = new ClassifierTrainer().Train(TrainingFixtures.LabelsOf(rows), train, validation, null,
            new TrainingOptions(ModelFamily.Auto, 1), null, CancellationToken.None);
        var cvChoice = Assert.Single(folds.Log, l => l.StartsWith("choose:", StringComparison.Ordinal));
        Assert.Contains("cross-validation", cvChoice);
        Assert.DoesNotContain("Caution", cvChoice);

        // With gold rows for every family the choice rests on gold, and the caution about validation is not given.
        var withGold = new ClassifierTrainer().Train(TrainingFixtures.LabelsOf(rows), train, validation, rows.Skip(100).Take(40).ToList(),
            new TrainingOptions(ModelFamily.Auto, 1), null, CancellationToken.None);
        var goldChoice = Assert.Single(withGold.Log, l => l.StartsWith("choose:", StringComparison.Ordinal));
        Assert.Contains("on gold", goldChoice);
        Assert.DoesNotContain("Caution", goldChoice);
        // The card says the gold figures are the winner's on the set that chose it; a family asked for is not chosen on gold.
        const string optimistic = "Auto chose the family by its score on this gold set (gold.tsv), so the gold figures are those of the best of 3 families on it and a little optimistic.";
        string Card(TrainingResult r, ModelFamily family) => ModelCardBuilder.Write(ModelCardInput.For("t", r, new TrainingOptions(family, 1), "gold.tsv", DateTimeOffset.UnixEpoch,
            new FileCardSource("rows.tsv", TrainingFixtures.LabelsOf(rows).ToDictionary(l => l, _ => 8), train.Count, validation.Count)));
        Assert.Contains(optimistic, Card(withGold, ModelFamily.Auto));
        Assert.DoesNotContain("Auto chose the family by its score on this gold set", Card(folds, ModelFamily.Auto));
        var sparseWithGold = new ClassifierTrainer().Train(TrainingFixtures.LabelsOf(rows), train, validation, rows.Skip(100).Take(40).ToList(),
            new TrainingOptions(ModelFamily.Sparse, 1), null, CancellationToken.None);
        Assert.DoesNotContain("Auto chose the family by its score on this gold set", Card(sparseWithGold, ModelFamily.Sparse));
    }

    [Fact]
    public void Cancellation_stops_training()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        var rows = TrainingFixtures.English();
        Assert.ThrowsAny<OperationCanceledException>(() => new ClassifierTrainer().Train(TrainingFixtures.LabelsOf(rows), rows, rows, null,
            new TrainingOptions(ModelFamily.Auto), null, cts.Token));
    }

    private sealed class InlineProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}

/// <summary>Hybrid (sparse TF-IDF and MiniLM embedding side by side, one head) trained on the English fixture.</summary>
public sealed class HybridFixture
{
    public HybridFixture()
    {
        Rows = TrainingFixtures.English();
        (Train, Validation) = StratifiedSplit.Split(Rows, 0.25, 1);
        Result = new ClassifierTrainer().Train(TrainingFixtures.LabelsOf(Rows), Train, Validation, null,
            new TrainingOptions(ModelFamily.Hybrid, 1), null, CancellationToken.None);
    }

    public List<LabeledText> Rows { get; }

    public List<LabeledText> Train { get; }

    public List<LabeledText> Validation { get; }

    public TrainingResult Result { get; }
}

public sealed class HybridTrainingTests(HybridFixture fixture, ITestOutputHelper output) : IClassFixture<HybridFixture>
{
    [Fact]
    public void English_fixture_reaches_85_percent_and_onnx_matches_in_app_on_evaluation_rows_and_tricky_input()
    {
        var r = fixture.Result;
        var model = r.Model;
        output.WriteLine($"hybrid en: accuracy {r.Validation.Accuracy:0.000}, macro-F1 {r.Validation.MacroF1:0.000}, {model.FeatureCount} features");
        Assert.Equal(ModelFamily.Hybrid, model.Family);
        Assert.True(r.Validation.Accuracy >= 0.85, $"accuracy {r.Validation.Accuracy}");
        Assert.True(model.NeedsOnnxRuntimeExtensions);
        Assert.Equal(model.Sparse!.Dimension + DenseFeaturizer.Dimension, model.FeatureCount);

        var texts = fixture.Validation.Select(x => x.Text).Concat(fixture.Validation.Take(20).Select(x => x.Text.ToUpperInvariant())).Concat(TrainingFixtures.TrickyTexts()).ToList();
        using var onnx = new OnnxClassifier(model.ExportOnnx(), model.Labels, ModelFamily.Hybrid, needsExtensions: true);
        var dev = ParityAssert.SameAsOnnx(model, onnx, texts);
        ParityAssert.SameAsOnnx(model, onnx, [""]);
        ParityAssert.SameAsOnnx(model, onnx, [TrainingFixtures.TrickyTexts()[^1]]);
        output.WriteLine($"hybrid: {texts.Count} texts, max probability deviation {dev:E2}");
    }

    [Fact]
    public void Save_load_bundle_round_trip_and_explanations_from_the_sparse_part()
    {
        var model = fixture.Result.Model;
        using var ms = new MemoryStream();
        model.Save(ms);
        ms.Position = 0;
        var loaded = TrainedClassifier.Load(ms);
        Assert.Equal(ModelFamily.Hybrid, loaded.Family);
        var texts = fixture.Validation.Take(10).Select(x => x.Text).ToList();
        Assert.Equal(model.Predict(texts).Select(p => p.Probabilities), loaded.Predict(texts).Select(p => p.Probabilities));

        using var zip = new MemoryStream();
        ModelBundle.Write(zip, model, new BundleInfo("hybrid", "1", "card"));
        zip.Position = 0;
        using var bundle = ModelBundle.Read(zip);
        Assert.Equal("hybrid", bundle.Manifest.Family);
        Assert.Equal(ModelFamily.Hybrid, bundle.Family);
        Assert.True(bundle.Manifest.NeedsOnnxRuntimeExtensions);
        ParityAssert.SameAsOnnx(model, bundle.Classifier, texts);

        var text = fixture.Validation[0].Text;
        var terms = model.Explain(text, 3);
        Assert.NotEmpty(terms);
        Assert.All(terms, t => Assert.Equal(model.Predict([text])[0].Label, t.Label));
        Assert.All(terms, t => Assert.Contains(t.Term.Split(' ')[0], text, StringComparison.OrdinalIgnoreCase));
    }
}
