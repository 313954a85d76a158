using Incubator.Domain.Training;
using Incubator.Domain.Training.Onnx;

namespace Incubator.Domain.Benchmarks;

/// <summary>The sparse graph as exported before issue 16, kept only as the benchmark's baseline: TfIdfVectorizer makes
/// a batch × vocabulary tensor, a dozen element-wise passes and a dense MatMul run over it. Same predictions as
/// <see cref="SparseOnnxExport"/>; the benchmark measures both on the same model and texts.</summary>
internal static class LegacySparseOnnx
{
    private const string Locale = SparseOnnxExport.Locale;

    public static byte[] Build(SparseFeaturizer featurizer, LinearHead head, IReadOnlyList<string> labels)
    {
        if (featurizer.Dimension == 0) throw new InvalidOperationException("The model has no features to export.");
        var g = new OnnxGraphBuilder();
        g.Opset("com.microsoft", 1);
        g.Input("text", OnnxType.String, "N");

        var tfidf = AppendTfIdf(g, featurizer);
        var x = AppendConjunctions(g, L2Normalize(g, tfidf), featurizer);
        var w = g.FloatTensor("head_weights", head.TransposedFlat(), head.Dimension, head.Classes);
        OnnxHead.Append(g, g.Node("MatMul", [x, w]), head, labels);
        return g.Build("incubator_sparse", "Incubator", $"Sparse text classifier ({featurizer.Mode} n-grams, TF-IDF, maximum entropy). Input: text, string [N].");
    }

    /// <summary>text → lower-case → tokens → (sublinear) TF-IDF [N, D], not yet normalised.</summary>
    private static string AppendTfIdf(OnnxGraphBuilder g, SparseFeaturizer featurizer)
    {
        var lower = g.Node("StringNormalizer", ["text"], ["text_lower"], "",
            ("case_change_action", "LOWER"), ("is_case_sensitive", 1L), ("locale", Locale));
        string[] separators = featurizer.Mode == TokenMode.Char ? [""] : [SparseFeaturizer.SeparatorRegex];
        var tokens = g.Node("Tokenizer", [lower], ["tokens"], "com.microsoft",
            ("mark", 0L), ("mincharnum", 1L), ("pad_value", SparseFeaturizer.PadValue), ("separators", separators));

        var pool = new List<string>();
        var counts = new long[featurizer.MaxGram];
        var n = 1;
        for (var i = 0; i < featurizer.NGrams.Count; i++)
        {
            var gram = featurizer.NGrams[i];
            while (gram.Length > n)
            {
                n++;
                counts[n - 1] = pool.Count;
            }
            pool.AddRange(gram);
        }
        while (n < featurizer.MaxGram)
        {
            n++;
            counts[n - 1] = pool.Count;
        }
        var indexes = Enumerable.Range(0, featurizer.NGramCount).Select(i => (long)i).ToArray();
        string tfidf;
        if (!featurizer.Sublinear)
        {
            tfidf = g.Node("TfIdfVectorizer", [tokens], ["tfidf"], "",
                ("mode", "TFIDF"), ("min_gram_length", (long)featurizer.MinGram), ("max_gram_length", (long)featurizer.MaxGram),
                ("max_skip_count", 0L), ("ngram_counts", counts), ("ngram_indexes", indexes),
                ("pool_strings", pool.ToArray()), ("weights", featurizer.Idf));
        }
        else
        {
            // Sublinear tf: counts c ≥ 0 → min(c, 1) × (1 + ln max(c, 1)) = 0 for c = 0, 1 + ln c otherwise; × idf.
            var tf = g.Node("TfIdfVectorizer", [tokens], ["tf"], "",
                ("mode", "TF"), ("min_gram_length", (long)featurizer.MinGram), ("max_gram_length", (long)featurizer.MaxGram),
                ("max_skip_count", 0L), ("ngram_counts", counts), ("ngram_indexes", indexes),
                ("pool_strings", pool.ToArray()));
            var one = g.FloatTensor(g.Unique("one"), [1f]);
            var present = g.Node("Min", [tf, one]);
            var log = g.Node("Log", [g.Node("Max", [tf, one])]);
            var damped = g.Node("Mul", [present, g.Node("Add", [log, one])]);
            var idf = g.FloatTensor("idf", featurizer.Idf, featurizer.NGramCount);
            tfidf = g.Node("Mul", [damped, idf], ["tfidf"]);
        }

        return tfidf;
    }

    /// <summary>Normalised TF-IDF [N, D] → [N, D + K²]: the conjunction n-grams' presence (Sign of their
    /// non-negative values) as [N, K], its outer product with itself [N, K, K] flattened and scaled by the
    /// conjunction value, appended after the n-grams. Slot a·K + b is "n-gram a and n-gram b both occur"; the head
    /// only has weights for a &lt; b (the in-app featuriser never sets the others).</summary>
    private static string AppendConjunctions(OnnxGraphBuilder g, string normalized, SparseFeaturizer featurizer)
    {
        var k = featurizer.Conjunctions.Count;
        if (k == 0) return normalized;
        var ids = g.Int64Tensor(g.Unique("conj_ids"), [.. featurizer.Conjunctions.Select(i => (long)i)], k);
        var picked = g.Node("Gather", [normalized, ids], null, "", ("axis", 1L));
        var present = g.Node("Sign", [picked]);
        var column = g.Node("Reshape", [present, g.Int64Tensor(g.Unique("conj_col"), [-1, k, 1], 3)]);
        var row = g.Node("Reshape", [present, g.Int64Tensor(g.Unique("conj_row"), [-1, 1, k], 3)]);
        var outer = g.Node("Mul", [column, row]);
        var flat = g.Node("Reshape", [outer, g.Int64Tensor(g.Unique("conj_flat"), [-1, (long)k * k], 2)]);
        var scaled = g.Node("Mul", [flat, g.FloatTensor(g.Unique("conj_value"), [featurizer.ConjunctionValue], 1)]);
        return g.Node("Concat", [normalized, scaled], null, "", ("axis", 1L));
    }

    private static string L2Normalize(OnnxGraphBuilder g, string x)
    {
        var sq = g.Node("Mul", [x, x]);
        var axes = g.Int64Tensor(g.Unique("axes"), [1], 1);
        var sum = g.Node("ReduceSum", [sq, axes], null, "", ("keepdims", 1L));
        var norm = g.Node("Sqrt", [sum]);
        var eps = g.FloatTensor(g.Unique("eps"), [1e-12f]);
        var safe = g.Node("Max", [norm, eps]);
        return g.Node("Div", [x, safe]);
    }
}
