using System.Globalization;
using System.Text;

namespace Incubator.Domain.Generation;

/// <summary>How varied a set of samples is. <see cref="MeanPairwiseCosineDistance"/>: mean of 1 − cos over pairs
/// (0 = all the same direction). <see cref="Distinct1"/>/<see cref="Distinct2"/>: unique n-grams / all n-grams over
/// the whole set (1 = no n-gram repeats). <see cref="ClusterSizeEntropy"/>: entropy of the cluster sizes divided by
/// ln k (1 = equal clusters, 0 = everything in one).</summary>
public sealed record DiversityStats(double MeanPairwiseCosineDistance, double Distinct1, double Distinct2, double ClusterSizeEntropy);

public static class DiversityMetrics
{
    /// <summary>Above this many pairs the mean distance is estimated from this many pairs drawn with a fixed seed
    /// (the standard error of a mean over 200,000 pairs is far below the differences worth reporting).</summary>
    public const int MaxPairs = 200_000;

    private const int SamplingSeed = 20240601;

    /// <param name="texts">The samples.</param>
    /// <param name="vectors">Their embeddings, same order (may be empty: the distance is then 0).</param>
    /// <param name="assignments">Cluster of each sample, or null (entropy is then 0). k is the largest cluster index + 1,
    /// so empty clusters count against evenness; k = 1 gives 0.</param>
    /// <param name="characterTokens">Tokens are characters (Japanese, Chinese...) rather than words. Either way text is
    /// NFKC-normalised and lower-cased, punctuation and whitespace are not tokens, and n-grams do not cross samples.</param>
    public static DiversityStats Compute(IReadOnlyList<string> texts, IReadOnlyList<float[]> vectors, int[]? assignments, bool characterTokens)
    {
        ArgumentNullException.ThrowIfNull(texts);
        ArgumentNullException.ThrowIfNull(vectors);
        var tokens = texts.Select(t => Tokens(t ?? "", characterTokens)).ToList();
        return new DiversityStats(MeanDistance(vectors), Distinct(tokens, 1), Distinct(tokens, 2), Entropy(assignments));
    }

    internal static List<string> Tokens(string text, bool characters)
    {
        string s;
        try
        {
            s = text.Normalize(NormalizationForm.FormKC).ToLowerInvariant();
        }
        catch (ArgumentException)
        {
            s = text.ToLowerInvariant();
        }
        var result = new List<string>();
        var word = new StringBuilder();
        foreach (var rune in s.EnumerateRunes())
        {
            var content = Rune.IsLetterOrDigit(rune) || Rune.GetUnicodeCategory(rune) is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark;
            if (characters)
            {
                if (content) result.Add(rune.ToString());
                continue;
            }
            if (content || (rune.Value is '\'' or '’' && word.Length > 0)) word.Append(rune.ToString());
            else if (word.Length > 0)
            {
                result.Add(word.ToString());
                word.Clear();
            }
        }
        if (word.Length > 0) result.Add(word.ToString());
        return result;
    }

    private static double Distinct(List<List<string>> tokens, int n)
    {
        var unique = new HashSet<string>(StringComparer.Ordinal);
        var total = 0;
        foreach (var t in tokens)
        {
            for (var i = 0; i + n <= t.Count; i++)
            {
                total++;
                unique.Add(n == 1 ? t[i] : string.Join('\u0001', t.Skip(i).Take(n)));
            }
        }
        return total == 0 ? 0 : (double)unique.Count / total;
    }

    private static double MeanDistance(IReadOnlyList<float[]> vectors)
    {
        var n = vectors.Count;
        if (n < 2) return 0;
        var pairs = (long)n * (n - 1) / 2;
        double sum = 0;
        if (pairs <= MaxPairs)
        {
            for (var i = 0; i < n; i++)
                for (var j = i + 1; j < n; j++)
                    sum += 1 - Embeddings.VectorMath.Cosine(vectors[i], vectors[j]);
            return sum / pairs;
        }
        var rng = new Random(SamplingSeed);
        for (var s = 0; s < MaxPairs; s++)
        {
            var i = rng.Next(n);
            var j = rng.Next(n - 1);
            if (j >= i) j++;
            sum += 1 - Embeddings.VectorMath.Cosine(vectors[i], vectors[j]);
        }
        return sum / MaxPairs;
    }

    private static double Entropy(int[]? assignments)
    {
        if (assignments is null || assignments.Length == 0) return 0;
        var k = assignments.Max() + 1;
        if (k < 2) return 0;
        var sizes = new int[k];
        foreach (var a in assignments)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(a, nameof(assignments));
            sizes[a]++;
        }
        double h = 0;
        foreach (var size in sizes)
        {
            if (size == 0) continue;
            var p = (double)size / assignments.Length;
            h -= p * Math.Log(p);
        }
        return h / Math.Log(k);
    }
}
