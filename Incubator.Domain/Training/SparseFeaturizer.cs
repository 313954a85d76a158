using System.Text;

namespace Incubator.Domain.Training;

/// <summary>How the sparse family cuts text into tokens. Word: runs of characters between separators (whitespace,
/// punctuation, symbols, controls), uni- and bi-grams. Char: every character is a token, 1- to 3-grams — used when
/// the training text is mostly in scripts written without spaces (Japanese, Chinese, Thai).</summary>
public enum TokenMode { Word, Char }

/// <summary>Deterministic TF-IDF featurisation shared by training, in-app prediction and the ONNX export. Every step
/// mirrors one ONNX operator exactly: lower-casing = StringNormalizer (LOWER), tokens = com.microsoft Tokenizer
/// (separator or char mode), counts × idf = TfIdfVectorizer (TFIDF), then L2 normalisation. The parity tests run
/// both on tricky input (case, punctuation, non-Latin, empty, 10,000 characters).</summary>
public sealed class SparseFeaturizer
{
    public const int MaxFeatures = 200_000;

    /// <summary>Upper bound on conjunction n-grams (their K² slots sit in the head's weight matrix).</summary>
    public const int MaxConjunctions = 256;

    /// <summary>Padding the Tokenizer puts after short rows; two characters, so it can never equal a token (word
    /// tokens contain no '#', char tokens are one character) and never matches the n-gram pool.</summary>
    public const string PadValue = "##";

    private readonly Dictionary<NGram, int> _index;

    /// <summary>Feature id → its position among <see cref="Conjunctions"/>.</summary>
    private readonly Dictionary<int, int> _conjunctionPosition;

    private SparseFeaturizer(TokenMode mode, IReadOnlyList<string[]> ngrams, float[] idf, bool sublinear, int maxGram,
        int[]? conjunctions = null, float conjunctionValue = 0)
    {
        Mode = mode;
        MaxGram = maxGram;
        Sublinear = sublinear;
        NGrams = ngrams;
        Idf = idf;
        _index = new Dictionary<NGram, int>(ngrams.Count);
        for (var i = 0; i < ngrams.Count; i++) _index[new NGram(ngrams[i])] = i;
        Conjunctions = conjunctions ?? [];
        ConjunctionValue = conjunctionValue;
        _conjunctionPosition = new Dictionary<int, int>(Conjunctions.Count);
        for (var k = 0; k < Conjunctions.Count; k++)
        {
            if (Conjunctions[k] < 0 || Conjunctions[k] >= ngrams.Count || !_conjunctionPosition.TryAdd(Conjunctions[k], k))
                throw new InvalidDataException($"Conjunction feature {Conjunctions[k]} is not a distinct n-gram of the vocabulary.");
        }
    }

    /// <summary>The n-grams whose pairwise co-occurrence is a feature of its own ("A and B both occur"), in the
    /// order that numbers the pairs. A linear head cannot express a conjunction by itself (a sentence that is good
    /// in one part and bad in another is neither good nor bad); these features let it. Empty: no conjunctions.</summary>
    public IReadOnlyList<int> Conjunctions { get; }

    /// <summary>The value of an active conjunction feature (both n-grams present), next to the L2-normalised TF-IDF.</summary>
    public float ConjunctionValue { get; }

    /// <summary>N-gram features (the TF-IDF part); conjunction features follow them.</summary>
    public int NGramCount => NGrams.Count;

    /// <summary>Returns a copy whose vectors carry, after the n-grams, one feature per ordered position pair (a, b) of
    /// <paramref name="features"/>: index NGramCount + a·K + b (a &lt; b; K = the number of features), set to
    /// <paramref name="value"/> when both n-grams occur in the text. Positions with a ≥ b stay zero, which keeps
    /// the exported graph a plain outer product.</summary>
    public SparseFeaturizer WithConjunctions(IReadOnlyList<int> features, float value)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (!(value > 0) || float.IsInfinity(value)) throw new ArgumentOutOfRangeException(nameof(value), "The conjunction value must be positive.");
        if (features.Count > MaxConjunctions) throw new ArgumentOutOfRangeException(nameof(features), $"At most {MaxConjunctions} conjunction n-grams are allowed.");
        return new SparseFeaturizer(Mode, NGrams, Idf, Sublinear, MaxGram, features.Count >= 2 ? [.. features] : [], value);
    }

    public TokenMode Mode { get; }

    /// <summary>Sublinear term frequency: a term counted c times weighs (1 + ln c) × idf instead of c × idf.</summary>
    public bool Sublinear { get; }

    /// <summary>The features, grouped by length (all 1-grams first, then 2-grams, ...), as the ONNX pool needs.</summary>
    public IReadOnlyList<string[]> NGrams { get; }

    public float[] Idf { get; }

    /// <summary>N-gram features plus K² conjunction slots (K = <see cref="Conjunctions"/>.Count).</summary>
    public int Dimension => NGrams.Count + Conjunctions.Count * Conjunctions.Count;

    public int MinGram => 1;

    /// <summary>Longest n-gram: 2 for words, 3 for characters unless chosen otherwise at fitting.</summary>
    public int MaxGram { get; }

    public static int DefaultMaxGram(TokenMode mode) => mode == TokenMode.Word ? 2 : 3;

    /// <summary>Separators for word mode: every BMP character that is whitespace, a control, punctuation or a symbol,
    /// except NUL.</summary>
    public static IReadOnlyList<string> Separators { get; } = BuildSeparators();

    /// <summary>The separators as one RE2 expression (explicit code point ranges, so the Unicode tables of RE2 and
    /// .NET cannot disagree), the form ONNX Runtime's Tokenizer takes.</summary>
    public static string SeparatorRegex { get; } = BuildSeparatorRegex();

    private static string BuildSeparatorRegex()
    {
        var cps = Separators.Select(s => (int)s[0]).Order().ToList();
        var sb = new StringBuilder("[");
        for (var i = 0; i < cps.Count;)
        {
            var j = i;
            while (j + 1 < cps.Count && cps[j + 1] == cps[j] + 1) j++;
            sb.Append($"\\x{{{cps[i]:X}}}");
            if (j > i) sb.Append($"-\\x{{{cps[j]:X}}}");
            i = j + 1;
        }
        return sb.Append("]+").ToString();
    }

    private static readonly HashSet<int> SeparatorSet = [.. Separators.Select(s => (int)s[0])];

    private static string[] BuildSeparators()
    {
        var list = new List<string>();
        for (var c = 1; c < 0x10000; c++)
        {
            if (c is >= 0xD800 and <= 0xDFFF) continue;
            var ch = (char)c;
            if (char.IsWhiteSpace(ch) || char.IsControl(ch) || char.IsPunctuation(ch) || char.IsSymbol(ch))
                list.Add(ch.ToString());
        }
        return [.. list];
    }

    /// <summary>Decides the token mode from the training text: char n-grams when more than 30% of the letters
    /// belong to scripts written without spaces.</summary>
    public static TokenMode ChooseMode(IEnumerable<string> texts)
    {
        long letters = 0, spaceless = 0;
        foreach (var t in texts)
        {
            foreach (var r in t.EnumerateRunes())
            {
                if (!Rune.IsLetter(r)) continue;
                letters++;
                if (IsSpacelessScript(r.Value)) spaceless++;
            }
        }
        return letters > 0 && spaceless > 0.3 * letters ? TokenMode.Char : TokenMode.Word;
    }

    /// <summary>Han, Hiragana, Katakana (incl. half-width), Thai, Lao, Khmer, Myanmar, Tibetan.</summary>
    public static bool IsSpacelessScript(int cp) =>
        cp is >= 0x3040 and <= 0x30FF // Hiragana, Katakana
            or >= 0x31F0 and <= 0x31FF
            or >= 0x3400 and <= 0x4DBF // CJK ext A
            or >= 0x4E00 and <= 0x9FFF // CJK unified
            or >= 0xF900 and <= 0xFAFF
            or >= 0xFF66 and <= 0xFF9F // half-width katakana
            or >= 0x20000 and <= 0x3134F
            or >= 0x0E00 and <= 0x0EFF // Thai, Lao
            or >= 0x1780 and <= 0x17FF // Khmer
            or >= 0x1000 and <= 0x109F // Myanmar
            or >= 0x0F00 and <= 0x0FFF; // Tibetan

    /// <summary>Lower-cases like ONNX Runtime's StringNormalizer (LOWER, locale C.UTF-8) on Linux: one code point to
    /// one code point (simple case mapping). Lone surrogates become U+FFFD, as they do when a .NET string is passed
    /// to ONNX Runtime as UTF-8.</summary>
    public static string Normalize(string text)
    {
        if (text.Length == 0) return text;
        var sb = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length;)
        {
            var status = Rune.DecodeFromUtf16(text.AsSpan(i), out var rune, out var consumed);
            if (status != System.Buffers.OperationStatus.Done) rune = Rune.ReplacementChar;
            i += consumed;
            sb.Append(LowerCase(rune).ToString());
        }
        return sb.ToString();
    }

    private static Rune LowerCase(Rune r)
    {
        if (r.Value < 0x80) return r.Value is >= 'A' and <= 'Z' ? new Rune(r.Value + 32) : r;
        return CaseTable.Lower(r);
    }

    public static List<string> Tokenize(string normalized, TokenMode mode)
    {
        var tokens = new List<string>();
        if (mode == TokenMode.Char)
        {
            foreach (var r in normalized.EnumerateRunes()) tokens.Add(r.ToString());
            return tokens;
        }
        var start = -1;
        for (var i = 0; i < normalized.Length; i++)
        {
            var isSep = SeparatorSet.Contains(normalized[i]);
            if (isSep)
            {
                if (start >= 0) tokens.Add(normalized[start..i]);
                start = -1;
            }
            else if (start < 0) start = i;
        }
        if (start >= 0) tokens.Add(normalized[start..]);
        return tokens;
    }

    public List<string> Tokens(string text) => Tokenize(Normalize(text), Mode);

    /// <summary>Builds the vocabulary (n-grams in at least <paramref name="minDocuments"/> texts and at most
    /// <paramref name="maxDocumentShare"/> of them; at most <see cref="MaxFeatures"/>, by frequency) and smoothed
    /// idf = ln((1 + n) / (1 + df)) + 1.</summary>
    public static SparseFeaturizer Fit(IReadOnlyList<string> texts, TokenMode mode, bool sublinear = false, int? maxGram = null,
        int minDocuments = 1, double maxDocumentShare = 1.0)
    {
        var longest = maxGram ?? DefaultMaxGram(mode);
        if (longest is < 1 or > 8) throw new ArgumentOutOfRangeException(nameof(maxGram), "The longest n-gram must be 1 to 8.");
        ArgumentOutOfRangeException.ThrowIfLessThan(minDocuments, 1);
        if (maxDocumentShare is <= 0 or > 1) throw new ArgumentOutOfRangeException(nameof(maxDocumentShare), "The largest document share must be in (0, 1].");
        var df = new Dictionary<NGram, int>();
        foreach (var text in texts)
        {
            var tokens = Tokenize(Normalize(text), mode);
            var seen = new HashSet<NGram>();
            foreach (var g in Grams(tokens, longest)) seen.Add(g);
            foreach (var g in seen) df[g] = df.GetValueOrDefault(g) + 1;
        }
        var n = texts.Count;
        var maxDocuments = maxDocumentShare >= 1 ? n : (int)Math.Floor(maxDocumentShare * n);
        var kept = df
            .Where(kv => kv.Value >= minDocuments && kv.Value <= maxDocuments)
            .OrderByDescending(kv => kv.Value)
            .ThenBy(kv => kv.Key.Parts.Length)
            .ThenBy(kv => string.Join('\u0001', kv.Key.Parts), StringComparer.Ordinal)
            .Take(MaxFeatures)
            .OrderBy(kv => kv.Key.Parts.Length)
            .ThenBy(kv => string.Join('\u0001', kv.Key.Parts), StringComparer.Ordinal)
            .ToList();
        var idf = kept.Select(kv => (float)(Math.Log((1.0 + n) / (1.0 + kv.Value)) + 1.0)).ToArray();
        return new SparseFeaturizer(mode, kept.Select(kv => kv.Key.Parts).ToList(), idf, sublinear, longest);
    }

    private static IEnumerable<NGram> Grams(List<string> tokens, int maxGram)
    {
        for (var n = 1; n <= maxGram; n++)
            for (var i = 0; i + n <= tokens.Count; i++)
                yield return new NGram(tokens.GetRange(i, n).ToArray());
    }

    /// <summary>The L2-normalised TF-IDF vector of one text, as (sorted indices, values).</summary>
    public (int[] Indices, float[] Values) Featurize(string text)
    {
        var tokens = Tokens(text);
        var counts = new Dictionary<int, int>();
        foreach (var g in Grams(tokens, MaxGram))
            if (_index.TryGetValue(g, out var id)) counts[id] = counts.GetValueOrDefault(id) + 1;
        var indices = counts.Keys.Order().ToArray();
        var values = new float[indices.Length];
        var sum = 0f;
        for (var k = 0; k < indices.Length; k++)
        {
            var c = counts[indices[k]];
            values[k] = (Sublinear ? 1f + MathF.Log(c) : c) * Idf[indices[k]];
            sum += values[k] * values[k];
        }
        var norm = MathF.Max(MathF.Sqrt(sum), 1e-12f);
        for (var k = 0; k < values.Length; k++) values[k] /= norm;
        return AddConjunctions((indices, values));
    }

    /// <summary>An n-gram vector (as <see cref="Featurize"/> makes it without conjunctions) with the conjunction
    /// features of its n-grams appended; unchanged when there are none. Lets training add conjunctions to rows it
    /// has already featurised instead of tokenising every text again.</summary>
    public (int[] Indices, float[] Values) AddConjunctions((int[] Indices, float[] Values) ngrams)
    {
        var (indices, values) = ngrams;
        if (Conjunctions.Count == 0) return (indices, values);

        var present = new List<int>();
        foreach (var id in indices)
            if (_conjunctionPosition.TryGetValue(id, out var pos)) present.Add(pos);
        if (present.Count < 2) return (indices, values);
        present.Sort();
        var k2 = Conjunctions.Count;
        var pairs = present.Count * (present.Count - 1) / 2;
        var allIndices = new int[indices.Length + pairs];
        var allValues = new float[indices.Length + pairs];
        indices.CopyTo(allIndices, 0);
        values.CopyTo(allValues, 0);
        var at = indices.Length;
        for (var a = 0; a < present.Count; a++)
            for (var b = a + 1; b < present.Count; b++)
            {
                allIndices[at] = NGramCount + present[a] * k2 + present[b];
                allValues[at++] = ConjunctionValue;
            }
        return (allIndices, allValues);
    }

    /// <summary>An n-gram as text ("good movie", "増加"), or a conjunction as "A & B".</summary>
    public string Describe(int feature)
    {
        if (feature < NGramCount) return string.Join(Mode == TokenMode.Word ? " " : "", NGrams[feature]);
        var pair = feature - NGramCount;
        var k = Conjunctions.Count;
        return $"{Describe(Conjunctions[pair / k])} & {Describe(Conjunctions[pair % k])}";
    }

    internal void Write(BinaryWriter w)
    {
        w.Write((int)Mode);
        w.Write(Sublinear);
        w.Write(MaxGram);
        w.Write(NGrams.Count);
        for (var i = 0; i < NGrams.Count; i++)
        {
            w.Write(NGrams[i].Length);
            foreach (var p in NGrams[i]) w.Write(p);
            w.Write(Idf[i]);
        }
        w.Write(Conjunctions.Count);
        foreach (var c in Conjunctions) w.Write(c);
        w.Write(ConjunctionValue);
    }

    /// <summary>Format version 1 had no sublinear flag (always raw counts); versions before 3 no conjunctions.</summary>
    internal static SparseFeaturizer Read(BinaryReader r, int formatVersion)
    {
        var mode = (TokenMode)r.ReadInt32();
        var sublinear = formatVersion >= 2 && r.ReadBoolean();
        var maxGram = formatVersion >= 2 ? r.ReadInt32() : DefaultMaxGram(mode);
        if (maxGram is < 1 or > 8) throw new InvalidDataException($"The saved classifier has an invalid n-gram length {maxGram}.");
        var count = r.ReadInt32();
        var grams = new List<string[]>(count);
        var idf = new float[count];
        for (var i = 0; i < count; i++)
        {
            var len = r.ReadInt32();
            var parts = new string[len];
            for (var k = 0; k < len; k++) parts[k] = r.ReadString();
            grams.Add(parts);
            idf[i] = r.ReadSingle();
        }
        if (formatVersion < 3) return new SparseFeaturizer(mode, grams, idf, sublinear, maxGram);
        var pairCount = r.ReadInt32();
        if (pairCount < 0 || pairCount > MaxConjunctions) throw new InvalidDataException($"The saved classifier has an invalid number of conjunction features ({pairCount}).");
        var conjunctions = new int[pairCount];
        for (var i = 0; i < pairCount; i++) conjunctions[i] = r.ReadInt32();
        var value = r.ReadSingle();
        if (pairCount > 0 && !(value > 0)) throw new InvalidDataException("The saved classifier has an invalid conjunction value.");
        return new SparseFeaturizer(mode, grams, idf, sublinear, maxGram, conjunctions, value);
    }

    private readonly struct NGram(string[] parts) : IEquatable<NGram>
    {
        public string[] Parts { get; } = parts;

        public bool Equals(NGram other)
        {
            if (Parts.Length != other.Parts.Length) return false;
            for (var i = 0; i < Parts.Length; i++)
                if (!string.Equals(Parts[i], other.Parts[i], StringComparison.Ordinal)) return false;
            return true;
        }

        public override bool Equals(object? obj) => obj is NGram g && Equals(g);

        public override int GetHashCode()
        {
            var h = new HashCode();
            foreach (var p in Parts) h.Add(p, StringComparer.Ordinal);
            return h.ToHashCode();
        }
    }
}

/// <summary>Simple (one-to-one) lower-case mapping of a code point, as glibc's C.UTF-8 towlower does it.</summary>
internal static class CaseTable
{
    /// <summary>.NET's invariant casing leaves U+0130 (İ) unchanged; glibc maps it to 'i'. Measured over every BMP
    /// character by SparseParityTests; this is the only difference.</summary>
    public static Rune Lower(Rune r) => r.Value == 0x130 ? new Rune('i') : Rune.ToLowerInvariant(r);
}
