using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Incubator.Domain.Training;

/// <summary>Runs an exported model.onnx with plain ONNX Runtime, exactly as a user of the bundle would: input
/// <c>text</c> (string [N]), outputs <c>label</c> (string [N]) and <c>probabilities</c> (float [N, labels]).</summary>
public sealed class OnnxClassifier : ITextClassifier, IDisposable
{
    private readonly InferenceSession _session;
    private readonly Lock _gate = new();

    public OnnxClassifier(byte[] model, IReadOnlyList<string> labels, ModelFamily family, bool needsExtensions = false, int intraOpThreads = 0)
    {
        ArgumentNullException.ThrowIfNull(model);
        Labels = labels;
        Family = family;
        var options = new SessionOptions();
        if (intraOpThreads > 0) options.IntraOpNumThreads = intraOpThreads;
        if (needsExtensions) options.RegisterOrtExtensions();
        _session = new InferenceSession(model, options);
    }

    public IReadOnlyList<string> Labels { get; }

    public ModelFamily Family { get; }

    /// <summary>Texts per ONNX Runtime call.</summary>
    public int BatchSize { get; init; } = 64;

    public IReadOnlyList<Prediction> Predict(IReadOnlyList<string> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var result = new List<Prediction>(texts.Count);
        for (var start = 0; start < texts.Count; start += BatchSize)
        {
            var batch = texts.Skip(start).Take(BatchSize).ToArray();
            result.AddRange(Run(batch));
        }
        return result;
    }

    private List<Prediction> Run(string[] batch)
    {
        var input = new DenseTensor<string>(batch, [batch.Length]);
        using var outputs = RunSession(NamedOnnxValue.CreateFromTensor("text", input));
        var labels = outputs.First(o => o.Name == "label").AsTensor<string>().ToArray();
        var probs = outputs.First(o => o.Name == "probabilities").AsTensor<float>().ToArray();
        var k = Labels.Count;
        var list = new List<Prediction>(batch.Length);
        for (var i = 0; i < batch.Length; i++)
        {
            var p = probs.AsSpan(i * k, k).ToArray();
            var idx = Labels.ToList().IndexOf(labels[i]);
            list.Add(new Prediction(labels[i], idx >= 0 ? p[idx] : p.Max(), p));
        }
        return list;
    }

    private IDisposableReadOnlyCollection<DisposableNamedOnnxValue> RunSession(NamedOnnxValue input)
    {
        lock (_gate) return _session.Run([input]);
    }

    public void Dispose() => _session.Dispose();
}
