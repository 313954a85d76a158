using Incubator.Domain.Embeddings;

namespace Incubator.Tests.Embeddings;

[Collection(EmbeddingsCollection.Name)]
public sealed class MiniLmEmbedderTests(EmbeddingsFixture fixture)
{
    private MiniLmEmbedder Embedder => fixture.MiniLm;

    [Fact]
    public void Vectors_are_384_dimensional_unit_length_and_identical_on_repeat()
    {
        string[] texts = ["Please refund my purchase", "The login page will not load.", "Ça marche très bien, merci !"];
        var first = Embedder.Embed(texts);
        var again = Embedder.Embed(texts);

        Assert.Equal("all-MiniLM-L6-v2", Embedder.Name);
        Assert.Equal(384, Embedder.Dimensions);
        Assert.Equal(3, first.Length);
        for (var i = 0; i < texts.Length; i++)
        {
            Assert.Equal(384, first[i].Length);
            Assert.Equal(1.0, VectorMath.Norm(first[i]), 4);
            Assert.All(first[i], x => Assert.True(float.IsFinite(x)));
            Assert.Equal(first[i], again[i]);
        }
        Assert.NotEqual(first[0], first[1]);
    }

    [Fact]
    public void A_text_gets_the_same_vector_alone_and_inside_a_batch_of_longer_texts()
    {
        var alone = Embedder.Embed(["Please refund my purchase"])[0];
        var batch = Embedder.Embed([
            "A much longer sentence about an outage that lasted the whole afternoon and broke every dashboard we have.",
            "Please refund my purchase",
            "Short.",
        ]);
        Assert.Equal(1.0, VectorMath.Cosine(alone, batch[1]), 5);
    }

    [Fact]
    public void Paraphrases_score_higher_than_unrelated_sentences()
    {
        var v = Embedder.Embed([
            "I want my money back for this order",
            "Please refund my purchase",
            "The weather is lovely today",
            "Our office moves to the third floor next week",
        ]);
        var paraphrase = VectorMath.Cosine(v[0], v[1]);
        Assert.True(paraphrase > 0.5, $"paraphrase similarity {paraphrase:F3}");
        foreach (var unrelated in new[] { VectorMath.Cosine(v[0], v[2]), VectorMath.Cosine(v[1], v[2]), VectorMath.Cosine(v[0], v[3]), VectorMath.Cosine(v[1], v[3]) })
            Assert.True(paraphrase > unrelated + 0.3, $"paraphrase {paraphrase:F3} vs unrelated {unrelated:F3}");
    }

    [Fact]
    public void Empty_and_whitespace_texts_give_the_zero_vector_without_disturbing_their_neighbours()
    {
        var alone = Embedder.Embed(["Please refund my purchase"])[0];
        var v = Embedder.Embed(["", "Please refund my purchase", "  \t\n ", null!]);

        Assert.All(new[] { v[0], v[2], v[3] }, zero => Assert.True(zero.Length == 384 && zero.All(x => x == 0)));
        Assert.Equal(1.0, VectorMath.Cosine(alone, v[1]), 5);
        Assert.Equal(0.0, VectorMath.Cosine(v[0], v[1]));
        Assert.Empty(Embedder.Embed([]));
    }

    [Fact]
    public void A_text_far_longer_than_the_model_window_still_embeds()
    {
        var longText = string.Join(" ", Enumerable.Repeat("The invoice was charged twice and I would like a refund.", 300));
        var v = Embedder.Embed([longText]);
        Assert.Equal(1.0, VectorMath.Norm(v[0]), 4);
    }

    [Fact]
    public void More_texts_than_one_batch_come_back_in_input_order()
    {
        var texts = Enumerable.Range(0, MiniLmEmbedder.DefaultBatchSize * 2 + 5)
            .Select(i => i % 3 == 0 ? $"Ticket {i}: the app crashed again" : i % 3 == 1 ? $"Order {i} was never delivered to my house" : $"Refund {i}")
            .ToArray();
        var all = Embedder.Embed(texts);
        var probe = Embedder.Embed([texts[0], texts[40], texts[^1]]);
        Assert.Equal(texts.Length, all.Length);
        Assert.Equal(1.0, VectorMath.Cosine(probe[0], all[0]), 5);
        Assert.Equal(1.0, VectorMath.Cosine(probe[1], all[40]), 5);
        Assert.Equal(1.0, VectorMath.Cosine(probe[2], all[^1]), 5);
    }

    [Fact]
    public async Task Concurrent_callers_get_the_same_vectors_as_a_single_caller()
    {
        string[] texts = ["Please refund my purchase", "The service is down", "I cannot sign in", "Thanks for the quick help"];
        var expected = Embedder.Embed(texts);
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(k => Task.Run(() => (k, Embedder.Embed([texts[k % 4], texts[(k + 1) % 4]])))));
        foreach (var (k, r) in results)
        {
            Assert.Equal(1.0, VectorMath.Cosine(expected[k % 4], r[0]), 5);
            Assert.Equal(1.0, VectorMath.Cosine(expected[(k + 1) % 4], r[1]), 5);
        }
    }

    [Fact]
    public void A_disposed_embedder_refuses_work_instead_of_reloading()
    {
        var own = new MiniLmEmbedder(batchSize: 4);
        own.Dispose(); // disposing before first use must not load the model either
        Assert.Throws<ObjectDisposedException>(() => own.Embed(["hello"]));
        Assert.Empty(own.Embed([]));
    }

    [Fact]
    public void MiniLM_cannot_tell_Japanese_sentences_apart_which_is_why_other_languages_use_char_ngrams()
    {
        // Its vocabulary is English: most kanji and kana become [UNK], so distinct Japanese sentences collapse together.
        var v = Embedder.Embed(["今日はとても良い天気ですね。", "注文した商品の返金を希望している。"]);
        Assert.True(VectorMath.Cosine(v[0], v[1]) > 0.9);
        Assert.Same(fixture.Selector.Other, fixture.Selector.ForLanguage("ja"));
    }
}
