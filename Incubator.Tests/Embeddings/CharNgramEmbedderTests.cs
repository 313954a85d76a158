using Incubator.Domain.Embeddings;

namespace Incubator.Tests.Embeddings;

public sealed class CharNgramEmbedderTests
{
    private readonly CharNgramEmbedder _embedder = new();

    private double Similarity(string a, string b)
    {
        var v = _embedder.Embed([a, b]);
        return VectorMath.Cosine(v[0], v[1]);
    }

    [Fact]
    public void Vectors_have_the_declared_size_unit_length_and_are_stable()
    {
        var v = _embedder.Embed(["請求書、料金、返金に関する問い合わせ。", "請求書、料金、返金に関する問い合わせ。"]);
        Assert.Equal("char-ngram", _embedder.Name);
        Assert.Equal(CharNgramEmbedder.DefaultDimensions, _embedder.Dimensions);
        Assert.Equal(_embedder.Dimensions, v[0].Length);
        Assert.Equal(1.0, VectorMath.Norm(v[0]), 5);
        Assert.Equal(v[0], v[1]);
        Assert.Equal(v[0], new CharNgramEmbedder().Embed(["請求書、料金、返金に関する問い合わせ。"])[0]); // no per-instance seed
    }

    [Fact]
    public void Identical_Japanese_texts_score_one()
    {
        Assert.Equal(1.0, Similarity("ログインできない、パスワードを再設定したい。", "ログインできない、パスワードを再設定したい。"), 6);
    }

    [Fact]
    public void Japanese_near_paraphrases_score_clearly_higher_than_distinct_sentences()
    {
        var swappedClauses = Similarity("配送が遅れている、荷物が届かないという苦情。", "荷物が届かない、配送が遅れているという苦情。");
        var insertedWord = Similarity("ログインできない、パスワードを再設定したいという相談。", "ログインできない、またはパスワードを再設定したいという相談。");
        double[] distinct =
        [
            Similarity("配送が遅れている、荷物が届かないという苦情。", "商品の品質や使い心地を褒めるレビュー。"),
            Similarity("請求書、料金、返金に関する問い合わせ。", "サービスが停止している、または応答しないという報告。"),
            Similarity("今日はとても良い天気ですね。", "注文した商品の返金を希望している。"),
        ];

        Assert.True(swappedClauses > 0.7, $"swapped clauses {swappedClauses:F3}");
        Assert.True(insertedWord > 0.8, $"inserted word {insertedWord:F3}");
        Assert.All(distinct, d => Assert.True(d < 0.2, $"distinct sentences {d:F3}"));
        Assert.All(distinct, d => Assert.True(d < 1, "distinct texts must not look identical"));
    }

    [Fact]
    public void Width_case_and_punctuation_do_not_matter_after_normalisation()
    {
        // NFKC folds full-width Latin and half-width katakana; case and punctuation are ignored.
        Assert.Equal(1.0, Similarity("ＡＰＩキーが無効です", "apiキーが無効です"), 5);
        Assert.Equal(1.0, Similarity("ｶｰﾄﾞ決済", "カード決済"), 5);
        Assert.Equal(1.0, Similarity("「返金」してください！", "返金 してください"), 5);
    }

    [Fact]
    public void Empty_whitespace_and_punctuation_only_texts_give_the_zero_vector()
    {
        var v = _embedder.Embed(["", "   ", "。、！？…", null!, "返金"]);
        for (var i = 0; i < 4; i++) Assert.All(v[i], x => Assert.Equal(0f, x));
        Assert.Equal(0.0, VectorMath.Cosine(v[0], v[4]));
        Assert.Equal(1.0, VectorMath.Norm(v[4]), 5);
        Assert.Empty(_embedder.Embed([]));
    }

    [Fact]
    public void Characters_outside_the_basic_plane_count_as_one_character()
    {
        // 𠮷 (U+20BB7) is a surrogate pair in UTF-16; a lone surrogate must not break normalisation either.
        var v = _embedder.Embed(["𠮷野家で食べた", "\ud842 broken"]);
        Assert.Equal(1.0, VectorMath.Norm(v[0]), 5);
        Assert.Equal(1.0, VectorMath.Norm(v[1]), 5);
        Assert.True(Similarity("𠮷野家で食べた", "𠮷野家で飲んだ") > Similarity("𠮷野家で食べた", "吉野家で飲んだ"));
    }
}
