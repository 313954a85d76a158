using Incubator.Domain.Training;
using Xunit.Abstractions;

namespace Incubator.Tests.Training;

/// <summary>Auto on 8 rows per label of the English fixture (6 training + 2 validation per label): below
/// <see cref="ClassifierTrainer.PoolBelowRowsPerLabel"/>, so it pools sparse, dense and hybrid.</summary>
public sealed class PoolFixture
{
    public PoolFixture()
    {
        Rows = TrainingFixtures.English();
        Labels = TrainingFixtures.LabelsOf(Rows);
        var small = Rows.GroupBy(r => r.Label).SelectMany(g => g.Take(8)).ToList();
        (Train, Validation) = StratifiedSplit.Split(small, 0.25, 1);
        Trainer = new ClassifierTrainer();
        Result = Trainer.Train(Labels, Train, Validation, null, new TrainingOptions(ModelFamily.Auto, 1), null, CancellationToken.None);
    }

    public List<LabeledText> Rows { get; }

    public IReadOnlyList<string> Labels { get; }

    public List<LabeledText> Train { get; }

    public List<LabeledText> Validation { get; }

    public ClassifierTrainer Trainer { get; }

    public TrainingResult Result { get; }
}

public sealed class PoolTests(PoolFixture fixture, ITestOutputHelper output) : IClassFixture<PoolFixture>
{
    /// <summary>Softmax of the mean log-probability: the normalised geometric mean of the members' probabilities.</summary>
    private static double[] GeometricMean(params float[][] members)
    {
        var k = members[0].Length;
        var log = new double[k];
        for (var c = 0; c < k; c++) log[c] = members.Average(p => Math.Log(p[c]));
        var max = log.Max();
        var e = log.Select(l => Math.Exp(l - max)).ToArray();
        var z = e.Sum();
        return [.. e.Select(x => x / z)];
    }

    [Fact]
    public void The_pooled_head_is_the_mean_of_the_members_heads_each_at_its_features_and_predicts_their_geometric_mean()
    {
        var texts = fixture.Rows.Select(r => r.Text).ToList();
        var labels = fixture.Labels;
        var sparse = SparseFeaturizer.Fit(texts, TokenMode.Word);
        var dense = DenseFeaturizer.Shared;
        var random = new Random(7);
        LinearHead Head(int dimension) => new(
            [.. labels.Select(_ => Enumerable.Range(0, dimension).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray())],
            [.. labels.Select(_ => (float)(random.NextDouble() * 2 - 1))]);
        var s = new TrainedClassifier(labels, sparse, Head(sparse.Dimension));
        var d = new TrainedClassifier(labels, dense, Head(DenseFeaturizer.Dimension));
        var h = new TrainedClassifier(labels, sparse, dense, Head(sparse.Dimension + DenseFeaturizer.Dimension));

        var pool = TrainedClassifier.Pool([s, d, h]);

        Assert.Equal(ModelFamily.Hybrid, pool.Family);
        Assert.Same(sparse, pool.Sparse);
        var n = sparse.Dimension;
        Assert.Equal(n + DenseFeaturizer.Dimension, pool.FeatureCount);
        for (var c = 0; c < labels.Count; c++)
        {
            for (var j = 0; j < pool.FeatureCount; j++)
            {
                var own = j < n ? s.Head.Weights[c][j] : d.Head.Weights[c][j - n];
                Assert.Equal((h.Head.Weights[c][j] + own) / 3.0, pool.Head.Weights[c][j], 1e-6);
            }
            Assert.Equal((s.Head.Biases[c] + d.Head.Biases[c] + h.Head.Biases[c]) / 3.0, pool.Head.Biases[c], 1e-6);
        }

        var probe = texts.Take(25).Append("").ToList();
        var (ps, pd, ph, pp) = (s.Predict(probe), d.Predict(probe), h.Predict(probe), pool.Predict(probe));
        for (var i = 0; i < probe.Count; i++)
        {
            var expected = GeometricMean(ps[i].Probabilities, pd[i].Probabilities, ph[i].Probabilities);
            for (var c = 0; c < labels.Count; c++) Assert.Equal(expected[c], pp[i].Probabilities[c], 1e-5);
        }

        // Weights only add up feature by feature over one vocabulary.
        var other = SparseFeaturizer.Fit(texts.Take(50).ToList(), TokenMode.Word);
        Assert.Throws<ArgumentException>(() => TrainedClassifier.Pool([new TrainedClassifier(labels, other, Head(other.Dimension)), d, h]));
    }

    [Fact]
    public void Auto_at_8_rows_per_label_reports_and_exports_the_pool_of_the_three_refit_families()
    {
        var r = fixture.Result;
        output.WriteLine(string.Join(Environment.NewLine, r.Log.Where(l => !l.StartsWith("featurize: Dense: embedded", StringComparison.Ordinal))));
        Assert.True(r.Pooled);
        Assert.Equal(ModelFamily.Hybrid, r.ChosenFamily);
        Assert.Equal(ModelFamily.Hybrid, r.Model.Family);
        Assert.True(r.Refitted);
        Assert.Equal(3, r.Compared.Count);
        Assert.StartsWith("pooled: the log-linear average of sparse, dense and hybrid (rows of the smallest label: 8, fewer than 16", r.Choice);
        Assert.Contains("; each family's cross-validated macro-F1: sparse ", r.Choice);
        Assert.Equal("choose: " + r.Choice, Assert.Single(r.Log, l => l.StartsWith("choose:", StringComparison.Ordinal)));

        // The validation figures are the pool's: the pool of the three selection fits, scored on validation.
        var selectionPool = TrainedClassifier.Pool([r.Models[ModelFamily.Sparse], r.Models[ModelFamily.Dense], r.Models[ModelFamily.Hybrid]]);
        var onValidation = Evaluation.Evaluate(selectionPool, fixture.Validation);
        Assert.Equal(onValidation.Accuracy, r.Validation.Accuracy);
        Assert.Equal(onValidation.MacroF1, r.Validation.MacroF1);
        Assert.DoesNotContain(r.Compared, c => ReferenceEquals(c.Validation, r.Validation));

        // The model is the pool of the refit families: its probabilities are their normalised geometric mean.
        var refits = new[] { ModelFamily.Sparse, ModelFamily.Dense, ModelFamily.Hybrid }
            .Select(f => fixture.Trainer.Refit(r, f, fixture.Labels, fixture.Train, fixture.Validation, new TrainingOptions(ModelFamily.Auto, 1), CancellationToken.None))
            .ToList();
        var probe = fixture.Rows.Skip(100).Take(30).Select(x => x.Text).ToList();
        var members = refits.Select(m => m.Predict(probe)).ToList();
        var pooled = r.Model.Predict(probe);
        for (var i = 0; i < probe.Count; i++)
        {
            var expected = GeometricMean([.. members.Select(m => m[i].Probabilities)]);
            for (var c = 0; c < fixture.Labels.Count; c++) Assert.Equal(expected[c], pooled[i].Probabilities[c], 1e-5);
        }

        var card = ModelCardBuilder.Write(ModelCardInput.For("pool", r, new TrainingOptions(ModelFamily.Auto, 1), null, DateTimeOffset.UnixEpoch,
            new FileCardSource("rows.tsv", fixture.Labels.ToDictionary(l => l, _ => 8), fixture.Train.Count, fixture.Validation.Count)));
        Assert.Contains("- Choice: pooled: the log-linear average of sparse, dense and hybrid", card);
        Assert.Contains("- Pool: the head is the mean of the sparse, dense and hybrid families' heads", card);

        // Without the pool (knob 0) auto chooses one family by cross-validation, as before.
        var chosen = new ClassifierTrainer { PoolBelowRowsPerLabel = 0 }.Train(fixture.Labels, fixture.Train, fixture.Validation, null,
            new TrainingOptions(ModelFamily.Auto, 1), null, CancellationToken.None);
        Assert.False(chosen.Pooled);
        Assert.DoesNotContain("pooled", chosen.Choice);
        Assert.Equal(chosen.ChosenFamily, chosen.Model.Family);
    }

    [Fact]
    public void A_pooled_model_exports_through_the_hybrid_graph_with_the_in_app_predictions()
    {
        var model = fixture.Result.Model;
        Assert.True(fixture.Result.Pooled);
        var texts = fixture.Rows.Select(x => x.Text).Take(80)
            .Concat(fixture.Rows.Take(20).Select(x => x.Text.ToUpperInvariant())).Concat(TrainingFixtures.TrickyTexts()).ToList();
        var onnx = model.ExportOnnx();
        foreach (var batch in new[] { 64, 1, 7 })
        {
            using var classifier = new OnnxClassifier(onnx, model.Labels, ModelFamily.Hybrid, needsExtensions: true) { BatchSize = batch };
            var dev = ParityAssert.SameAsOnnx(model, classifier, batch == 1 ? texts.Take(30).ToList() : texts);
            output.WriteLine($"batch {batch}: max probability deviation {dev:E2}");
        }

        using var ms = new MemoryStream();
        model.Save(ms);
        ms.Position = 0;
        var loaded = TrainedClassifier.Load(ms);
        Assert.Equal(model.Predict(texts).Select(p => p.Probabilities), loaded.Predict(texts).Select(p => p.Probabilities));
        using var zip = new MemoryStream();
        ModelBundle.Write(zip, model, new BundleInfo("hybrid", "1", "card"));
        zip.Position = 0;
        using var bundle = ModelBundle.Read(zip);
        Assert.Equal(ModelFamily.Hybrid, bundle.Family);
        ParityAssert.SameAsOnnx(model, bundle.Classifier, texts);
    }
}

public sealed class PoolNoteTests
{
    /// <summary>The pool is chosen by the smallest label's rows (40, 40 and 1 read "1 rows per label"), and the scores it
    /// lists are each family's out-of-fold macro-F1, not the pool's ("its macro-F1").</summary>
    [Fact]
    public void The_pool_note_names_the_smallest_label_and_whose_scores_it_lists()
    {
        var note = TrainingNotes.ChosenPool(1, 16, 5, "sparse 0.330, dense 0.447, hybrid 0.447");
        Assert.Contains("(rows of the smallest label: 1, fewer than 16:", note.Message);
        Assert.Contains("; each family's cross-validated macro-F1: sparse 0.330, dense 0.447, hybrid 0.447)", note.Message);
    }
}
