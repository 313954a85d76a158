namespace Incubator.Domain.Training.Onnx;

/// <summary>Writes the sparse family as one standard ONNX graph that takes raw text. Its cost grows with the length of
/// the texts, not with the vocabulary nor with the longest text of the batch: nothing of shape batch × vocabulary or
/// batch × longest text is built after the n-gram lookup.
/// text [N] → StringNormalizer(LOWER, C.UTF-8) → com.microsoft Tokenizer [N, T] → token ids (LabelEncoder) → n-gram
/// ids by walking a trie of the vocabulary's n-grams (one LabelEncoder over (prefix node, next token) keys, once per
/// n-gram length) → the known n-gram occurrences as keys row·(d+1) + id, one flat list for the batch (Compress) →
/// sorted (TopK) → runs of equal keys = (row, feature, count) → tf(c)·idf per run → per-row sums by ScatterElements
/// (add): Σ (tf·idf)² for the L2 norm and Σ Gather(Wᵀ, id) · tf·idf for the logits; conjunctions from the presence of
/// their n-grams; + bias → Softmax. Each row's sums run over its own features in ascending order, as the in-app
/// featuriser's do, so a text scores the same in any batch; the parity tests compare both.</summary>
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
        // ScatterElements' reduction needs opset 16. The hybrid graph takes the encoder's opset (13 or later, as its
        // Unsqueeze and ReduceSum take axes as inputs); no operator the encoder uses changed meaning from 13 to 16.
        if (g.DefaultOpset < 16) g.DefaultOpset = 16;
        var d = featurizer.NGramCount;
        var real = AppendNGramIds(g, featurizer);
        var one = g.Int64Tensor(g.Unique("one"), [1], 1);
        var zero = g.Int64Tensor(g.Unique("zero"), [0], 1);
        var minusOne = g.Int64Tensor(g.Unique("minus_one"), [-1], 1);
        var big = g.Int64Tensor(g.Unique("big"), [long.MaxValue], 1);

        // Every (row, feature) occurrence as one key row·(d+1) + id over the whole batch, padding and unknown n-grams
        // dropped, plus one key (row, d) per row so that every row — even an empty text — has an entry. Sorted, equal
        // keys form runs: a run is one feature of one row, its length the feature's count. Nothing scales with the
        // vocabulary or with the batch's longest text.
        var shapeN = g.Node("Shape", ["text"]);
        var nScalar = g.Node("Reshape", [shapeN, g.Int64Tensor(g.Unique("scalar"), [], 0)]);
        var r0 = g.Int64Tensor(g.Unique("r0"), [0]);
        var r1 = g.Int64Tensor(g.Unique("r1"), [1]);
        var stride = g.Int64Tensor(g.Unique("stride"), [d + 1L]);
        var dScalar = g.Int64Tensor(g.Unique("pad_id"), [d]);
        var rowOffset = g.Node("Mul", [g.Node("Range", [r0, nScalar, r1]), stride]); // [N]
        var flatShape = g.Int64Tensor(g.Unique("flat"), [-1], 1);
        var occurrences = g.Node("Compress", [
            g.Node("Reshape", [g.Node("Add", [real, g.Node("Unsqueeze", [rowOffset, one])]), flatShape]),
            g.Node("Reshape", [g.Node("Not", [g.Node("Equal", [real, dScalar])]), flatShape])]);
        var keys = g.Node("Concat", [occurrences, g.Node("Add", [rowOffset, dScalar])], null, "", ("axis", 0L));
        var count = g.Node("Shape", [keys]);
        var topK = g.Unique("sorted");
        g.Node("TopK", [keys, count], [topK + "_values", topK + "_indices"], "", ("axis", 0L), ("largest", 0L), ("sorted", 1L));
        var sorted = topK + "_values";
        var differs = g.Node("Not", [g.Node("Equal", [g.Node("Slice", [sorted, one, big]), g.Node("Slice", [sorted, zero, minusOne])])]);
        var trueFlag = g.BoolScalar(g.Unique("true"), true, 1);
        var runKey = g.Node("Compress", [sorted, g.Node("Concat", [trueFlag, differs], null, "", ("axis", 0L))]); // [R], R ≥ N
        var ends = g.Node("Compress", [
            g.Node("Range", [r0, g.Node("Reshape", [count, g.Int64Tensor(g.Unique("scalar"), [], 0)]), r1]),
            g.Node("Concat", [differs, trueFlag], null, "", ("axis", 0L))]);
        var lengths = g.Node("Sub", [ends, g.Node("Concat", [minusOne, g.Node("Slice", [ends, zero, minusOne])], null, "", ("axis", 0L))]);
        var rowOf = g.Node("Div", [runKey, stride]);
        var feature = g.Node("Sub", [runKey, g.Node("Mul", [rowOf, stride])]);

        // tf(c)·idf per run; per row, in ascending feature order as the in-app featuriser sums them: Σ (tf·idf)² →
        // L2 norm, Σ Wᵀ[id] · tf·idf → logits / norm.
        var oneF = g.FloatTensor(g.Unique("one_f"), [1f]);
        var c = g.Node("Cast", [lengths], null, "", ("to", (long)OnnxType.Float));
        var tf = featurizer.Sublinear ? g.Node("Add", [g.Node("Log", [c]), oneF]) : c;
        var idf = g.FloatTensor(g.Unique("idf"), [.. featurizer.Idf, 0f], d + 1);
        var weight = g.Node("Mul", [tf, g.Node("Gather", [idf, feature], null, "", ("axis", 0L))]);
        var zeroF = g.FloatTensor(g.Unique("zero_f"), [0f], 1);
        var sumSq = g.Node("ScatterElements", [g.Node("Expand", [zeroF, shapeN]), rowOf, g.Node("Mul", [weight, weight])], null, "",
            ("axis", 0L), ("reduction", "add"));
        var norm = g.Node("Max", [g.Node("Sqrt", [sumSq]), g.FloatTensor(g.Unique("eps"), [1e-12f])]);

        var classes = head.Classes;
        var wt = g.FloatTensor(g.Unique("ngram_weights"), head.TransposedFlat(0, d, extraZeroRows: 1), d + 1, classes);
        var contributions = g.Node("Mul", [g.Node("Gather", [wt, feature], null, "", ("axis", 0L)), g.Node("Unsqueeze", [weight, one])]); // [R, classes]
        var nByClasses = g.Node("Concat", [shapeN, g.Int64Tensor(g.Unique("classes"), [classes], 1)], null, "", ("axis", 0L));
        var summed = g.Node("ScatterElements", [
            g.Node("Expand", [zeroF, nByClasses]),
            g.Node("Expand", [g.Node("Unsqueeze", [rowOf, one]), g.Node("Shape", [contributions])]),
            contributions], null, "", ("axis", 0L), ("reduction", "add"));
        var logits = g.Node("Div", [summed, g.Node("Unsqueeze", [norm, one])]);

        var k = featurizer.Conjunctions.Count;
        if (k == 0) return logits;
        // Presence [N, K] of the conjunction n-grams (one run per feature and row, so adding 1 per run gives 0 or 1;
        // slot K collects every other feature), its outer product [N, K·K] (slot a·K + b; the head only has weights
        // for a < b) × the conjunction value, through the head's conjunction rows.
        var position = new long[d + 1];
        Array.Fill(position, k);
        for (var i = 0; i < k; i++) position[featurizer.Conjunctions[i]] = i;
        var pos = g.Node("Gather", [g.Int64Tensor(g.Unique("conj_position"), position, d + 1), feature], null, "", ("axis", 0L));
        var slotsPerRow = g.Int64Tensor(g.Unique("conj_slots"), [k + 1L], 1);
        var slot = g.Node("Add", [g.Node("Mul", [rowOf, slotsPerRow]), pos]);
        var hits = g.Node("ScatterElements", [
            g.Node("Expand", [zeroF, g.Node("Mul", [shapeN, slotsPerRow])]), slot,
            g.Node("Expand", [oneF, g.Node("Shape", [slot])])], null, "", ("axis", 0L), ("reduction", "add"));
        var present = g.Node("Slice", [g.Node("Reshape", [hits, g.Int64Tensor(g.Unique("conj_rows"), [-1, k + 1L], 2)]),
            zero, g.Int64Tensor(g.Unique("conj_k"), [k], 1), one]);
        var column = g.Node("Reshape", [present, g.Int64Tensor(g.Unique("conj_col"), [-1, k, 1], 3)]);
        var row = g.Node("Reshape", [present, g.Int64Tensor(g.Unique("conj_row"), [-1, 1, k], 3)]);
        var flat = g.Node("Reshape", [g.Node("Mul", [column, row]), g.Int64Tensor(g.Unique("conj_flat"), [-1, (long)k * k], 2)]);
        var scaled = g.Node("Mul", [flat, g.FloatTensor(g.Unique("conj_value"), [featurizer.ConjunctionValue], 1)]);
        var conjWeights = g.FloatTensor(g.Unique("conj_weights"), head.TransposedFlat(d, k * k), (long)k * k, classes);
        return g.Node("Add", [logits, g.Node("MatMul", [scaled, conjWeights])]);
    }

    /// <summary>text → the feature id of every n-gram position, [N, P] (d = NGramCount where the n-gram is no feature
    /// or the position is padding).</summary>
    internal static string AppendNGramIds(OnnxGraphBuilder g, SparseFeaturizer featurizer)
    {
        g.Opset("com.microsoft", 1);
        g.Opset(MlDomain, 2);
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
            // Only the trie levels use these: a vocabulary of single tokens writes none (ONNX Runtime warns about every
            // initializer no node uses, each time the model is loaded).
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
        return g.Node("Concat", [.. levels], null, "", ("axis", 1L));
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
