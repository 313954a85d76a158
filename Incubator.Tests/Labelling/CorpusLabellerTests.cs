using Incubator.Domain.Labelling;

namespace Incubator.Tests.Labelling;

/// <summary>Reading a labelling answer (a verdict for every text, a reason for every rejected piece) and choosing a
/// sample stratified by the miner's labels.</summary>
public sealed class CorpusLabellerTests
{
    private static readonly string[] Labels = ["billing", "shipping", "none"];

    [Fact]
    public void Every_text_gets_one_verdict_and_every_other_piece_a_reason()
    {
        int[] ordinals = [10, 11, 12, 13, 14, 15, 16];
        // 1 billing (as written with spaces and case), 2 a label the task lacks, 3 "none of these" — which here is a label
        // of the task, so it is that label — 4 a number, 5 twice (first kept), 6 missing, 7 cut off; "8" is no id.
        var answer = "```json\n{\"1\": \"BILLING \", \"2\": \"refunds\", \"3\": \"none\", \"4\": 7, \"5\": \"shipping\", \"5\": \"billing\", \"8\": \"billing\", \"7\": \"ship";
        var result = CorpusLabeller.Parse(answer, ordinals, Labels);

        Assert.Equal(ordinals, result.Texts.Select(t => t.Ordinal));
        Assert.Equal(["billing", null, "none", null, "shipping", null, null], result.Texts.Select(t => t.Label));
        Assert.Equal([null, LabelRejectReason.UnknownLabel, null, LabelRejectReason.Malformed, null, LabelRejectReason.MissingId, LabelRejectReason.Malformed],
            result.Texts.Select(t => t.Rejected));
        Assert.DoesNotContain(result.Texts, t => t.NoneOfThese);
        Assert.Equal([LabelRejectReason.UnknownId, LabelRejectReason.Duplicate], result.Pieces.Select(p => p.Reason).Order());
    }

    [Fact]
    public void None_of_these_is_counted_apart_and_an_answer_without_json_leaves_every_text_missing()
    {
        var result = CorpusLabeller.Parse("{\"1\": \"None of these\", \"2\": \"n/a\"}", [0, 1], ["billing", "shipping"]);
        Assert.All(result.Texts, t => Assert.True(t.NoneOfThese && t.Label is null && t.Rejected is null));

        var prose = CorpusLabeller.Parse("Sorry, I cannot help with that.", [0, 1, 2], ["billing", "shipping"]);
        Assert.All(prose.Texts, t => Assert.Equal(LabelRejectReason.MissingId, t.Rejected));
        Assert.Equal([LabelRejectReason.Malformed], prose.Pieces.Select(p => p.Reason));
    }

    [Fact]
    public void A_limited_sample_is_stratified_by_the_miners_labels_and_spans_each_labels_confidence()
    {
        // 60 texts the miner calls "a" (confidence falling with the ordinal), 30 "b", 10 "c".
        var ordinals = Enumerable.Range(0, 100).ToList();
        var probabilities = ordinals.Select(i => i < 60 ? new[] { 0.9f - i / 100f, 0.05f, 0.05f } : i < 90 ? new[] { 0.1f, 0.8f - (i - 60) / 100f, 0.1f } : new[] { 0.1f, 0.1f, 0.8f })
            .ToList();
        var sample = CorpusLabeller.Choose(ordinals, probabilities, ["a", "b", "c"], 10);

        Assert.Equal(10, sample.Select(s => s.Ordinal).Distinct().Count());
        Assert.Equal((6, 3, 1), (sample.Count(s => s.MinerLabel == "a"), sample.Count(s => s.MinerLabel == "b"), sample.Count(s => s.MinerLabel == "c")));
        Assert.All(sample, s => Assert.Equal(s.Ordinal < 60 ? "a" : s.Ordinal < 90 ? "b" : "c", s.MinerLabel));
        // Not the six most confident "a" texts: spread from its most to its least confident.
        var a = sample.Where(s => s.MinerLabel == "a").Select(s => s.Ordinal).Order().ToList();
        Assert.True(a[0] < 10 && a[^1] >= 50, string.Join(",", a));
        // The first three already hold every label the miner gave.
        Assert.Equal(["a", "b", "c"], sample.Take(3).Select(s => s.MinerLabel).Order());

        var all = CorpusLabeller.Choose(ordinals, probabilities, ["a", "b", "c"], null);
        Assert.Equal(ordinals, all.Select(s => s.Ordinal));
    }
}
