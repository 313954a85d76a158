using Incubator.Domain.Review;

namespace Incubator.Tests.Review;

/// <summary>
/// <see cref="ReviewStatistics"/> against examples worked out by hand. Every expected value is derived in the comment
/// above its assertion, so a failure can be checked against the arithmetic rather than against the implementation.
/// </summary>
public sealed class ReviewStatisticsTests
{
    private const int Precision = 12;

    /// <summary>Builds paired label lists from (label A, label B, how many items) cells of a contingency table.</summary>
    private static (List<string> A, List<string> B) Table(params (string A, string B, int Count)[] cells)
    {
        var a = new List<string>();
        var b = new List<string>();
        foreach (var (labelA, labelB, count) in cells)
        {
            for (int i = 0; i < count; i++)
            {
                a.Add(labelA);
                b.Add(labelB);
            }
        }

        return (a, b);
    }

    private static IReadOnlyList<IReadOnlyList<string>> Items(params string[][] items) => items;

    // ---------------------------------------------------------------- Cohen's kappa

    [Fact]
    public void CohensKappa_classic_50_item_yes_no_example_is_0_4()
    {
        //                 B yes   B no   | A total
        //   A yes           20       5   |   25
        //   A no            10      15   |   25
        //   B total         30      20   |   50
        //
        // po = (20 + 15) / 50 = 35/50 = 0.7
        // pe = P(A yes)·P(B yes) + P(A no)·P(B no) = (25/50)(30/50) + (25/50)(20/50) = 0.5·0.6 + 0.5·0.4 = 0.3 + 0.2 = 0.5
        // κ  = (0.7 − 0.5) / (1 − 0.5) = 0.2 / 0.5 = 0.4
        var (a, b) = Table(("yes", "yes", 20), ("yes", "no", 5), ("no", "yes", 10), ("no", "no", 15));

        Assert.Equal(0.4, ReviewStatistics.CohensKappa(a, b), Precision);
    }

    [Fact]
    public void CohensKappa_is_symmetric_in_the_raters()
    {
        // Swapping A and B transposes the table: po and pe (a sum of products of the marginals) are unchanged → 0.4 again.
        var (a, b) = Table(("yes", "yes", 20), ("yes", "no", 5), ("no", "yes", 10), ("no", "no", 15));

        Assert.Equal(0.4, ReviewStatistics.CohensKappa(b, a), Precision);
    }

    [Fact]
    public void CohensKappa_perfect_agreement_is_1()
    {
        // A = B = [cat, dog, cat, bird]
        // po = 4/4 = 1
        // pe = (2/4)² + (1/4)² + (1/4)² = 0.25 + 0.0625 + 0.0625 = 0.375
        // κ  = (1 − 0.375) / (1 − 0.375) = 1
        string[] labels = ["cat", "dog", "cat", "bird"];

        Assert.Equal(1.0, ReviewStatistics.CohensKappa(labels, labels), Precision);
    }

    [Fact]
    public void CohensKappa_worse_than_chance_is_negative()
    {
        //                 B yes   B no   | A total
        //   A yes            1       4   |    5
        //   A no             4       1   |    5
        //   B total          5       5   |   10
        //
        // po = (1 + 1) / 10 = 0.2
        // pe = (5/10)(5/10) + (5/10)(5/10) = 0.25 + 0.25 = 0.5
        // κ  = (0.2 − 0.5) / (1 − 0.5) = −0.3 / 0.5 = −0.6
        var (a, b) = Table(("yes", "yes", 1), ("yes", "no", 4), ("no", "yes", 4), ("no", "no", 1));

        Assert.Equal(-0.6, ReviewStatistics.CohensKappa(a, b), Precision);
    }

    [Fact]
    public void CohensKappa_total_disagreement_with_balanced_marginals_is_minus_1()
    {
        // A = [yes, yes, no, no], B = [no, no, yes, yes]
        // po = 0/4 = 0
        // pe = (2/4)(2/4) + (2/4)(2/4) = 0.5
        // κ  = (0 − 0.5) / (1 − 0.5) = −1
        Assert.Equal(-1.0, ReviewStatistics.CohensKappa(["yes", "yes", "no", "no"], ["no", "no", "yes", "yes"]), Precision);
    }

    [Fact]
    public void CohensKappa_three_labels()
    {
        // item:  1    2    3    4    5     6
        // A:    cat  cat  dog  dog  bird  bird
        // B:    cat  dog  dog  dog  bird  cat
        // agreements: items 1, 3, 4, 5 → po = 4/6 = 2/3
        // marginals A: cat 2, dog 2, bird 2;  B: cat 2, dog 3, bird 1
        // pe = (2·2 + 2·3 + 2·1) / 6² = (4 + 6 + 2) / 36 = 12/36 = 1/3
        // κ  = (2/3 − 1/3) / (1 − 1/3) = (1/3) / (2/3) = 0.5
        Assert.Equal(0.5, ReviewStatistics.CohensKappa(ThreeLabelA, ThreeLabelB), Precision);
    }

    [Fact]
    public void CohensKappa_both_raters_always_the_same_single_label_is_1_not_NaN()
    {
        // A = B = [spam, spam, spam]: po = 1, pe = (3/3)(3/3) = 1 → formula is 0/0.
        // Documented rule: pe == 1 can only happen when both used one and the same category for everything,
        // which means they agreed on every item, so the result is 1.0.
        double kappa = ReviewStatistics.CohensKappa(["spam", "spam", "spam"], ["spam", "spam", "spam"]);

        Assert.Equal(1.0, kappa);
    }

    [Fact]
    public void CohensKappa_each_rater_constant_but_different_is_0()
    {
        // A = [yes, yes, yes], B = [no, no, no]
        // po = 0; pe = P(A yes)·P(B yes) + P(A no)·P(B no) = 1·0 + 0·1 = 0
        // κ  = (0 − 0) / (1 − 0) = 0   (not the degenerate case: pe ≠ 1)
        Assert.Equal(0.0, ReviewStatistics.CohensKappa(["yes", "yes", "yes"], ["no", "no", "no"]), Precision);
    }

    [Fact]
    public void CohensKappa_labels_are_compared_ordinally()
    {
        // "Spam" ≠ "spam": A = [Spam, ham], B = [spam, ham]
        // po = 1/2; marginals A: Spam 1, ham 1; B: spam 1, ham 1 → pe = (1·0 + 1·1 + 0·1) / 4 = 1/4
        // κ  = (1/2 − 1/4) / (1 − 1/4) = (1/4) / (3/4) = 1/3
        Assert.Equal(1.0 / 3.0, ReviewStatistics.CohensKappa(["Spam", "ham"], ["spam", "ham"]), Precision);
    }

    [Fact]
    public void CohensKappa_rejects_different_lengths()
    {
        var ex = Assert.Throws<ArgumentException>(() => ReviewStatistics.CohensKappa(["a", "b"], ["a"]));

        Assert.Contains("rater A has 2 labels, rater B has 1", ex.Message);
    }

    [Fact]
    public void CohensKappa_rejects_empty_input()
    {
        var ex = Assert.Throws<ArgumentException>(() => ReviewStatistics.CohensKappa([], []));

        Assert.Contains("At least one rated item", ex.Message);
    }

    [Fact]
    public void CohensKappa_rejects_null_lists_and_null_labels()
    {
        Assert.Throws<ArgumentException>(() => ReviewStatistics.CohensKappa(null!, ["a"]));
        Assert.Throws<ArgumentException>(() => ReviewStatistics.CohensKappa(["a"], null!));
        var ex = Assert.Throws<ArgumentException>(() => ReviewStatistics.CohensKappa(["a", "b"], ["a", null!]));
        Assert.Contains("item 1 is null", ex.Message);
    }

    // ---------------------------------------------------------------- Per-label (one-vs-rest) Cohen's kappa

    private static readonly string[] ThreeLabelA = ["cat", "cat", "dog", "dog", "bird", "bird"];
    private static readonly string[] ThreeLabelB = ["cat", "dog", "dog", "dog", "bird", "cat"];

    [Fact]
    public void CohensKappaPerLabel_three_label_example()
    {
        // Same 6 items as CohensKappa_three_labels. For each label, binarise "is label" (1) / "is not" (0), N = 6.
        // With A = agreements and S = Σ marginal products: κ = (po − pe)/(1 − pe) = (N·A − S)/(N² − S).
        //
        // cat:  A = 1 1 0 0 0 0 (2 yes, 4 no)   B = 1 0 0 0 0 1 (2 yes, 4 no)
        //       agreements: items 1, 3, 4, 5 → 4 → po = 4/6 = 2/3
        //       pe = (2·2 + 4·4)/36 = 20/36 = 5/9
        //       κ  = (2/3 − 5/9) / (1 − 5/9) = (1/9) / (4/9) = 1/4 = 0.25
        //
        // dog:  A = 0 0 1 1 0 0 (2 yes, 4 no)   B = 0 1 1 1 0 0 (3 yes, 3 no)
        //       agreements: all but item 2 → 5 → po = 5/6
        //       pe = (2·3 + 4·3)/36 = 18/36 = 1/2
        //       κ  = (5/6 − 1/2) / (1/2) = (1/3) / (1/2) = 2/3
        //
        // bird: A = 0 0 0 0 1 1 (2 yes, 4 no)   B = 0 0 0 0 1 0 (1 yes, 5 no)
        //       agreements: all but item 6 → 5 → po = 5/6
        //       pe = (2·1 + 4·5)/36 = 22/36 = 11/18
        //       κ  = (15/18 − 11/18) / (7/18) = 4/7 ≈ 0.5714
        var perLabel = ReviewStatistics.CohensKappaPerLabel(ThreeLabelA, ThreeLabelB);

        Assert.Equal(new[] { "bird", "cat", "dog" }, perLabel.Keys.OrderBy(k => k, StringComparer.Ordinal));
        Assert.Equal(0.25, perLabel["cat"], Precision);
        Assert.Equal(2.0 / 3.0, perLabel["dog"], Precision);
        Assert.Equal(4.0 / 7.0, perLabel["bird"], Precision);
    }

    [Fact]
    public void CohensKappaPerLabel_includes_a_label_only_one_rater_used()
    {
        // A = [x, x, y], B = [x, x, z]; labels = {x, y, z}, N = 3
        // x: A = 1 1 0, B = 1 1 0 → po = 1; pe = (2·2 + 1·1)/9 = 5/9; κ = (4/9)/(4/9) = 1
        // y: A = 0 0 1, B = 0 0 0 → po = 2/3; pe = (1·0 + 2·3)/9 = 6/9; κ = (2/3 − 2/3)/(1/3) = 0
        // z: A = 0 0 0, B = 0 0 1 → symmetric to y → 0
        var perLabel = ReviewStatistics.CohensKappaPerLabel(["x", "x", "y"], ["x", "x", "z"]);

        Assert.Equal(3, perLabel.Count);
        Assert.Equal(1.0, perLabel["x"], Precision);
        Assert.Equal(0.0, perLabel["y"], Precision);
        Assert.Equal(0.0, perLabel["z"], Precision);
    }

    [Fact]
    public void CohensKappaPerLabel_single_shared_label_is_1()
    {
        // Only label "ok", used by both raters for everything: binary pe = 1 → degenerate rule → 1.0.
        var perLabel = ReviewStatistics.CohensKappaPerLabel(["ok", "ok"], ["ok", "ok"]);

        Assert.Equal(1.0, Assert.Single(perLabel).Value);
    }

    [Fact]
    public void CohensKappaPerLabel_validates_like_CohensKappa()
    {
        Assert.Throws<ArgumentException>(() => ReviewStatistics.CohensKappaPerLabel(["a"], ["a", "b"]));
        Assert.Throws<ArgumentException>(() => ReviewStatistics.CohensKappaPerLabel([], []));
    }

    // ---------------------------------------------------------------- Fleiss' kappa

    [Fact]
    public void FleissKappa_4_items_3_raters_2_categories()
    {
        // n = 3 raters, N = 4 items, categories Y/N.   Pᵢ = (Σⱼ nᵢⱼ² − n) / (n(n − 1)) = (Σ nᵢⱼ² − 3) / 6
        //   item 1: Y Y Y → (3, 0): Σ n² = 9 → P₁ = (9 − 3)/6 = 1
        //   item 2: Y Y N → (2, 1): Σ n² = 5 → P₂ = (5 − 3)/6 = 1/3
        //   item 3: Y N N → (1, 2): Σ n² = 5 → P₃ = 1/3
        //   item 4: N N N → (0, 3): Σ n² = 9 → P₄ = 1
        // P̄  = (1 + 1/3 + 1/3 + 1) / 4 = (8/3) / 4 = 2/3
        // totals: Y = 3 + 2 + 1 + 0 = 6, N = 6, of N·n = 12 → p_Y = p_N = 1/2
        // P̄e = (1/2)² + (1/2)² = 1/2
        // κ  = (2/3 − 1/2) / (1 − 1/2) = (1/6) / (1/2) = 1/3
        var items = Items(["Y", "Y", "Y"], ["Y", "Y", "N"], ["Y", "N", "N"], ["N", "N", "N"]);

        Assert.Equal(1.0 / 3.0, ReviewStatistics.FleissKappa(items), Precision);
    }

    [Fact]
    public void FleissKappa_3_items_4_raters_3_categories_with_unequal_marginals()
    {
        // n = 4, N = 3, categories A/B/C.   Pᵢ = (Σ nᵢⱼ² − 4) / 12
        //   item 1: A A A B → (3, 1, 0): Σ n² = 10 → P₁ = 6/12 = 1/2
        //   item 2: A B B C → (1, 2, 1): Σ n² = 6  → P₂ = 2/12 = 1/6
        //   item 3: C C C C → (0, 0, 4): Σ n² = 16 → P₃ = 12/12 = 1
        // P̄  = (1/2 + 1/6 + 1) / 3 = (5/3) / 3 = 5/9
        // totals: A = 4, B = 3, C = 5 of 12 → P̄e = (4² + 3² + 5²) / 12² = 50/144 = 25/72
        // κ  = (5/9 − 25/72) / (1 − 25/72) = (40/72 − 25/72) / (47/72) = 15/47 ≈ 0.3191
        var items = Items(["A", "A", "A", "B"], ["A", "B", "B", "C"], ["C", "C", "C", "C"]);

        Assert.Equal(15.0 / 47.0, ReviewStatistics.FleissKappa(items), Precision);
    }

    [Fact]
    public void FleissKappa_order_of_ratings_within_an_item_does_not_matter()
    {
        // Same counts per item as the 4×3 example → same 1/3.
        var items = Items(["Y", "Y", "Y"], ["N", "Y", "Y"], ["N", "Y", "N"], ["N", "N", "N"]);

        Assert.Equal(1.0 / 3.0, ReviewStatistics.FleissKappa(items), Precision);
    }

    [Fact]
    public void FleissKappa_perfect_agreement_on_mixed_categories_is_1()
    {
        // n = 2: every item unanimous → every Pᵢ = (4 − 2)/2 = 1 → P̄ = 1
        // totals: a = 2, b = 2 of 4 → P̄e = 1/2 → κ = (1 − 1/2)/(1 − 1/2) = 1
        var items = Items(["a", "a"], ["b", "b"], ["a", "a"], ["b", "b"]);

        Assert.Equal(1.0, ReviewStatistics.FleissKappa(items), Precision);
    }

    [Fact]
    public void FleissKappa_systematic_disagreement_is_negative()
    {
        // n = 2, N = 2: [Y, N], [N, Y] → each Pᵢ = (1 + 1 − 2)/2 = 0 → P̄ = 0
        // totals: Y = 2, N = 2 of 4 → P̄e = 1/4 + 1/4 = 1/2
        // κ = (0 − 1/2)/(1 − 1/2) = −1
        var items = Items(["Y", "N"], ["N", "Y"]);

        Assert.Equal(-1.0, ReviewStatistics.FleissKappa(items), Precision);
    }

    [Fact]
    public void FleissKappa_everyone_always_the_same_single_category_is_1_not_NaN()
    {
        // Only "x" ever used: P̄ = 1, P̄e = 1² = 1 → 0/0 → documented rule: 1.0.
        var items = Items(["x", "x", "x"], ["x", "x", "x"]);

        Assert.Equal(1.0, ReviewStatistics.FleissKappa(items));
    }

    [Fact]
    public void FleissKappa_rejects_no_items()
    {
        var ex = Assert.Throws<ArgumentException>(() => ReviewStatistics.FleissKappa(Items()));

        Assert.Contains("At least one item", ex.Message);
    }

    [Fact]
    public void FleissKappa_rejects_fewer_than_two_raters()
    {
        var ex = Assert.Throws<ArgumentException>(() => ReviewStatistics.FleissKappa(Items(["a"], ["b"])));

        Assert.Contains("at least 2 ratings per item", ex.Message);
    }

    [Fact]
    public void FleissKappa_rejects_items_with_different_rater_counts()
    {
        var ex = Assert.Throws<ArgumentException>(() => ReviewStatistics.FleissKappa(Items(["a", "b", "a"], ["a", "b"])));

        Assert.Contains("item 0 has 3 ratings, item 1 has 2", ex.Message);
    }

    [Fact]
    public void FleissKappa_rejects_null_items_and_labels()
    {
        Assert.Throws<ArgumentException>(() => ReviewStatistics.FleissKappa(null!));
        Assert.Throws<ArgumentException>(() => ReviewStatistics.FleissKappa(Items(["a", "b"], null!)));
        Assert.Throws<ArgumentException>(() => ReviewStatistics.FleissKappa(Items(["a", "b"], ["a", null!])));
    }

    // ---------------------------------------------------------------- Wilson score interval

    [Fact]
    public void WilsonInterval_8_of_10()
    {
        // n = 10, p̂ = 0.8, z = 1.959964, z² = 3.841459
        // denominator = 1 + z²/n = 1 + 0.3841459 = 1.3841459
        // centre      = (p̂ + z²/2n) / denominator = (0.8 + 0.1920729) / 1.3841459 = 0.9920729 / 1.3841459 = 0.716740
        // half-width  = z / denominator · √(p̂(1 − p̂)/n + z²/4n²)
        //             = 1.959964 / 1.3841459 · √(0.016 + 0.0096036) = 1.416007 · √0.0256036 = 1.416007 · 0.160011 = 0.226577
        // interval    = (0.716740 − 0.226577, 0.716740 + 0.226577) = (0.490163, 0.943317) → (0.4902, 0.9433)
        var (low, high) = ReviewStatistics.WilsonInterval(8, 10);

        Assert.Equal(0.4902, low, 4);
        Assert.Equal(0.9433, high, 4);
    }

    [Fact]
    public void WilsonInterval_0_of_10()
    {
        // p̂ = 0: centre = (z²/2n)/(1 + z²/n) and half-width = z/(1 + z²/n)·√(z²/4n²) = (z²/2n)/(1 + z²/n) → low = 0
        // high = 2·(z²/2n)/(1 + z²/n) = 0.3841459 / 1.3841459 = 0.277533 → 0.2775
        var (low, high) = ReviewStatistics.WilsonInterval(0, 10);

        Assert.Equal(0.0, low);
        Assert.Equal(0.2775, high, 4);
    }

    [Fact]
    public void WilsonInterval_10_of_10_upper_bound_is_exactly_1()
    {
        // Mirror image of 0/10: low = 1 − 0.277533 = 0.722467 → 0.7225; high = 1 exactly
        // (the raw formula gives 0.9999999999999999 in floating point; the implementation pins it to 1).
        var (low, high) = ReviewStatistics.WilsonInterval(10, 10);

        Assert.Equal(0.7225, low, 4);
        Assert.Equal(1.0, high);
    }

    [Fact]
    public void WilsonInterval_no_trials_is_0_to_1()
    {
        Assert.Equal((0.0, 1.0), ReviewStatistics.WilsonInterval(0, 0));
    }

    [Fact]
    public void WilsonInterval_is_symmetric_around_one_half_for_half_successes()
    {
        // p̂ = 1/2 → centre = (1/2 + z²/2n)/(1 + z²/n) = 1/2 exactly, so low + high = 1.
        var (low, high) = ReviewStatistics.WilsonInterval(5, 10);

        Assert.Equal(1.0, low + high, Precision);
        Assert.True(low is > 0 and < 0.5);
    }

    [Theory]
    [InlineData(-1, 10)]
    [InlineData(11, 10)]
    [InlineData(0, -1)]
    [InlineData(1, 0)]
    public void WilsonInterval_rejects_successes_outside_0_to_trials(int successes, int trials)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ReviewStatistics.WilsonInterval(successes, trials));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1.96)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void WilsonInterval_rejects_invalid_z(double z)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ReviewStatistics.WilsonInterval(1, 2, z));
    }

    // ---------------------------------------------------------------- Generator disagreement rate

    private static readonly (string GeneratorLabel, string ReviewerLabel)[] Pairs =
    [
        ("spam", "spam"),
        ("spam", "spam"),
        ("spam", "ham"),
        ("spam", "spam"),
        ("ham", "spam"),
        ("ham", "ham"),
    ];

    [Fact]
    public void GeneratorDisagreementRate_share_of_generator_label_the_reviewer_changed()
    {
        // Generator said "spam" on 4 items; reviewer changed 1 of them (to "ham") → 1/4 = 0.25.
        // The ("ham" → "spam") item is not counted for "spam": the generator did not put it there.
        Assert.Equal(0.25, ReviewStatistics.GeneratorDisagreementRate(Pairs, "spam"), Precision);

        // Generator said "ham" on 2 items; reviewer changed 1 → 1/2.
        Assert.Equal(0.5, ReviewStatistics.GeneratorDisagreementRate(Pairs, "ham"), Precision);
    }

    [Fact]
    public void GeneratorDisagreementRate_is_0_not_NaN_when_the_generator_never_used_the_label()
    {
        Assert.Equal(0.0, ReviewStatistics.GeneratorDisagreementRate(Pairs, "eggs"));
        Assert.Equal(0.0, ReviewStatistics.GeneratorDisagreementRate([], "spam"));
    }

    [Fact]
    public void GeneratorDisagreementRate_rejects_null_arguments()
    {
        Assert.Throws<ArgumentException>(() => ReviewStatistics.GeneratorDisagreementRate(null!, "spam"));
        Assert.Throws<ArgumentException>(() => ReviewStatistics.GeneratorDisagreementRate(Pairs, null!));
    }
}
