using System.Text;
using Incubator.Domain.Training.Onnx;

namespace Incubator.Domain.Training;

/// <summary>The in-app model: a featuriser (sparse TF-IDF or dense MiniLM) plus a linear head. It predicts without
/// ONNX Runtime for the sparse family; <see cref="ExportOnnx"/> writes the same computation as one ONNX graph.</summary>
public sealed class TrainedClassifier : ITextClassifier
{
    private const string Magic = "INCUBATOR-CLASSIFIER";
    private const int FormatVersion = 4;

    private readonly SparseFeaturizer? _sparse;
    private readonly DenseFeaturizer? _dense;

    internal TrainedClassifier(IReadOnlyList<string> labels, SparseFeaturizer sparse, LinearHead head)
    {
        Labels = labels;
        Family = ModelFamily.Sparse;
        _sparse = sparse;
        Head = head;
    }

    /// <summary>Hybrid: the head sees the sparse vector (features 0..D-1) followed by the embedding (D..D+383).</summary>
    internal TrainedClassifier(IReadOnlyList<string> labels, SparseFeaturizer sparse, DenseFeaturizer dense, LinearHead head)
    {
        if (head.Dimension != sparse.Dimension + DenseFeaturizer.Dimension)
            throw new ArgumentException("A hybrid head needs one weight per sparse feature plus one per embedding dimension.", nameof(head));
        Labels = labels;
        Family = ModelFamily.Hybrid;
        _sparse = sparse;
        _dense = dense;
        Head = head;
    }

    internal TrainedClassifier(IReadOnlyList<string> labels, DenseFeaturizer dense, LinearHead head)
    {
        Labels = labels;
        Family = ModelFamily.Dense;
        _dense = dense;
        Head = head;
    }

    public IReadOnlyList<string> Labels { get; }

    public ModelFamily Family { get; }

    public LinearHead Head { get; }

    /// <summary>Sparse only: word or character n-grams.</summary>
    public TokenMode? TokenMode => _sparse?.Mode;

    /// <summary>True when the model uses the encoder (all-MiniLM-L6-v2), which was trained on English only.</summary>
    public bool EnglishOnly => _dense is not null;

    /// <summary>Dense and hybrid: the encoder (float or 8-bit) that both the in-app model and the export use.</summary>
    public EncoderKind? Encoder => _dense?.Encoder;

    /// <summary>Whether the exported graph needs onnxruntime-extensions (the encoder's BERT tokenizer).</summary>
    public bool NeedsOnnxRuntimeExtensions => _dense is not null;

    public int FeatureCount => Head.Dimension;

    public SparseFeaturizer? Sparse => _sparse;

    /// <summary>Dense and hybrid: the encoder the model embeds with (tests check a folded head against it).</summary>
    internal DenseFeaturizer? Dense => _dense;

    public IReadOnlyList<Prediction> Predict(IReadOnlyList<string> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var result = new Prediction[texts.Count];
        if (_sparse is not null && _dense is not null)
        {
            var vectors = _dense.Embed(texts);
            for (var i = 0; i < texts.Count; i++)
            {
                var (idx, val) = HybridFeatures(_sparse.Featurize(texts[i] ?? ""), vectors[i], _sparse.Dimension);
                result[i] = ToPrediction(Head.Probabilities(idx, val));
            }
        }
        else if (_sparse is not null)
        {
            for (var i = 0; i < texts.Count; i++)
            {
                var (idx, val) = _sparse.Featurize(texts[i] ?? "");
                result[i] = ToPrediction(Head.Probabilities(idx, val));
            }
        }
        else
        {
            var vectors = _dense!.Embed(texts);
            for (var i = 0; i < texts.Count; i++) result[i] = ToPrediction(Head.Probabilities(vectors[i]));
        }
        return result;
    }

    /// <summary>The log-linear pool of sparse, dense and/or hybrid models that share one sparse featuriser and one encoder:
    /// the normalised geometric mean of their probabilities, softmax of the mean of their logits. Every member is linear in
    /// the hybrid features [sparse | embedding], so the pool is a hybrid model whose head is the members' mean, each
    /// member's weights at its place (sparse at 0, dense at D, hybrid both): W = (W_h + [W_s | 0] + [0 | W_d]) / 3.
    /// It exports through the hybrid graph.</summary>
    public static TrainedClassifier Pool(IReadOnlyList<TrainedClassifier> members)
    {
        ArgumentNullException.ThrowIfNull(members);
        if (members.Count == 0) throw new ArgumentException("A pool needs members.", nameof(members));
        var sparse = members.Select(m => m._sparse).FirstOrDefault(s => s is not null)
            ?? throw new ArgumentException("A pool needs a member with sparse features.", nameof(members));
        var dense = members.Select(m => m._dense).FirstOrDefault(d => d is not null)
            ?? throw new ArgumentException("A pool needs a member with the encoder.", nameof(members));
        if (members.Any(m => m._sparse is not null && !ReferenceEquals(m._sparse, sparse)))
            throw new ArgumentException("The members must share one sparse featuriser, so that their weights add up feature by feature.", nameof(members));
        if (members.Any(m => m._dense is not null && m._dense.Encoder != dense.Encoder))
            throw new ArgumentException("The members must use one encoder.", nameof(members));
        var labels = members[0].Labels;
        if (members.Any(m => !m.Labels.SequenceEqual(labels, StringComparer.Ordinal)))
            throw new ArgumentException("The members must have the same labels in the same order.", nameof(members));
        var d = sparse.Dimension;
        var k = labels.Count;
        var weights = new float[k][];
        var biases = new float[k];
        for (var c = 0; c < k; c++) weights[c] = new float[d + DenseFeaturizer.Dimension];
        foreach (var m in members)
        {
            var offset = m.Family == ModelFamily.Dense ? d : 0;
            for (var c = 0; c < k; c++)
            {
                var w = m.Head.Weights[c];
                var row = weights[c];
                for (var j = 0; j < w.Length; j++) row[offset + j] += w[j];
                biases[c] += m.Head.Biases[c];
            }
        }
        var n = (float)members.Count;
        for (var c = 0; c < k; c++)
        {
            var row = weights[c];
            for (var j = 0; j < row.Length; j++) row[j] /= n;
            biases[c] /= n;
        }
        return new TrainedClassifier(labels, sparse, dense, new LinearHead(weights, biases));
    }

    /// <summary>The hybrid feature vector: sparse (indices, values), then the embedding at offset D.</summary>
    internal static (int[] Indices, float[] Values) HybridFeatures((int[] Indices, float[] Values) sparse, float[] embedding, int sparseDimension)
    {
        var n = sparse.Indices.Length;
        var idx = new int[n + embedding.Length];
        var val = new float[n + embedding.Length];
        sparse.Indices.CopyTo(idx, 0);
        sparse.Values.CopyTo(val, 0);
        for (var j = 0; j < embedding.Length; j++)
        {
            idx[n + j] = sparseDimension + j;
            val[n + j] = embedding[j];
        }
        return (idx, val);
    }

    private Prediction ToPrediction(float[] p)
    {
        var best = LinearHead.ArgMax(p);
        return new Prediction(Labels[best], p[best], p);
    }

    /// <summary>Sparse family: the terms of <paramref name="text"/> that pushed the predicted label the most
    /// (TF-IDF value × the label's weight minus the mean weight of the other labels); hybrid: the same over its
    /// sparse part. Dense family: empty — an embedding has no per-word attribution.</summary>
    public IReadOnlyList<TermContribution> Explain(string text, int top)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (_sparse is null || top <= 0) return [];
        var (idx, val) = _sparse.Featurize(text);
        if (idx.Length == 0) return [];
        var p = Predict([text])[0].Probabilities;
        var label = LinearHead.ArgMax(p);
        var k = Head.Classes;
        var list = new List<TermContribution>();
        for (var j = 0; j < idx.Length; j++)
        {
            var f = idx[j];
            var own = Head.Weights[label][f];
            var others = 0f;
            for (var c = 0; c < k; c++) if (c != label) others += Head.Weights[c][f];
            var margin = k > 1 ? own - others / (k - 1) : own;
            list.Add(new TermContribution(_sparse.Describe(f), Labels[label], val[j] * margin));
        }
        return list.OrderByDescending(t => t.Weight).ThenBy(t => t.Term, StringComparer.Ordinal).Take(top).ToList();
    }

    /// <summary>The model as one ONNX graph with raw string input <c>text</c> [N] and outputs <c>label</c> [N] and
    /// <c>probabilities</c> [N, labels].</summary>
    public byte[] ExportOnnx() => Family switch
    {
        ModelFamily.Sparse => SparseOnnxExport.Build(_sparse!, Head, Labels),
        ModelFamily.Hybrid => DenseOnnxExport.BuildHybrid(_dense!.Encoder, _sparse!, Head, Labels),
        _ => DenseOnnxExport.Build(_dense!.Encoder, Head, Labels),
    };

    public void Save(Stream s)
    {
        ArgumentNullException.ThrowIfNull(s);
        using var w = new BinaryWriter(s, Encoding.UTF8, leaveOpen: true);
        w.Write(Magic);
        w.Write(FormatVersion);
        w.Write((int)Family);
        w.Write(Labels.Count);
        foreach (var l in Labels) w.Write(l);
        if (_dense is not null) w.Write((int)_dense.Encoder);
        if (_sparse is not null) _sparse.Write(w);
        Head.Write(w);
    }

    public static TrainedClassifier Load(Stream s)
    {
        ArgumentNullException.ThrowIfNull(s);
        using var r = new BinaryReader(s, Encoding.UTF8, leaveOpen: true);
        try
        {
            if (r.ReadString() != Magic) throw new InvalidDataException("This is not a saved Incubator classifier.");
            var version = r.ReadInt32();
            if (version is < 1 or > FormatVersion) throw new InvalidDataException($"Unsupported classifier format version {version}.");
            var family = (ModelFamily)r.ReadInt32();
            var labels = new string[r.ReadInt32()];
            for (var i = 0; i < labels.Length; i++) labels[i] = r.ReadString();
            if (family == ModelFamily.Sparse)
            {
                var sparse = SparseFeaturizer.Read(r, version);
                return new TrainedClassifier(labels, sparse, LinearHead.Read(r));
            }
            // Format 4 names the encoder; older models used the float one.
            var encoder = EncoderKind.MiniLm;
            if (version >= 4 && family is ModelFamily.Dense or ModelFamily.Hybrid)
            {
                encoder = (EncoderKind)r.ReadInt32();
                if (!Enum.IsDefined(encoder)) throw new InvalidDataException($"The saved classifier names an unknown encoder ({(int)encoder}).");
            }
            if (family == ModelFamily.Dense) return new TrainedClassifier(labels, DenseFeaturizer.For(encoder), LinearHead.Read(r));
            if (family == ModelFamily.Hybrid)
            {
                var sparse = SparseFeaturizer.Read(r, version);
                return new TrainedClassifier(labels, sparse, DenseFeaturizer.For(encoder), LinearHead.Read(r));
            }
            throw new InvalidDataException($"Unknown model family {(int)family}.");
        }
        catch (EndOfStreamException ex)
        {
            throw new InvalidDataException("The saved classifier is truncated.", ex);
        }
    }
}
