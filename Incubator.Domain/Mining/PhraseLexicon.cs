using Incubator.Domain.Embeddings;
using Incubator.Domain.Training;

namespace Incubator.Domain.Mining;

/// <summary>How the pool's lexicon is induced (<see cref="PhraseLexicon"/>).</summary>
public sealed record LexiconOptions
{
    /// <summary>A phrase is a candidate when at least this many pool texts contain it.</summary>
    public int MinDocuments { get; init; } = 3;

    /// <summary>At most this many candidates (unigrams and bigrams together), the most frequent first.</summary>
    public int MaxPhrases { get; init; } = 3000;

    /// <summary>A candidate joins a label's lexicon when its similarity to that label, z-scored against every candidate's
    /// similarity to it, is the highest of the labels and at least this.</summary>
    public double MinZ { get; init; } = 2.0;

    /// <summary>Each phrase's similarity to a label is taken relative to its mean similarity to all labels before
    /// z-scoring, so words near every label's definition (the words the definitions share: "customer", "tweet") score
    /// near zero for all of them.</summary>
    public bool Contrastive { get; init; }

    /// <summary>The kept label's z must beat the runner-up's by at least this.</summary>
    public double MinMargin { get; init; }

    public override string ToString() => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"{(Contrastive ? "contrastive, " : "")}z ≥ {MinZ}{(MinMargin > 0 ? $", margin ≥ {MinMargin}" : "")}");
}

/// <summary>A lexicon induced from the pool's own words (issue 17, decision 0032 amendment "lexicon"): the pool's frequent
/// unigrams and bigrams (tokenised and lower-cased as the sparse family does) are embedded by the miner's encoder and
/// scored against each label's definition vector; each similarity is z-scored per label across the phrases, and a phrase
/// belongs to the label it scores highest on when that z is at least <see cref="LexiconOptions.MinZ"/>. The lexicon view of
/// a text is a softmax over labels of its matched phrases' z-scores, each phrase counted as often as it occurs and the
/// sum divided by the number of matches (a weighted mean); no match gives the uniform distribution. Matching is greedy
/// and longest first: a bigram that is a candidate (even one no label kept, e.g. "not good") takes its two words, so their
/// unigrams do not count on their own.</summary>
public sealed class PhraseLexicon
{
    private readonly Dictionary<string, (int Label, float Z)> _phrases;

    private PhraseLexicon(IReadOnlyList<string> labels, Dictionary<string, (int, float)> phrases)
    {
        Labels = labels;
        _phrases = phrases;
    }

    /// <summary>Labels in the order of the view's probabilities.</summary>
    public IReadOnlyList<string> Labels { get; }

    /// <summary>Every scored candidate (key: tokens joined by a space) with its label (−1: none kept it) and its z-score for
    /// that label (for −1: its highest).</summary>
    public IReadOnlyDictionary<string, (int Label, float Z)> Phrases => _phrases;

    /// <summary>The phrases a label kept, the surest first.</summary>
    public IReadOnlyList<(string Phrase, float Z)> PhrasesOf(string label)
    {
        var index = Labels.ToList().IndexOf(label);
        return _phrases.Where(kv => kv.Value.Label == index && index >= 0).Select(kv => (kv.Key, kv.Value.Z))
            .OrderByDescending(p => p.Z).ThenBy(p => p.Key, StringComparer.Ordinal).ToList();
    }

    /// <summary>The pool's candidate phrases: unigrams and bigrams in at least <see cref="LexiconOptions.MinDocuments"/>
    /// texts, the <see cref="LexiconOptions.MaxPhrases"/> most frequent (ties: shorter, then ordinal).</summary>
    public static IReadOnlyList<string> Candidates(IReadOnlyList<string> pool, LexiconOptions options)
    {
        var df = new Dictionary<string, int>(StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var text in pool)
        {
            seen.Clear();
            var tokens = Tokens(text);
            for (var i = 0; i < tokens.Count; i++)
            {
                seen.Add(tokens[i]);
                if (i + 1 < tokens.Count) seen.Add(tokens[i] + " " + tokens[i + 1]);
            }
            foreach (var g in seen) df[g] = df.GetValueOrDefault(g) + 1;
        }
        return df.Where(kv => kv.Value >= options.MinDocuments)
            .OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key.Count(c => c == ' ')).ThenBy(kv => kv.Key, StringComparer.Ordinal)
            .Take(options.MaxPhrases).Select(kv => kv.Key).ToList();
    }

    /// <summary>Builds the lexicon from the pool: <see cref="Candidates"/>, embedded by <paramref name="embed"/> (the
    /// miner's encoder), scored against <paramref name="scorer"/>'s label vectors.</summary>
    public static PhraseLexicon Build(IReadOnlyList<string> labels, IReadOnlyList<string> pool, MiningScorer scorer,
        Func<IReadOnlyList<string>, float[][]> embed, LexiconOptions options)
    {
        var phrases = Candidates(pool, options);
        return Build(labels, phrases, phrases.Count == 0 ? [] : embed(phrases), scorer, options);
    }

    /// <summary>Builds the lexicon from phrases already embedded (unit-length vectors, same order).</summary>
    public static PhraseLexicon Build(IReadOnlyList<string> labels, IReadOnlyList<string> phrases, IReadOnlyList<float[]> vectors,
        MiningScorer scorer, LexiconOptions options)
    {
        if (phrases.Count != vectors.Count) throw new ArgumentException("One vector per phrase.", nameof(vectors));
        var labelVectors = scorer.LabelVectors;
        var specific = scorer.Specific.Select(l => labels.ToList().IndexOf(l.Name)).ToArray();
        var sims = new double[phrases.Count][];
        for (var p = 0; p < phrases.Count; p++)
        {
            sims[p] = labelVectors.Select(v => VectorMath.Dot(vectors[p], v)).ToArray();
            if (options.Contrastive && sims[p].Length > 1)
            {
                var mean = sims[p].Average();
                for (var l = 0; l < sims[p].Length; l++) sims[p][l] -= mean;
            }
        }
        var stats = Enumerable.Range(0, labelVectors.Length).Select(l =>
        {
            var mean = phrases.Count == 0 ? 0 : sims.Average(s => s[l]);
            var std = phrases.Count == 0 ? 1 : Math.Sqrt(sims.Average(s => (s[l] - mean) * (s[l] - mean)));
            return (Mean: mean, Std: std > 1e-9 ? std : 1e-9);
        }).ToArray();
        var result = new Dictionary<string, (int, float)>(StringComparer.Ordinal);
        for (var p = 0; p < phrases.Count; p++)
        {
            var best = 0;
            double bestZ = double.NegativeInfinity, secondZ = double.NegativeInfinity;
            for (var l = 0; l < labelVectors.Length; l++)
            {
                var z = (sims[p][l] - stats[l].Mean) / stats[l].Std;
                if (z > bestZ)
                {
                    secondZ = bestZ;
                    bestZ = z;
                    best = l;
                }
                else if (z > secondZ)
                {
                    secondZ = z;
                }
            }
            var margin = double.IsNegativeInfinity(secondZ) ? double.PositiveInfinity : bestZ - secondZ;
            var label = labelVectors.Length > 0 && bestZ >= options.MinZ && margin >= options.MinMargin ? specific[best] : -1;
            result[phrases[p]] = (label, (float)bestZ);
        }
        return new PhraseLexicon(labels, result);
    }

    /// <summary>Tokens as the sparse family's word mode makes them (lower-cased; punctuation and symbols separate).</summary>
    internal static List<string> Tokens(string text) => SparseFeaturizer.Tokenize(SparseFeaturizer.Normalize(text), TokenMode.Word);

    /// <summary>The lexicon's matches in a text: (label, z) of each kept phrase, longest first, left to right.</summary>
    public IReadOnlyList<(string Phrase, int Label, float Z)> Matches(string text)
    {
        var tokens = Tokens(text);
        var result = new List<(string, int, float)>();
        for (var i = 0; i < tokens.Count;)
        {
            if (i + 1 < tokens.Count && _phrases.TryGetValue(tokens[i] + " " + tokens[i + 1], out var bigram))
            {
                if (bigram.Label >= 0) result.Add((tokens[i] + " " + tokens[i + 1], bigram.Label, bigram.Z));
                i += 2;
                continue;
            }
            if (_phrases.TryGetValue(tokens[i], out var unigram) && unigram.Label >= 0) result.Add((tokens[i], unigram.Label, unigram.Z));
            i++;
        }
        return result;
    }

    /// <summary>The lexicon view of a text: a softmax over <see cref="Labels"/> of the mean (over its matches) of each
    /// label's matched z-scores; uniform when nothing matches.</summary>
    public float[] View(string text)
    {
        var logits = new double[Labels.Count];
        var matches = Matches(text);
        foreach (var (_, label, z) in matches) logits[label] += z / (double)matches.Count;
        var max = logits.Max();
        var exp = logits.Select(v => Math.Exp(v - max)).ToArray();
        var sum = exp.Sum();
        return exp.Select(v => (float)(v / sum)).ToArray();
    }

    public float[][] View(IReadOnlyList<string> texts) => texts.Select(View).ToArray();

    /// <summary>Two views of the same texts averaged (each row a distribution over the same labels).</summary>
    public static float[][] Average(IReadOnlyList<float[]> a, IReadOnlyList<float[]> b) =>
        a.Select((row, i) => row.Select((v, j) => (v + b[i][j]) / 2).ToArray()).ToArray();
}
