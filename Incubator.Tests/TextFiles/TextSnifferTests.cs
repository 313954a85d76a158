using System.Text;
using Incubator.Domain.Common;
using Incubator.Domain.Common.TextFiles;

namespace Incubator.Tests.TextFiles;

/// <summary>What is text and what is not: binary files are refused with the problem and the first offending byte (and
/// line); real text in UTF-8, UTF-16 with a byte-order mark and Latin-1 is not.</summary>
public sealed class TextSnifferTests
{
    private static DomainError Refused(byte[] bytes) =>
        Assert.Single(Assert.Throws<DomainValidationException>(() => TextSniffer.Sniff(new MemoryStream(bytes))).Details);

    [Theory]
    [MemberData(nameof(BinaryFiles.Kinds), MemberType = typeof(BinaryFiles))]
    public void Binary_files_and_utf16_without_a_byte_order_mark_are_refused_with_what_they_are(string kind, string code, string says)
    {
        var error = Refused(BinaryFiles.Of(kind));
        Assert.Equal(code, error.Code);
        Assert.Contains(says, error.Message);
        Assert.Equal("file", error.Field);
    }

    [Fact]
    public void A_pdf_is_refused_by_its_signature()
    {
        var error = Refused(Encoding.Latin1.GetBytes("%PDF-1.7\n%\u00e2\u00e3\u00cf\u00d3\n1 0 obj << /Type /Catalog >> endobj\n"));
        Assert.Equal(TextFileCodes.NotTextKnownFormat, error.Code);
        Assert.Contains("PDF document", error.Message);
    }

    [Fact]
    public void A_nul_byte_after_text_is_refused_at_its_offset_and_line()
    {
        // 100 KB of good lines (past the first window), then a binary tail.
        var text = string.Concat(Enumerable.Range(0, 2000).Select(i => $"line {i:0000} of a perfectly ordinary text file\n"));
        var bytes = Encoding.UTF8.GetBytes(text).Concat(new byte[] { 0x41, 0x00, 0x13, 0x37 }).ToArray();
        var error = Refused(bytes);
        Assert.Equal(TextFileCodes.NotTextNulBytes, error.Code);
        var offset = Encoding.UTF8.GetByteCount(text) + 1;
        Assert.Equal($"The file is not text: byte {offset} (line 2001) is a NUL byte.", error.Message);
        Assert.Equal([(long)offset, 2001L], error.Args.Select(Convert.ToInt64));
    }

    [Fact]
    public void Binary_without_nul_bytes_is_refused_by_its_share_of_control_characters()
    {
        var rng = new Random(4);
        var bytes = new byte[20_000];
        rng.NextBytes(bytes);
        for (var i = 0; i < bytes.Length; i++) if (bytes[i] == 0) bytes[i] = 0x20;
        bytes[0] = (byte)'x'; // no known signature
        var error = Refused(bytes);
        Assert.Equal(TextFileCodes.NotTextControlCharacters, error.Code);
        Assert.Matches(@"^The file is not text: \d+ of the 20000 characters from byte 0 are control characters \(the first at byte \d+, line \d+\)\.$", error.Message);
    }

    [Fact]
    public void Text_in_an_encoding_that_is_not_read_is_refused_not_turned_into_nonsense()
    {
        Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);
        // Chinese in GBK (Shift_JIS is read now: see LegacyEncodingTests).
        var gbk = Encoding.GetEncoding(936).GetBytes(string.Concat(Enumerable.Repeat("我们的包裹还没有到，请尽快退款。\n", 20)));
        var error = Refused(gbk);
        Assert.Equal(TextFileCodes.NotTextEncoding, error.Code);
        Assert.Contains("from byte 0 are not valid UTF-8 (the first at byte 0, line 1)", error.Message);
        Assert.Contains("save it as UTF-8", error.Message);
    }

    [Fact]
    public void A_short_file_whose_bytes_latin1_reads_as_control_characters_is_refused_not_stored_as_nonsense()
    {
        Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);
        // One Japanese word in Shift_JIS that Windows-1252 reads as plausibly ("急" is "‹}"), and a byte 0x81 (undefined
        // in Windows-1252) followed by a byte no Shift_JIS character has after it: neither reading is sure.
        var error = Refused(Encoding.GetEncoding("shift_jis").GetBytes("急\n"));
        Assert.Equal((TextFileCodes.NotTextLatin1Controls, "file"), (error.Code, error.Field));
        Assert.Equal(new object[] { 0L, 1L, "8B" }, error.Args);
        Assert.Contains("such as Shift-JIS or Windows-1252. Save it as UTF-8.", error.Message);
        error = Refused([.. "He said "u8, 0x81, 0x20, .. "now.\n"u8]);
        Assert.Equal(new object[] { 8L, 1L, "81" }, error.Args);
    }

    [Fact]
    public void Real_text_is_accepted_in_every_supported_encoding()
    {
        static TextEncodingInfo Sniff(byte[] b) => TextSniffer.Sniff(new MemoryStream(b));
        const string text = "My parcel never arrived.\n荷物が届きません。\ncafé crème\n";

        Assert.Equal("utf-8", Sniff(Encoding.UTF8.GetBytes(text)).Name);
        Assert.Equal("utf-16le", Sniff(BinaryFiles.Utf16WithBom(text)).Name);
        var be = new UnicodeEncoding(true, true);
        Assert.Equal(("utf-16be", 2), (Sniff([.. be.GetPreamble(), .. be.GetBytes(text)]) is var b ? (b.Name, b.BomLength) : default));
        var latin1 = Sniff(Encoding.Latin1.GetBytes("caf\u00e9 cr\u00e8me\nna\u00efve\n"));
        Assert.Equal(("latin-1", 3L), (latin1.Name, latin1.Latin1FallbackAtByte!.Value));
        Assert.Equal("utf-8", Sniff([]).Name);
        // Colour codes in a log and form feeds are not binary.
        Assert.Equal("utf-8", Sniff(Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("\u001b[32mINFO\u001b[0m request served in 12 ms\n\f", 100)))).Name);
    }

    [Fact]
    public void A_stream_is_left_where_it_was()
    {
        var stream = new MemoryStream(Encoding.UTF8.GetBytes("xxhello\n"));
        stream.Position = 2;
        TextSniffer.Sniff(stream);
        Assert.Equal(2, stream.Position);
        Assert.Throws<ArgumentException>(() => TextSniffer.Sniff(new NonSeekable()));
    }

    private sealed class NonSeekable : MemoryStream
    {
        public override bool CanSeek => false;
    }
}
