using System.Text;

namespace Incubator.Domain.Training;

/// <summary>The README.md inside a bundle: what goes in and out, and runnable C# and Python snippets.</summary>
internal static class BundleReadme
{
    /// <param name="otherCard">The card in the other language, when the bundle has one: its file and language.</param>
    public static string For(BundleManifest m, (string File, CardLanguage Language)? otherCard = null)
    {
        var ext = m.NeedsOnnxRuntimeExtensions;
        var labels = string.Join(", ", m.Labels.Select(l => $"`{l}`"));
        var sb = new StringBuilder();
        sb.AppendLine($"# {m.ModelName} {m.ModelVersion}");
        sb.AppendLine();
        sb.AppendLine($"A {m.Family} text classifier exported by Incubator. Labels, in output order: {labels}.");
        if (m.EnglishOnly) sb.AppendLine("\nThe encoder (all-MiniLM-L6-v2) was trained on English text only; expect weak results on other languages.");
        sb.AppendLine();
        sb.AppendLine("## Files");
        sb.AppendLine();
        sb.AppendLine("- `model.onnx` — the whole model, raw text in, label out (no pre-processing needed).");
        sb.AppendLine("- `labels.json` — labels in output order, family, input and output names.");
        sb.AppendLine("- `model-card.md` — what the model is for, its data and metrics, and its limits.");
        if (otherCard is { } other)
            sb.AppendLine(other.Language == CardLanguage.Ja
                ? $"- `{other.File}` — the same card in Japanese (`model-card.md` is in English, the language of whoever trained the model)."
                : $"- `{other.File}` — the same card in English (`model-card.md` is in Japanese, the language of whoever trained the model).");
        sb.AppendLine("- `checksums.sha256` — SHA-256 of every other file; check with `sha256sum -c checksums.sha256`.");
        sb.AppendLine();
        sb.AppendLine("## Inputs and outputs");
        sb.AppendLine();
        sb.AppendLine("- input `text`: string tensor of shape `[N]` (one text per element, N ≥ 1).");
        sb.AppendLine("- output `label`: string tensor `[N]`, the predicted label.");
        sb.AppendLine($"- output `probabilities`: float tensor `[N, {m.Labels.Count}]`, in the label order above.");
        sb.AppendLine();
        if (ext)
        {
            sb.AppendLine("The graph tokenizes with a BERT tokenizer from **onnxruntime-extensions**, which must be registered");
            sb.AppendLine("(NuGet `Microsoft.ML.OnnxRuntime.Extensions`, pip `onnxruntime-extensions`).");
        }
        else
        {
            sb.AppendLine("Only standard ONNX Runtime operators are used (ai.onnx, plus com.microsoft Tokenizer which ships with");
            sb.AppendLine("every ONNX Runtime build).");
        }
        // The n-gram part (sparse, and hybrid beside the encoder) lower-cases with StringNormalizer: its locale matters off Linux.
        if (m.TokenMode is not null)
        {
            if (ext) sb.AppendLine();
            sb.AppendLine((ext ? "Lower-casing of the n-gram part uses" : "Lower-casing uses") + " `StringNormalizer` with locale `C.UTF-8`, which glibc-based");
            sb.AppendLine("Linux provides; on other systems, if ONNX Runtime reports that it cannot construct the locale, set the");
            sb.AppendLine("node's `locale` attribute to one the system has (for example `en_US.UTF-8`, or `en-US` on Windows).");
        }
        sb.AppendLine();
        sb.AppendLine("## C# (Microsoft.ML.OnnxRuntime)");
        sb.AppendLine();
        sb.AppendLine("```csharp");
        sb.AppendLine("// dotnet add package Microsoft.ML.OnnxRuntime" + (ext ? "\n// dotnet add package Microsoft.ML.OnnxRuntime.Extensions" : ""));
        sb.AppendLine("using Microsoft.ML.OnnxRuntime;");
        sb.AppendLine("using Microsoft.ML.OnnxRuntime.Tensors;");
        sb.AppendLine();
        sb.AppendLine("using var options = new SessionOptions();");
        if (ext) sb.AppendLine("options.RegisterOrtExtensions();");
        sb.AppendLine("using var session = new InferenceSession(\"model.onnx\", options);");
        sb.AppendLine("string[] texts = [\"first text to classify\", \"second text\"];");
        sb.AppendLine("var input = NamedOnnxValue.CreateFromTensor(\"text\", new DenseTensor<string>(texts, [texts.Length]));");
        sb.AppendLine("using var results = session.Run([input]);");
        sb.AppendLine("var labels = results.First(r => r.Name == \"label\").AsTensor<string>().ToArray();");
        sb.AppendLine("var probabilities = results.First(r => r.Name == \"probabilities\").AsTensor<float>();");
        sb.AppendLine("for (var i = 0; i < texts.Length; i++)");
        sb.AppendLine("    Console.WriteLine($\"{labels[i]}\\t{texts[i]}\");");
        sb.AppendLine("```");
        sb.AppendLine();
        sb.AppendLine("## Python (onnxruntime)");
        sb.AppendLine();
        sb.AppendLine("```python");
        sb.AppendLine("# pip install onnxruntime numpy" + (ext ? " onnxruntime-extensions" : ""));
        sb.AppendLine("import numpy as np");
        sb.AppendLine("import onnxruntime as ort");
        if (ext) sb.AppendLine("from onnxruntime_extensions import get_library_path");
        sb.AppendLine();
        sb.AppendLine("options = ort.SessionOptions()");
        if (ext) sb.AppendLine("options.register_custom_ops_library(get_library_path())");
        sb.AppendLine("session = ort.InferenceSession(\"model.onnx\", options, providers=[\"CPUExecutionProvider\"])");
        sb.AppendLine("texts = np.array([\"first text to classify\", \"second text\"], dtype=object)");
        sb.AppendLine("labels, probabilities = session.run([\"label\", \"probabilities\"], {\"text\": texts})");
        sb.AppendLine("for label, p, text in zip(labels, probabilities, texts):");
        sb.AppendLine("    print(label, float(p.max()), text, sep=\"\\t\")");
        sb.AppendLine("```");
        return sb.ToString();
    }
}
