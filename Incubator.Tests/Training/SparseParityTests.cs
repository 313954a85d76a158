using Incubator.Domain.Training;

namespace Incubator.Tests.Training;

public sealed class SparseParityTests
{
    [Fact]
    public void Normalize_matches_onnx_string_normalizer_for_every_bmp_character()
    {
        var texts = new List<string>();
        for (var c = 1; c < 0x10000; c++)
        {
            if (c is >= 0xD800 and <= 0xDFFF) continue;
            texts.Add(((char)c).ToString());
        }
        // Supplementary scripts with case: Deseret, Osage, Warang Citi, Medefaidrin, Adlam; and emoji (no case).
        foreach (var (from, to) in new[] { (0x10400, 0x1044F), (0x104B0, 0x104FB), (0x118A0, 0x118DF), (0x16E40, 0x16E7F), (0x1E900, 0x1E943), (0x1F600, 0x1F60F) })
            for (var c = from; c <= to; c++) texts.Add(char.ConvertFromUtf32(c) + "ab");
        using var probe = OnnxProbe.Lowercaser();
        var actual = probe.Run(texts);
        var mismatches = new List<string>();
        for (var i = 0; i < texts.Count; i++)
        {
            var expected = SparseFeaturizer.Normalize(texts[i]);
            if (expected != actual[i]) mismatches.Add($"U+{char.ConvertToUtf32(texts[i], 0):X4} expected U+{(expected.Length > 0 ? char.ConvertToUtf32(expected, 0) : 0):X4} onnx U+{(actual[i].Length > 0 ? char.ConvertToUtf32(actual[i], 0) : 0):X4}");
        }
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} mismatches: {string.Join(", ", mismatches.Take(60))}");
    }
}
