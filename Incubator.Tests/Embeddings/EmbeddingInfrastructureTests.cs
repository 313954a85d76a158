using Incubator.Domain.Embeddings;

namespace Incubator.Tests.Embeddings;

public sealed class VectorMathTests
{
    [Fact]
    public void Cosine_matches_a_plain_loop_across_lengths_that_do_and_do_not_fill_simd_lanes()
    {
        var rng = new Random(7);
        foreach (var n in new[] { 1, 3, 8, 17, 384, 1000, 1 << 16 })
        {
            var a = Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
            var b = Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
            double dot = 0, na = 0, nb = 0;
            for (var i = 0; i < n; i++) { dot += (double)a[i] * b[i]; na += (double)a[i] * a[i]; nb += (double)b[i] * b[i]; }
            Assert.Equal(dot / Math.Sqrt(na * nb), VectorMath.Cosine(a, b), 5);
            Assert.Equal(1.0, VectorMath.Cosine(a, a), 5);
            Assert.Equal(-1.0, VectorMath.Cosine(a, a.Select(x => -x).ToArray()), 5);
        }
    }

    [Fact]
    public void Cosine_with_a_zero_vector_is_zero_and_different_lengths_are_refused()
    {
        Assert.Equal(0.0, VectorMath.Cosine(new float[8], Enumerable.Repeat(1f, 8).ToArray()));
        Assert.Equal(0.0, VectorMath.Cosine(ReadOnlySpan<float>.Empty, ReadOnlySpan<float>.Empty));
        Assert.Throws<ArgumentException>(() => VectorMath.Cosine(new float[3], new float[4]));
    }
}

public sealed class EmbedderSelectorTests
{
    private static readonly EmbedderSelector Selector = new(new FakeEmbedder("english"), new FakeEmbedder("other"));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("en")]
    [InlineData("EN")]
    [InlineData("en-GB")]
    [InlineData("en_US")]
    [InlineData(" en-us ")]
    public void English_and_unspecified_languages_use_the_english_embedder(string? language)
    {
        Assert.Equal("english", Selector.ForLanguage(language).Name);
    }

    [Theory]
    [InlineData("ja")]
    [InlineData("ja-JP")]
    [InlineData("zh-Hans")]
    [InlineData("de")]
    [InlineData("es")]
    public void Other_languages_use_the_other_embedder(string language)
    {
        Assert.Equal("other", Selector.ForLanguage(language).Name);
    }
}

public sealed class CachedEmbedderTests
{
    [Fact]
    public void Embeds_each_distinct_text_once_then_serves_it_from_the_cache()
    {
        var inner = new FakeEmbedder("fake");
        var cached = new CachedEmbedder(inner, new EmbeddingCache());

        var first = cached.Embed(["a", "b", "a"]);
        var second = cached.Embed(["b", "c", "a"]);

        Assert.Equal(["a", "b", "c"], inner.Seen);
        Assert.Equal(2, inner.Calls);
        Assert.Equal(first[0], first[2]);
        Assert.Equal(first[1], second[0]);
        Assert.Equal(first[0], second[2]);
        Assert.Equal("fake", cached.Name);
    }

    [Fact]
    public void Callers_cannot_change_what_the_cache_holds()
    {
        var cached = new CachedEmbedder(new FakeEmbedder("fake"), new EmbeddingCache());
        var first = cached.Embed(["a"])[0];
        var copy = (float[])first.Clone();
        first[0] = 42;
        Assert.Equal(copy, cached.Embed(["a"])[0]);
    }

    [Fact]
    public void Entries_are_keyed_by_embedder_name_too()
    {
        var cache = new EmbeddingCache();
        var one = new FakeEmbedder("one", offset: 0);
        var two = new FakeEmbedder("two", offset: 1);
        var a = new CachedEmbedder(one, cache).Embed(["same text"])[0];
        var b = new CachedEmbedder(two, cache).Embed(["same text"])[0];
        Assert.NotEqual(a, b);
        Assert.Equal(1, one.Calls);
        Assert.Equal(1, two.Calls);
    }

    [Fact]
    public void The_cache_stays_within_its_byte_bound_and_evicts_the_least_recently_used()
    {
        var perVector = 4L * 4 + 64; // FakeEmbedder: 4 floats, plus the cache's per-entry allowance
        var cache = new EmbeddingCache(maxBytes: perVector * 3);
        var inner = new FakeEmbedder("fake");
        var cached = new CachedEmbedder(inner, cache);

        cached.Embed(["a", "b", "c"]);
        cached.Embed(["a"]);      // a becomes most recently used
        cached.Embed(["d"]);      // evicts b
        Assert.Equal(3, cache.Count);
        Assert.True(cache.Bytes <= cache.MaxBytes);

        inner.Seen.Clear();
        cached.Embed(["a", "c", "d", "b"]);
        Assert.Equal(["b"], inner.Seen);
    }

    [Fact]
    public void The_registered_selector_caches_both_embedders()
    {
        using var fixture = new EmbeddingsFixture();
        var english = Assert.IsType<CachedEmbedder>(fixture.Selector.ForLanguage("en"));
        var japanese = Assert.IsType<CachedEmbedder>(fixture.Selector.ForLanguage("ja"));
        Assert.Same(fixture.MiniLm, english.Inner);
        Assert.Same(fixture.CharNgrams, japanese.Inner);

        japanese.Embed(["返金してください"]);
        japanese.Embed(["返金してください"]);
        Assert.Equal(1, fixture.Cache.Count);
        Assert.Equal(1, fixture.Cache.Hits);
    }
}

/// <summary>Deterministic 4-d vectors derived from the text; records what it was asked to embed.</summary>
internal sealed class FakeEmbedder(string name, int offset = 0) : ITextEmbedder
{
    public List<string> Seen { get; } = [];

    public int Calls { get; private set; }

    public string Name => name;

    public int Dimensions => 4;

    public float[][] Embed(IReadOnlyList<string> texts)
    {
        Calls++;
        Seen.AddRange(texts);
        return texts.Select(t =>
        {
            var v = new float[] { t.Length + offset, t.Sum(c => c) % 7 + 1, offset, 1 };
            VectorMath.NormalizeInPlace(v);
            return v;
        }).ToArray();
    }
}
