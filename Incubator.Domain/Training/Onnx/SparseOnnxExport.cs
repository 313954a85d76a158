namespace Incubator.Domain.Training.Onnx;

/// <summary>Writes the sparse family as one standard ONNX graph that takes raw text. Its cost grows with the length of
/// the text, not with the vocabulary: nothing of shape batch × vocabulary is ever built.
/// text [N] → StringNormalizer(LOWER, C.UTF-8) → com.microsoft Tokenizer [N, T] → token ids (LabelEncoder) → n-gram
/// ids by walking a trie of the vocabulary's n-grams (one LabelEncoder over (prefix node, next token) keys, once per
/// n-gram length) → feature ids [N, P] (P = every n-gram position, plus one padding position) → how often each
/// feature occurs in its row (Unique over row-offset keys) → per position tf(c)·idf / c, so that summing over the
/// positions of a row gives each feature's value once → L2 norm from the per-position squares → logits = Σ over
/// positions of Gather(Wᵀ, id) × value / norm; conjunctions from the presence of their n-grams; + bias → Softmax.
/// The in-app featuriser computes the same sums feature by feature; the parity tests compare both.</summary>
internal static class SparseOnnxExport
{
    public const string Locale = "C.UTF-8";

    public const string MlDomain = "ai.onnx.ml";

    public static byte[] Build(SparseFeaturizer featurizer, LinearHead head, IReadOnlyList<string> labels)
    {
        if (featurizer.Dimension == 0) throw new InvalidOperationException("The model has no features to export.");
        var g = new OnnxGraphBuilder();
        g.Input("text", OnnxType.String, "N");
        var logits = AppendLogits(g, featurizer, head);
        OnnxHead.Append(g, logits, head, labels);
        return g.Build("incubator_sparse", "Incubator", $"Sparse text classifier ({featurizer.Mode} n-grams, TF-IDF, maximum entropy). Input: text, string [N].");
    }

    /// <summary>text → Σ W·x over the sparse features (the normalised TF-IDF n-grams, then the conjunctions), [N,
    /// classes], without the bias. The head's rows 0..featurizer.Dimension-1 are used.</summary>
    internal static string AppendLogits(OnnxGraphBuilder g, SparseFeaturizer featurizer, LinearHead head)
    {
        g.Opset("com.microsoft", 1);
        g.Opset(MlDomain, 2);
        var d = featurizer.NGramCount;
        var trie = NGramTrie.Build(featurizer);

        var lower = g.Node("StringNormalizer", ["text"], [g.Unique("text_lower")], "",
            ("case_change_action", "LOWER"), ("is_case_sensitive", 1L), ("locale", Locale));
        string[] separators = featurizer.Mode == TokenMode.Char ? [""] : [SparseFeaturizer.SeparatorRegex];
        var tokens = g.Node("Tokenizer", [lower], [g.Unique("tokens")], "com.microsoft",
            ("mark", 0L), ("mincharnum", 1L), ("pad_value", SparseFeaturizer.PadValue), ("separators", separators));

        // Token ids (unknown and padding → None), then one trie level per n-gram length.
        var tok = g.Node("LabelEncoder", [tokens], null, MlDomain,
            ("keys_strings", trie.Tokens), ("values_int64s", Enumerable.Range(0, trie.Tokens.Length).Select(i => (long)i).ToArray()),
            ("default_int64", trie.None));
        var featureOfNode = g.Int64Tensor(g.Unique("feature_of_node"), trie.FeatureOfNode, trie.FeatureOfNode.Length);
        var levels = new List<string> { g.Node("Gather", [featureOfNode, tok], null, "", ("axis", 0L)) };
        var prev = tok;
        if (trie.EdgeKeys.Length > 0)
        {
            var one = g.Int64Tensor(g.Unique("one"), [1], 1);
            var zero = g.Int64Tensor(g.Unique("zero"), [0], 1);
            var minusOne = g.Int64Tensor(g.Unique("minus_one"), [-1], 1);
            var big = g.Int64Tensor(g.Unique("big"), [long.MaxValue], 1);
            var radix = g.Int64Tensor(g.Unique("radix"), [trie.Radix]);
            for (var n = 2; n <= trie.LongestGram; n++)
            {
                // Positions 0..T-n: the (n-1)-gram node at j and the token at j+n-1.
                var head1 = g.Node("Slice", [prev, zero, minusOne, one]);
                var next = g.Node("Slice", [tok, g.Int64Tensor(g.Unique("from"), [n - 1], 1), big, one]);
                var key = g.Node("Add", [g.Node("Mul", [head1, radix]), next]);
                var node = g.Node("LabelEncoder", [key], null, MlDomain,
                    ("keys_int64s", trie.EdgeKeys), ("values_int64s", trie.EdgeNodes), ("default_int64", trie.None));
                levels.Add(g.Node("Gather", [featureOfNode, node], null, "", ("axis", 0L)));
                prev = node;
            }
        }
        // One padding position per row (feature d: idf 0, weights 0) keeps P ≥ 1 for empty text.
        var shapeN = g.Node("Shape", ["text"]);
        var nBy1 = g.Node("Concat", [shapeN, g.Int64Tensor(g.Unique("one_dim"), [1], 1)], null, "", ("axis", 0L));
        levels.Add(g.Node("Expand", [g.Int64Tensor(g.Unique("pad_feature"), [d], 1, 1), nBy1]));
        var ids = g.Node("Concat", [.. levels], null, "", ("axis", 1L));

        // Occurrences of each feature in its row: Unique over keys row·(d+1) + id.
        var nScalar = g.Node("Reshape", [shapeN, g.Int64Tensor(g.Unique("scalar"), [], 0)]);
        var rows = g.Node("Range", [g.Int64Tensor(g.Unique("r0"), [0]), nScalar, g.Int64Tensor(g.Unique("r1"), [1])]);
        var rowOffset = g.Node("Mul", [g.Node("Unsqueeze", [rows, g.Int64Tensor(g.Unique("ax1"), [1], 1)]), g.Int64Tensor(g.Unique("stride"), [d + 1L])]);
        var keys = g.Node("Reshape", [g.Node("Add", [ids, rowOffset]), g.Int64Tensor(g.Unique("flat"), [-1], 1)]);
        var unique = g.Unique("unique");
        g.Node("Unique", [keys], [unique + "_y", unique + "_idx", unique + "_inv", unique + "_counts"]);
        var perPosition = g.Node("Gather", [unique + "_counts", unique + "_inv"], null, "", ("axis", 0L));
        var counts = g.Node("Cast", [g.Node("Reshape", [perPosition, g.Node("Shape", [ids])])], null, "", ("to", (long)OnnxType.Float));

        // tf(c)·idf per feature, spread evenly over its c positions.
        var oneF = g.FloatTensor(g.Unique("one_f"), [1f]);
        var tf = featurizer.Sublinear ? g.Node("Add", [g.Node("Log", [counts]), oneF]) : counts;
        var idf = g.FloatTensor(g.Unique("idf"), [.. featurizer.Idf, 0f], d + 1);
        var weight = g.Node("Mul", [tf, g.Node("Gather", [idf, ids], null, "", ("axis", 0L))]);
        var value = g.Node("Div", [weight, counts]);
        var axis1 = g.Int64Tensor(g.Unique("axes1"), [1], 1);
        var sumSq = g.Node("ReduceSum", [g.Node("Mul", [weight, value]), axis1], null, "", ("keepdims", 1L));
        var norm = g.Node("Max", [g.Node("Sqrt", [sumSq]), g.FloatTensor(g.Unique("eps"), [1e-12f])]);

        var classes = head.Classes;
        var wt = g.FloatTensor(g.Unique("ngram_weights"), head.TransposedFlat(0, d, extraZeroRows: 1), d + 1, classes);
        var picked = g.Node("Gather", [wt, ids], null, "", ("axis", 0L)); // [N, P, classes]
        var valueCol = g.Node("Unsqueeze", [value, g.Int64Tensor(g.Unique("ax2"), [2], 1)]);
        var summed = g.Node("ReduceSum", [g.Node("Mul", [picked, valueCol]), axis1], null, "", ("keepdims", 0L));
        var logits = g.Node("Div", [summed, norm]);

        var k = featurizer.Conjunctions.Count;
        if (k == 0) return logits;
        // Presence [N, K] of the conjunction n-grams, its outer product [N, K·K] (slot a·K + b; the head only has weights
        // for a < b) × the conjunction value, through the head's conjunction rows.
        var position = new long[d + 1];
        Array.Fill(position, k);
        for (var i = 0; i < k; i++) position[featurizer.Conjunctions[i]] = i;
        var pos = g.Node("Gather", [g.Int64Tensor(g.Unique("conj_position"), position, d + 1), ids], null, "", ("axis", 0L));
        var slots = g.Int64Tensor(g.Unique("conj_slots"), [.. Enumerable.Range(0, k).Select(i => (long)i)], k);
        var hit = g.Node("Cast", [g.Node("Equal", [g.Node("Unsqueeze", [pos, g.Int64Tensor(g.Unique("ax2"), [2], 1)]), slots])], null, "", ("to", (long)OnnxType.Float));
        var present = g.Node("ReduceMax", [hit], null, "", ("axes", new long[] { 1 }), ("keepdims", 0L));
        var column = g.Node("Reshape", [present, g.Int64Tensor(g.Unique("conj_col"), [-1, k, 1], 3)]);
        var row = g.Node("Reshape", [present, g.Int64Tensor(g.Unique("conj_row"), [-1, 1, k], 3)]);
        var flat = g.Node("Reshape", [g.Node("Mul", [column, row]), g.Int64Tensor(g.Unique("conj_flat"), [-1, (long)k * k], 2)]);
        var scaled = g.Node("Mul", [flat, g.FloatTensor(g.Unique("conj_value"), [featurizer.ConjunctionValue], 1)]);
        var conjWeights = g.FloatTensor(g.Unique("conj_weights"), head.TransposedFlat(d, k * k), (long)k * k, classes);
        return g.Node("Add", [logits, g.Node("MatMul", [scaled, conjWeights])]);
    }

    /// <summary>The vocabulary's n-grams as a trie over token ids. Nodes 0..V-1 are the tokens themselves, V means
    /// "no such n-gram" (unknown token, padding, or a prefix no vocabulary n-gram continues), longer prefixes are
    /// numbered from V+1. An edge (node p, token t) is the key p·(V+1) + t, unique across all lengths.</summary>
    private sealed record NGramTrie(string[] Tokens, long None, long Radix, long[] EdgeKeys, long[] EdgeNodes, long[] FeatureOfNode, int LongestGram)
    {
        public static NGramTrie Build(SparseFeaturizer featurizer)
        {
            var tokens = featurizer.NGrams.SelectMany(p => p).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
            var tokenId = new Dictionary<string, long>(tokens.Length, StringComparer.Ordinal);
            for (var i = 0; i < tokens.Length; i++) tokenId[tokens[i]] = i;
            long none = tokens.Length;
            var radix = none + 1;
            var edges = new Dictionary<long, long>();
            var featureOfNode = new List<long>(tokens.Length + 1);
            for (var i = 0; i <= tokens.Length; i++) featureOfNode.Add(featurizer.NGramCount);
            var longest = 1;
            for (var f = 0; f < featurizer.NGramCount; f++)
            {
                var parts = featurizer.NGrams[f];
                longest = Math.Max(longest, parts.Length);
                var node = tokenId[parts[0]];
                for (var j = 1; j < parts.Length; j++)
                {
                    var key = checked(node * radix + tokenId[parts[j]]);
                    if (!edges.TryGetValue(key, out var child))
                    {
                        child = featureOfNode.Count;
                        featureOfNode.Add(featurizer.NGramCount);
                        edges[key] = child;
                    }
                    node = child;
                }
                featureOfNode[(int)node] = f;
            }
            var ordered = edges.OrderBy(e => e.Key).ToArray();
            return new NGramTrie(tokens, none, radix, [.. ordered.Select(e => e.Key)], [.. ordered.Select(e => e.Value)], [.. featureOfNode], longest);
        }
    }
}

internal static class OnnxHead
{
    /// <summary>logits (without bias) [N, classes] → + bias → probabilities (Softmax) and label (ArgMax → label name).</summary>
    public static void Append(OnnxGraphBuilder g, string logitsWithoutBias, LinearHead head, IReadOnlyList<string> labels)
    {
        var b = g.FloatTensor("head_biases", head.Biases, head.Classes);
        var logits = g.Node("Add", [logitsWithoutBias, b], ["logits"]);
        g.Node("Softmax", [logits], ["probabilities"], "", ("axis", 1L));
        var idx = g.Node("ArgMax", ["probabilities"], ["label_index"], "", ("axis", 1L), ("keepdims", 0L));
        var names = g.StringTensor("label_names", [.. labels], labels.Count);
        g.Node("Gather", [names, idx], ["label"], "", ("axis", 0L));
        g.Output("label", OnnxType.String, "N");
        g.Output("probabilities", OnnxType.Float, "N", labels.Count);
    }

    /// <summary>features [N, count] × the head's rows from..from+count-1 → [N, classes].</summary>
    public static string DenseLogits(OnnxGraphBuilder g, string features, LinearHead head, int from, int count)
    {
        var w = g.FloatTensor(g.Unique("dense_weights"), head.TransposedFlat(from, count), count, head.Classes);
        return g.Node("MatMul", [features, w]);
    }
}
