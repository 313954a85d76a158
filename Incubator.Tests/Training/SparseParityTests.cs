using Incubator.Domain.Training;

namespace Incubator.Tests.Training;

public sealed class SparseParityTests
{
    [Fact]
    public void Normalize_matches_onnx_string_normalizer_for_every_bmp_character()
    {
        var texts = new List<string>();
        for (var c = 1; c < 0x10000; c++)
        {
            if (c is >= 0xD800 and <= 0xDFFF) continue;
            texts.Add(((char)c).ToString());
        }
        // Supplementary scripts with case: Deseret, Osage, Warang Citi, Medefaidrin, Adlam; and emoji (no case).
        foreach (var (from, to) in new[] { (0x10400, 0x1044F), (0x104B0, 0x104FB), (0x118A0, 0x118DF), (0x16E40, 0x16E7F), (0x1E900, 0x1E943), (0x1F600, 0x1F60F) })
            for (var c = from; c <= to; c++) texts.Add(char.ConvertFromUtf32(c) + "ab");
        using var probe = OnnxProbe.Lowercaser();
        var actual = probe.Run(texts);
        var mismatches = new List<string>();
        for (var i = 0; i < texts.Count; i++)
        {
            var expected = SparseFeaturizer.Normalize(texts[i]);
            if (expected != actual[i]) mismatches.Add($"U+{char.ConvertToUtf32(texts[i], 0):X4} expected U+{(expected.Length > 0 ? char.ConvertToUtf32(expected, 0) : 0):X4} onnx U+{(actual[i].Length > 0 ? char.ConvertToUtf32(actual[i], 0) : 0):X4}");
        }
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} mismatches: {string.Join(", ", mismatches.Take(60))}");
    }
}

public sealed class SparseTokenizerParityTests
{
    /// <summary>A vocabulary fitted on the tricky texts themselves (so every token and n-gram they contain is a
    /// feature) with a random head: any difference between our tokenizer and the ONNX Tokenizer shows up.</summary>
    [Theory]
    [InlineData(TokenMode.Word, false, 2)]
    [InlineData(TokenMode.Char, false, 3)]
    [InlineData(TokenMode.Word, true, 2)]
    [InlineData(TokenMode.Char, true, 3)]
    [InlineData(TokenMode.Char, true, 4)]
    [InlineData(TokenMode.Word, true, 3)]
    public void Every_token_of_tricky_text_is_featurised_like_onnx(TokenMode mode, bool sublinear, int maxGram) =>
        AssertParity(mode, sublinear, maxGram, 1, 1.0);

    /// <summary>Pruned vocabularies: a frequent word ("the", "good") left out while n-grams starting with it stay, so the
    /// graph's n-gram trie walks through prefixes that are not features themselves.</summary>
    [Theory]
    [InlineData(TokenMode.Word, 2, 0.02)]
    [InlineData(TokenMode.Char, 1, 0.05)]
    [InlineData(TokenMode.Word, 2, 1.0)]
    public void Pruned_vocabularies_are_featurised_like_onnx(TokenMode mode, int minDocuments, double maxShare) =>
        AssertParity(mode, true, 3, minDocuments, maxShare);

    private static void AssertParity(TokenMode mode, bool sublinear, int maxGram, int minDocuments, double maxShare)
    {
        var texts = TrainingFixtures.TrickyTexts().Concat(TrainingFixtures.English().Take(50).Select(r => r.Text)).Concat(TrainingFixtures.Japanese().Take(30).Select(r => r.Text)).ToList();
        // Repeated tokens and characters, so sublinear term frequency (1 + ln count) is exercised for counts > 1.
        texts.Add("very very very good good, ああああ いい いい!!! ???");
        var featurizer = SparseFeaturizer.Fit(texts, mode, sublinear, maxGram, minDocuments, maxShare);
        if (maxShare < 1)
        {
            // Some kept n-gram has a prefix that is not a feature.
            var features = featurizer.NGrams.Select(p => string.Join('\u0001', p)).ToHashSet();
            Assert.Contains(featurizer.NGrams, p => p.Length > 1 && !features.Contains(p[0]));
        }
        Assert.Equal(sublinear, featurizer.Sublinear);
        Assert.Equal(maxGram, featurizer.MaxGram);
        var rng = new Random(11);
        var weights = Enumerable.Range(0, 3).Select(_ => Enumerable.Range(0, featurizer.Dimension).Select(_ => (float)(rng.NextDouble() * 8 - 4)).ToArray()).ToArray();
        var model = new TrainedClassifier(["a", "b", "c"], featurizer, new LinearHead(weights, [0.1f, -0.2f, 0.05f]));
        using var onnx = new OnnxClassifier(model.ExportOnnx(), model.Labels, ModelFamily.Sparse);
        var probe = texts.Concat(texts.Select(t => t.ToUpperInvariant())).Concat(["İI ıi", "a\u00A0b\u2003c", "x\u0000y", "half\uD800surrogate"]).ToList();
        ParityAssert.SameAsOnnx(model, onnx, probe);
        Assert.True(featurizer.Dimension > (minDocuments > 1 ? 100 : 500), $"{featurizer.Dimension} features");
    }
}

public sealed class SparseWeightingTests
{
    [Fact]
    public void Sublinear_term_frequency_damps_repeated_terms_and_survives_save_and_load()
    {
        string[] texts = ["good good good film", "bad film", "good plot"];
        var raw = SparseFeaturizer.Fit(texts, TokenMode.Word, sublinear: false);
        var damped = SparseFeaturizer.Fit(texts, TokenMode.Word, sublinear: true);
        double Ratio(SparseFeaturizer f)
        {
            var (idx, val) = f.Featurize("good good good film");
            var good = Array.FindIndex(idx, i => f.Describe(i) == "good");
            var film = Array.FindIndex(idx, i => f.Describe(i) == "film");
            // idf(good) = idf(film) here (both in 2 of 3 texts), so the ratio is the term-frequency ratio.
            return val[good] / val[film];
        }
        Assert.Equal(3.0, Ratio(raw), 4);
        Assert.Equal(1 + Math.Log(3), Ratio(damped), 4);

        var model = new TrainedClassifier(["neg", "pos"], damped, new LinearHead([new float[damped.Dimension], Enumerable.Range(0, damped.Dimension).Select(i => i * 0.1f).ToArray()], [0f, 0f]));
        using var ms = new MemoryStream();
        model.Save(ms);
        ms.Position = 0;
        var loaded = TrainedClassifier.Load(ms);
        Assert.True(loaded.Sparse!.Sublinear);
        Assert.Equal(model.Predict(texts)[0].Probabilities, loaded.Predict(texts)[0].Probabilities);
    }
}

public sealed class SparseGraphTidinessTests
{
    /// <summary>Every initializer of the sparse graph is an input of some node. Texts of one word each give a vocabulary
    /// of single words (no n-gram of 2 or more, so no trie level): the constants only the trie levels use must not be
    /// written then — ONNX Runtime warns about each unused initializer every time the bundle is loaded.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void The_graph_has_no_unused_initializer(bool twoWordTexts)
    {
        string[] texts = twoWordTexts ? ["good film", "bad film", "great plot", "awful plot"] : ["good", "bad", "great", "awful"];
        var featurizer = SparseFeaturizer.Fit(texts, TokenMode.Word, sublinear: true);
        var model = new TrainedClassifier(["neg", "pos"], featurizer,
            new LinearHead([new float[featurizer.Dimension], Enumerable.Range(0, featurizer.Dimension).Select(i => i * 0.1f).ToArray()], [0f, 0f]));
        var onnx = model.ExportOnnx();
        static string Text(ReadOnlyMemory<byte> b) => System.Text.Encoding.UTF8.GetString(b.Span);
        var graph = Incubator.Domain.Training.Onnx.ProtoReader.Fields(onnx).Single(f => f.Number == 7).Payload;
        var fields = Incubator.Domain.Training.Onnx.ProtoReader.Fields(graph);
        var used = fields.Where(f => f.Number == 1)
            .SelectMany(n => Incubator.Domain.Training.Onnx.ProtoReader.Fields(n.Payload).Where(a => a.Number == 1).Select(a => Text(a.Payload)))
            .ToHashSet(StringComparer.Ordinal);
        var initializers = fields.Where(f => f.Number == 5)
            .Select(t => Text(Incubator.Domain.Training.Onnx.ProtoReader.Fields(t.Payload).Single(a => a.Number == 8).Payload)).ToList();
        Assert.NotEmpty(initializers);
        var unused = initializers.Where(i => !used.Contains(i)).ToList();
        Assert.True(unused.Count == 0, $"unused initializers: {string.Join(", ", unused)}");
        using var session = new OnnxClassifier(onnx, model.Labels, ModelFamily.Sparse);
        ParityAssert.SameAsOnnx(model, session, [.. texts, "good awful", ""]);
    }
}
