using System.Text;

namespace Incubator.Domain.Common.TextFiles;

/// <summary>Why <see cref="LegacyEncodings.Decide"/> refused a file by name (enc22).</summary>
internal enum LegacyRefusal
{
    None,
    Chinese,
    Koi8R,
}

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

    private static readonly Lazy<Encoding> GbkEncoding = new(() => Strict(936));
    private static readonly Lazy<Encoding> Big5Encoding = new(() => Strict(950));

    /// <summary>The Cyrillic and Chinese readings (enc22) stop once they have judged this many non-ASCII characters and
    /// are implausible: a long Shift_JIS or Windows-1252 file then pays for them only in its first windows.</summary>
    private const long HopelessAfter = 16_384;

    /// <summary>Windows-1251, the Cyrillic code page of Windows (enc22).</summary>
    public static Encoding Windows1251 { get; } = CodePagesEncodingProvider.Instance.GetEncoding(1251)!;

    private readonly JapaneseReading? _shiftJis;
    private readonly JapaneseReading? _eucJp;
    private readonly WesternReading _western = new();
    private readonly CyrillicReading? _windows1251;
    private readonly CyrillicReading? _koi8r;
    private readonly ChineseReading? _gbk;
    private readonly ChineseReading? _big5;

    /// <summary>Set by <see cref="Decide"/> when it returns null because the bytes look like an encoding that is
    /// refused with its own message rather than guessed (Chinese GBK/Big5, Russian KOI8-R).</summary>
    public LegacyRefusal Refusal { get; private set; }

    /// <param name="japanese">False when valid UTF-8 with non-ASCII characters came first (a file that switches
    /// encoding mid-way): then only the single-byte reading is considered, as before.</param>
    public LegacyEncodings(bool japanese)
    {
        if (!japanese) return;
        _shiftJis = new JapaneseReading(ShiftJis, "shift_jis");
        _eucJp = new JapaneseReading(EucJp, "euc-jp");
        _windows1251 = new CyrillicReading(1251);
        _koi8r = new CyrillicReading(20866);
        _gbk = new ChineseReading(GbkEncoding.Value);
        _big5 = new ChineseReading(Big5Encoding.Value);
    }

    public bool WesternAlive => _western.Alive;

    public bool AnyAlive => _western.Alive || _shiftJis?.Alive == true || _eucJp?.Alive == true
        || _windows1251?.Alive == true || _koi8r?.Alive == true || _gbk?.Alive == true || _big5?.Alive == true;

    /// <summary>Feeds the next bytes of the file (from the first window that is not UTF-8 on).</summary>
    public void Feed(ReadOnlySpan<byte> bytes, bool final)
    {
        _western.Feed(bytes, final);
        _shiftJis?.Feed(bytes, final);
        _eucJp?.Feed(bytes, final);
        // The Cyrillic and Chinese readings count only where the Japanese ones are implausible: once a Japanese reading
        // has judged enough characters and is not, they are stopped (a long Shift_JIS file stops paying for them).
        if (_windows1251 is not null && (Settled(_shiftJis) || Settled(_eucJp)))
        {
            _windows1251.Stop();
            _koi8r!.Stop();
            _gbk!.Stop();
            _big5!.Stop();
        }
        _windows1251?.Feed(bytes, final);
        _koi8r?.Feed(bytes, final);
        _gbk?.Feed(bytes, final);
        _big5?.Feed(bytes, final);
    }

    private static bool Settled(JapaneseReading? r) => r is { Alive: true, NonAscii: >= HopelessAfter } && r.Score >= Implausible;

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
        // enc22. Russian: Windows-1251 when its reading is plausible Cyrillic (words of Cyrillic letters only, mostly
        // lower case, no capital after a small letter) and the Western one is not; KOI8-R (the same bytes with the
        // cases swapped) is refused rather than guessed: all-capital Windows-1251 text reads as lower-case KOI8-R.
        // Chinese: GBK and Big5 share their byte structure and cannot be told apart on a few lines, so a short text that
        // reads as Chinese in either (ideographs and full-width punctuation, not spaced like Korean) is refused by name.
        // Both only where Shift_JIS and EUC-JP are implausible: a few kanji in EUC-JP are GB2312 too, and stay refused as
        // before. A long Chinese file (a quarter of its bytes not UTF-8) is refused as before, by that share.
        if (jImplausible && wImplausible)
        {
            if (_windows1251?.Plausible == true) return (Windows1251, "windows-1251");
            if (_koi8r?.Plausible == true) return Refuse(LegacyRefusal.Koi8R);
            if (!shareExceeded && (_gbk?.Plausible == true || _big5?.Plausible == true)) return Refuse(LegacyRefusal.Chinese);
        }
        // A Japanese reading that scores well without kana (a few EUC-JP kanji) makes Latin-1 doubtful too.
        if (western && !_western.SawC1 && (japanese is null || japanese.Score < Plausible)) return (Encoding.Latin1, "latin-1");
        if (western && _western.Score >= Plausible && jImplausible) return (Windows1252, "windows-1252");
        return null;
    }

    /// <summary>Decodes the next bytes strictly into <paramref name="chars"/> (grown as needed: these encodings never
    /// make more characters than bytes, plus one held back); false when a byte is invalid or unmapped in the reading.</summary>
    private static bool TryDecode(Decoder decoder, ref char[] chars, ReadOnlySpan<byte> bytes, bool final, out int count)
    {
        var need = bytes.Length + 2;
        if (chars.Length < need) chars = new char[Math.Max(need, chars.Length * 2)];
        try
        {
            count = decoder.GetChars(bytes, chars, flush: final);
            return true;
        }
        catch (DecoderFallbackException)
        {
            count = 0;
            return false;
        }
    }

    private (Encoding Encoding, string Name)? Refuse(LegacyRefusal refusal)
    {
        Refusal = refusal;
        return null;
    }

    /// <summary>For the decision record and tests: each reading's state.</summary>
    public override string ToString() =>
        $"western alive={_western.Alive} c1={_western.SawC1} score={_western.Score:0.00}; "
        + $"shift_jis alive={_shiftJis?.Alive} score={_shiftJis?.Score:0.00}; euc-jp alive={_eucJp?.Alive} score={_eucJp?.Score:0.00}; "
        + $"windows-1251 {_windows1251}; koi8-r {_koi8r}; gbk {_gbk}; big5 {_big5}";

    /// <summary>A single-byte Cyrillic code page (Windows-1251 or KOI8-R), read byte by byte. Plausible non-ASCII
    /// characters are Cyrillic letters in words of Cyrillic letters only (a Latin-1 accent inside a Latin word,
    /// "cafй", is not) with no capital after a small letter (KOI8-R read as Windows-1251 gives "пРИВЕТ"), and the
    /// punctuation these code pages add (« » — – … № “ ” „ ‘ ’ and the no-break space). The reading is plausible when at
    /// least <see cref="Plausible"/> of its non-ASCII characters are, and small letters are at least half its letters:
    /// Russian prose is mostly lower case, while the other code page's reading of it is mostly capitals.</summary>
    private sealed class CyrillicReading
    {
        private readonly char[] _table = new char[256];
        private bool _inWord;
        private bool _wordAscii;
        private bool _wordBad;
        private bool _lastLower;
        private long _wordCyrillic;
        private long _wordLower;

        public CyrillicReading(int codePage)
        {
            var encoding = CodePagesEncodingProvider.Instance.GetEncoding(codePage, EncoderFallback.ReplacementFallback, new DecoderReplacementFallback("\uFFFD"))!;
            for (var b = 0; b < 256; b++) _table[b] = encoding.GetChars([(byte)b])[0];
        }

        public bool Alive { get; private set; } = true;

        public long NonAscii { get; private set; }

        public long Good { get; private set; }

        public long Letters { get; private set; }

        public long Lower { get; private set; }

        public double Score => NonAscii == 0 ? 0 : (double)Good / NonAscii;

        public void Stop() => Alive = false;

        public bool Plausible => Alive && Letters > 0 && Score >= LegacyEncodings.Plausible && Lower * 2 >= Letters;

        public void Feed(ReadOnlySpan<byte> bytes, bool final)
        {
            if (!Alive) return;
            foreach (var b in bytes)
            {
                var c = _table[b];
                if (b >= 0x80)
                {
                    if (c == '\uFFFD')
                    {
                        Alive = false;
                        return;
                    }
                    NonAscii++;
                }
                if (c is >= '\u0400' and <= '\u04FF' && char.IsLetter(c))
                {
                    var lower = char.IsLower(c);
                    if (_inWord && _lastLower && !lower) _wordBad = true;
                    (_inWord, _lastLower) = (true, lower);
                    _wordCyrillic++;
                    if (lower) _wordLower++;
                    continue;
                }
                if (char.IsAsciiLetter(c))
                {
                    (_inWord, _wordAscii, _lastLower) = (true, true, char.IsAsciiLetterLower(c));
                    continue;
                }
                EndWord();
                if (b >= 0x80 && c is '«' or '»' or '—' or '–' or '…' or '№' or '“' or '”' or '„' or '‘' or '’' or '\u00A0' or '°' or '§' or '©') Good++;
            }
            if (final) EndWord();
            // Long Japanese or Western text never becomes Cyrillic: stop paying for this reading once it is hopeless.
            if (NonAscii >= HopelessAfter && Score < Implausible) Alive = false;
        }

        private void EndWord()
        {
            if (_wordCyrillic > 0 && !_wordAscii && !_wordBad)
            {
                Good += _wordCyrillic;
                Letters += _wordCyrillic;
                Lower += _wordLower;
            }
            else Letters += _wordCyrillic;
            (_inWord, _wordAscii, _wordBad, _lastLower, _wordCyrillic, _wordLower) = (false, false, false, false, 0, 0);
        }

        public override string ToString() => $"alive={Alive} score={Score:0.00} lower={Lower}/{Letters}";
    }

    /// <summary>GBK (code page 936, a superset of GB2312) or Big5 (950), decoded strictly. Plausible characters are
    /// CJK ideographs and CJK or full-width punctuation that do not touch an ASCII letter. Korean in EUC-KR decodes in
    /// both too, as ideographs, but Korean puts a space between words: a reading with a space between two ideographs
    /// for every six of them or fewer is not taken for Chinese.</summary>
    private sealed class ChineseReading(Encoding encoding)
    {
        private readonly Decoder _decoder = encoding.GetDecoder();
        private char[] _chars = new char[4096];
        private char _left = '\n';
        private char _current = '\n';
        private bool _hasCurrent;
        private bool _afterIdeograph; // the last characters were an ideograph and maybe spaces
        private bool _spaceAfterIdeograph; // …and at least one space

        public bool Alive { get; private set; } = true;

        public long NonAscii { get; private set; }

        public long Good { get; private set; }

        public long Spaced { get; private set; }

        public double Score => NonAscii == 0 ? 0 : (double)Good / NonAscii;

        public void Stop() => Alive = false;

        public bool Plausible => Alive && Good >= 2 && Score >= LegacyEncodings.Plausible && Spaced * 6 < Good;

        public void Feed(ReadOnlySpan<byte> bytes, bool final)
        {
            if (!Alive) return;
            if (!TryDecode(_decoder, ref _chars, bytes, final, out var count))
            {
                Alive = false;
                return;
            }
            foreach (var c in _chars.AsSpan(0, count)) Push(c);
            if (final && _hasCurrent) Push('\n');
            if (NonAscii >= HopelessAfter && Score < Implausible) Alive = false;
        }

        private void Push(char next)
        {
            if (_hasCurrent && _current >= 0x80)
            {
                NonAscii++;
                if (IsChinese(_current) && !char.IsAsciiLetter(_left) && !char.IsAsciiLetter(next)) Good++;
            }
            if (_hasCurrent)
            {
                if (_current is (>= '\u3400' and <= '\u4DBF') or (>= '\u4E00' and <= '\u9FFF'))
                {
                    if (_spaceAfterIdeograph) Spaced++;
                    (_afterIdeograph, _spaceAfterIdeograph) = (true, false);
                }
                else if (_current == ' ' && _afterIdeograph) _spaceAfterIdeograph = true;
                else (_afterIdeograph, _spaceAfterIdeograph) = (false, false);
            }
            (_left, _current, _hasCurrent) = (_current, next, true);
        }

        private static bool IsChinese(char c) => c is
            (>= '\u3400' and <= '\u4DBF') or (>= '\u4E00' and <= '\u9FFF') // CJK ideographs
            or (>= '\u3000' and <= '\u303F') // CJK punctuation
            or (>= '\uFF01' and <= '\uFF65') // full-width ASCII and punctuation
            or (>= '\u2010' and <= '\u2027') or (>= '\u2460' and <= '\u24FF'); // dashes, quotes, ellipsis; circled numbers
    }

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
            if (!TryDecode(_decoder, ref _chars, bytes, final, out var count))
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
