namespace Incubator.Domain.Training.Onnx;

/// <summary>The dense family as one graph taking raw text. ONNX Runtime Extensions' BertTokenizer encodes one text
/// per call, so a Loop tokenises the [N] input text by text (lower-case, strip accents, max 256 tokens), padding each
/// to 256 ids; the ids are cut to the longest text of the batch and the encoder runs once on the whole batch [N, L]
/// with its attention mask → mean pooling over the real tokens → L2 normalisation [N, 384] → the linear head.</summary>
internal static class DenseOnnxExport
{
    public const string ExtensionsDomain = "ai.onnx.contrib";

    /// <summary>text [N] → embedding [N, 384] (what in-app training and prediction use).</summary>
    public static byte[] BuildEmbedder(EncoderKind encoder)
    {
        var g = Create(encoder, out var embedding);
        g.Node("Identity", [embedding], ["embedding"]);
        g.Output("embedding", OnnxType.Float, "N", DenseFeaturizer.Dimension);
        return g.Build("incubator_minilm_embedder", "Incubator", $"{EncoderGraph.DisplayName(encoder)} mean-pooled, normalised sentence embeddings. Input: text, string [N].");
    }

    public static byte[] Build(EncoderKind encoder, LinearHead head, IReadOnlyList<string> labels)
    {
        var g = Create(encoder, out var embedding);
        OnnxHead.Append(g, OnnxHead.DenseLogits(g, embedding, head, 0, DenseFeaturizer.Dimension), head, labels);
        return g.Build("incubator_dense", "Incubator", $"Dense text classifier ({EncoderGraph.DisplayName(encoder)} + maximum entropy). Input: text, string [N]. Needs onnxruntime-extensions.");
    }

    /// <summary>Hybrid: the sparse part (n-gram ids, counts, TF-IDF and conjunctions, as in the sparse graph) and the
    /// embedding side by side; their logits are added, then the bias.</summary>
    public static byte[] BuildHybrid(EncoderKind encoder, SparseFeaturizer featurizer, LinearHead head, IReadOnlyList<string> labels)
    {
        var g = Create(encoder, out var embedding);
        var sparse = SparseOnnxExport.AppendLogits(g, featurizer, head);
        var dense = OnnxHead.DenseLogits(g, embedding, head, featurizer.Dimension, DenseFeaturizer.Dimension);
        OnnxHead.Append(g, g.Node("Add", [sparse, dense]), head, labels);
        return g.Build("incubator_hybrid", "Incubator", $"Hybrid text classifier ({featurizer.Mode} n-gram TF-IDF + {EncoderGraph.DisplayName(encoder)}, maximum entropy). Input: text, string [N]. Needs onnxruntime-extensions.");
    }

    private static OnnxGraphBuilder Create(EncoderKind kind, out string embedding)
    {
        var encoder = EncoderGraph.Load(kind);
        var g = new OnnxGraphBuilder("inc") { DefaultOpset = encoder.Opset, IrVersion = Math.Max(encoder.IrVersion, 7) };
        g.Opset(ExtensionsDomain, 1);
        if (kind != EncoderKind.MiniLm) g.Opset("com.microsoft", 1);
        g.Input("text", OnnxType.String, "N");

        // Trip count = N.
        var shape = g.Node("Shape", ["text"]);
        var zero = g.Int64Tensor("inc_zero", [0], 1);
        var count = g.Node("Gather", [shape, zero], null, "", ("axis", 0L));
        var cond = g.BoolScalar("inc_true", true);

        var body = new OnnxGraphBuilder("body");
        body.Input("iteration", OnnxType.Int64);
        body.Input("cond_in", OnnxType.Bool);
        var one = body.Node("Gather", ["text", "iteration"], null, "", ("axis", 0L));
        var asVector = body.Node("Reshape", [one, body.Int64Tensor("body_shape_1", [1], 1)]);
        body.Node("BertTokenizer", [asVector], ["tok_ids", "tok_types", "tok_mask"], ExtensionsDomain,
            ("vocab_file", encoder.Vocab), ("do_lower_case", 1L), ("strip_accents", 1L), ("max_length", (long)DenseFeaturizer.MaxTokens),
            ("truncation_strategy_name", "longest_first"));
        // Pad to MaxTokens so the Loop can stack the rows; the padding is cut again after the Loop.
        var missing = body.Node("Sub", [body.Int64Tensor("body_max_tokens", [DenseFeaturizer.MaxTokens], 1), body.Node("Shape", ["tok_ids"])]);
        var pads = body.Node("Concat", [body.Int64Tensor("body_pad_start", [0], 1), missing], null, "", ("axis", 0L));
        body.Node("Pad", ["tok_ids", pads], ["ids_out"]);
        body.Node("Pad", ["tok_mask", pads], ["mask_out"]);
        body.Node("Identity", ["cond_in"], ["cond_out"]);
        body.Output("cond_out", OnnxType.Bool);
        body.Output("ids_out", OnnxType.Int64, DenseFeaturizer.MaxTokens);
        body.Output("mask_out", OnnxType.Int64, DenseFeaturizer.MaxTokens);
        g.Node("Loop", [count, cond], ["inc_all_ids", "inc_all_mask"], "", ("body", body));

        // Cut to the longest text of the batch.
        var axis1 = g.Int64Tensor("inc_axis1", [1], 1);
        var lengths = g.Node("ReduceSum", ["inc_all_mask", axis1], null, "", ("keepdims", 0L));
        var longest = g.Node("ReduceMax", [lengths], null, "", ("keepdims", 1L));
        g.Node("Slice", ["inc_all_ids", zero, longest, axis1], ["input_ids"]);
        g.Node("Slice", ["inc_all_mask", zero, longest, axis1], ["attention_mask"]);
        g.Node("Mul", ["input_ids", g.Int64Tensor("inc_zero_scalar", [0])], ["token_type_ids"]);
        g.Splice(encoder);

        // Mean over the real tokens, then L2 normalisation.
        var mask = g.Node("Cast", ["attention_mask"], null, "", ("to", (long)OnnxType.Float));
        var maskColumn = g.Node("Unsqueeze", [mask, g.Int64Tensor("inc_axis2", [2], 1)]);
        var summed = g.Node("ReduceSum", [g.Node("Mul", [EncoderGraph.HiddenState, maskColumn]), axis1], null, "", ("keepdims", 0L));
        var tokens = g.Node("ReduceSum", [mask, axis1], null, "", ("keepdims", 1L));
        var pooled = g.Node("Div", [summed, tokens]);
        var sq = g.Node("ReduceSum", [g.Node("Mul", [pooled, pooled]), axis1], null, "", ("keepdims", 1L));
        var norm = g.Node("Max", [g.Node("Sqrt", [sq]), g.FloatTensor("inc_eps", [1e-12f], 1)]);
        embedding = g.Node("Div", [pooled, norm]);
        return g;
    }
}
