using Incubator.Domain.Training.Onnx;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Incubator.Tests.Training;

/// <summary>Runs a single ONNX operator on strings with plain ONNX Runtime, to compare against our C# mirror.</summary>
internal sealed class OnnxProbe(InferenceSession session) : IDisposable
{
    public static OnnxProbe Lowercaser()
    {
        var g = new OnnxGraphBuilder();
        g.Input("text", OnnxType.String, "N");
        g.Node("StringNormalizer", ["text"], ["out"], "", ("case_change_action", "LOWER"), ("is_case_sensitive", 1L), ("locale", SparseOnnxExport.Locale));
        g.Output("out", OnnxType.String, "N");
        return new OnnxProbe(new InferenceSession(g.Build("probe", "test", "")));
    }

    public string[] Run(IReadOnlyList<string> texts)
    {
        var input = new DenseTensor<string>(texts.ToArray(), [texts.Count]);
        using var outputs = session.Run([NamedOnnxValue.CreateFromTensor("text", input)]);
        return outputs.First().AsTensor<string>().ToArray();
    }

    public void Dispose() => session.Dispose();

    /// <summary>The operator types of a model's main graph (not of Loop bodies).</summary>
    public static List<string> OpTypes(byte[] model)
    {
        var graph = ProtoReader.Fields(model).Single(f => f.Number == 7).Payload;
        return ProtoReader.Fields(graph).Where(f => f.Number == 1)
            .Select(n => System.Text.Encoding.UTF8.GetString(ProtoReader.Fields(n.Payload).Single(f => f.Number == 4).Payload.Span))
            .ToList();
    }
}
