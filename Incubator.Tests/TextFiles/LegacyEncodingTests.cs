using System.Text;
using Incubator.Domain.Common;
using Incubator.Domain.Common.TextFiles;

namespace Incubator.Tests.TextFiles;

/// <summary>Files in the encodings teams really have — Shift_JIS (CP932) CSV from Excel on a Japanese Windows, EUC-JP,
/// Windows-1252 with curly quotes, dashes and €, UTF-16 without a byte-order mark — are read, decoded to exactly the
/// text that was saved, and the report says which encoding; what cannot be told apart is refused, not guessed.</summary>
public sealed class LegacyEncodingTests
{
    static LegacyEncodingTests() => Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);

    private static Encoding ShiftJis => Encoding.GetEncoding(932);

    private static Encoding EucJp => Encoding.GetEncoding(51932);

    private static Encoding Windows1252 => Encoding.GetEncoding(1252);

    /// <summary>A label file as a Japanese team exports it from Excel: a header, quoted fields with commas, kana,
    /// kanji, full-width digits and punctuation, and a ① and ㈱ from the NEC rows of CP932.</summary>
    public static readonly string JapaneseCsv = string.Join("\r\n",
        "label,text",
        "urgent,\"荷物がまだ届きません。至急、返金してください！\"",
        "billing,請求書の金額が間違っています（２重請求）。",
        "shipping,\"配送先を変更したいのですが、可能でしょうか？\"",
        "other,㈱サンプル商事の担当者様へ：①の件、ご確認ください。",
        "billing,先月分の領収書を再発行してほしいです") + "\r\n";

    /// <summary>French and German prose saved in Windows-1252: curly quotes, dashes, an ellipsis and € (0x80–0x9F).</summary>
    public static readonly string EuropeanProse = string.Join("\n",
        "« C’est très cher », a-t-elle dit — 45 € pour un café, c’est trop.",
        "L’été dernier, nous sommes allés à Besançon… chez ma grand-mère.",
        "„Das ist doch Unsinn“, sagte er – und ging hinaus.",
        "Für die Lieferung zahlen Sie 4,99 € zusätzlich; Größere Bestellungen über 100 € sind versandkostenfrei.",
        "“Great service,” she said, “but the food wasn’t warm.”") + "\n";

    private static TextEncodingInfo Sniff(byte[] bytes) => TextSniffer.Sniff(new MemoryStream(bytes));

    private static DomainError Refused(byte[] bytes) =>
        Assert.Single(Assert.Throws<DomainValidationException>(() => Sniff(bytes)).Details);

    private static (IReadOnlyList<TextRecord> Rows, TextFileReport Report) ReadLabels(byte[] bytes, TextFileFormat format = TextFileFormat.Csv)
    {
        using var reader = TextFileReader.Open(new MemoryStream(bytes), TextFileOptions.ForLabels(format));
        return (reader.ReadAll(), reader.Report);
    }

    private static List<(string Label, string Text)> Expected(string csv, char delimiter = ',') =>
        csv.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Select(l => l.TrimEnd('\r').Split(delimiter, 2)).Select(p => (p[0], p[1].Trim('"'))).ToList();

    [Fact]
    public void A_shift_jis_csv_from_excel_is_read_to_exactly_the_japanese_that_was_saved()
    {
        var (rows, report) = ReadLabels(ShiftJis.GetBytes(JapaneseCsv));
        Assert.Equal("shift_jis", report.Encoding);
        // Not UTF-8 from the first byte that is not ASCII (the first kanji).
        Assert.Equal(ShiftJis.GetByteCount(JapaneseCsv[..JapaneseCsv.IndexOf('荷')]), report.Latin1FallbackAtByte);
        Assert.Equal(Expected(JapaneseCsv), rows.Select(r => (r.Label!, r.Text)).ToList());
        Assert.Equal("㈱サンプル商事の担当者様へ：①の件、ご確認ください。", rows[3].Text);
    }

    [Fact]
    public void A_long_shift_jis_file_is_decoded_across_windows_even_when_a_character_straddles_one()
    {
        // An ASCII head that puts the lead byte of "荷" (0x89 0xD7) at the last byte of the first 64 KB window, then
        // more than two windows of Japanese rows.
        var head = "label,text\r\nother," + new string('a', TextSniffer.Window - 1 - "label,text\r\nother,".Length);
        var body = string.Concat(Enumerable.Range(0, 4000).Select(i => $"\r\nurgent,荷物が{i}日も届きません。返金してください"));
        var bytes = ShiftJis.GetBytes(head + "荷" + body + "\r\n");
        Assert.Equal(0x89, bytes[TextSniffer.Window - 1]);
        Assert.True(bytes.Length > 3 * TextSniffer.Window);

        using var reader = TextFileReader.Open(new MemoryStream(bytes), TextFileOptions.ForLabels(TextFileFormat.Csv) with { MaxTextChars = 100_000 });
        var rows = reader.ReadAll();
        Assert.Equal("shift_jis", reader.Report.Encoding);
        Assert.Equal(TextSniffer.Window - 1, reader.Report.Latin1FallbackAtByte); // where it stopped being UTF-8
        Assert.Equal(4001, rows.Count);
        Assert.EndsWith("aaa荷", rows[0].Text);
        Assert.Equal("荷物が3999日も届きません。返金してください", rows[^1].Text);
    }

    [Fact]
    public void Euc_jp_is_read_too()
    {
        var (rows, report) = ReadLabels(EucJp.GetBytes(JapaneseCsv.Replace("㈱", "株式会社").Replace("①", "1")));
        Assert.Equal("euc-jp", report.Encoding);
        Assert.Equal("請求書の金額が間違っています（２重請求）。", rows[1].Text);
    }

    [Fact]
    public void Windows_1252_prose_with_curly_quotes_dashes_and_euros_is_read_as_windows_1252_not_as_shift_jis()
    {
        var (rows, report) = ReadLabels(Windows1252.GetBytes(string.Concat(EuropeanProse.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => $"fr\t{l}\n")).Insert(0, "label\ttext\n")), TextFileFormat.Tsv);
        Assert.Equal("windows-1252", report.Encoding);
        Assert.Equal(EuropeanProse.Split('\n', StringSplitOptions.RemoveEmptyEntries), rows.Select(r => r.Text));

        // Short: one line, one apostrophe and one euro sign; long: the prose 400 times (several windows).
        Assert.Equal("windows-1252", Sniff(Windows1252.GetBytes("It’s 5 € – fine.\n")).Name);
        Assert.Equal("windows-1252", Sniff(Windows1252.GetBytes(string.Concat(Enumerable.Repeat(EuropeanProse, 400)))).Name);
        // Latin-1 text with no byte from 0x80 to 0x9F is still called Latin-1 (the same characters).
        Assert.Equal("latin-1", Sniff(Encoding.Latin1.GetBytes("Größe: 20 °C, naïve café\n")).Name);
    }

    [Theory]
    [InlineData(false, "utf-16le")]
    [InlineData(true, "utf-16be")]
    public void Utf16_without_a_byte_order_mark_is_decoded_when_nearly_every_character_has_a_nul_byte(bool bigEndian, string name)
    {
        const string text = "label\ttext\nshipping\tMy parcel never arrived – 荷物が届きません。\nbilling\tThe invoice is wrong.\n";
        var bytes = new UnicodeEncoding(bigEndian, byteOrderMark: false).GetBytes(text);
        var info = Sniff(bytes);
        Assert.Equal((name, 0), (info.Name, info.BomLength));
        var (rows, report) = ReadLabels(bytes, TextFileFormat.Tsv);
        Assert.Equal(name, report.Encoding);
        Assert.Equal(Expected(text, '\t'), rows.Select(r => (r.Label!, r.Text)).ToList());
    }

    [Fact]
    public void A_file_too_short_to_tell_is_refused_not_guessed()
    {
        // "画" in Shift_JIS (0x89 0xE6) is "‰æ" in Windows-1252; "’s" (0x92 0x73) is a kanji in Shift_JIS.
        foreach (var bytes in new[] { ShiftJis.GetBytes("画\n"), Windows1252.GetBytes("@user ’s\n"), EucJp.GetBytes("東京\n") })
        {
            var error = Refused(bytes);
            Assert.Contains(error.Code, new[] { TextFileCodes.NotTextLatin1Controls, TextFileCodes.NotTextEncoding });
            Assert.Contains("Save it as UTF-8", error.Message, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public void Korean_and_chinese_in_legacy_encodings_are_still_refused()
    {
        // As before, by the share of bytes that are not UTF-8 (a line or two of Big5 stays under it: see decision 0018).
        Assert.Equal(TextFileCodes.NotTextEncoding, Refused(Encoding.GetEncoding(949).GetBytes("택배가 아직 도착하지 않았습니다. 환불해 주세요.\n")).Code);
        Assert.Equal(TextFileCodes.NotTextEncoding, Refused(Encoding.GetEncoding(51949).GetBytes("택배가 아직 도착하지 않았습니다. 환불해 주세요.\n")).Code);
        Assert.Equal(TextFileCodes.NotTextEncoding,
            Refused(Encoding.GetEncoding(950).GetBytes(string.Concat(Enumerable.Repeat("我們的包裹還沒有到，請盡快退款。\n", 5)))).Code);
    }

    [Fact]
    public void A_file_that_switches_from_utf8_to_windows_1252_mid_way_says_where()
    {
        var head = new UTF8Encoding(false).GetBytes(string.Concat(Enumerable.Repeat("déjà vu, line of UTF-8\n", 4000)));
        var bytes = head.Concat(Windows1252.GetBytes("then “Windows-1252” – later\n")).ToArray();
        var info = Sniff(bytes);
        // Only the single-byte reading is considered after valid non-ASCII UTF-8 (as Latin-1 was before).
        Assert.Equal(("windows-1252", head.Length + 5L), (info.Name, info.Latin1FallbackAtByte!.Value));
    }

    [Fact]
    public void The_preview_of_a_shift_jis_upload_names_the_encoding_and_shows_the_texts()
    {
        var preview = TextFilePreview.Of(ShiftJis.GetBytes(JapaneseCsv), "labels.csv");
        Assert.Null(preview.Problem);
        Assert.Equal("shift_jis", preview.Encoding);
        Assert.Equal(["label", "text"], preview.Columns);
        Assert.Equal("荷物がまだ届きません。至急、返金してください！", preview.SampleTexts[0]);
    }

    /// <summary>enc22 fixtures: a few Russian support tickets (labels in ASCII, as teams write them).</summary>
    public static readonly string RussianTsv = string.Join("\n",
        "shipping\tМоя посылка так и не пришла — верните деньги, пожалуйста.",
        "billing\tСчёт выставлен дважды: 1 500 ₽ вместо 750 ₽?".Replace("₽", "руб."),
        "other\t«Спасибо», сказала она, «всё работает».") + "\n";

    /// <summary>Chinese in a file that is mostly ASCII (an order number, an English note), as support exports are: under
    /// the share of bytes that are not UTF-8 that refuses pure Chinese text, so it was read as Latin-1 before enc22.</summary>
    public static readonly string ChineseTsv = string.Join("\n",
        "shipping\tOrder #48213-A, placed on 2026-11-02 via the web shop: 包裹还没有到，请尽快退款 (the parcel has not arrived).",
        "billing\tInvoice INV-2026-0042 for customer 7781 was charged twice; 重复收费，请核对 (please check the card statement).") + "\n";

    /// <summary>The same in traditional characters, as Big5 holds them.</summary>
    public static readonly string TraditionalChineseTsv = string.Join("\n",
        "shipping\tOrder #48213-A, placed on 2026-11-02 via the web shop: 包裹還沒有到，請盡快退款 (the parcel has not arrived).",
        "billing\tInvoice INV-2026-0042 for customer 7781 was charged twice; 重複收費，請核對 (please check the card statement).") + "\n";

    [Theory]
    [InlineData(1)]
    [InlineData(200)]
    public void Russian_in_windows_1251_is_read_as_windows_1251(int copies)
    {
        var text = string.Concat(Enumerable.Repeat(RussianTsv, copies));
        var (rows, report) = ReadLabels(Encoding.GetEncoding(1251).GetBytes(text), TextFileFormat.Tsv);
        Assert.Equal("windows-1251", report.Encoding);
        Assert.Equal(text.Length - text.Replace("\n", "").Length, rows.Count);
        Assert.Equal("Моя посылка так и не пришла — верните деньги, пожалуйста.", rows[0].Text);
        Assert.Equal("«Спасибо», сказала она, «всё работает».", rows[2].Text);
        // A single short line too.
        Assert.Equal("windows-1251", Sniff(Encoding.GetEncoding(1251).GetBytes("Привет, мир\n")).Name);
    }

    [Fact]
    public void Russian_in_koi8_r_is_refused_by_name_not_read_as_latin_1()
    {
        foreach (var text in new[] { RussianTsv, "Привет, мир\n", string.Concat(Enumerable.Repeat(RussianTsv, 200)) })
        {
            var error = Refused(Encoding.GetEncoding(20866).GetBytes(text));
            Assert.Equal(TextFileCodes.NotTextKoi8r, error.Code);
            Assert.Contains("KOI8-R", error.Message);
            Assert.Contains("Save it as UTF-8", error.Message);
        }
        // Windows-1251 in capitals is the same bytes as lower-case KOI8-R: refused, not guessed.
        Assert.Equal(TextFileCodes.NotTextKoi8r, Refused(Encoding.GetEncoding(1251).GetBytes("СРОЧНО ВЕРНИТЕ ДЕНЬГИ\n")).Code);
    }

    [Theory]
    [InlineData(936, 1)]
    [InlineData(950, 1)]
    [InlineData(936, 300)]
    [InlineData(950, 300)]
    public void Chinese_in_gbk_or_big5_under_the_share_is_refused_by_name_not_read_as_latin_1(int codePage, int copies)
    {
        var encoding = Encoding.GetEncoding(codePage);
        var text = string.Concat(Enumerable.Repeat(codePage == 936 ? ChineseTsv : TraditionalChineseTsv, copies));
        Assert.Equal(text, encoding.GetString(encoding.GetBytes(text))); // the fixture survives the round trip
        var error = Refused(encoding.GetBytes(text));
        Assert.Equal(TextFileCodes.NotTextChineseEncoding, error.Code);
        Assert.Contains("GBK (GB2312) or Big5", error.Message);
        Assert.Contains($"from byte {text.IndexOf('包')} (line 1)", error.Message);
        Assert.Equal(new object[] { (long)text.IndexOf('包'), 1L }, error.Args);
        Assert.Contains("Save it as UTF-8", error.Message);
        // One short line of Chinese only, too (with full-width punctuation: "请退款" alone is three kanji in EUC-JP as well,
        // and stays refused as before, without a name).
        Assert.Equal(TextFileCodes.NotTextChineseEncoding, Refused(encoding.GetBytes(codePage == 936 ? "请退款！\n" : "請退款！\n")).Code);
        // A line of pure Chinese is under the share too; twenty of them are over it and refused as before (TextSnifferTests).
        var line = codePage == 936 ? "我的包裹还没有到，请尽快退款。\n" : "我的包裹還沒有到，請盡快退款。\n";
        Assert.Equal(TextFileCodes.NotTextChineseEncoding, Refused(encoding.GetBytes(line)).Code);
        Assert.Equal(TextFileCodes.NotTextEncoding, Refused(encoding.GetBytes(string.Concat(Enumerable.Repeat(line, 20)))).Code);
    }

    /// <summary>The new readings must not take Western text: French and German in Latin-1 (no 0x80–0x9F) and in
    /// Windows-1252 read exactly as before, short or long, capitals or not.</summary>
    [Theory]
    [InlineData("L’été dernier, nous sommes allés à Besançon… chez ma grand-mère.\n", "windows-1252")]
    [InlineData("Größere Bestellungen über 100 € sind versandkostenfrei.\n", "windows-1252")]
    [InlineData("Ça coûte très cher à Noël, déjà.\n", "latin-1")]
    [InlineData("Grüße aus Köln: Straße, Übung, Äpfel, Öl.\n", "latin-1")]
    [InlineData("ÉTÉ À PARIS, ÇA SUFFIT\n", "latin-1")]
    [InlineData("à\n", "latin-1")]
    [InlineData("señor niño año\n", "latin-1")]
    public void Western_text_still_reads_as_latin_1_or_windows_1252(string text, string name)
    {
        var bytes = Windows1252.GetBytes(text);
        Assert.Equal(name, Sniff(bytes).Name);
        Assert.Equal("windows-1252", Sniff(Windows1252.GetBytes(EuropeanProse)).Name);
        Assert.Equal("latin-1", Sniff(Encoding.Latin1.GetBytes(string.Concat(Enumerable.Repeat("Ça coûte très cher à Noël. Grüße aus Köln.\n", 300)))).Name);
    }
}
