using System.Globalization;
using System.Text;

namespace Incubator.Domain.Generation;

/// <summary>Reads the samples out of an LLM answer that was asked for one JSON object <c>{"label": "sample", ...}</c>.
/// <para>LLM output is untrusted and often slightly broken, so this is a small hand-written tolerant scanner rather
/// than System.Text.Json (which gives up on the first flaw and so loses every good sample next to it). Tolerated:
/// Markdown fences with any language tag and prose around the JSON (everything outside objects is ignored), trailing
/// or missing commas, several objects or an array of objects, single-quoted strings, unescaped double quotes inside a
/// value, raw line breaks inside strings, and label keys that differ from the label name only in case, width (NFKC),
/// surrounding or inner spaces, underscores or hyphens.</para>
/// <para>Honest: a key is mapped to a label only by that normalisation, never by similarity; anything else is an
/// UnknownLabel rejection with the key in Detail. Non-string values, cut-off strings and text without any JSON are
/// reported as Unparseable rather than guessed at. Missing labels are simply absent from the result.</para>
/// <para>Quote rule: a key ends at its first unescaped closing quote. A quote closes a value only when what follows it
/// is structural: the end of the text, <c>}</c>, <c>]</c>, a comma followed by the next key/object/closer, or a line break followed by
/// the next key (a missing comma). Any other quote is kept as part of the text. This is what makes
/// <c>"He said "stop", then left"</c> and <c>'It's broken'</c> read as one value.</para></summary>
public static class OutputParser
{
    /// <summary>Longest excerpt of unreadable text copied into a rejection.</summary>
    public const int ExcerptLength = 80;

    public static ParseResult Parse(string text, IReadOnlyList<string> labelNames)
    {
        ArgumentNullException.ThrowIfNull(labelNames);
        text ??= "";
        var matcher = new LabelMatcher(labelNames);
        var accepted = new List<ParsedPiece>();
        var rejected = new List<RejectedPiece>();
        var objects = 0;
        var truncated = false;
        var pos = 0;
        while (pos < text.Length)
        {
            var open = text.IndexOf('{', pos);
            if (open < 0) break;
            var scanner = new Scanner(text, open);
            var read = scanner.ReadObject();
            if (read is null || (read.Pairs.Count == 0 && read.BrokenAt is not null))
            {
                pos = open + 1; // a brace in prose ("{label: sample}"), not an object
                continue;
            }
            ProcessObject(read, objects, matcher, accepted, rejected);
            objects++;
            truncated |= read.Truncated;
            if (read.BrokenAt is { } broken)
                rejected.Add(new RejectedPiece(null, Excerpt(text[broken..]), RejectReason.Unparseable, SampleNotes.Malformed()));
            pos = Math.Max(scanner.Position, open + 1);
        }
        if (objects == 0)
            rejected.Add(new RejectedPiece(null, Excerpt(text), RejectReason.Unparseable,
                text.Trim().Length == 0 ? SampleNotes.AnswerEmpty() : SampleNotes.NoJson()));
        return new ParseResult(accepted, rejected, objects, truncated);
    }

    private static void ProcessObject(ObjectRead read, int objectIndex, LabelMatcher matcher, List<ParsedPiece> accepted, List<RejectedPiece> rejected)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (key, value) in read.Pairs)
        {
            var label = matcher.Match(key);
            var shown = value.Kind == ValueKind.String || value.Kind == ValueKind.CutOff ? value.Text : Excerpt(value.Text);
            if (label is null)
            {
                rejected.Add(new RejectedPiece(null, shown, RejectReason.UnknownLabel, SampleNotes.UnknownLabel(key)));
                continue;
            }
            if (!seen.Add(label))
            {
                rejected.Add(new RejectedPiece(label, shown, RejectReason.Duplicate, SampleNotes.LabelTwice(label)));
                continue;
            }
            switch (value.Kind)
            {
                case ValueKind.CutOff:
                    rejected.Add(new RejectedPiece(label, shown, RejectReason.Unparseable, SampleNotes.CutOff()));
                    break;
                case ValueKind.Other:
                    rejected.Add(new RejectedPiece(label, shown, RejectReason.Unparseable, SampleNotes.NotText(value.Description)));
                    break;
                default:
                    var trimmed = value.Text.Trim();
                    if (trimmed.Length == 0)
                        rejected.Add(new RejectedPiece(label, value.Text, RejectReason.Empty, SampleNotes.Empty()));
                    else
                        accepted.Add(new ParsedPiece(label, trimmed, objectIndex));
                    break;
            }
        }
    }

    internal static string Excerpt(string text)
    {
        var t = text.Trim();
        if (t.Length <= ExcerptLength) return t;
        var cut = ExcerptLength;
        if (char.IsHighSurrogate(t[cut - 1])) cut--;
        return t[..cut] + "…";
    }

    private enum ValueKind { String, CutOff, Other }

    private sealed record RawValue(ValueKind Kind, string Text, string Description = "");

    private sealed record ObjectRead(List<(string Key, RawValue Value)> Pairs, bool Truncated, int? BrokenAt);

    /// <summary>Reads one object starting at a '{'. Returns null when the brace does not start an object (not followed
    /// by a quoted key or '}').</summary>
    private sealed class Scanner(string text, int start)
    {
        public int Position { get; private set; } = start;

        public ObjectRead? ReadObject()
        {
            Position++; // '{'
            SkipWhitespace();
            if (Position < text.Length && text[Position] is not ('"' or '\'' or '}')) return null;
            var pairs = new List<(string, RawValue)>();
            while (true)
            {
                while (Position < text.Length && (char.IsWhiteSpace(text[Position]) || text[Position] == ',')) Position++;
                if (Position >= text.Length) return new ObjectRead(pairs, true, null);
                var c = text[Position];
                if (c == '}')
                {
                    Position++;
                    return new ObjectRead(pairs, false, null);
                }
                if (c is not ('"' or '\'')) return new ObjectRead(pairs, false, Position);
                var keyStart = Position;
                var key = ReadString(c, isKey: true, out var keyClosed);
                if (!keyClosed) return new ObjectRead(pairs, true, null); // cut off inside a key: nothing to keep
                SkipWhitespace();
                if (Position >= text.Length) return new ObjectRead(pairs, true, null);
                if (text[Position] != ':') return new ObjectRead(pairs, false, keyStart);
                Position++;
                SkipWhitespace();
                if (Position >= text.Length) return new ObjectRead(pairs, true, null);
                var v = text[Position];
                if (v is '"' or '\'')
                {
                    var value = ReadString(v, isKey: false, out var closed);
                    pairs.Add((key, new RawValue(closed ? ValueKind.String : ValueKind.CutOff, value)));
                    if (!closed) return new ObjectRead(pairs, true, null);
                }
                else if (v is '{' or '[')
                {
                    var from = Position;
                    var complete = SkipNested();
                    pairs.Add((key, new RawValue(ValueKind.Other, text[from..Position], v == '{' ? "an object" : "a list")));
                    if (!complete) return new ObjectRead(pairs, true, null);
                }
                else if (v is '}' or ',')
                {
                    pairs.Add((key, new RawValue(ValueKind.Other, "", "missing")));
                }
                else
                {
                    var from = Position;
                    while (Position < text.Length && text[Position] is not (',' or '}' or ']' or '\n' or '\r')) Position++;
                    var token = text[from..Position].Trim();
                    pairs.Add((key, new RawValue(ValueKind.Other, token, Describe(token))));
                    if (Position >= text.Length) return new ObjectRead(pairs, true, null);
                }
            }
        }

        private static string Describe(string token) => token switch
        {
            "true" or "false" => "a boolean",
            "null" => "null",
            _ when double.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out _) => "a number",
            _ => "an unquoted word",
        };

        private void SkipWhitespace()
        {
            while (Position < text.Length && char.IsWhiteSpace(text[Position])) Position++;
        }

        private int NextNonWhitespace(int from)
        {
            while (from < text.Length && char.IsWhiteSpace(text[from])) from++;
            return from;
        }

        private bool Closes(int after)
        {
            var p = NextNonWhitespace(after);
            if (p >= text.Length) return true;
            var c = text[p];
            if (c is '}' or ']') return true;
            if (c == ',')
            {
                var q = NextNonWhitespace(p + 1);
                return q >= text.Length || text[q] is '"' or '\'' or '}' or ']' or '{' || StartsUnquotedKey(q);
            }
            // A missing comma between pairs: the next key starts on a new line.
            return c is '"' or '\'' && text.AsSpan(after, p - after).ContainsAny('\n', '\r');
        }

        /// <summary>A bare word followed by a colon and a quote (<c>negative: "</c>): the next pair with an unquoted key.
        /// Only used to end the previous value; the object itself is then reported malformed at that key.</summary>
        private bool StartsUnquotedKey(int p)
        {
            var start = p;
            while (p < text.Length && p - start <= 64 && (char.IsLetterOrDigit(text[p]) || text[p] is '_' or '-' or ' ')) p++;
            if (p == start || p >= text.Length || text[p] != ':') return false;
            var q = NextNonWhitespace(p + 1);
            return q < text.Length && text[q] is '"' or '\'';
        }

        /// <summary>At an opening quote; reads to the closing quote (see the quote rule) or the end of the text.</summary>
        private string ReadString(char quote, bool isKey, out bool closed)
        {
            Position++;
            var sb = new StringBuilder();
            while (Position < text.Length)
            {
                var c = text[Position];
                if (c == '\\')
                {
                    if (Position + 1 >= text.Length)
                    {
                        Position = text.Length;
                        break;
                    }
                    var e = text[Position + 1];
                    Position += 2;
                    switch (e)
                    {
                        case 'n': sb.Append('\n'); break;
                        case 't': sb.Append('\t'); break;
                        case 'r': sb.Append('\r'); break;
                        case 'b': sb.Append('\b'); break;
                        case 'f': sb.Append('\f'); break;
                        case 'u' when Position + 4 <= text.Length
                            && ushort.TryParse(text.AsSpan(Position, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var code):
                            sb.Append((char)code);
                            Position += 4;
                            break;
                        default: sb.Append(e); break; // \" \\ \/ \' and unknown escapes: the character itself
                    }
                    continue;
                }
                if (c == quote && (isKey || Closes(Position + 1)))
                {
                    Position++;
                    closed = true;
                    return sb.ToString();
                }
                sb.Append(c);
                Position++;
            }
            closed = false;
            return sb.ToString();
        }

        /// <summary>At '{' or '['; skips to after the matching closer. False when the text ends first.</summary>
        private bool SkipNested()
        {
            var depth = 0;
            while (Position < text.Length)
            {
                var c = text[Position++];
                if (c is '{' or '[') depth++;
                else if (c is '}' or ']')
                {
                    if (--depth == 0) return true;
                }
                else if (c == '"')
                {
                    while (Position < text.Length && text[Position] != '"')
                        Position += text[Position] == '\\' ? 2 : 1;
                    if (Position >= text.Length)
                    {
                        Position = text.Length;
                        return false;
                    }
                    Position++;
                }
            }
            return false;
        }
    }
}

/// <summary>Maps an answer's key to the exact label name it stands for: the same name, or the same name once width
/// (NFKC), case, whitespace, hyphens/dashes and underscores are ignored ("Billing_Issue", "billing-issue" and
/// "ＢＩＬＬＩＮＧ ＩＳＳＵＥ" all mean "billing issue"). Two labels that collide under that folding are reachable only by
/// their exact names.</summary>
internal sealed class LabelMatcher
{
    private readonly Dictionary<string, string> _exact = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string?> _loose = new(StringComparer.Ordinal);

    public LabelMatcher(IEnumerable<string> labelNames)
    {
        foreach (var name in labelNames)
        {
            if (string.IsNullOrWhiteSpace(name)) continue;
            _exact.TryAdd(name, name);
            var key = Fold(name);
            if (key.Length == 0) continue;
            // null marks an ambiguous folded key: never guess between two labels.
            _loose[key] = _loose.TryGetValue(key, out var existing) && existing != name ? null : name;
        }
    }

    public string? Match(string key)
    {
        if (_exact.TryGetValue(key, out var exact)) return exact;
        var folded = Fold(key);
        return folded.Length > 0 && _loose.TryGetValue(folded, out var label) ? label : null;
    }

    internal static string Fold(string s)
    {
        string normalized;
        try
        {
            normalized = s.Normalize(NormalizationForm.FormKC);
        }
        catch (ArgumentException)
        {
            normalized = s;
        }
        var sb = new StringBuilder(normalized.Length);
        foreach (var c in normalized)
        {
            if (char.IsWhiteSpace(c)) continue;
            var category = char.GetUnicodeCategory(c);
            if (category is UnicodeCategory.DashPunctuation or UnicodeCategory.ConnectorPunctuation) continue;
            sb.Append(char.ToLowerInvariant(c));
        }
        return sb.ToString();
    }
}
