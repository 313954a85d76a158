using Incubator.Domain.Training;
using Incubator.Domain.Training.Onnx;

namespace Incubator.Domain.Benchmarks;

/// <summary>The sparse graph as decision 0019 first shipped it, kept only as a benchmark baseline: the same n-gram ids,
/// then counts per row from a hash Unique over the whole padded [N, P] batch (plus a padding column), per-position
/// values and a [N, P, K] comparison for the conjunctions. Same predictions as <see cref="SparseOnnxExport"/>.</summary>
internal static class UniqueSparseOnnx
{
    public static byte[] Build(SparseFeaturizer featurizer, LinearHead head, IReadOnlyList<string> labels)
    {
        var g = new OnnxGraphBuilder();
        g.Input("text", OnnxType.String, "N");
        var d = featurizer.NGramCount;
        var real = SparseOnnxExport.AppendNGramIds(g, featurizer);
        var shapeN = g.Node("Shape", ["text"]);
        var nBy1 = g.Node("Concat", [shapeN, g.Int64Tensor(g.Unique("one_dim"), [1], 1)], null, "", ("axis", 0L));
        var ids = g.Node("Concat", [real, g.Node("Expand", [g.Int64Tensor(g.Unique("pad_feature"), [d], 1, 1), nBy1])], null, "", ("axis", 1L));

        var nScalar = g.Node("Reshape", [shapeN, g.Int64Tensor(g.Unique("scalar"), [], 0)]);
        var rows = g.Node("Range", [g.Int64Tensor(g.Unique("r0"), [0]), nScalar, g.Int64Tensor(g.Unique("r1"), [1])]);
        var rowOffset = g.Node("Mul", [g.Node("Unsqueeze", [rows, g.Int64Tensor(g.Unique("ax1"), [1], 1)]), g.Int64Tensor(g.Unique("stride"), [d + 1L])]);
        var keys = g.Node("Reshape", [g.Node("Add", [ids, rowOffset]), g.Int64Tensor(g.Unique("flat"), [-1], 1)]);
        var unique = g.Unique("unique");
        g.Node("Unique", [keys], [unique + "_y", unique + "_idx", unique + "_inv", unique + "_counts"]);
        var perPosition = g.Node("Gather", [unique + "_counts", unique + "_inv"], null, "", ("axis", 0L));
        var counts = g.Node("Cast", [g.Node("Reshape", [perPosition, g.Node("Shape", [ids])])], null, "", ("to", (long)OnnxType.Float));

        var oneF = g.FloatTensor(g.Unique("one_f"), [1f]);
        var tf = featurizer.Sublinear ? g.Node("Add", [g.Node("Log", [counts]), oneF]) : counts;
        var idf = g.FloatTensor(g.Unique("idf"), [.. featurizer.Idf, 0f], d + 1);
        var weight = g.Node("Mul", [tf, g.Node("Gather", [idf, ids], null, "", ("axis", 0L))]);
        var value = g.Node("Div", [weight, counts]);
        var axis1 = g.Int64Tensor(g.Unique("axes1"), [1], 1);
        var sumSq = g.Node("ReduceSum", [g.Node("Mul", [weight, value]), axis1], null, "", ("keepdims", 1L));
        var norm = g.Node("Max", [g.Node("Sqrt", [sumSq]), g.FloatTensor(g.Unique("eps"), [1e-12f])]);
        var classes = head.Classes;
        var wt = g.FloatTensor(g.Unique("ngram_weights"), head.TransposedFlat(0, d, extraZeroRows: 1), d + 1, classes);
        var picked = g.Node("Gather", [wt, ids], null, "", ("axis", 0L));
        var valueCol = g.Node("Unsqueeze", [value, g.Int64Tensor(g.Unique("ax2"), [2], 1)]);
        var logits = g.Node("Div", [g.Node("ReduceSum", [g.Node("Mul", [picked, valueCol]), axis1], null, "", ("keepdims", 0L)), norm]);

        var k = featurizer.Conjunctions.Count;
        if (k > 0)
        {
            var position = new long[d + 1];
            Array.Fill(position, k);
            for (var i = 0; i < k; i++) position[featurizer.Conjunctions[i]] = i;
            var pos = g.Node("Gather", [g.Int64Tensor(g.Unique("conj_position"), position, d + 1), ids], null, "", ("axis", 0L));
            var slots = g.Int64Tensor(g.Unique("conj_slots"), [.. Enumerable.Range(0, k).Select(i => (long)i)], k);
            var hit = g.Node("Cast", [g.Node("Equal", [g.Node("Unsqueeze", [pos, g.Int64Tensor(g.Unique("ax2"), [2], 1)]), slots])], null, "", ("to", (long)OnnxType.Float));
            var present = g.Node("ReduceMax", [hit], null, "", ("axes", new long[] { 1 }), ("keepdims", 0L));
            var column = g.Node("Reshape", [present, g.Int64Tensor(g.Unique("conj_col"), [-1, k, 1], 3)]);
            var row = g.Node("Reshape", [present, g.Int64Tensor(g.Unique("conj_row"), [-1, 1, k], 3)]);
            var flat = g.Node("Reshape", [g.Node("Mul", [column, row]), g.Int64Tensor(g.Unique("conj_flat"), [-1, (long)k * k], 2)]);
            var scaled = g.Node("Mul", [flat, g.FloatTensor(g.Unique("conj_value"), [featurizer.ConjunctionValue], 1)]);
            var conjWeights = g.FloatTensor(g.Unique("conj_weights"), head.TransposedFlat(d, k * k), (long)k * k, classes);
            logits = g.Node("Add", [logits, g.Node("MatMul", [scaled, conjWeights])]);
        }
        OnnxHead.Append(g, logits, head, labels);
        return g.Build("incubator_sparse", "Incubator", "Sparse text classifier, decision 0019's Unique graph (benchmark baseline).");
    }
}
