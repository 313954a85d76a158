namespace Incubator.Domain.Review;

/// <summary>
/// Pure, dependency-free agreement statistics for review data: Cohen's and Fleiss' kappa,
/// per-label (one-vs-rest) kappa, the Wilson score interval and the generator/reviewer disagreement rate.
/// </summary>
/// <remarks>
/// Labels are compared ordinally (case-sensitive, culture-invariant): "Spam" and "spam" are different categories.
/// The set of categories is always the union of the labels actually used; a category nobody used cannot
/// contribute to either observed or chance agreement, so it does not need to be declared up front.
/// </remarks>
public static class ReviewStatistics
{
    /// <summary>z for a two-sided 95% interval: the 0.975 quantile of the standard normal distribution.</summary>
    public const double Z95 = 1.959963984540054;

    /// <summary>
    /// Cohen's kappa for two raters who labelled the same items: κ = (pₒ − pₑ) / (1 − pₑ), where pₒ is the share of
    /// items both raters labelled identically and pₑ = Σₖ (share of A's labels that are k)·(share of B's labels that are k).
    /// </summary>
    /// <param name="raterA">Rater A's label for item i at index i.</param>
    /// <param name="raterB">Rater B's label for item i at index i (same length as <paramref name="raterA"/>).</param>
    /// <returns>
    /// κ in [−1, 1]. Degenerate case: pₑ = 1 happens only when both raters used one and the same category for every
    /// item. The formula is then 0/0, but the raters agreed on every single item (pₒ = 1 necessarily), and reporting
    /// "perfect agreement" (1.0) is more useful and more honest to a reviewer than NaN or 0; so 1.0 is returned.
    /// </returns>
    /// <exception cref="ArgumentException">Lists are null, of different lengths, empty, or contain a null label.</exception>
    public static double CohensKappa(IReadOnlyList<string> raterA, IReadOnlyList<string> raterB)
    {
        ValidatePairedRatings(raterA, raterB);

        int n = raterA.Count;
        var countsA = new Dictionary<string, long>(StringComparer.Ordinal);
        var countsB = new Dictionary<string, long>(StringComparer.Ordinal);
        long agreements = 0;
        for (int i = 0; i < n; i++)
        {
            Increment(countsA, raterA[i]);
            Increment(countsB, raterB[i]);
            if (string.Equals(raterA[i], raterB[i], StringComparison.Ordinal))
            {
                agreements++;
            }
        }

        // S = Σₖ aₖ·bₖ over the marginal counts; a category only one rater used contributes 0.
        long sumOfMarginalProducts = 0;
        foreach (var (label, countA) in countsA)
        {
            if (countsB.TryGetValue(label, out long countB))
            {
                sumOfMarginalProducts += countA * countB;
            }
        }

        return KappaFromCounts(n, agreements, sumOfMarginalProducts);
    }

    /// <summary>
    /// Per-label agreement: for every label in the union of both raters' labels, Cohen's kappa of the binary
    /// "is this label / is not this label" problem (one-vs-rest).
    /// </summary>
    /// <returns>
    /// One entry per label, keys in ordinal order. The same degenerate rule as <see cref="CohensKappa"/> applies
    /// (only reachable when the union holds a single label, i.e. both raters always chose it): 1.0.
    /// </returns>
    /// <exception cref="ArgumentException">Same validation as <see cref="CohensKappa"/>.</exception>
    public static IReadOnlyDictionary<string, double> CohensKappaPerLabel(IReadOnlyList<string> raterA, IReadOnlyList<string> raterB)
    {
        ValidatePairedRatings(raterA, raterB);

        int n = raterA.Count;
        var labels = new SortedSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < n; i++)
        {
            labels.Add(raterA[i]);
            labels.Add(raterB[i]);
        }

        var result = new SortedDictionary<string, double>(StringComparer.Ordinal);
        foreach (string label in labels)
        {
            long aYes = 0, bYes = 0, agreements = 0;
            for (int i = 0; i < n; i++)
            {
                bool a = string.Equals(raterA[i], label, StringComparison.Ordinal);
                bool b = string.Equals(raterB[i], label, StringComparison.Ordinal);
                if (a) aYes++;
                if (b) bYes++;
                if (a == b) agreements++;
            }

            long sumOfMarginalProducts = (aYes * bYes) + ((n - aYes) * (n - bYes));
            result[label] = KappaFromCounts(n, agreements, sumOfMarginalProducts);
        }

        return result;
    }

    /// <summary>
    /// Fleiss' kappa for N items each rated by the same number n ≥ 2 of raters (the raters need not be the same people).
    /// With nᵢⱼ = number of raters who put item i in category j:
    /// Pᵢ = (Σⱼ nᵢⱼ² − n) / (n(n − 1)), P̄ = mean of Pᵢ, pⱼ = Σᵢ nᵢⱼ / (N·n), P̄ₑ = Σⱼ pⱼ², κ = (P̄ − P̄ₑ) / (1 − P̄ₑ).
    /// </summary>
    /// <param name="ratingsPerItem">For each item, the labels its raters gave (order within an item is irrelevant).</param>
    /// <returns>
    /// κ (at most 1; can be negative). Degenerate case: P̄ₑ = 1 happens only when every rating of every item is one
    /// and the same category; then every item is unanimous (P̄ = 1), and, as for <see cref="CohensKappa"/>, 1.0 is
    /// returned instead of the 0/0 of the formula.
    /// </returns>
    /// <exception cref="ArgumentException">
    /// No items, an item that is null or has a null label, fewer than 2 raters, or items with differing numbers of ratings.
    /// </exception>
    public static double FleissKappa(IReadOnlyList<IReadOnlyList<string>> ratingsPerItem)
    {
        if (ratingsPerItem is null)
        {
            throw new ArgumentException("Ratings are required.", nameof(ratingsPerItem));
        }

        if (ratingsPerItem.Count == 0)
        {
            throw new ArgumentException("At least one item is required.", nameof(ratingsPerItem));
        }

        int itemCount = ratingsPerItem.Count;
        int ratersPerItem = ratingsPerItem[0]?.Count
            ?? throw new ArgumentException("Item 0 has no ratings list (null).", nameof(ratingsPerItem));
        if (ratersPerItem < 2)
        {
            throw new ArgumentException(
                $"Fleiss' kappa needs at least 2 ratings per item; item 0 has {ratersPerItem}.", nameof(ratingsPerItem));
        }

        var categoryTotals = new Dictionary<string, long>(StringComparer.Ordinal);
        var itemCounts = new Dictionary<string, long>(StringComparer.Ordinal);
        double sumOfPerItemAgreement = 0;
        for (int i = 0; i < itemCount; i++)
        {
            var ratings = ratingsPerItem[i]
                ?? throw new ArgumentException($"Item {i} has no ratings list (null).", nameof(ratingsPerItem));
            if (ratings.Count != ratersPerItem)
            {
                throw new ArgumentException(
                    $"Every item must be rated by the same number of raters: item 0 has {ratersPerItem} ratings, item {i} has {ratings.Count}.",
                    nameof(ratingsPerItem));
            }

            itemCounts.Clear();
            for (int r = 0; r < ratings.Count; r++)
            {
                string label = ratings[r]
                    ?? throw new ArgumentException($"Item {i}, rating {r} is null; every rating needs a label.", nameof(ratingsPerItem));
                Increment(itemCounts, label);
                Increment(categoryTotals, label);
            }

            long sumOfSquares = 0;
            foreach (long c in itemCounts.Values)
            {
                sumOfSquares += c * c;
            }

            // Pᵢ = share of ordered rater pairs on item i that agree.
            sumOfPerItemAgreement += (double)(sumOfSquares - ratersPerItem) / ((long)ratersPerItem * (ratersPerItem - 1));
        }

        if (categoryTotals.Count == 1)
        {
            // P̄ₑ = 1 (and necessarily P̄ = 1): everybody chose the same single category for everything. See <returns>.
            return 1.0;
        }

        double totalRatings = (double)itemCount * ratersPerItem;
        double meanAgreement = sumOfPerItemAgreement / itemCount;
        double chanceAgreement = 0;
        foreach (long total in categoryTotals.Values)
        {
            double p = total / totalRatings;
            chanceAgreement += p * p;
        }

        return (meanAgreement - chanceAgreement) / (1 - chanceAgreement);
    }

    /// <summary>
    /// Wilson score interval for a binomial proportion (default z gives a two-sided 95% interval):
    /// centre = (p̂ + z²/2n) / (1 + z²/n), half-width = z/(1 + z²/n) · √(p̂(1 − p̂)/n + z²/4n²).
    /// </summary>
    /// <returns>
    /// (Low, High) within [0, 1]. With no trials nothing is known: (0, 1). With 0 successes Low is exactly 0, with
    /// successes == trials High is exactly 1 (the formula gives those values up to floating-point rounding).
    /// </returns>
    /// <exception cref="ArgumentOutOfRangeException">trials &lt; 0, successes outside [0, trials], or z not a positive finite number.</exception>
    public static (double Low, double High) WilsonInterval(int successes, int trials, double z = Z95)
    {
        if (trials < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(trials), trials, "Trials must be 0 or more.");
        }

        if (successes < 0 || successes > trials)
        {
            throw new ArgumentOutOfRangeException(
                nameof(successes), successes, $"Successes must be between 0 and the number of trials ({trials}).");
        }

        if (!double.IsFinite(z) || z <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(z), z, "z must be a positive finite number.");
        }

        if (trials == 0)
        {
            return (0.0, 1.0);
        }

        double n = trials;
        double pHat = successes / n;
        double z2 = z * z;
        double denominator = 1 + (z2 / n);
        double centre = (pHat + (z2 / (2 * n))) / denominator;
        double halfWidth = z / denominator * Math.Sqrt((pHat * (1 - pHat) / n) + (z2 / (4 * n * n)));

        double low = successes == 0 ? 0.0 : Math.Max(0.0, centre - halfWidth);
        double high = successes == trials ? 1.0 : Math.Min(1.0, centre + halfWidth);
        return (low, high);
    }

    /// <summary>
    /// Of the items the generator put in <paramref name="label"/>, the share the reviewer labelled differently.
    /// Items the generator put elsewhere are ignored, even if the reviewer chose <paramref name="label"/>.
    /// </summary>
    /// <returns>A value in [0, 1]; 0 (never NaN) when the generator never used <paramref name="label"/>.</returns>
    /// <exception cref="ArgumentException">pairs or label is null.</exception>
    public static double GeneratorDisagreementRate(IReadOnlyList<(string GeneratorLabel, string ReviewerLabel)> pairs, string label)
    {
        if (pairs is null)
        {
            throw new ArgumentException("Pairs are required.", nameof(pairs));
        }

        if (label is null)
        {
            throw new ArgumentException("A label is required.", nameof(label));
        }

        int generated = 0, overturned = 0;
        foreach (var (generatorLabel, reviewerLabel) in pairs)
        {
            if (!string.Equals(generatorLabel, label, StringComparison.Ordinal))
            {
                continue;
            }

            generated++;
            if (!string.Equals(reviewerLabel, label, StringComparison.Ordinal))
            {
                overturned++;
            }
        }

        return generated == 0 ? 0.0 : (double)overturned / generated;
    }

    /// <summary>
    /// κ from exact integer counts: with N items, A agreements and S = Σₖ aₖbₖ (marginal products),
    /// pₒ − pₑ = (N·A − S)/N² and 1 − pₑ = (N² − S)/N², so κ = (N·A − S)/(N² − S) with a single rounding step.
    /// </summary>
    private static double KappaFromCounts(long n, long agreements, long sumOfMarginalProducts)
    {
        long denominator = (n * n) - sumOfMarginalProducts;
        if (denominator == 0)
        {
            // pₑ = 1: one shared category for everything, so pₒ = 1 too. Report perfect agreement (see CohensKappa).
            return 1.0;
        }

        return (double)((n * agreements) - sumOfMarginalProducts) / denominator;
    }

    private static void ValidatePairedRatings(IReadOnlyList<string> raterA, IReadOnlyList<string> raterB)
    {
        if (raterA is null)
        {
            throw new ArgumentException("Rater A's labels are required.", nameof(raterA));
        }

        if (raterB is null)
        {
            throw new ArgumentException("Rater B's labels are required.", nameof(raterB));
        }

        if (raterA.Count != raterB.Count)
        {
            throw new ArgumentException(
                $"Both raters must label the same items: rater A has {raterA.Count} labels, rater B has {raterB.Count}.",
                nameof(raterB));
        }

        if (raterA.Count == 0)
        {
            throw new ArgumentException("At least one rated item is required.", nameof(raterA));
        }

        for (int i = 0; i < raterA.Count; i++)
        {
            if (raterA[i] is null)
            {
                throw new ArgumentException($"Rater A's label for item {i} is null.", nameof(raterA));
            }

            if (raterB[i] is null)
            {
                throw new ArgumentException($"Rater B's label for item {i} is null.", nameof(raterB));
            }
        }
    }

    private static void Increment(Dictionary<string, long> counts, string label) =>
        counts[label] = counts.TryGetValue(label, out long c) ? c + 1 : 1;
}
