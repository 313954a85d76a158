using System.Text;
using Incubator.Domain.Common;
using Incubator.Domain.Mining;
using Incubator.Tests.Infrastructure;

namespace Incubator.Tests.Mining;

/// <summary>The upload parser: formats, quoting, bad rows with line numbers, encodings, and a large generated file.</summary>
public sealed class CorpusParserTests
{
    private static (List<ParsedText> Rows, CorpusParseReport Report) Parse(byte[] bytes, CorpusParseOptions options)
    {
        var report = new CorpusParseReport();
        using var stream = new MemoryStream(bytes);
        using var reader = CorpusParser.OpenReader(stream, report);
        var rows = CorpusParser.Parse(reader, options, report).ToList();
        return (rows, report);
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
            "9,Last good row");                          // 11
        var (rows, report) = Parse(Utf8(csv), new CorpusParseOptions(CorpusFormat.Csv));

        Assert.True(report.HeaderDetected);
        Assert.Equal("text", report.Source);
        Assert.Equal(["Good first row", "Good after the unclosed quote", "spans\ntwo lines", "Last good row"], rows.Select(r => r.Text));
        Assert.Equal([2L, 4, 9, 11], rows.Select(r => r.Line));
        Assert.Equal(
            [(3L, BadRowReason.UnparseableCsv), (5, BadRowReason.UnparseableCsv), (6, BadRowReason.MissingField), (7, BadRowReason.EmptyText), (8, BadRowReason.TooLong)],
            report.BadRows.Select(b => (b.Line, b.Reason)));
        Assert.Equal(5, report.BadRowCount);
        Assert.Equal(9, report.RowsRead);
    }

    [Fact]
    public void Csv_quoting_handles_delimiters_doubled_quotes_and_line_breaks()
    {
        var csv = "label,text\r\nx,\"Hello, world\"\r\ny,\"She said \"\"hi\"\" twice\"\r\nz,\"one\r\ntwo\"\r\n";
        var (rows, report) = Parse(Utf8(csv), new CorpusParseOptions(CorpusFormat.Csv, Column: "text"));
        Assert.Equal(["Hello, world", "She said \"hi\" twice", "one\ntwo"], rows.Select(r => r.Text));
        Assert.Equal(0, report.BadRowCount);
    }

    [Fact]
    public void Csv_column_by_number_without_header_and_unknown_column_is_a_clear_error()
    {
        var csv = "a1,This is the first text.\na2,This is the second text.\n";
        var (rows, report) = Parse(Utf8(csv), new CorpusParseOptions(CorpusFormat.Csv, Column: "2"));
        Assert.False(report.HeaderDetected);
        Assert.Equal(["This is the first text.", "This is the second text."], rows.Select(r => r.Text));
        var ex = Assert.Throws<DomainValidationException>(() => Parse(Utf8("id,body\n1,x\n"), new CorpusParseOptions(CorpusFormat.Csv, Column: "text")));
        Assert.Equal("CorpusColumnUnknown", ex.Details[0].Code);
        Assert.Contains("body", ex.Message);
    }

    [Fact]
    public void Tsv_reads_the_chosen_column_by_header_name()
    {
        var tsv = "id\tcomment\tscore\n1\tFast delivery, thanks\t5\n2\tIt broke \"again\"\t1\n";
        var (rows, _) = Parse(Utf8(tsv), new CorpusParseOptions(CorpusFormat.Tsv, Column: "comment"));
        Assert.Equal(["Fast delivery, thanks", "It broke \"again\""], rows.Select(r => r.Text));
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
        var (rows, report) = Parse(Utf8(jsonl), new CorpusParseOptions(CorpusFormat.Jsonl, Field: "body"));
        Assert.Equal(["First body", "Second body", "Seventh été"], rows.Select(r => r.Text));
        Assert.Equal([1L, 2, 7], rows.Select(r => r.Line));
        Assert.Equal([(3L, BadRowReason.InvalidJson), (4, BadRowReason.MissingField), (6, BadRowReason.MissingField)], report.BadRows.Select(b => (b.Line, b.Reason)));
        Assert.Equal(6, report.RowsRead);

        var nested = Parse(Utf8("""{"meta":{"text":"deep"}}"""), new CorpusParseOptions(CorpusFormat.Jsonl, Field: "meta.text"));
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
        var (rows, report) = Parse(bytes, new CorpusParseOptions(CorpusFormat.Txt));
        Assert.Equal(expected, report.Encoding);
        Assert.Equal(["café au lait", "日本語のテキスト"], rows.Select(r => r.Text)); // no BOM character left on the first text
    }

    [Fact]
    public void Invalid_utf8_falls_back_to_latin1_and_says_where()
    {
        var bytes = Utf8("plain ascii line\n").Concat(new byte[] { 0x63, 0x61, 0x66, 0xE9, 0x0A }).ToArray(); // "caf" + 0xE9 (é in Latin-1)
        var (rows, report) = Parse(bytes, new CorpusParseOptions(CorpusFormat.Txt));
        Assert.Equal("latin-1", report.Encoding);
        Assert.Equal(20, report.Latin1FallbackAtByte);
        Assert.Equal(["plain ascii line", "café"], rows.Select(r => r.Text));

        var valid = Parse(Utf8("café\n"), new CorpusParseOptions(CorpusFormat.Txt));
        Assert.Equal("utf-8", valid.Report.Encoding);
        Assert.Null(valid.Report.Latin1FallbackAtByte);
    }

    [Fact]
    public void A_generated_file_of_200000_lines_is_parsed_as_a_stream()
    {
        using var folder = new TempFolder("incubator-corpus-big");
        var path = Path.Combine(folder.Path, "big.txt");
        using (var writer = new StreamWriter(path, false, new UTF8Encoding(false)))
        {
            for (var i = 0; i < 200_000; i++) writer.WriteLine($"Generated support message number {i} about order {i % 977}.");
        }
        var report = new CorpusParseReport();
        using var stream = File.OpenRead(path);
        using var reader = CorpusParser.OpenReader(stream, report);
        long count = 0;
        ParsedText? last = null;
        // Consumed one row at a time: nothing here holds the file (about 12 MB) as one string or one list.
        foreach (var row in CorpusParser.Parse(reader, new CorpusParseOptions(CorpusFormat.Txt), report))
        {
            count++;
            last = row;
        }
        Assert.Equal(200_000, count);
        Assert.Equal(200_000, report.RowsRead);
        Assert.Equal(200_000, last!.Line);
        Assert.Equal("Generated support message number 199999 about order 691.", last.Text);
        Assert.True(stream.Length > 10_000_000);
    }

    [Fact]
    public void Preview_detects_format_header_columns_and_sample_texts()
    {
        var csv = Utf8("id,review,stars\n1,Great hotel,5\n2,Noisy room,2\n3,Breakf");
        var preview = CorpusParser.Preview(csv, "reviews.csv");
        Assert.Equal(CorpusFormat.Csv, preview.Format);
        Assert.True(preview.HeaderDetected);
        Assert.Equal(["id", "review", "stars"], preview.Columns);
        Assert.Equal("review", preview.DefaultSource);
        Assert.Equal(["Great hotel", "Noisy room"], preview.SampleTexts); // the cut-off last line is not shown

        var jsonl = CorpusParser.Preview(Utf8("{\"id\":1,\"content\":\"x y z\"}\n{\"id\":2,\"content\":\"a b\"}\n"), "a.jsonl");
        Assert.Equal(["content"], jsonl.Columns);
        Assert.Equal("content", jsonl.DefaultSource);
    }
}
