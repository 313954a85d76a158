using Incubator.Domain.Training;

namespace Incubator.Tests.Training;

internal static class ParityAssert
{
    /// <summary>Same label for every text and every probability within 1e-4; returns the largest deviation.</summary>
    public static double SameAsOnnx(ITextClassifier inApp, OnnxClassifier onnx, IReadOnlyList<string> texts)
    {
        var expected = inApp.Predict(texts);
        var actual = onnx.Predict(texts);
        Assert.Equal(texts.Count, actual.Count);
        var maxDev = 0.0;
        for (var i = 0; i < texts.Count; i++)
        {
            var snippet = texts[i].Length > 60 ? texts[i][..60] + "…" : texts[i];
            Assert.True(expected[i].Label == actual[i].Label, $"Label differs for '{snippet}': in-app {expected[i].Label}, ONNX {actual[i].Label}");
            Assert.Equal(expected[i].Probabilities.Length, actual[i].Probabilities.Length);
            for (var k = 0; k < expected[i].Probabilities.Length; k++)
            {
                var dev = Math.Abs(expected[i].Probabilities[k] - actual[i].Probabilities[k]);
                maxDev = Math.Max(maxDev, dev);
                Assert.True(dev <= 1e-4, $"Probability {k} differs by {dev} for '{snippet}'");
            }
        }
        return maxDev;
    }
}
