namespace Incubator.Domain.Training;

/// <summary>The trained linear maximum-entropy head: logits = W·x + b, probabilities = softmax(logits). The same
/// numbers go into the ONNX MatMul/Add/Softmax, so in-app and exported predictions agree.</summary>
public sealed class LinearHead
{
    public LinearHead(float[][] weights, float[] biases)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(biases);
        if (weights.Length != biases.Length) throw new ArgumentException("One weight row per class is required.", nameof(weights));
        Weights = weights;
        Biases = biases;
        Dimension = weights.Length == 0 ? 0 : weights[0].Length;
    }

    /// <summary>Weights[class][feature].</summary>
    public float[][] Weights { get; }

    public float[] Biases { get; }

    public int Dimension { get; }

    public int Classes => Biases.Length;

    public float[] Probabilities(ReadOnlySpan<int> indices, ReadOnlySpan<float> values)
    {
        var logits = new float[Classes];
        for (var c = 0; c < Classes; c++)
        {
            var w = Weights[c];
            var s = 0f;
            for (var k = 0; k < indices.Length; k++) s += w[indices[k]] * values[k];
            logits[c] = s + Biases[c];
        }
        return Softmax(logits);
    }

    public float[] Probabilities(ReadOnlySpan<float> dense)
    {
        var logits = new float[Classes];
        for (var c = 0; c < Classes; c++)
        {
            var w = Weights[c];
            var s = 0f;
            for (var k = 0; k < dense.Length; k++) s += w[k] * dense[k];
            logits[c] = s + Biases[c];
        }
        return Softmax(logits);
    }

    public static float[] Softmax(float[] logits)
    {
        var max = logits.Max();
        var sum = 0f;
        var p = new float[logits.Length];
        for (var i = 0; i < p.Length; i++)
        {
            p[i] = MathF.Exp(logits[i] - max);
            sum += p[i];
        }
        for (var i = 0; i < p.Length; i++) p[i] /= sum;
        return p;
    }

    public static int ArgMax(float[] values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
        return best;
    }

    /// <summary>W transposed to [features, classes] in row-major order, the layout of the ONNX MatMul initializer.</summary>
    public float[] TransposedFlat() => TransposedFlat(0, Dimension);

    /// <summary>Features from..from+count-1 of W transposed to [count + extraZeroRows, classes], row-major; the extra
    /// rows are zeros (a "no feature" id that an ONNX Gather may pick).</summary>
    public float[] TransposedFlat(int from, int count, int extraZeroRows = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(from);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(from + count, Dimension);
        var flat = new float[(count + extraZeroRows) * Classes];
        for (var c = 0; c < Classes; c++)
            for (var f = 0; f < count; f++) flat[f * Classes + c] = Weights[c][from + f];
        return flat;
    }

    internal void Write(BinaryWriter w)
    {
        w.Write(Classes);
        w.Write(Dimension);
        foreach (var b in Biases) w.Write(b);
        foreach (var row in Weights) foreach (var v in row) w.Write(v);
    }

    internal static LinearHead Read(BinaryReader r)
    {
        var classes = r.ReadInt32();
        var dim = r.ReadInt32();
        var biases = new float[classes];
        for (var i = 0; i < classes; i++) biases[i] = r.ReadSingle();
        var weights = new float[classes][];
        for (var c = 0; c < classes; c++)
        {
            weights[c] = new float[dim];
            for (var f = 0; f < dim; f++) weights[c][f] = r.ReadSingle();
        }
        return new LinearHead(weights, biases);
    }
}
