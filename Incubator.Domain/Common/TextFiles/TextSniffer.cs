using System.Buffers;
using System.Text;

namespace Incubator.Domain.Common.TextFiles;

/// <summary>How a file's bytes are decoded: the encoding, its name as reports show it, the length of the byte-order
/// mark to skip, and — when the bytes were not valid UTF-8 and are read as Latin-1 — where the first invalid byte is.</summary>
public sealed record TextEncodingInfo(Encoding Encoding, string Name, int BomLength, long? Latin1FallbackAtByte);

/// <summary>Decides whether a file is text and how to decode it, in one streamed pass over its bytes, before any row is
/// read: a byte-order mark picks UTF-8 or UTF-16; without one, UTF-16 is recognised by its NUL bytes when they are
/// nearly every other byte, valid UTF-8 stays UTF-8, and anything else is read as Shift_JIS, EUC-JP, Windows-1252 or
/// Latin-1 when exactly one of them decodes it strictly and plausibly (<see cref="LegacyEncodings"/>), else refused.
/// Anything that is not text is refused with a <see cref="DomainValidationException"/> that names the problem and the
/// first offending byte (and its line): a known binary signature (PNG, ZIP, PDF, ELF, GZIP…), NUL bytes, UTF-16
/// without a byte-order mark, a high share of control characters, or a high share of bytes that are not UTF-8 (binary,
/// or another encoding such as Shift-JIS that Latin-1 would only turn into nonsense), or — in a file that is not UTF-8 —
/// any byte from 0x80 to 0x9F, which Latin-1 reads as an invisible control character.</summary>
/// <remarks>The shares are judged per window of <see cref="Window"/> bytes, so a text file with a binary tail is
/// refused as well as a binary file. The thresholds leave room for real text: Latin-1 prose has well under 20% non-ASCII
/// bytes and logs with colour codes a few percent escape characters, while random binary data has about 10% control
/// bytes, half its bytes above 0x7F and a NUL every 256 bytes.</remarks>
public static class TextSniffer
{
    public const int Window = 64 * 1024;

    /// <summary>More than this share of a window's bytes being control characters (other than tab, line breaks, form
    /// feed, vertical tab and escape) means binary, once there are at least <see cref="MinControlCount"/>.</summary>
    public const double MaxControlShare = 0.05;

    public const int MinControlCount = 8;

    /// <summary>More than this share of a window's bytes not being valid UTF-8 means binary or a foreign encoding,
    /// once there are at least <see cref="MinInvalidCount"/> (a short Latin-1 line may be mostly accents).</summary>
    public const double MaxInvalidUtf8Share = 0.25;

    public const int MinInvalidCount = 16;

    /// <summary>UTF-16 without a byte-order mark is decoded when at least this share of the first window's characters
    /// have a NUL byte at one parity beside a printable one (Latin-script text: nearly all).</summary>
    public const double Utf16MinNulShare = 0.5;

    /// <summary>Control bytes counted against <see cref="MaxControlShare"/>: C0 except tab, LF, VT, FF, CR and ESC
    /// (seen in real exports and logs), and DEL. NUL is refused on its own.</summary>
    private static readonly SearchValues<byte> ControlBytes = SearchValues.Create(
        [1, 2, 3, 4, 5, 6, 7, 8, 0x0E, 0x0F, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1A, 0x1C, 0x1D, 0x1E, 0x1F, 0x7F]);

    private static readonly (string Name, byte?[] Bytes)[] Signatures =
    [
        ("PNG image", [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]),
        ("JPEG image", [0xFF, 0xD8, 0xFF]),
        ("GIF image", Ascii("GIF87a")),
        ("GIF image", Ascii("GIF89a")),
        ("TIFF image", [0x49, 0x49, 0x2A, 0x00]),
        ("TIFF image", [0x4D, 0x4D, 0x00, 0x2A]),
        ("ZIP archive (also .docx, .xlsx, .pptx, .odt)", [0x50, 0x4B, 0x03, 0x04]),
        ("ZIP archive (also .docx, .xlsx, .pptx, .odt)", [0x50, 0x4B, 0x05, 0x06]),
        ("ZIP archive (also .docx, .xlsx, .pptx, .odt)", [0x50, 0x4B, 0x07, 0x08]),
        ("PDF document", Ascii("%PDF-")),
        ("ELF executable", [0x7F, 0x45, 0x4C, 0x46]),
        ("GZIP archive", [0x1F, 0x8B]),
        ("BZIP2 archive", [0x42, 0x5A, 0x68, null, 0x31, 0x41, 0x59, 0x26, 0x53, 0x59]),
        ("7-Zip archive", [0x37, 0x7A, 0xBC, 0xAF, 0x27, 0x1C]),
        ("RAR archive", [0x52, 0x61, 0x72, 0x21, 0x1A, 0x07]),
        ("XZ archive", [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]),
        ("Zstandard archive", [0x28, 0xB5, 0x2F, 0xFD]),
        ("SQLite database", Ascii("SQLite format 3\0")),
        ("Microsoft Office 97-2003 document", [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]),
        ("Mach-O executable", [0xFE, 0xED, 0xFA, 0xCE]),
        ("Mach-O executable", [0xFE, 0xED, 0xFA, 0xCF]),
        ("Mach-O executable", [0xCE, 0xFA, 0xED, 0xFE]),
        ("Mach-O executable", [0xCF, 0xFA, 0xED, 0xFE]),
        ("Java class or Mach-O universal binary", [0xCA, 0xFE, 0xBA, 0xBE]),
        ("WebAssembly module", [0x00, 0x61, 0x73, 0x6D]),
        ("MP4/QuickTime video", [null, null, null, null, 0x66, 0x74, 0x79, 0x70]),
    ];

    /// <summary>Registers the code-page encodings (Shift_JIS, EUC-JP, Windows-1252…) so that
    /// <see cref="Encoding.GetEncoding(string)"/> knows them. The sniffer does not need it (it takes them from the
    /// provider directly); the one entry point of the portal and the command line calls it once.</summary>
    public static void RegisterCodePages() => LegacyEncodings.Register();

    private static byte?[] Ascii(string s) => s.Select(c => (byte?)c).ToArray();

    /// <summary>Sniffs a seekable stream from its current position to the end and puts the position back. Throws
    /// <see cref="DomainValidationException"/> when the content is not text.</summary>
    public static TextEncodingInfo Sniff(Stream stream)
    {
        if (!stream.CanSeek) throw new ArgumentException("The stream must be seekable (uploads are spooled to a file or buffered first).", nameof(stream));
        var start = stream.Position;
        try
        {
            return new Scan(stream, truncated: false).Run();
        }
        finally
        {
            stream.Position = start;
        }
    }

    /// <summary>Sniffs the first bytes of a file (a preview): a character cut off at the end is not held against it.
    /// Returns the problem instead of throwing.</summary>
    public static (TextEncodingInfo? Encoding, DomainError? Problem) SniffHead(byte[] head)
    {
        try
        {
            return (new Scan(new MemoryStream(head, writable: false), truncated: true).Run(), null);
        }
        catch (DomainValidationException ex)
        {
            return (null, ex.Details[0]);
        }
    }

    private enum Kind
    {
        Utf8,
        Utf8Bom,
        Utf16Le,
        Utf16Be,
    }

    /// <summary>One pass over the bytes, a window at a time. A window never ends inside a character (the rest is
    /// carried into the next), so offsets and line numbers stay exact.</summary>
    private sealed class Scan(Stream stream, bool truncated)
    {
        private Kind _kind;
        private long _offset; // absolute offset of the window being judged
        private long _lines; // line feeds before it
        private long? _firstInvalid;
        private long _firstInvalidLine;
        private bool _bomless; // UTF-16 recognised by its NUL bytes, without a byte-order mark
        private bool _utf8NonAscii; // valid UTF-8 windows held non-ASCII characters before the first invalid byte
        private LegacyEncodings? _legacy; // from the first window that is not UTF-8 on (files without a byte-order mark)
        private DomainValidationException? _shareProblem; // the first window with too many bytes that are not UTF-8
        private DomainValidationException? _c1Problem; // the first byte 0x80–0x9F that is not UTF-8
        private DomainValidationException? _invalidProblem; // the first window with bytes that are not UTF-8

        private bool Utf16 => _kind is Kind.Utf16Le or Kind.Utf16Be;

        public TextEncodingInfo Run()
        {
            var buffer = ArrayPool<byte>.Shared.Rent(Window + 8);
            try
            {
                var n = stream.ReadAtLeast(buffer.AsSpan(0, Window), Window, throwOnEndOfStream: false);
                var begin = Start(buffer.AsSpan(0, n));
                _offset = begin;
                var end = n < Window;
                while (true)
                {
                    var data = buffer.AsSpan(begin, n - begin);
                    var cut = end && !truncated ? data.Length : Utf16 ? data.Length & ~1 : CompleteUtf8Prefix(data);
                    Judge(data[..cut], endOfData: end && !truncated);
                    _lines += CountLines(data[..cut]);
                    _offset += cut;
                    if (end) break;
                    // Carry the cut-off character to the front and fill the rest of the window.
                    var carry = data.Length - cut;
                    data[cut..].CopyTo(buffer);
                    var read = stream.ReadAtLeast(buffer.AsSpan(carry, Window), Window, throwOnEndOfStream: false);
                    (begin, n, end) = (0, carry + read, read < Window);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
            var bom = _bomless ? 0 : 2;
            return _kind switch
            {
                Kind.Utf8Bom => new TextEncodingInfo(new UTF8Encoding(false), "utf-8 (BOM)", 3, null),
                Kind.Utf16Le => new TextEncodingInfo(new UnicodeEncoding(false, false), "utf-16le", bom, null),
                Kind.Utf16Be => new TextEncodingInfo(new UnicodeEncoding(true, false), "utf-16be", bom, null),
                _ when _legacy is not null => _legacy.Decide(shareExceeded: _shareProblem is not null) is { } legacy
                    ? new TextEncodingInfo(legacy.Encoding, legacy.Name, 0, _firstInvalid)
                    : throw LegacyProblem(),
                _ => new TextEncodingInfo(new UTF8Encoding(false), "utf-8", 0, null),
            };
        }

        /// <summary>Reads the byte-order mark (returns its length) or, without one, refuses known binary signatures.</summary>
        private int Start(ReadOnlySpan<byte> head)
        {
            (_kind, var bom) = head switch
            {
                [0xEF, 0xBB, 0xBF, ..] => (Kind.Utf8Bom, 3),
                [0xFF, 0xFE, ..] => (Kind.Utf16Le, 2),
                [0xFE, 0xFF, ..] => (Kind.Utf16Be, 2),
                _ => (Kind.Utf8, 0),
            };
            if (bom > 0) return bom;
            foreach (var (name, bytes) in Signatures)
            {
                if (head.Length < bytes.Length) continue;
                var match = true;
                for (var i = 0; i < bytes.Length && match; i++) match = bytes[i] is not { } b || head[i] == b;
                if (match)
                    throw Refuse("NotTextKnownFormat",
                        $"The file is not text: it is a {name} (recognised by its first bytes, from byte 0). Upload a text file: TXT, CSV, TSV or JSONL.", name);
            }
            // UTF-16 without a byte-order mark is decoded when the evidence is strong: a NUL beside a printable byte
            // at one parity in at least half of the first window's characters (Latin-script text has it in nearly
            // all). Weaker evidence is refused below, as before.
            if (head.Length >= 8 && head.Contains((byte)0))
            {
                foreach (var littleEndian in new[] { true, false })
                {
                    if (LooksLikeUtf16(head, littleEndian, out var zeros) && zeros >= Utf16MinNulShare * (head.Length / 2))
                    {
                        (_kind, _bomless) = (littleEndian ? Kind.Utf16Le : Kind.Utf16Be, true);
                        break;
                    }
                }
            }
            return 0;
        }

        private void Judge(ReadOnlySpan<byte> w, bool endOfData)
        {
            if (Utf16) JudgeUtf16(w);
            else JudgeBytes(w, endOfData);
        }

        private void JudgeBytes(ReadOnlySpan<byte> w, bool endOfData)
        {
            var nul = w.IndexOf((byte)0);
            if (nul >= 0)
            {
                foreach (var (littleEndian, name) in new[] { (true, "little-endian"), (false, "big-endian") })
                {
                    if (LooksLikeUtf16(w, littleEndian, out _))
                        throw Refuse("NotTextUtf16WithoutBom",
                            $"The file looks like UTF-16 text ({name}) without a byte-order mark: byte {_offset + nul} (line {LineAt(w, nul)}) is a NUL byte. "
                            + "Save it as UTF-8, or as UTF-16 with a byte-order mark.", name, _offset + nul, LineAt(w, nul));
                }
                throw Refuse("NotTextNulBytes", $"The file is not text: byte {_offset + nul} (line {LineAt(w, nul)}) is a NUL byte.", _offset + nul, LineAt(w, nul));
            }
            var first = w.IndexOfAny(ControlBytes);
            if (first >= 0)
            {
                var count = 0;
                for (var i = first; i >= 0; count++)
                {
                    var next = w[(i + 1)..].IndexOfAny(ControlBytes);
                    i = next < 0 ? -1 : i + 1 + next;
                }
                CheckControls(w, count, w.Length, first);
            }
            if (System.Text.Unicode.Utf8.IsValid(w))
            {
                if (_legacy is null)
                {
                    _utf8NonAscii |= w.ContainsAnyInRange((byte)0x80, (byte)0xFF);
                    return;
                }
                _legacy.Feed(w, endOfData);
                if (!_legacy.AnyAlive) throw LegacyProblem();
                return;
            }
            // Once every problem message is known and the share no longer matters (the single-byte reading is out, or
            // the share already exceeded), the bytes only go to the legacy readings: counting them is a third of the cost.
            if (_legacy is not null && _c1Problem is not null && (_shareProblem is not null || !_legacy.WesternAlive))
            {
                _legacy.Feed(w, endOfData);
                if (!_legacy.AnyAlive) throw LegacyProblem();
                return;
            }

            // Count the invalid bytes; ASCII runs are skipped in one vectorised step.
            var invalid = 0;
            var firstInvalid = -1;
            var firstC1 = -1;
            for (var i = 0; i < w.Length;)
            {
                var high = w[i..].IndexOfAnyInRange((byte)0x80, (byte)0xFF);
                if (high < 0) break;
                i += high;
                var status = Rune.DecodeFromUtf8(w[i..], out _, out var consumed);
                consumed = Math.Max(1, consumed);
                if (status != OperationStatus.Done && (status != OperationStatus.NeedMoreData || endOfData))
                {
                    if (firstC1 < 0 && w[i] is >= 0x80 and <= 0x9F) firstC1 = i;
                    invalid += consumed;
                    if (firstInvalid < 0) firstInvalid = i;
                }
                i += consumed;
            }
            if (firstInvalid < 0 && _legacy is null) return;
            if (firstInvalid >= 0 && _firstInvalid is null) (_firstInvalid, _firstInvalidLine) = (_offset + firstInvalid, LineAt(w, firstInvalid));
            if (_kind != Kind.Utf8) return; // UTF-8 with a byte-order mark stays UTF-8
            if (firstInvalid >= 0 && _invalidProblem is null)
                _invalidProblem = EncodingProblem(w, invalid, firstInvalid);
            if (firstInvalid >= 0 && _shareProblem is null && invalid >= MinInvalidCount && invalid > MaxInvalidUtf8Share * w.Length)
                _shareProblem = EncodingProblem(w, invalid, firstInvalid);
            // Latin-1 reads 0x80–0x9F as invisible C1 control characters, which no Latin-1 text holds: such a byte
            // means another encoding (Shift_JIS lead bytes, Windows-1252 quotes). Which one is decided below; when it
            // cannot be, this is what the user is told.
            if (firstC1 >= 0 && _c1Problem is null)
            {
                var at = _offset + firstC1;
                var line = LineAt(w, firstC1);
                var hex = w[firstC1].ToString("X2", System.Globalization.CultureInfo.InvariantCulture);
                _c1Problem = Refuse("NotTextLatin1Controls",
                    $"The file is not UTF-8, and byte {at} (line {line}), 0x{hex}, is not a Latin-1 character: it is text in another encoding, such as Shift-JIS or Windows-1252. Save it as UTF-8.",
                    at, line, hex);
            }
            _legacy ??= new LegacyEncodings(japanese: !_utf8NonAscii);
            _legacy.Feed(w, endOfData);
            if (!_legacy.AnyAlive) throw LegacyProblem();
        }

        /// <summary>Why a file that is not UTF-8 cannot be read in any legacy encoding, or not told apart between them:
        /// too many bytes that are not UTF-8 in a window, else the first byte Latin-1 cannot show.</summary>
        private DomainValidationException LegacyProblem() => _legacy?.Refusal switch
        {
            LegacyRefusal.Chinese => Refuse(TextFileCodes.NotTextChineseEncoding,
                $"The file is not UTF-8: from byte {_firstInvalid} (line {_firstInvalidLine}) it reads as Chinese text in GBK (GB2312) or Big5, which cannot be told apart reliably. Save it as UTF-8.",
                _firstInvalid!.Value, _firstInvalidLine),
            LegacyRefusal.Koi8R => Refuse(TextFileCodes.NotTextKoi8r,
                $"The file is not UTF-8: from byte {_firstInvalid} (line {_firstInvalidLine}) it reads as Russian text in KOI8-R, or as Windows-1251 in capital letters, which cannot be told apart reliably. Save it as UTF-8.",
                _firstInvalid!.Value, _firstInvalidLine),
            _ => _shareProblem ?? _c1Problem ?? _invalidProblem!,
        };

        private DomainValidationException EncodingProblem(ReadOnlySpan<byte> w, int invalid, int firstInvalid)
        {
            var at = _offset + firstInvalid;
            var line = LineAt(w, firstInvalid);
            return Refuse("NotTextEncoding",
                $"The file is neither UTF-8 nor Shift_JIS, EUC-JP, Windows-1252, Windows-1251 or Latin-1 text: {invalid} of the {w.Length} bytes from byte {_offset} are not valid UTF-8 (the first at byte {at}, line {line}). "
                + "It may be binary, or text in another encoding: save it as UTF-8.",
                invalid, w.Length, _offset, at, line);
        }

        private void JudgeUtf16(ReadOnlySpan<byte> w)
        {
            var controls = 0;
            var first = -1;
            for (var i = 0; i + 1 < w.Length; i += 2)
            {
                var unit = Unit(w, i);
                if (unit == 0)
                    throw Refuse("NotTextNulBytes", $"The file is not text: the character at byte {_offset + i} (line {LineAt(w, i)}) is NUL.", _offset + i, LineAt(w, i));
                if (unit < 0x80 && ControlBytes.Contains((byte)unit))
                {
                    controls++;
                    if (first < 0) first = i;
                }
            }
            CheckControls(w, controls, w.Length / 2, first);
        }

        private void CheckControls(ReadOnlySpan<byte> w, int count, int characters, int first)
        {
            if (count < MinControlCount || count <= MaxControlShare * characters) return;
            var line = LineAt(w, first);
            throw Refuse("NotTextControlCharacters",
                $"The file is not text: {count} of the {characters} characters from byte {_offset} are control characters (the first at byte {_offset + first}, line {line}).",
                count, characters, _offset, _offset + first, line);
        }

        /// <summary>UTF-16 text in a Latin script has a NUL as one byte of nearly every character, at the same parity
        /// throughout, beside a printable byte; binary data has NULs anywhere.</summary>
        private bool LooksLikeUtf16(ReadOnlySpan<byte> w, bool littleEndian, out int zeros)
        {
            int textual = 0, stray = 0;
            zeros = 0;
            for (var i = 0; i < w.Length; i++)
            {
                if (w[i] != 0) continue;
                var odd = ((_offset + i) & 1) == 1;
                if (odd != littleEndian)
                {
                    stray++;
                    continue;
                }
                zeros++;
                var partner = littleEndian ? i - 1 : i + 1;
                if (partner >= 0 && partner < w.Length && w[partner] is 0x09 or 0x0A or 0x0D or (>= 0x20 and < 0x7F) or >= 0xA0) textual++;
            }
            return zeros >= 2 && textual >= 0.9 * zeros && stray <= 0.1 * zeros;
        }

        private int Unit(ReadOnlySpan<byte> w, int i) => _kind == Kind.Utf16Be ? (w[i] << 8) | w[i + 1] : w[i] | (w[i + 1] << 8);

        private long CountLines(ReadOnlySpan<byte> w)
        {
            if (!Utf16) return w.Count((byte)'\n');
            var n = 0;
            for (var i = 0; i + 1 < w.Length; i += 2)
                if (Unit(w, i) == '\n') n++;
            return n;
        }

        private long LineAt(ReadOnlySpan<byte> w, int index) => _lines + 1 + CountLines(w[..index]);

        private static DomainValidationException Refuse(string code, string message, params object[] args) => new("file", code, message, args);

        /// <summary>The length of the longest prefix that does not end inside a multi-byte UTF-8 character.</summary>
        private static int CompleteUtf8Prefix(ReadOnlySpan<byte> s)
        {
            for (var back = 1; back <= Math.Min(4, s.Length); back++)
            {
                var b = s[^back];
                if ((b & 0xC0) == 0x80) continue; // a continuation byte: look further back
                var need = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
                return need > back ? s.Length - back : s.Length;
            }
            return s.Length;
        }
    }
}
