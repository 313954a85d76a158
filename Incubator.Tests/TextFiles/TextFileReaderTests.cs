using System.Text;
using Incubator.Domain.Common;
using Incubator.Domain.Common.TextFiles;
using Incubator.Tests.Infrastructure;

namespace Incubator.Tests.TextFiles;

/// <summary>The one text-file reader: formats, quoting, bad rows with line numbers, encodings, label-and-text files,
/// the strict whole-file form, the preview, and a large generated file read as a stream.</summary>
public sealed class TextFileReaderTests
{
    private static (List<TextRecord> Rows, TextFileReport Report) Read(byte[] bytes, TextFileOptions options)
    {
        using var reader = TextFileReader.Open(new MemoryStream(bytes), options);
        var rows = reader.Records().ToList();
        return (rows, reader.Report);
    }

    private static byte[] Utf8(string s) => new UTF8Encoding(false).GetBytes(s);

    [Fact]
    public void Csv_bad_rows_are_reported_with_their_line_numbers_and_good_rows_are_kept()
    {
        var csv = string.Join("\n",
            "id,text",                                   // 1 header
            "1,Good first row",                          // 2
            "2,\"never closed",                          // 3 unclosed quote: bad, and lines after it are read again
            "3,Good after the unclosed quote",           // 4
            "4,\"closed\"x",                             // 5 text after a closing quote
            "5",                                         // 6 missing column
            "6,   ",                                     // 7 empty text
            "7," + new string('a', 5000),                // 8 too long
            "8,\"spans",                                 // 9 quoted field over two lines
            "two lines\"",                               // 10
            "",                                          // 11 blank: not a row
            "9,Last good row");                          // 12
        var (rows, report) = Read(Utf8(csv), new TextFileOptions(TextFileFormat.Csv));

        Assert.True(report.HeaderDetected);
        Assert.Equal("text", report.Source);
        Assert.Equal(["Good first row", "Good after the unclosed quote", "spans\ntwo lines", "Last good row"], rows.Select(r => r.Text));
        Assert.Equal([2L, 4, 9, 12], rows.Select(r => r.Line));
        Assert.Equal(
            [(3L, BadRowReason.UnparseableCsv), (5, BadRowReason.UnparseableCsv), (6, BadRowReason.MissingField), (7, BadRowReason.EmptyText), (8, BadRowReason.TooLong)],
            report.BadRows.Select(b => (b.Line, b.Reason)));
        Assert.Equal("a quoted field is never closed", report.BadRows[0].Detail);
        Assert.Equal(TextFileCodes.TextAfterQuote, report.BadRows[1].Code);
        Assert.Equal(5, report.BadRowCount);
        Assert.Equal(9, report.RowsRead);
    }

    [Fact]
    public void A_row_with_more_filled_fields_than_the_header_is_a_bad_row_not_a_silently_cut_text()
    {
        // An unquoted comma inside the text: before, "Hello" was kept and " world" dropped without a word.
        var csv = "label,text\nx,Hello, world\ny,Kept before\nz,Trailing empty fields are fine,,\n";
        var (rows, report) = Read(Utf8(csv), TextFileOptions.ForLabels(TextFileFormat.Csv));
        Assert.Equal(["Kept before", "Trailing empty fields are fine"], rows.Select(r => r.Text));
        var bad = Assert.Single(report.BadRows);
        Assert.Equal((2L, BadRowReason.WrongFieldCount, TextFileCodes.MoreFieldsThanHeader), (bad.Line, bad.Reason, bad.Code));
        Assert.Equal("the header has 2 columns but this row has 3; quote a text that contains commas", bad.Detail);

        // The same for a corpus read by its text column, and for a TSV whose text holds a tab.
        (rows, report) = Read(Utf8("id,text\n1,Server down, again\n2,Fine\n"), new TextFileOptions(TextFileFormat.Csv, Column: "text"));
        Assert.Equal(["Fine"], rows.Select(r => r.Text));
        Assert.Equal(2L, Assert.Single(report.BadRows).Line);
        (rows, report) = Read(Utf8("label\ttext\nx\tone\ttwo\ny\tfine\n"), TextFileOptions.ForLabels(TextFileFormat.Tsv));
        Assert.Equal(["fine"], rows.Select(r => r.Text));
        Assert.EndsWith("a text cannot contain a tab", Assert.Single(report.BadRows).Detail);
    }

    [Fact]
    public void A_bad_row_detail_counts_one_column_in_the_singular_and_two_in_the_plural()
    {
        // Decision 0039, amendment words22: "1 column", "2 columns", never "column(s)".
        var (_, report) = Read(Utf8("text\nServer down, again\nFine\n"), new TextFileOptions(TextFileFormat.Csv, Column: "text"));
        Assert.Equal("the header has 1 column but this row has 2; quote a text that contains commas", Assert.Single(report.BadRows).Detail);
        (_, report) = Read(Utf8("label,text\nonly a label\ny,fine\n"), TextFileOptions.ForLabels(TextFileFormat.Csv));
        var missing = Assert.Single(report.BadRows);
        Assert.Equal((2L, TextFileCodes.MissingColumn), (missing.Line, missing.Code));
        Assert.Equal("1 column; column 2 is missing", missing.Detail);
        (_, report) = Read(Utf8("a,label,text\n1,x\n2,y,fine\n"), TextFileOptions.ForLabels(TextFileFormat.Csv));
        Assert.Equal("2 columns; column 3 is missing", Assert.Single(report.BadRows).Detail);
    }

    [Fact]
    public void Csv_quoting_handles_delimiters_doubled_quotes_and_line_breaks()
    {
        var csv = "label,text\r\nx,\"Hello, world\"\r\ny,\"She said \"\"hi\"\" twice\"\r\nz,\"one\r\ntwo\"\r\n";
        var (rows, report) = Read(Utf8(csv), new TextFileOptions(TextFileFormat.Csv, Column: "text"));
        Assert.Equal(["Hello, world", "She said \"hi\" twice", "one\ntwo"], rows.Select(r => r.Text));
        Assert.Equal(0, report.BadRowCount);
    }

    [Fact]
    public void Csv_column_by_number_without_header_and_unknown_column_is_a_clear_error()
    {
        var csv = "a1,This is the first text.\na2,This is the second text.\n";
        var (rows, report) = Read(Utf8(csv), new TextFileOptions(TextFileFormat.Csv, Column: "2"));
        Assert.False(report.HeaderDetected);
        Assert.Equal(["This is the first text.", "This is the second text."], rows.Select(r => r.Text));
        var ex = Assert.Throws<DomainValidationException>(() => Read(Utf8("id,body\n1,x\n"), new TextFileOptions(TextFileFormat.Csv, Column: "text")));
        Assert.Equal("CorpusColumnUnknown", ex.Details[0].Code);
        Assert.Contains("body", ex.Message);
    }

    [Fact]
    public void Tsv_reads_the_chosen_column_and_takes_badly_quoted_fields_as_they_are()
    {
        var tsv = "id\tcomment\tscore\n1\tFast delivery, thanks\t5\n2\tIt broke \"again\"\t1\n3\t\"Great\" she said\t4\n4\t\"two\nlines\"\t3\n";
        var (rows, report) = Read(Utf8(tsv), new TextFileOptions(TextFileFormat.Tsv, Column: "comment"));
        // TSV has no quoting standard: a cleanly quoted field is unquoted (and may span lines), anything else is literal.
        Assert.Equal(["Fast delivery, thanks", "It broke \"again\"", "\"Great\" she said", "two\nlines"], rows.Select(r => r.Text));
        Assert.Equal(0, report.BadRowCount);
    }

    [Fact]
    public void Jsonl_reads_the_chosen_field_and_reports_invalid_lines_and_missing_fields()
    {
        var jsonl = string.Join("\n",
            """{"id":1,"body":"First body","text":"not this"}""",     // 1
            """{"id":2,"body":"Second body"}""",                      // 2
            """{"id":3,"body":""",                                    // 3 invalid JSON
            """{"id":4,"text":"no body here"}""",                     // 4 missing field
            "",                                                       // 5 blank: not a row
            """{"id":6,"body":{"nested":true}}""",                    // 6 not text
            """{"id":7,"body":"Seventh \u00e9t\u00e9"}""");           // 7
        var (rows, report) = Read(Utf8(jsonl), new TextFileOptions(TextFileFormat.Jsonl, Field: "body"));
        Assert.Equal(["First body", "Second body", "Seventh été"], rows.Select(r => r.Text));
        Assert.Equal([1L, 2, 7], rows.Select(r => r.Line));
        Assert.Equal([(3L, BadRowReason.InvalidJson), (4, BadRowReason.MissingField), (6, BadRowReason.MissingField)], report.BadRows.Select(b => (b.Line, b.Reason)));
        Assert.Equal(6, report.RowsRead);

        var nested = Read(Utf8("""{"meta":{"text":"deep"}}"""), new TextFileOptions(TextFileFormat.Jsonl, Field: "meta.text"));
        Assert.Equal(["deep"], nested.Rows.Select(r => r.Text));
    }

    [Theory]
    [InlineData("utf-16le")]
    [InlineData("utf-16be")]
    [InlineData("utf-8 (BOM)")]
    public void Byte_order_marks_pick_the_encoding(string expected)
    {
        var text = "café au lait\n日本語のテキスト\n";
        Encoding encoding = expected switch
        {
            "utf-16le" => new UnicodeEncoding(false, true),
            "utf-16be" => new UnicodeEncoding(true, true),
            _ => new UTF8Encoding(true),
        };
        var bytes = encoding.GetPreamble().Concat(encoding.GetBytes(text)).ToArray();
        var (rows, report) = Read(bytes, new TextFileOptions(TextFileFormat.Txt));
        Assert.Equal(expected, report.Encoding);
        Assert.Equal(["café au lait", "日本語のテキスト"], rows.Select(r => r.Text)); // no BOM character left on the first text
    }

    [Fact]
    public void Invalid_utf8_falls_back_to_latin1_and_says_where()
    {
        var bytes = Utf8("plain ascii line\n").Concat(new byte[] { 0x63, 0x61, 0x66, 0xE9, 0x0A }).ToArray(); // "caf" + 0xE9 (é in Latin-1)
        var (rows, report) = Read(bytes, new TextFileOptions(TextFileFormat.Txt));
        Assert.Equal("latin-1", report.Encoding);
        Assert.Equal(20, report.Latin1FallbackAtByte);
        Assert.Equal(["plain ascii line", "café"], rows.Select(r => r.Text));

        var valid = Read(Utf8("café\n"), new TextFileOptions(TextFileFormat.Txt));
        Assert.Equal("utf-8", valid.Report.Encoding);
        Assert.Null(valid.Report.Latin1FallbackAtByte);

        // A whole paragraph of accented Latin-1 prose is still text, however many accents it has.
        var french = Encoding.Latin1.GetBytes(string.Concat(Enumerable.Repeat("Le garçon a mangé une crème brûlée à côté du théâtre; où est-il allé après?\n", 50)));
        var prose = Read(french, new TextFileOptions(TextFileFormat.Txt));
        Assert.Equal("latin-1", prose.Report.Encoding);
        Assert.Equal(50, prose.Rows.Count);
        Assert.StartsWith("Le garçon a mangé une crème brûlée", prose.Rows[0].Text);
    }

    [Fact]
    public void A_utf8_character_split_across_the_sniffer_window_is_not_held_against_the_file()
    {
        // "é" is two bytes; put its first byte at the last position of the first 64 KB window.
        var prefix = new string('a', TextSniffer.Window - 1);
        var (rows, report) = Read(Utf8(prefix + "é\nnext line\n"), new TextFileOptions(TextFileFormat.Txt, MaxTextChars: 100_000));
        Assert.Equal("utf-8", report.Encoding);
        Assert.Equal(["next line"], rows.Skip(1).Select(r => r.Text));
        Assert.EndsWith("é", rows[0].Text);
    }

    [Fact]
    public void A_generated_file_of_200000_lines_is_read_as_a_stream()
    {
        using var folder = new TempFolder("incubator-textfile-big");
        var path = Path.Combine(folder.Path, "big.txt");
        using (var writer = new StreamWriter(path, false, new UTF8Encoding(false)))
        {
            for (var i = 0; i < 200_000; i++) writer.WriteLine($"Generated support message number {i} about order {i % 977}.");
        }
        using var stream = File.OpenRead(path);
        using var reader = TextFileReader.Open(stream, new TextFileOptions(TextFileFormat.Txt));
        long count = 0;
        TextRecord? last = null;
        // Consumed one row at a time: nothing here holds the file (about 12 MB) as one string or one list.
        foreach (var row in reader.Records())
        {
            count++;
            last = row;
        }
        Assert.Equal(200_000, count);
        Assert.Equal(200_000, reader.Report.RowsRead);
        Assert.Equal(200_000, last!.Line);
        Assert.Equal("Generated support message number 199999 about order 691.", last.Text);
        Assert.True(stream.Length > 10_000_000);
    }

    [Fact]
    public void Label_and_text_files_read_headers_quotes_and_every_format()
    {
        var csv = Read(Utf8("label,text\r\nspam,\"hello, \"\"world\"\"\nsecond line\"\r\nham,plain\r\n"), TextFileOptions.ForLabels(TextFileFormat.Csv));
        Assert.True(csv.Report.HeaderDetected);
        Assert.Equal([(2L, "spam", "hello, \"world\"\nsecond line"), (4, "ham", "plain")], csv.Rows.Select(r => (r.Line, r.Label, r.Text)));

        // A TXT file read for labels is label<TAB>text; a header is skipped, blank lines are not rows.
        var tsv = Read(Utf8("label\ttext\nspam\tbuy now\n\n ham \t hello there \n"), TextFileOptions.ForLabels(TextFileFormat.Txt));
        Assert.Equal([(2L, "spam", "buy now"), (4, "ham", "hello there")], tsv.Rows.Select(r => (r.Line, r.Label, r.Text)));

        var jsonl = Read(Utf8("{\"label\":\"a\",\"text\":\"x\"}\n\n{\"text\":\"y\",\"label\":\"b\",\"id\":3}\n"), TextFileOptions.ForLabels(TextFileFormat.Jsonl));
        Assert.Equal([(1L, "a", "x"), (3, "b", "y")], jsonl.Rows.Select(r => (r.Line, r.Label, r.Text)));

        // A CSV whose header names label and text among other columns (the review queue's export) works as it is.
        var export = Read(Utf8("id,label,text,status\n1,billing,Charged twice,Approved\n2,shipping,\"Late, again\",Approved\n"), TextFileOptions.ForLabels(TextFileFormat.Csv));
        Assert.Equal([("billing", "Charged twice"), ("shipping", "Late, again")], export.Rows.Select(r => (r.Label!, r.Text)));
    }

    [Fact]
    public void Label_and_text_files_report_each_bad_row_with_a_stable_code()
    {
        var tsv = Read(Utf8("spam\tbuy now\nno tab here\nham\ttoo\tmany\n\tno label\nham\t  \n"), TextFileOptions.ForLabels(TextFileFormat.Tsv));
        Assert.Equal(["buy now"], tsv.Rows.Select(r => r.Text));
        Assert.Equal([(2L, TextFileCodes.MissingTab), (3, TextFileCodes.WrongFieldCount), (4, TextFileCodes.EmptyLabel), (5, TextFileCodes.EmptyText)],
            tsv.Report.BadRows.Select(b => (b.Line, b.Code!)));

        var csv = Read(Utf8("billing,\"An invoice, with a comma\"\nshipping,too,many,fields\nbilling,\"unclosed\n"), TextFileOptions.ForLabels(TextFileFormat.Csv));
        Assert.Equal("Line 2: expected 2 fields (label,text) but found 4; quote a text that contains commas.", csv.Report.BadRows[0].ToError().Message);
        Assert.Equal([2L, 4], csv.Report.BadRows[0].ToError().Args.Select(Convert.ToInt64));
        Assert.Equal("Line 3: a quoted field is never closed.", csv.Report.BadRows[1].ToError().Message);

        var json = Read(Utf8("{\"label\":\"a\",\"text\":\"ok\"}\n{not json}\n{\"label\":\"a\"}\n{\"label\":1,\"text\":\"x\"}\n"), TextFileOptions.ForLabels(TextFileFormat.Jsonl));
        Assert.Equal([(2L, TextFileCodes.InvalidJson), (3, TextFileCodes.JsonShape), (4, TextFileCodes.JsonShape)], json.Report.BadRows.Select(b => (b.Line, b.Code!)));
    }

    [Fact]
    public void Where_labels_are_optional_every_row_has_one_or_none()
    {
        var textOnly = Read(Utf8("just text\n\nmore text\n"), TextFileOptions.ForLabels(TextFileFormat.Tsv, LabelMode.Optional));
        Assert.Equal([(1L, (string?)null), (3, null)], textOnly.Rows.Select(r => (r.Line, r.Label)));

        var mixed = Read(Utf8("a\tx\nno label\nb\ty\n"), TextFileOptions.ForLabels(TextFileFormat.Tsv, LabelMode.Optional));
        Assert.Equal(["x", "y"], mixed.Rows.Select(r => r.Text));
        var bad = Assert.Single(mixed.Report.BadRows);
        Assert.Equal((2L, TextFileCodes.LabelsMixed), (bad.Line, bad.Code!));

        // Empty texts are kept when asked (prediction writes one row per input row).
        var keep = Read(Utf8("{\"text\":\"a\"}\n{\"text\":\"\"}\n"), TextFileOptions.ForLabels(TextFileFormat.Jsonl, LabelMode.Optional) with { KeepEmptyTexts = true });
        Assert.Equal(["a", ""], keep.Rows.Select(r => r.Text));
    }

    [Fact]
    public void ReadAll_refuses_a_file_with_any_bad_row_and_lists_them_all()
    {
        var lines = string.Join("\n", Enumerable.Range(1, 60).Select(i => $"label{i}")); // 60 rows without a tab
        using var reader = TextFileReader.Open(new MemoryStream(Utf8("ok\tfine\n" + lines)), TextFileOptions.ForLabels(TextFileFormat.Tsv));
        var ex = Assert.Throws<DomainValidationException>(() => reader.ReadAll());
        Assert.Equal(51, ex.Details.Count);
        Assert.Equal("Line 2: expected label<TAB>text but there is no tab.", ex.Details[0].Message);
        Assert.Equal((TextFileCodes.MoreErrors, "… and 10 more problems."), (ex.Details[^1].Code, ex.Details[^1].Message));

        using var empty = TextFileReader.Open(new MemoryStream(Utf8("\n\n")), TextFileOptions.ForLabels(TextFileFormat.Tsv));
        Assert.Equal(TextFileCodes.Empty, Assert.Throws<DomainValidationException>(() => empty.ReadAll()).Details[0].Code);

        using var many = TextFileReader.Open(new MemoryStream(Utf8("a\tx\nb\ty\nc\tz\n")), TextFileOptions.ForLabels(TextFileFormat.Tsv));
        Assert.Equal(TextFileCodes.TooManyRows, Assert.Throws<DomainValidationException>(() => many.ReadAll(maxRows: 2)).Details[0].Code);
    }

    [Fact]
    public void Preview_detects_format_header_columns_sample_texts_and_files_that_are_not_text()
    {
        var csv = Utf8("id,review,stars\n1,Great hotel,5\n2,Noisy room,2\n3,Breakf");
        var preview = TextFilePreview.Of(csv, "reviews.csv");
        Assert.Equal(TextFileFormat.Csv, preview.Format);
        Assert.True(preview.HeaderDetected);
        Assert.Equal(["id", "review", "stars"], preview.Columns);
        Assert.Equal("review", preview.DefaultSource);
        Assert.Equal(["Great hotel", "Noisy room"], preview.SampleTexts); // the cut-off last line is not shown
        Assert.Null(preview.Problem);

        var jsonl = TextFilePreview.Of(Utf8("{\"id\":1,\"content\":\"x y z\"}\n{\"id\":2,\"content\":\"a b\"}\n"), "a.jsonl");
        Assert.Equal(["content"], jsonl.Columns);
        Assert.Equal("content", jsonl.DefaultSource);

        // A head cut inside a multi-byte character is still UTF-8.
        var cut = Utf8("日本語のテキスト\n二行目")[..^1];
        Assert.Equal("utf-8", TextFilePreview.Of(cut, "ja.txt").Encoding);

        var png = TextFilePreview.Of(BinaryFiles.Png(), "photo.txt");
        Assert.Equal(TextFileCodes.NotTextKnownFormat, png.Problem?.Code);
        Assert.Empty(png.SampleTexts);
    }

    [Fact]
    public void Every_problem_code_has_an_english_and_a_japanese_message()
    {
        var codes = typeof(TextFileCodes).GetFields().Select(f => (string)f.GetValue(null)!).ToList();
        Assert.Contains(TextFileCodes.NotTextUtf16WithoutBom, codes);
        foreach (var file in new[] { "SharedResource.resx", "SharedResource.ja.resx" })
        {
            var keys = System.Xml.Linq.XDocument.Load(Path.Combine(Repo.Root, "Incubator.Web", "Resources", file)).Root!
                .Elements("data").Select(d => (string)d.Attribute("name")!).ToHashSet();
            var missing = codes.Where(c => !keys.Contains("Error." + c)).ToList();
            Assert.True(missing.Count == 0, $"{file} lacks: {string.Join(", ", missing)}");
            var reasons = Enum.GetNames<BadRowReason>().Where(r => !keys.Contains("BadRowReason." + r)).ToList();
            Assert.True(reasons.Count == 0, $"{file} lacks: {string.Join(", ", reasons)}");
        }
    }
}
