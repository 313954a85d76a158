using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Incubator.Domain.Embeddings;

namespace Incubator.Domain.Tasks;

/// <summary>One hint about a task definition. <see cref="Code"/> is stable (the UI localises "Hint.{Code}" formatted
/// with <see cref="Args"/>); <see cref="Message"/> is the English text; <see cref="LabelIndexes"/> are the labels it
/// is about (positions in <see cref="TaskSpec.Labels"/>), empty when it is about the task as a whole.</summary>
public sealed record DefinitionWarning(string Code, string Message, object[] Args, IReadOnlyList<int> LabelIndexes);

/// <summary>The hints, plus the label-by-label similarity of the definitions for a heat map.
/// <see cref="Overlap"/>[i][j] is the cosine similarity of label i's and label j's definition text (1 on the
/// diagonal, symmetric); <see cref="Representation"/> names the embedder that produced it.</summary>
public sealed record DefinitionReport(IReadOnlyList<DefinitionWarning> Warnings, IReadOnlyList<string> Labels, double[][] Overlap, string Representation);

/// <summary>Definition quality hints, before any money is spent: cheap, local checks of a task spec that catch the
/// mistakes that make an LLM write confusable or off-target samples. Nothing here blocks saving; these are hints.
/// <para>What is compared: each label's <see cref="LabelSpec.Description"/> alone (its name when the description is
/// empty). The description is what the generator and the reviewers read to tell labels apart; names are unique by
/// construction, so putting "name: " in front would make two labels with the same description look more distinct
/// than they are to the people and the model using them.</para></summary>
public sealed partial class DefinitionHints(EmbedderSelector selector)
{
    /// <summary>Cosine at or above which two MiniLM definitions count as "nearly the same". Measured on support and
    /// sentiment definitions (DefinitionHintsTests holds the fixtures): copies with reordered or one changed word score
    /// 0.90–0.98 ("Questions about invoices, charges and refunds." vs "Questions about charges, invoices and getting
    /// refunds." 0.98); looser rewordings 0.78–0.87. But templated opposites score just as high — "Positive reviews of
    /// the product." vs "Negative reviews of the product." 0.88, "The claim is true." vs "The claim is false." 0.88 —
    /// because sentence embeddings put antonyms close. 0.80 or 0.85 would flag the sentiment task everyone starts with;
    /// 0.90 flags only near-copies and misses some rewordings, which is the cheaper mistake for a hint.</summary>
    public const double MiniLmSimilarThreshold = 0.90;

    /// <summary>Cosine at or above which two character n-gram definitions count as "nearly the same". Surface overlap:
    /// Japanese definitions with clauses swapped or a word inserted score 0.82–0.90, reworded ones 0.6–0.73, a
    /// lexical paraphrase 0.32 (out of reach of any surface measure); unrelated definitions about 0.02, but short
    /// definitions sharing a template ("請求書に関する問い合わせ。" vs "配送に関する問い合わせ。") 0.5–0.76. 0.80 sits above
    /// the templates and below the near-copies.</summary>
    public const double CharNgramSimilarThreshold = 0.80;

    /// <summary>Used for a representation with no calibrated threshold: only near-identical text is flagged.</summary>
    public const double FallbackSimilarThreshold = 0.95;

    /// <summary>At most this many "DefinitionsSimilar" hints, the most similar pairs first; the overlap matrix holds
    /// every pair. (100 labels sharing one description would otherwise produce 4,950 hints.)</summary>
    public const int MaxSimilarPairs = 25;

    public static double SimilarThreshold(string representation) => representation switch
    {
        MiniLmEmbedder.ModelName => MiniLmSimilarThreshold,
        CharNgramEmbedder.RepresentationName => CharNgramSimilarThreshold,
        _ => FallbackSimilarThreshold,
    };

    public DefinitionReport Analyze(TaskSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var labels = spec.Labels ?? [];
        var embedder = selector.ForLanguage(spec.Preferences?.Language);
        var names = labels.Select(l => l?.Name ?? "").ToArray();
        var descriptions = labels.Select(l => (l?.Description ?? "").Trim()).ToArray();
        var texts = descriptions.Select((d, i) => d.Length > 0 ? d : names[i].Trim()).ToArray();

        var overlap = Overlap(embedder, texts);
        var warnings = new List<DefinitionWarning>();

        for (var i = 0; i < labels.Count; i++)
        {
            if (descriptions[i].Length == 0)
                warnings.Add(new("DefinitionEmpty",
                    $"Label '{names[i]}' has no definition; the generator and reviewers will have only its name to go on.",
                    [names[i]], [i]));
            else if (Canonical(descriptions[i]) is { Length: > 0 } canon && canon == Canonical(names[i]))
                warnings.Add(new("DefinitionRepeatsName",
                    $"The definition of label '{names[i]}' only repeats its name; say what belongs to it and what does not.",
                    [names[i]], [i]));
        }

        var threshold = SimilarThreshold(embedder.Name);
        var similar = new List<(int I, int J, double Similarity)>();
        for (var i = 0; i < labels.Count; i++)
            for (var j = i + 1; j < labels.Count; j++)
                if (descriptions[i].Length > 0 && descriptions[j].Length > 0 && overlap[i][j] >= threshold)
                    similar.Add((i, j, overlap[i][j]));
        foreach (var (i, j, sim) in similar.OrderByDescending(p => p.Similarity).ThenBy(p => p.I).ThenBy(p => p.J).Take(MaxSimilarPairs))
        {
            var percent = (int)Math.Round(sim * 100, MidpointRounding.AwayFromZero);
            warnings.Add(new("DefinitionsSimilar",
                $"Labels '{names[i]}' and '{names[j]}' have nearly the same definition ({percent}% similar); samples for one will read like the other.",
                [names[i], names[j], percent], [i, j]));
        }

        if (OtherLabelCheck(spec, names) is { } other) warnings.Add(other);

        return new DefinitionReport(warnings, names, overlap, embedder.Name);
    }

    private static double[][] Overlap(ITextEmbedder embedder, string[] texts)
    {
        var n = texts.Length;
        var overlap = new double[n][];
        for (var i = 0; i < n; i++) overlap[i] = new double[n];
        if (n == 0) return overlap;
        var vectors = embedder.Embed(texts); // one batched call for every label
        for (var i = 0; i < n; i++)
        {
            overlap[i][i] = 1;
            for (var j = i + 1; j < n; j++)
                overlap[i][j] = overlap[j][i] = VectorMath.Cosine(vectors[i], vectors[j]);
        }
        return overlap;
    }

    // ---- "other" label ------------------------------------------------------------------------------------------

    /// <summary>Decides whether a task without an "other" label (<see cref="LabelSpec.IsOther"/>) should get one.
    /// <list type="number">
    /// <item>A label flagged <see cref="LabelSpec.IsOther"/> exists → nothing to say.</item>
    /// <item>A label is <i>named</i> like a catch-all ("other", "none", "misc", "unknown", "その他", ...) but not flagged,
    /// and the labels are not an exhaustive set (step 4) → "OtherLabelNotMarked": flag it, so generation writes
    /// near-miss texts for it.</item>
    /// <item>The instruction itself speaks of a rest ("other", "anything else", "none of the above", "neither",
    /// "off-topic", "それ以外", ...; not "in other words" or "each other") → "OtherLabelMissing", whatever the labels
    /// are: "positive, negative or neither" asks for a third class.</item>
    /// <item>The labels are exhaustive by construction → no hint. Exhaustive means: two labels that are opposites
    /// (a known pair such as positive/negative, yes/no, spam/ham, true/false, real/fake, or one the negation of the
    /// other: "urgent"/"not urgent", "toxic"/"non-toxic", "relevant"/"irrelevant", "agree"/"disagree"); or all
    /// labels drawn from one known closed scale (sentiment positive/neutral/negative/mixed, yes/no/maybe,
    /// low/medium/high, agree/neutral/disagree, star or numeric ratings).</item>
    /// <item>Otherwise the labels are topics or intents (billing, outage, account, ...), which real traffic never
    /// covers completely; without a catch-all every off-topic text is forced into some topic → "OtherLabelMissing".</item>
    /// </list>
    /// The bias is deliberate: a needless suggestion costs a click, a missing "other" costs a classifier that is
    /// confidently wrong on everything it was not built for. A single label also gets the hint (it has no negative).</summary>
    internal static DefinitionWarning? OtherLabelCheck(TaskSpec spec, IReadOnlyList<string> names)
    {
        if (names.Count == 0 || spec.Labels.Any(l => l is { IsOther: true })) return null;
        var exhaustive = LabelsAreExhaustive(names);

        // "relevant"/"irrelevant" and the like are opposites, not a catch-all beside topics.
        if (!exhaustive)
            for (var i = 0; i < names.Count; i++)
                if (CatchAllNames.Contains(Canonical(names[i])))
                    return new("OtherLabelNotMarked",
                        $"Label '{names[i]}' looks like a catch-all; mark it as the \"other\" label so generation writes near-miss texts for it.",
                        [names[i]], [i]);

        if (InstructionMentionsRest(spec.Instruction))
            return new("OtherLabelMissing",
                "The instruction mentions texts that fit none of the labels, but no label is marked as \"other\".",
                [], []);

        if (exhaustive) return null;

        return new("OtherLabelMissing",
            "No label is marked as \"other\". These labels look like topics, which rarely cover every text; add a catch-all label so off-topic texts are not forced into one of them.",
            [], []);
    }

    internal static bool InstructionMentionsRest(string? instruction) =>
        !string.IsNullOrWhiteSpace(instruction) && RestCue().IsMatch(instruction.Normalize(NormalizationForm.FormKC));

    [GeneratedRegex(@"\b((?<!each\s+)others?(?!\s+words)|otherwise|anything\s+else|everything\s+else|something\s+else|none|neither|off[\s-]?topic|misc(ellaneous)?)\b|その他|それ以外|該当なし|該当しない|どれにも", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex RestCue();

    internal static bool LabelsAreExhaustive(IReadOnlyList<string> names)
    {
        var canon = names.Select(Canonical).ToArray();
        if (canon.Any(c => c.Length == 0)) return false;
        if (canon.Length == 2 && AreOpposites(canon[0], canon[1])) return true;
        if (canon.Length >= 2 && canon.Distinct().Count() == canon.Length)
        {
            if (ClosedScales.Any(scale => canon.All(scale.Contains))) return true;
            if (canon.All(IsRating)) return true;
        }
        return false;
    }

    private static bool AreOpposites(string a, string b)
    {
        if (OppositePairs.Any(p => (p.A == a && p.B == b) || (p.A == b && p.B == a))) return true;
        return IsNegationOf(a, b) || IsNegationOf(b, a);
    }

    /// <summary>"not x", "non x", "no x", "nonx", "unx", "inx", "irx", "imx", "ilx", "disx" (after <see cref="Canonical"/>,
    /// which turns "non-toxic" into "non toxic").</summary>
    private static bool IsNegationOf(string negated, string plain)
    {
        foreach (var prefix in (string[])["not ", "non ", "no ", "non", "un", "in", "ir", "im", "il", "dis"])
            if (negated.Length == prefix.Length + plain.Length && negated.StartsWith(prefix, StringComparison.Ordinal) && negated.EndsWith(plain, StringComparison.Ordinal))
                return true;
        return false;
    }

    private static bool IsRating(string name) => RatingName().IsMatch(name);

    [GeneratedRegex(@"^(\d{1,2}|[1-5] stars?|[1-5]つ星|星[1-5]|★{1,5})$", RegexOptions.CultureInvariant)]
    private static partial Regex RatingName();

    private static readonly (string A, string B)[] OppositePairs =
    [
        ("positive", "negative"), ("pos", "neg"), ("yes", "no"), ("true", "false"), ("spam", "ham"),
        ("real", "fake"), ("genuine", "fake"), ("legitimate", "fraud"), ("legitimate", "phishing"), ("pass", "fail"),
        ("good", "bad"), ("correct", "wrong"), ("right", "wrong"), ("accept", "reject"), ("approve", "reject"),
        ("human", "bot"), ("human", "ai"), ("fact", "opinion"), ("objective", "subjective"), ("safe", "harmful"),
        ("clean", "toxic"), ("support", "oppose"), ("for", "against"), ("favor", "against"), ("pro", "con"),
        ("ポジティブ", "ネガティブ"), ("肯定", "否定"), ("肯定的", "否定的"), ("はい", "いいえ"), ("正", "誤"), ("スパム", "非スパム"),
    ];

    private static readonly HashSet<string>[] ClosedScales =
    [
        ["very positive", "positive", "neutral", "negative", "very negative", "mixed"],
        ["ポジティブ", "ネガティブ", "ニュートラル", "中立", "肯定的", "否定的", "肯定", "否定", "混合"],
        ["yes", "no", "maybe", "unsure", "not sure"],
        ["はい", "いいえ", "どちらでもない"],
        ["agree", "disagree", "neutral", "strongly agree", "strongly disagree"],
        ["favor", "against", "neutral"],
        ["low", "medium", "high", "critical", "very low", "very high"],
        ["true", "false", "mostly true", "mostly false", "half true", "misleading"],
    ];

    private static readonly HashSet<string> CatchAllNames =
    [
        "other", "others", "none", "misc", "miscellaneous", "unknown", "else", "everything else", "anything else",
        "none of the above", "n a", "na", "irrelevant", "unrelated", "off topic", "not applicable", "rest",
        "その他", "それ以外", "該当なし", "なし", "不明",
    ];

    // ---- text canonicalisation ----------------------------------------------------------------------------------

    private static readonly HashSet<string> Articles = ["a", "an", "the"];

    /// <summary>NFKC, lower case, punctuation and symbols to spaces, English articles dropped, single spaces:
    /// "The billing." → "billing", "account_access" → "account access", "Non-toxic" → "non toxic".</summary>
    internal static string Canonical(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return "";
        string s;
        try { s = text.Normalize(NormalizationForm.FormKC); }
        catch (ArgumentException) { s = text; }
        var sb = new StringBuilder(s.Length);
        foreach (var rune in s.EnumerateRunes())
        {
            var cat = Rune.GetUnicodeCategory(rune);
            var keep = cat is UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter or UnicodeCategory.DecimalDigitNumber
                or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber or UnicodeCategory.NonSpacingMark
                or UnicodeCategory.SpacingCombiningMark || rune.Value == '★';
            if (keep) sb.Append(Rune.ToLowerInvariant(rune).ToString());
            else sb.Append(' ');
        }
        return string.Join(' ', sb.ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(w => !Articles.Contains(w)));
    }
}
