using Incubator.Domain.Embeddings;
using Incubator.Domain.Generation;

namespace Incubator.Tests.Generation;

public sealed class DedupIndexTests
{
    private static float[] V(params float[] x) => x;

    [Fact]
    public void Same_text_same_label_is_a_duplicate_even_with_different_case_and_quotes()
    {
        var index = new DedupIndex();
        index.Add("positive", "Great product!", V(1, 0, 0));
        var v = index.Check("positive", "  \"great   PRODUCT\" ", V(0, 1, 0));
        Assert.Equal(RejectReason.Duplicate, v.Reject);
        Assert.False(v.Ambiguous);
        Assert.Equal("Great product!", v.MatchedText);
        Assert.Equal(1.0, v.Similarity);
    }

    [Fact]
    public void Same_text_for_another_label_is_ambiguous_not_rejected()
    {
        var index = new DedupIndex();
        index.Add("positive", "It works.", V(1, 0, 0));
        var v = index.Check("negative", "it works", V(1, 0, 0));
        Assert.Null(v.Reject);
        Assert.True(v.Ambiguous);
        Assert.Equal("positive", v.MatchedLabel);
    }

    [Fact]
    public void Near_duplicates_by_cosine_against_all_labels()
    {
        var index = new DedupIndex(0.95);
        index.Add("positive", "a", V(1, 0, 0));
        index.Add("negative", "b", V(0, 1, 0));

        var same = index.Check("positive", "a2", V(0.99f, 0.1f, 0));
        Assert.Equal(RejectReason.NearDuplicate, same.Reject);
        Assert.False(same.Ambiguous);
        Assert.Equal("a", same.MatchedText);
        Assert.True(same.Similarity >= 0.95);

        var other = index.Check("negative", "a3", V(0.99f, 0.1f, 0));
        Assert.Null(other.Reject);
        Assert.True(other.Ambiguous);
        Assert.Equal("positive", other.MatchedLabel);

        var far = index.Check("positive", "c", V(0.7f, 0.7f, 0.1f));
        Assert.Null(far.Reject);
        Assert.False(far.Ambiguous);
        Assert.InRange(far.Similarity, 0.6, 0.95); // the closest held text is still reported
        Assert.NotNull(far.MatchedText);
    }

    [Fact]
    public void Vectors_need_not_be_normalised_and_zero_vectors_match_nothing()
    {
        var index = new DedupIndex();
        index.Add("x", "a", V(10, 0));
        Assert.Equal(RejectReason.NearDuplicate, index.Check("x", "b", V(3, 0.01f)).Reject);
        var zero = index.Check("x", "c", V(0, 0));
        Assert.Null(zero.Reject);
        Assert.Equal(0, zero.Similarity);
    }

    [Fact]
    public void Empty_index_reports_nothing_and_dimension_mismatch_throws()
    {
        var index = new DedupIndex();
        var v = index.Check("x", "a", V(1, 0));
        Assert.Equal(new DedupVerdict(null, false, null, null, 0), v);
        index.Add("x", "a", V(1, 0));
        Assert.Throws<ArgumentException>(() => index.Add("x", "b", V(1, 0, 0)));
        Assert.Equal(1, index.Count);
    }

    [Fact]
    public void Japanese_distinct_texts_are_not_near_duplicates_but_a_near_copy_is()
    {
        var embedder = new CharNgramEmbedder();
        string[] held =
        [
            "注文した炊飯器が届いて三日で電源が入らなくなりました。",
            "この掃除機は軽くて吸引力も強く、毎日の掃除が楽になりました。",
            "電子レンジの温め機能にムラがあり、冷たい部分が残ります。",
            "商品の在庫について問い合わせたいのですが、店舗の営業時間を教えてください。",
        ];
        string[] labels = ["否定的", "肯定的", "否定的", "その他"];
        var vectors = embedder.Embed(held);
        var index = new DedupIndex(DedupIndex.ThresholdFor(embedder.Name));
        Assert.Equal(DedupIndex.CharNgramNearThreshold, index.NearThreshold);
        for (var i = 0; i < held.Length; i++) index.Add(labels[i], held[i], vectors[i]);

        string[] distinct =
        [
            "炊飯器のふたの閉まりが悪く、ご飯が乾燥してしまいます。",
            "軽い掃除機を探していたので、とても満足しています。",
            "配送がとても早く、梱包も丁寧でした。",
            "購入した炊飯器が届いて三日で電源が入らなくなった。", // a rewording of a held sample: similar, not a copy
        ];
        foreach (var (text, vector) in distinct.Zip(embedder.Embed(distinct)))
        {
            var v = index.Check("否定的", text, vector);
            Assert.True(v.Reject is null && !v.Ambiguous, $"'{text}' matched '{v.MatchedText}' at {v.Similarity:F3}");
        }

        // The same sentence with a comma inserted and the full stop changed; with one character changed.
        foreach (var nearCopy in new[] { "注文した炊飯器が届いて三日で、電源が入らなくなりました！", "注文した炊飯器が届いて二日で電源が入らなくなりました。" })
        {
            var verdict = index.Check("否定的", nearCopy, embedder.Embed([nearCopy])[0]);
            Assert.Equal(RejectReason.NearDuplicate, verdict.Reject);
            Assert.Equal(held[0], verdict.MatchedText);
        }
    }

    [Fact]
    public void Holds_twenty_thousand_dense_entries()
    {
        var rng = new Random(3);
        var index = new DedupIndex();
        float[] first = [];
        for (var i = 0; i < 20_000; i++)
        {
            var v = new float[384];
            for (var x = 0; x < v.Length; x++) v[x] = (float)(rng.NextDouble() - 0.5);
            if (i == 0) first = v;
            index.Add(i % 2 == 0 ? "a" : "b", $"text {i}", v);
        }
        Assert.Equal(20_000, index.Count);
        var verdict = index.Check("a", "something new", first);
        Assert.Equal(RejectReason.NearDuplicate, verdict.Reject);
        Assert.Equal("text 0", verdict.MatchedText);
    }
}
