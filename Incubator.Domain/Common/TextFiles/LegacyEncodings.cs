using System.Text;

namespace Incubator.Domain.Common.TextFiles;

/// <summary>The legacy encodings a file that is not UTF-8 may be in, judged in the sniffer's one streamed pass: Shift_JIS
/// (code page 932, what Excel on a Japanese Windows saves), EUC-JP, and Windows-1252 (Latin-1 with curly quotes, dashes
/// and € in 0x80–0x9F). Each reading must decode every byte strictly (a decoder that throws on an invalid or unmapped
/// sequence), and the one chosen must also be plausible where the others are not: see <see cref="Decide"/>.</summary>
internal sealed class LegacyEncodings
{
    /// <summary>A reading at or above this share of plausible non-ASCII characters is plausible…</summary>
    public const double Plausible = 0.8;

    /// <summary>…and one below this share is implausible. Between the two, or when two readings are plausible, the
    /// file is ambiguous and refused rather than guessed.</summary>
    public const double Implausible = 0.5;

    private static readonly Lazy<Encoding> ShiftJisEncoding = new(() => Strict(932));
    private static readonly Lazy<Encoding> EucJpEncoding = new(() => Strict(51932));

    /// <summary>The code-page encodings (932, 51932, 1252) come from <see cref="CodePagesEncodingProvider"/>, part of the
    /// shared framework; they are taken from the provider directly, so nothing has to be registered at startup for the
    /// portal, the API and the command line alike. <see cref="Encoding.GetEncoding(int)"/> works too once
    /// <see cref="Register"/> has run (the web host calls it).</summary>
    public static Encoding ShiftJis => ShiftJisEncoding.Value;

    public static Encoding EucJp => EucJpEncoding.Value;

    public static Encoding Windows1252 { get; } = CodePagesEncodingProvider.Instance.GetEncoding(1252)!;

    public static void Register() => Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);

    private static Encoding Strict(int codePage) =>
        CodePagesEncodingProvider.Instance.GetEncoding(codePage, EncoderFallback.ExceptionFallback, DecoderFallback.ExceptionFallback)!;

    private readonly JapaneseReading? _shiftJis;
    private readonly JapaneseReading? _eucJp;
    private readonly WesternReading _western = new();

    /// <param name="japanese">False when valid UTF-8 with non-ASCII characters came first (a file that switches
    /// encoding mid-way): then only the single-byte reading is considered, as before.</param>
    public LegacyEncodings(bool japanese)
    {
        if (!japanese) return;
        _shiftJis = new JapaneseReading(ShiftJis, "shift_jis");
        _eucJp = new JapaneseReading(EucJp, "euc-jp");
    }

    public bool WesternAlive => _western.Alive;

    public bool AnyAlive => _western.Alive || _shiftJis?.Alive == true || _eucJp?.Alive == true;

    /// <summary>Feeds the next bytes of the file (from the first window that is not UTF-8 on).</summary>
    public void Feed(ReadOnlySpan<byte> bytes, bool final)
    {
        _western.Feed(bytes, final);
        _shiftJis?.Feed(bytes, final);
        _eucJp?.Feed(bytes, final);
    }

    /// <summary>The reading to decode with, or null when the file is ambiguous or no reading is plausible. The rule:
    /// <list type="bullet">
    /// <item>A Japanese reading (the better of Shift_JIS and EUC-JP) wins when it is plausible and the Windows-1252
    /// reading is impossible (bytes 0x81, 0x8D, 0x8F, 0x90, 0x9D are undefined there) or implausible.</item>
    /// <item>Otherwise, bytes with no 0x80–0x9F among them are Latin-1, as they always were, unless a Japanese reading is
    /// plausible too (then the file is ambiguous).</item>
    /// <item>Bytes with 0x80–0x9F are Windows-1252 when that reading is plausible and no Japanese reading is.</item>
    /// <item>Anything else is refused: "save it as UTF-8".</item>
    /// </list></summary>
    /// <param name="shareExceeded">Some window had more than a quarter of its bytes not UTF-8: far more than any
    /// Western text has, so the single-byte readings are out (Chinese, Korean or Cyrillic text would only become
    /// nonsense in them), as they always were.</param>
    public (Encoding Encoding, string Name)? Decide(bool shareExceeded)
    {
        // Both Japanese readings survive only when the bytes avoid each one's invalid sequences: EUC-JP bytes read as
        // Shift_JIS give half-width katakana and rare kanji but never kana (Shift_JIS kana have lead bytes 0x82 and
        // 0x83, which EUC-JP lacks); Shift_JIS read as EUC-JP survives only without kana. So kana decide.
        var japanese = new[] { _shiftJis, _eucJp }.Where(r => r is { Alive: true, NonAscii: > 0 }).Select(r => r!)
            .OrderByDescending(r => r.Kana).ThenBy(r => r.HalfWidth).ThenByDescending(r => r.Score).FirstOrDefault();
        // EUC-KR (Korean) and GB2312 (Chinese) have EUC-JP's byte structure and read as kanji there; Japanese text
        // has kana, they hardly do. Shift_JIS needs no such proof: those encodings do not survive it.
        var jPlausible = japanese is not null && japanese.Score >= Plausible && (japanese != _eucJp || japanese.Kana > 0);
        var jImplausible = japanese is null || japanese.Score < Implausible;
        var western = _western.Alive && !shareExceeded;
        var wImplausible = !western || _western.Score < Implausible;
        if (jPlausible && wImplausible) return (japanese!.Encoding, japanese.Name);
        // A Japanese reading that scores well without kana (a few EUC-JP kanji) makes Latin-1 doubtful too.
        if (western && !_western.SawC1 && (japanese is null || japanese.Score < Plausible)) return (Encoding.Latin1, "latin-1");
        if (western && _western.Score >= Plausible && jImplausible) return (Windows1252, "windows-1252");
        return null;
    }

    /// <summary>For the decision record and tests: each reading's state.</summary>
    public override string ToString() =>
        $"western alive={_western.Alive} c1={_western.SawC1} score={_western.Score:0.00}; "
        + $"shift_jis alive={_shiftJis?.Alive} score={_shiftJis?.Score:0.00}; euc-jp alive={_eucJp?.Alive} score={_eucJp?.Score:0.00}";

    /// <summary>Shift_JIS or EUC-JP, decoded strictly. Plausible characters are Japanese ones (kana, kanji, CJK and
    /// full-width punctuation, the JIS symbols) that do not touch an ASCII letter: Latin-1 text read as Shift_JIS
    /// turns an accent and the letter after it into one kanji inside a Latin word ("don’t" → "don昼"), or an
    /// À–ß into a half-width katakana beside letters; real Japanese text has its Japanese characters beside each
    /// other, spaces or punctuation.</summary>
    private sealed class JapaneseReading(Encoding encoding, string name)
    {
        private readonly Decoder _decoder = encoding.GetDecoder();
        private char[] _chars = new char[4096];
        private char _left = '\n';
        private char _current = '\n';
        private bool _hasCurrent;

        public Encoding Encoding { get; } = encoding;

        public string Name { get; } = name;

        public bool Alive { get; private set; } = true;

        public long NonAscii { get; private set; }

        public long Good { get; private set; }

        /// <summary>Hiragana, full-width katakana and CJK punctuation (U+3000–U+30FF).</summary>
        public long Kana { get; private set; }

        public long HalfWidth { get; private set; }

        /// <summary>Half-width katakana that do not touch an ASCII letter. Latin-1's ¡–¿ and À–ß are half-width katakana
        /// in Shift_JIS, so they count only in a reading that also has full-width kana.</summary>
        public long HalfWidthGood { get; private set; }

        public double Score => NonAscii == 0 ? 0 : (double)(Good + (Kana > 0 ? HalfWidthGood : 0)) / NonAscii;

        public void Feed(ReadOnlySpan<byte> bytes, bool final)
        {
            if (!Alive) return;
            var need = bytes.Length + 2; // these encodings never make more characters than bytes (plus one held back)
            if (_chars.Length < need) _chars = new char[Math.Max(need, _chars.Length * 2)];
            int count;
            try
            {
                count = _decoder.GetChars(bytes, _chars, flush: final);
            }
            catch (DecoderFallbackException)
            {
                Alive = false;
                return;
            }
            foreach (var c in _chars.AsSpan(0, count)) Push(c);
            if (final && _hasCurrent) Push('\n');
        }

        /// <summary>Judges the previous character now that both its neighbours are known.</summary>
        private void Push(char next)
        {
            if (_hasCurrent && _current >= 0x80)
            {
                NonAscii++;
                var apart = !char.IsAsciiLetter(_left) && !char.IsAsciiLetter(next);
                if (_current is >= '\uFF61' and <= '\uFF9F')
                {
                    HalfWidth++;
                    if (apart) HalfWidthGood++;
                }
                else
                {
                    if (_current is >= '\u3000' and <= '\u30FF') Kana++;
                    if (IsJapanese(_current) && apart) Good++;
                }
            }
            (_left, _current, _hasCurrent) = (_current, next, true);
        }

        private static bool IsJapanese(char c) => c is
            (>= '\u2010' and <= '\u33FF') // punctuation, arrows, maths, box drawing, shapes, circled numbers, CJK punctuation, kana, ㈱ ㎜
            or (>= '\u4E00' and <= '\u9FFF') // CJK ideographs
            or (>= '\uFF01' and <= '\uFF60') // full-width ASCII
            or (>= '\uFFE0' and <= '\uFFE5') // ￠ ￡ ￢ ￤ ￥
            or '\u00A7' or '\u00A8' or '\u00B0' or '\u00B1' or '\u00B4' or '\u00B6' or '\u00D7' or '\u00F7'; // JIS row-1 symbols
    }

    /// <summary>Windows-1252 (a superset of Latin-1's printable characters), read byte by byte. It cannot decode 0x81,
    /// 0x8D, 0x8F, 0x90 and 0x9D. Plausible non-ASCII characters are letters and the usual punctuation (quotes,
    /// dashes, €, …, the 0xA0–0xBF symbols) in runs of at most two: Western text has an accent or a quote here and
    /// there, while Shift_JIS or EUC-JP read this way gives long runs, and ƒ ‚ ˆ † ‡ ‰ ˜ × ÷ that prose hardly uses.</summary>
    private sealed class WesternReading
    {
        private static readonly bool[] Undefined = Table(0x81, 0x8D, 0x8F, 0x90, 0x9D);
        private static readonly bool[] Odd = Table(0x82, 0x83, 0x86, 0x87, 0x88, 0x89, 0x98, 0xD7, 0xF7);

        private static bool[] Table(params int[] bytes)
        {
            var t = new bool[256];
            foreach (var b in bytes) t[b] = true;
            return t;
        }

        private int _run; // high bytes in a row so far (carried across windows)
        private int _runByte = -1; // the byte repeated throughout the run, or -1 when they differ
        private long _runGood; // plausible bytes in the current run

        public bool Alive { get; private set; } = true;

        public bool SawC1 { get; private set; }

        public long NonAscii { get; private set; }

        public long Good { get; private set; }

        public double Score => NonAscii == 0 ? 0 : (double)Good / NonAscii;

        public void Feed(ReadOnlySpan<byte> bytes, bool final)
        {
            if (!Alive) return;
            for (var i = 0; i < bytes.Length;)
            {
                var high = bytes[i..].IndexOfAnyInRange((byte)0x80, (byte)0xFF);
                if (high != 0) EndRun();
                if (high < 0) break;
                i += high;
                var b = bytes[i++];
                if (Undefined[b])
                {
                    Alive = false;
                    return;
                }
                if (b <= 0x9F) SawC1 = true;
                NonAscii++;
                _runByte = _run == 0 || _runByte == b ? b : -1;
                _run++;
                if (!Odd[b]) _runGood++;
            }
            if (final) EndRun();
        }

        private void EndRun()
        {
            // A run of one punctuation mark repeated ("……", "——") is as plausible as a single one.
            if (_run is > 0 and <= 2 || _runByte >= 0) Good += _runGood;
            (_run, _runGood, _runByte) = (0, 0, -1);
        }
    }
}
