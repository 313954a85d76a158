using System.Text;
using Incubator.Domain.Training;
using Xunit.Abstractions;

namespace Incubator.Tests.Training;

/// <summary>Conjunction features of the sparse family: "n-gram A and n-gram B both occur" as a feature of its own,
/// in the in-app featuriser, the saved model and the exported ONNX graph.</summary>
public sealed class ConjunctionFeatureTests(ITestOutputHelper output)
{
    /// <summary>"one" when exactly one of alpha and beta occurs, "same" when both or neither — an exclusive or, which
    /// no linear function of the words can separate (at most three of the four cases). Four filler words keep the
    /// vocabulary (uni- and bi-grams) under the 60 n-grams that get conjunctions, so alpha and beta are among them.</summary>
    private static List<LabeledText> ExclusiveOr(int count, int seed)
    {
        var rng = new Random(seed);
        string[] filler = ["we", "saw", "it", "today"];
        var rows = new List<LabeledText>();
        for (var i = 0; i < count; i++)
        {
            var (alpha, beta) = (i % 4) switch { 0 => (false, false), 1 => (true, false), 2 => (false, true), _ => (true, true) };
            var words = Enumerable.Range(0, rng.Next(2, 6)).Select(_ => filler[rng.Next(filler.Length)]).ToList();
            if (alpha) words.Insert(rng.Next(words.Count + 1), "alpha");
            if (beta) words.Insert(rng.Next(words.Count + 1), "beta");
            rows.Add(new LabeledText(alpha ^ beta ? "one" : "same", string.Join(' ', words)));
        }
        return rows;
    }

    private static TrainingResult Train(ClassifierTrainer trainer, List<LabeledText> train, List<LabeledText> validation) =>
        trainer.Train(["one", "same"], train, validation, null, new TrainingOptions(ModelFamily.Sparse, 1), null, CancellationToken.None);

    [Fact]
    public void Conjunctions_learn_an_exclusive_or_that_the_words_alone_cannot_and_the_onnx_graph_agrees()
    {
        var train = ExclusiveOr(1200, 1);
        var validation = ExclusiveOr(200, 2);
        var with = Train(new ClassifierTrainer(), train, validation);
        var without = Train(new ClassifierTrainer { ConjunctionCount = 0 }, train, validation);
        output.WriteLine($"with conjunctions {with.Validation.Accuracy:0.000}, without {without.Validation.Accuracy:0.000}");

        Assert.Empty(without.Model.Sparse!.Conjunctions);
        Assert.True(without.Validation.Accuracy <= 0.8, $"a linear head on words alone got {without.Validation.Accuracy}");
        var sparse = with.Model.Sparse!;
        Assert.Contains(sparse.Conjunctions, id => sparse.Describe(id) == "alpha");
        Assert.Contains(sparse.Conjunctions, id => sparse.Describe(id) == "beta");
        Assert.True(with.Validation.Accuracy >= 0.95, $"with conjunctions {with.Validation.Accuracy}");
        Assert.Equal("one", with.Model.Predict(["alpha we saw"])[0].Label);
        Assert.Equal("same", with.Model.Predict(["alpha we saw beta"])[0].Label);
        Assert.Equal("same", with.Model.Predict(["we saw it"])[0].Label);
        // The words that pushed "same" for a text with both include the conjunction itself.
        Assert.Equal("same", with.Model.Predict(["we saw alpha it beta"])[0].Label);
        var terms = with.Model.Explain("we saw alpha it beta", 5);
        output.WriteLine(string.Join(", ", terms.Select(t => $"{t.Term} {t.Weight:0.000} ({t.Label})")));
        Assert.Contains(terms, t => t.Term is "alpha & beta" or "beta & alpha" && t.Label == "same" && t.Weight > 0);

        using var onnx = new OnnxClassifier(with.Model.ExportOnnx(), with.Model.Labels, ModelFamily.Sparse);
        var texts = validation.Select(r => r.Text).Concat(validation.Take(20).Select(r => r.Text.ToUpperInvariant())).Concat(TrainingFixtures.TrickyTexts()).ToList();
        var dev = ParityAssert.SameAsOnnx(with.Model, onnx, texts);
        ParityAssert.SameAsOnnx(with.Model, onnx, ["ALPHA, beta!"]);
        output.WriteLine($"ONNX parity over {texts.Count} texts, max deviation {dev:E2}");
    }

    /// <summary>WordConjunctionCount (the knob of decision 0019, conj; default null = ConjunctionCount) sets the count
    /// for word-mode text only: an English fit with it at 0 has no conjunctions, a Japanese (character-mode) fit with
    /// the same trainer keeps all 60, and the default gives both 60.</summary>
    [Fact]
    public void The_word_mode_conjunction_count_applies_to_word_mode_only()
    {
        static SparseFeaturizer Fit(ClassifierTrainer trainer, List<LabeledText> rows)
        {
            var (train, validation) = StratifiedSplit.Split(rows, 0.25, 1);
            var result = trainer.Train(TrainingFixtures.LabelsOf(rows), train, validation, null, new TrainingOptions(ModelFamily.Sparse, 1), null, CancellationToken.None);
            Assert.Equal(result.Model.Sparse!.Conjunctions.Count, result.Models[ModelFamily.Sparse].Sparse!.Conjunctions.Count);
            return result.Model.Sparse!;
        }
        var noWord = new ClassifierTrainer { WordConjunctionCount = 0 };
        var english = Fit(noWord, TrainingFixtures.English());
        Assert.Equal(TokenMode.Word, english.Mode);
        Assert.Empty(english.Conjunctions);
        Assert.Equal(english.NGramCount, english.Dimension);
        var japanese = Fit(noWord, TrainingFixtures.Japanese());
        Assert.Equal(TokenMode.Char, japanese.Mode);
        Assert.Equal(60, japanese.Conjunctions.Count);
        Assert.Equal(60, Fit(new ClassifierTrainer(), TrainingFixtures.English()).Conjunctions.Count);
    }

    [Fact]
    public void Featurize_sets_one_slot_per_co_occurring_pair_and_describes_it()
    {
        var f = SparseFeaturizer.Fit(["red apple", "green pear", "red pear"], TokenMode.Word, sublinear: true, maxGram: 1);
        int Id(string term) => Enumerable.Range(0, f.NGramCount).Single(i => f.Describe(i) == term);
        var c = f.WithConjunctions([Id("pear"), Id("red"), Id("apple")], 0.25f);
        Assert.Equal(f.NGramCount + 9, c.Dimension);

        var (idx, val) = c.Featurize("Red PEAR and a green apple");
        var pairs = idx.Select((id, k) => (id, v: val[k])).Where(p => p.id >= c.NGramCount).ToList();
        // Positions: pear 0, red 1, apple 2 → slots 0·3+1, 0·3+2, 1·3+2.
        Assert.Equal([c.NGramCount + 1, c.NGramCount + 2, c.NGramCount + 5], pairs.Select(p => p.id));
        Assert.All(pairs, p => Assert.Equal(0.25f, p.v));
        Assert.Equal(["pear & red", "pear & apple", "red & apple"], pairs.Select(p => c.Describe(p.id)));
        Assert.Equal(idx.Order(), idx);
        // The n-gram part is unchanged and still has unit length.
        var (baseIdx, baseVal) = f.Featurize("Red PEAR and a green apple");
        Assert.Equal(baseIdx, idx[..baseIdx.Length]);
        Assert.Equal(baseVal, val[..baseVal.Length]);

        Assert.DoesNotContain(c.Featurize("just a pear").Indices, id => id >= c.NGramCount);
        Assert.Throws<ArgumentOutOfRangeException>(() => f.WithConjunctions([0, 1], 0f));
        Assert.Throws<InvalidDataException>(() => f.WithConjunctions([0, 0], 1f));
        Assert.Throws<InvalidDataException>(() => f.WithConjunctions([0, f.NGramCount], 1f));
    }

    [Fact]
    public void Conjunctions_survive_save_and_load_and_a_model_saved_before_them_still_loads()
    {
        var train = ExclusiveOr(120, 3);
        var model = Train(new ClassifierTrainer(), train, ExclusiveOr(40, 4)).Model;
        using var ms = new MemoryStream();
        model.Save(ms);
        ms.Position = 0;
        var loaded = TrainedClassifier.Load(ms);
        Assert.Equal(model.Sparse!.Conjunctions, loaded.Sparse!.Conjunctions);
        Assert.Equal(model.Sparse.ConjunctionValue, loaded.Sparse.ConjunctionValue);
        string[] texts = ["alpha beta", "alpha", "we saw it today"];
        Assert.Equal(model.Predict(texts).Select(p => p.Probabilities), loaded.Predict(texts).Select(p => p.Probabilities));

        // Format version 2 (before conjunctions): word 1-grams "bad", "good", a head that prefers "pos" for "good".
        using var v2 = new MemoryStream();
        using (var w = new BinaryWriter(v2, Encoding.UTF8, leaveOpen: true))
        {
            w.Write("INCUBATOR-CLASSIFIER");
            w.Write(2);
            w.Write((int)ModelFamily.Sparse);
            w.Write(2);
            w.Write("neg");
            w.Write("pos");
            w.Write((int)TokenMode.Word);
            w.Write(false);
            w.Write(1);
            w.Write(2);
            foreach (var term in new[] { "bad", "good" })
            {
                w.Write(1);
                w.Write(term);
                w.Write(1f);
            }
            w.Write(2);
            w.Write(2);
            w.Write(0f);
            w.Write(0f);
            foreach (var v in new[] { 2f, -2f, -2f, 2f }) w.Write(v);
        }
        v2.Position = 0;
        var old = TrainedClassifier.Load(v2);
        Assert.Empty(old.Sparse!.Conjunctions);
        Assert.Equal(["pos", "neg"], old.Predict(["Good!", "bad"]).Select(p => p.Label));

        // A corrupt conjunction block is a clear error, not a crash later.
        var bytes = ms.ToArray();
        var countAt = FindConjunctionCount(bytes, model.Sparse.Conjunctions.Count);
        BitConverter.TryWriteBytes(bytes.AsSpan(countAt), 100_000);
        var ex = Assert.Throws<InvalidDataException>(() => TrainedClassifier.Load(new MemoryStream(bytes)));
        Assert.Contains("conjunction", ex.Message);
    }

    /// <summary>Offset of the conjunction count: the int32 K followed by K feature ids and the float value, right
    /// before the head (classes, dimension).</summary>
    private static int FindConjunctionCount(byte[] bytes, int k)
    {
        for (var at = bytes.Length - 4; at >= 0; at--)
            if (BitConverter.ToInt32(bytes, at) == k && at + 4 + 4 * k + 4 + 4 <= bytes.Length
                && BitConverter.ToInt32(bytes, at + 4 + 4 * k + 4) == 2)
                return at;
        throw new InvalidOperationException("conjunction block not found");
    }
}
