namespace Incubator.Domain.Training.Onnx;

/// <summary>The dense family as one graph taking raw text. ONNX Runtime Extensions' BertTokenizer encodes one text
/// per call, so a Loop tokenises the [N] input text by text (lower-case, strip accents, max 256 tokens), padding each
/// to 256 ids; the rows are sorted by length and a second Loop runs the encoder on chunks of similar length, each cut to
/// its longest text, with the attention mask → mean pooling over the real tokens → L2 normalisation → [N, 384] in the
/// input order → the linear head.</summary>
internal static class DenseOnnxExport
{
    public const string ExtensionsDomain = "ai.onnx.contrib";

    /// <summary>Texts per encoder run inside a batch (sorted by length first). Measured (CPU time, 8-bit encoder, batch
    /// 64): 4 and 8 give 1.4–1.5× batch 1 on tweets and 1.1× on DBpedia; 16 loses on long texts (0.9×), 64 on both.</summary>
    public const int ChunkSize = 8;

    /// <summary>text [N] → embedding [N, 384] (what in-app training and prediction use).</summary>
    public static byte[] BuildEmbedder(EncoderKind encoder)
    {
        var g = Create(encoder, out var embedding, ChunkSize);
        g.Node("Identity", [embedding], ["embedding"]);
        g.Output("embedding", OnnxType.Float, "N", DenseFeaturizer.Dimension);
        return g.Build("incubator_minilm_embedder", "Incubator", $"{EncoderGraph.DisplayName(encoder)} mean-pooled, normalised sentence embeddings. Input: text, string [N].");
    }

    /// <summary>The embedder on another quantised graph (the benchmark compares quantisation settings).</summary>
    internal static byte[] BuildEmbedder(EncoderGraph encoder)
    {
        var g = Create(encoder, out var embedding, ChunkSize);
        g.Node("Identity", [embedding], ["embedding"]);
        g.Output("embedding", OnnxType.Float, "N", DenseFeaturizer.Dimension);
        return g.Build("incubator_minilm_embedder", "Incubator", "variant");
    }

    public static byte[] Build(EncoderKind encoder, LinearHead head, IReadOnlyList<string> labels) => Build(encoder, head, labels, ChunkSize);

    /// <summary>The dense graph with another chunk size (the benchmark measures what the chunk size does).</summary>
    internal static byte[] Build(EncoderKind encoder, LinearHead head, IReadOnlyList<string> labels, int chunkSize)
    {
        var g = Create(encoder, out var embedding, chunkSize);
        OnnxHead.Append(g, OnnxHead.DenseLogits(g, embedding, head, 0, DenseFeaturizer.Dimension), head, labels);
        return g.Build("incubator_dense", "Incubator", $"Dense text classifier ({EncoderGraph.DisplayName(encoder)} + maximum entropy). Input: text, string [N]. Needs onnxruntime-extensions.");
    }

    /// <summary>Hybrid: the sparse part (n-gram ids, counts, TF-IDF and conjunctions, as in the sparse graph) and the
    /// embedding side by side; their logits are added, then the bias.</summary>
    public static byte[] BuildHybrid(EncoderKind encoder, SparseFeaturizer featurizer, LinearHead head, IReadOnlyList<string> labels)
    {
        var g = Create(encoder, out var embedding, ChunkSize);
        var sparse = SparseOnnxExport.AppendLogits(g, featurizer, head);
        var dense = OnnxHead.DenseLogits(g, embedding, head, featurizer.Dimension, DenseFeaturizer.Dimension);
        OnnxHead.Append(g, g.Node("Add", [sparse, dense]), head, labels);
        return g.Build("incubator_hybrid", "Incubator", $"Hybrid text classifier ({featurizer.Mode} n-gram TF-IDF + {EncoderGraph.DisplayName(encoder)}, maximum entropy). Input: text, string [N]. Needs onnxruntime-extensions.");
    }

    private static OnnxGraphBuilder Create(EncoderKind kind, out string embedding, int chunkSize) => Create(EncoderGraph.Load(kind), out embedding, chunkSize);

    private static OnnxGraphBuilder Create(EncoderGraph encoder, out string embedding, int chunkSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkSize, 1);
        var g = new OnnxGraphBuilder("inc") { DefaultOpset = encoder.Opset, IrVersion = Math.Max(encoder.IrVersion, 7) };
        g.Opset(ExtensionsDomain, 1);
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

        // Texts sorted by token count and encoded in chunks of up to ChunkSize, each cut to its own longest text: a
        // batch costs about what its texts cost one by one, minus the per-call overhead, instead of every text paying
        // for the longest. N is padded with empty rows (mask 0, sorted first, dropped at the end) to a whole number of chunks.
        var axis0 = g.Int64Tensor("inc_axis0", [0], 1);
        var axis1 = g.Int64Tensor("inc_axis1", [1], 1);
        var chunk = g.Node("Min", [count, g.Int64Tensor("inc_chunk_max", [chunkSize], 1)]);
        var chunks = g.Node("Div", [g.Node("Sub", [g.Node("Add", [count, chunk]), g.Int64Tensor("inc_one", [1], 1)]), chunk]);
        var rows = g.Node("Mul", [chunks, chunk]);
        var extra = g.Node("Sub", [rows, count]);
        var padRows = g.Node("Concat", [g.Int64Tensor("inc_pad_begin", [0, 0], 2), extra, zero], null, "", ("axis", 0L));
        var ids = g.Node("Pad", ["inc_all_ids", padRows]);
        var mask = g.Node("Pad", ["inc_all_mask", padRows]);
        var lengths = g.Node("Cast", [g.Node("ReduceSum", [mask, axis1], null, "", ("keepdims", 0L))], null, "", ("to", (long)OnnxType.Float));
        var byLength = g.Unique("by_length");
        g.Node("TopK", [lengths, rows], [byLength + "_values", byLength + "_order"], "", ("axis", 0L), ("largest", 0L), ("sorted", 1L));
        var order = byLength + "_order";
        g.Node("Gather", [ids, order], ["inc_sorted_ids"], "", ("axis", 0L));
        g.Node("Gather", [mask, order], ["inc_sorted_mask"], "", ("axis", 0L));
        g.Node("Cast", [byLength + "_values"], ["inc_sorted_lengths"], "", ("to", (long)OnnxType.Int64));
        g.Node("Identity", [g.Node("Reshape", [chunk, g.Int64Tensor("inc_scalar", [], 0)])], ["inc_chunk"]);

        var encode = new OnnxGraphBuilder("enc");
        encode.Input("chunk_index", OnnxType.Int64);
        encode.Input("chunk_cond_in", OnnxType.Bool);
        var start = encode.Node("Reshape", [encode.Node("Mul", ["chunk_index", "inc_chunk"]), encode.Int64Tensor("enc_shape_1", [1], 1)]);
        var end = encode.Node("Add", [start, encode.Node("Reshape", ["inc_chunk", encode.Int64Tensor("enc_shape_1b", [1], 1)])]);
        var longest = encode.Node("ReduceMax", [encode.Node("Slice", ["inc_sorted_lengths", start, end, axis0])], null, "", ("keepdims", 1L));
        var chunkIds = encode.Node("Slice", ["inc_sorted_ids", start, end, axis0]);
        var chunkMask = encode.Node("Slice", ["inc_sorted_mask", start, end, axis0]);
        encode.Node("Slice", [chunkIds, zero, longest, axis1], ["input_ids"]);
        encode.Node("Slice", [chunkMask, zero, longest, axis1], ["attention_mask"]);
        encode.Node("Mul", ["input_ids", encode.Int64Tensor("enc_zero_scalar", [0])], ["token_type_ids"]);
        encode.Splice(encoder);

        // Mean over the real tokens, then L2 normalisation.
        var maskF = encode.Node("Cast", ["attention_mask"], null, "", ("to", (long)OnnxType.Float));
        var maskColumn = encode.Node("Unsqueeze", [maskF, encode.Int64Tensor("enc_axis2", [2], 1)]);
        var summed = encode.Node("ReduceSum", [encode.Node("Mul", [EncoderGraph.HiddenState, maskColumn]), axis1], null, "", ("keepdims", 0L));
        var tokens = encode.Node("ReduceSum", [maskF, axis1], null, "", ("keepdims", 1L));
        var pooled = encode.Node("Div", [summed, tokens]);
        var sq = encode.Node("ReduceSum", [encode.Node("Mul", [pooled, pooled]), axis1], null, "", ("keepdims", 1L));
        var norm = encode.Node("Max", [encode.Node("Sqrt", [sq]), encode.FloatTensor("enc_eps", [1e-12f], 1)]);
        encode.Node("Div", [pooled, norm], ["chunk_embeddings"]);
        encode.Node("Identity", ["chunk_cond_in"], ["chunk_cond_out"]);
        encode.Output("chunk_cond_out", OnnxType.Bool);
        encode.Output("chunk_embeddings", OnnxType.Float, "C", DenseFeaturizer.Dimension);
        var chunkCount = g.Node("Reshape", [chunks, g.Int64Tensor("inc_scalar_2", [], 0)]);
        g.Node("Loop", [chunkCount, cond], ["inc_chunk_embeddings"], "", ("body", encode));

        // Back to the input order: row r is at position inverse[r] of the sorted order.
        var sorted = g.Node("Reshape", ["inc_chunk_embeddings", g.Int64Tensor("inc_rows_dim", [-1, DenseFeaturizer.Dimension], 2)]);
        var inverse = g.Unique("inverse");
        g.Node("TopK", [g.Node("Cast", [order], null, "", ("to", (long)OnnxType.Float)), rows], [inverse + "_values", inverse + "_positions"], "",
            ("axis", 0L), ("largest", 0L), ("sorted", 1L));
        var positions = g.Node("Slice", [inverse + "_positions", zero, count, axis0]);
        embedding = g.Node("Gather", [sorted, positions], null, "", ("axis", 0L));
        return g;
    }
}
