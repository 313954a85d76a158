using Incubator.Domain.Generation;

namespace Incubator.Tests.Generation;

public sealed class OutputParserTests
{
    private static readonly string[] Labels = ["positive", "negative", "other"];

    private static ParseResult Parse(string text, params string[] labels) => OutputParser.Parse(text, labels.Length == 0 ? Labels : labels);

    private static string Text(ParseResult r, string label) => Assert.Single(r.Accepted, p => p.Label == label).Text;

    [Fact]
    public void Plain_object_gives_one_piece_per_label_in_object_zero()
    {
        var r = Parse("""{"positive": "Loved it.", "negative": "Broke in a day.", "other": "Where is the store?"}""");
        Assert.Equal(3, r.Accepted.Count);
        Assert.Empty(r.Rejected);
        Assert.Equal(1, r.ObjectsFound);
        Assert.False(r.Truncated);
        Assert.All(r.Accepted, p => Assert.Equal(0, p.ObjectIndex));
        Assert.Equal("Broke in a day.", Text(r, "negative"));
    }

    [Theory]
    [InlineData("```json\n{\"positive\": \"Great\", \"negative\": \"Awful\"}\n```")]
    [InlineData("```JSON\n{\"positive\": \"Great\", \"negative\": \"Awful\"}\n```")]
    [InlineData("```\n{\"positive\": \"Great\", \"negative\": \"Awful\"}\n```")]
    [InlineData("Sure! Here is the object you asked for:\n\n```jsonc\n{\"positive\": \"Great\", \"negative\": \"Awful\"}\n```\nLet me know if you need more.")]
    [InlineData("Here you go: {\"positive\": \"Great\", \"negative\": \"Awful\"} Hope this helps {smile}.")]
    public void Fences_and_prose_around_the_object_are_ignored(string answer)
    {
        var r = Parse(answer);
        Assert.Equal(2, r.Accepted.Count);
        Assert.Empty(r.Rejected);
        Assert.Equal(1, r.ObjectsFound);
        Assert.Equal("Great", Text(r, "positive"));
        Assert.Equal("Awful", Text(r, "negative"));
    }

    [Fact]
    public void Trailing_commas_are_tolerated()
    {
        var r = Parse("{\n  \"positive\": \"Great\",\n  \"negative\": \"Awful\",\n}");
        Assert.Equal(2, r.Accepted.Count);
        Assert.Empty(r.Rejected);
        Assert.False(r.Truncated);
    }

    [Fact]
    public void Missing_comma_between_lines_is_tolerated()
    {
        var r = Parse("{\n  \"positive\": \"Great\"\n  \"negative\": \"Awful\"\n}");
        Assert.Equal(2, r.Accepted.Count);
        Assert.Empty(r.Rejected);
    }

    [Fact]
    public void Single_quotes_are_read_with_apostrophes_inside()
    {
        var r = Parse("{'positive': 'It's the best kettle I've owned', 'negative': 'Don't buy it'}");
        Assert.Equal(2, r.Accepted.Count);
        Assert.Empty(r.Rejected);
        Assert.Equal("It's the best kettle I've owned", Text(r, "positive"));
        Assert.Equal("Don't buy it", Text(r, "negative"));
    }

    [Fact]
    public void Unescaped_quotes_inside_a_value_stay_in_the_text()
    {
        var r = Parse("""{"positive": "The guide said "stop", then smiled", "negative": "A "premium" cable that died"}""");
        Assert.Equal(2, r.Accepted.Count);
        Assert.Empty(r.Rejected);
        Assert.Equal("The guide said \"stop\", then smiled", Text(r, "positive"));
        Assert.Equal("A \"premium\" cable that died", Text(r, "negative"));
    }

    [Fact]
    public void Escapes_are_decoded()
    {
        var r = Parse("""{"positive": "Line one\nLine \"two\" \u00e9\u65e5", "negative": "back\\slash"}""");
        Assert.Equal("Line one\nLine \"two\" é日", Text(r, "positive"));
        Assert.Equal("back\\slash", Text(r, "negative"));
    }

    [Fact]
    public void Several_objects_in_one_answer_keep_their_object_index()
    {
        var r = Parse("""
            {"positive": "A1", "negative": "B1"}
            Another one:
            {"positive": "A2", "negative": "B2", "other": "C2"}
            """);
        Assert.Equal(2, r.ObjectsFound);
        Assert.Equal(5, r.Accepted.Count);
        Assert.Empty(r.Rejected);
        Assert.Equal([0, 0, 1, 1, 1], r.Accepted.Select(p => p.ObjectIndex));
        Assert.Equal("C2", Text(r, "other"));
    }

    [Fact]
    public void Array_of_objects_counts_each_object()
    {
        var r = Parse("""[{"positive": "A1", "negative": "B1"}, {"positive": "A2", "negative": "B2"}, {"positive": "A3", "negative": "B3"},]""");
        Assert.Equal(3, r.ObjectsFound);
        Assert.Equal(6, r.Accepted.Count);
        Assert.Empty(r.Rejected);
        Assert.Equal(2, r.Accepted[^1].ObjectIndex);
    }

    [Fact]
    public void Keys_differing_in_case_space_underscore_hyphen_or_width_map_to_the_exact_label()
    {
        string[] labels = ["billing issue", "Outage", "non-urgent"];
        var r = Parse("""{"Billing_Issue": "Charged twice", " OUTAGE ": "Site down", "NON URGENT": "Whenever", "ｂｉｌｌｉｎｇ－ｉｓｓｕｅ": "again"}""", labels);
        Assert.Equal(3, r.Accepted.Count);
        Assert.Equal(["billing issue", "Outage", "non-urgent"], r.Accepted.Select(p => p.Label));
        // The full-width key is the same label again within one object: the first is kept.
        var dup = Assert.Single(r.Rejected);
        Assert.Equal(RejectReason.Duplicate, dup.Reason);
        Assert.Equal("billing issue", dup.Label);
        Assert.Equal("again", dup.Text);
    }

    [Fact]
    public void Unknown_keys_are_rejected_with_the_key_never_remapped()
    {
        var r = Parse("""{"positive": "Nice", "positve": "typo key", "neutral": "Meh", "label": "negative"}""");
        Assert.Single(r.Accepted);
        Assert.Equal(3, r.Rejected.Count);
        Assert.All(r.Rejected, x => Assert.Equal(RejectReason.UnknownLabel, x.Reason));
        Assert.All(r.Rejected, x => Assert.Null(x.Label));
        Assert.Equal(["positve", "neutral", "label"], r.Rejected.Select(x => x.Detail));
        Assert.Equal("typo key", r.Rejected[0].Text);
    }

    [Fact]
    public void Folded_keys_that_two_labels_share_are_not_guessed()
    {
        var r = Parse("""{"a b": "one", "A_B": "two"}""", "a-b", "a b");
        var accepted = Assert.Single(r.Accepted);
        Assert.Equal("a b", accepted.Label);
        Assert.Equal(RejectReason.UnknownLabel, Assert.Single(r.Rejected).Reason);
    }

    [Fact]
    public void Missing_labels_are_simply_absent()
    {
        var r = Parse("""{"negative": "Awful"}""");
        Assert.Equal("negative", Assert.Single(r.Accepted).Label);
        Assert.Empty(r.Rejected);
    }

    [Fact]
    public void Non_string_values_are_unparseable_pieces_for_their_key()
    {
        var r = Parse("""{"positive": 5, "negative": ["a", "b"], "other": {"text": "nested"}, "positive ": true}""");
        Assert.Empty(r.Accepted);
        Assert.Equal(4, r.Rejected.Count);
        Assert.Equal([RejectReason.Unparseable, RejectReason.Unparseable, RejectReason.Unparseable, RejectReason.Duplicate], r.Rejected.Select(x => x.Reason));
        Assert.Equal(["positive", "negative", "other", "positive"], r.Rejected.Select(x => x.Label));
        Assert.Contains("number", r.Rejected[0].Detail);
        Assert.Contains("list", r.Rejected[1].Detail);
        Assert.Contains("object", r.Rejected[2].Detail);
        Assert.Equal(1, r.ObjectsFound); // the nested object is not a sample object of its own
        Assert.False(r.Truncated);
    }

    [Fact]
    public void Null_value_is_unparseable_and_empty_value_is_empty()
    {
        var r = Parse("""{"positive": null, "negative": "   ", "other": "ok"}""");
        Assert.Single(r.Accepted);
        Assert.Equal(2, r.Rejected.Count);
        Assert.Equal(RejectReason.Unparseable, r.Rejected[0].Reason);
        Assert.Equal(RejectReason.Empty, r.Rejected[1].Reason);
    }

    [Fact]
    public void Cut_off_answer_keeps_complete_pairs_and_reports_the_open_string()
    {
        var r = Parse("```json\n{\"positive\": \"Fast delivery and it works.\", \"negative\": \"The lid cracked after a w");
        Assert.True(r.Truncated);
        Assert.Equal(1, r.ObjectsFound);
        Assert.Equal("Fast delivery and it works.", Assert.Single(r.Accepted).Text);
        var cut = Assert.Single(r.Rejected);
        Assert.Equal(RejectReason.Unparseable, cut.Reason);
        Assert.Equal("negative", cut.Label);
        Assert.StartsWith("The lid cracked", cut.Text);
    }

    [Theory]
    [InlineData("{\"positive\": \"Great\", \"neg")]
    [InlineData("{\"positive\": \"Great\", \"negative\":")]
    [InlineData("{\"positive\": \"Great\"")]
    [InlineData("{\"positive\": \"Great\",")]
    public void Cut_off_between_strings_keeps_the_complete_pair_and_loses_no_text(string answer)
    {
        var r = Parse(answer);
        Assert.True(r.Truncated);
        Assert.Equal("Great", Assert.Single(r.Accepted).Text);
        Assert.Empty(r.Rejected);
    }

    [Fact]
    public void Cut_off_in_the_second_object_keeps_the_first()
    {
        var r = Parse("[{\"positive\": \"A1\", \"negative\": \"B1\"}, {\"positive\": \"A2\", \"nega");
        Assert.Equal(2, r.ObjectsFound);
        Assert.True(r.Truncated);
        Assert.Equal(3, r.Accepted.Count);
        Assert.Empty(r.Rejected);
    }

    [Theory]
    [InlineData("I'm sorry, but I can't help with that request.")]
    [InlineData("positive: great product; negative: broke fast")]
    [InlineData("Use the format {label: sample} please")]
    [InlineData("")]
    public void Text_without_json_is_one_unparseable_piece(string answer)
    {
        var r = Parse(answer);
        Assert.Empty(r.Accepted);
        Assert.Equal(0, r.ObjectsFound);
        var piece = Assert.Single(r.Rejected);
        Assert.Equal(RejectReason.Unparseable, piece.Reason);
        Assert.Null(piece.Label);
        Assert.True(piece.Text.Length <= OutputParser.ExcerptLength + 1);
    }

    [Fact]
    public void Long_prose_is_excerpted()
    {
        var r = Parse(new string('x', 500));
        Assert.Equal(OutputParser.ExcerptLength + 1, Assert.Single(r.Rejected).Text.Length);
    }

    [Fact]
    public void Duplicate_keys_keep_the_first_and_reject_the_rest()
    {
        var r = Parse("""{"positive": "first", "negative": "n", "positive": "second", "Positive": "third"}""");
        Assert.Equal(2, r.Accepted.Count);
        Assert.Equal("first", Text(r, "positive"));
        Assert.Equal(2, r.Rejected.Count);
        Assert.All(r.Rejected, x => Assert.Equal(RejectReason.Duplicate, x.Reason));
        Assert.Equal(["second", "third"], r.Rejected.Select(x => x.Text));
    }

    [Fact]
    public void Same_label_in_two_objects_is_not_a_duplicate()
    {
        var r = Parse("""{"positive": "one"} {"positive": "two"}""");
        Assert.Equal(2, r.Accepted.Count);
        Assert.Empty(r.Rejected);
    }

    [Fact]
    public void Malformed_object_keeps_the_pairs_before_the_flaw()
    {
        var r = Parse("""{"positive": "Great", negative: "unquoted key"}""");
        Assert.Equal("Great", Assert.Single(r.Accepted).Text);
        var bad = Assert.Single(r.Rejected);
        Assert.Equal(RejectReason.Unparseable, bad.Reason);
        Assert.Contains("negative", bad.Text);
        Assert.Equal(1, r.ObjectsFound);
    }

    [Fact]
    public void Japanese_labels_and_full_width_keys_are_read()
    {
        string[] labels = ["肯定的", "否定的", "その他"];
        var r = Parse("""
            以下が出力です。
            ```json
            {"肯定的": "届いたその日から毎日使っています。", "否定的": "二日で壊れました。", " その他 ": "この商品の在庫はありますか？"}
            ```
            """, labels);
        Assert.Equal(3, r.Accepted.Count);
        Assert.Empty(r.Rejected);
        Assert.Equal("その他", r.Accepted[2].Label);
    }

    [Fact]
    public void Whitespace_and_line_breaks_inside_values_are_kept_but_the_ends_trimmed()
    {
        var r = Parse("{\"positive\": \"  first line\nsecond line  \"}");
        Assert.Equal("first line\nsecond line", Text(r, "positive"));
    }

    [Fact]
    public void Key_without_colon_is_malformed_not_truncated()
    {
        var r = Parse("""{"positive": "Great", "negative" "missing colon"}""");
        Assert.Equal("Great", Assert.Single(r.Accepted).Text);
        Assert.Equal(RejectReason.Unparseable, Assert.Single(r.Rejected).Reason);
        Assert.False(r.Truncated);
    }

    [Fact]
    public void Comma_followed_by_text_stays_inside_the_value()
    {
        var r = Parse("""{"positive": "Good price, fast delivery, nice box", "negative": "Late, again"}""");
        Assert.Equal("Good price, fast delivery, nice box", Text(r, "positive"));
        Assert.Equal("Late, again", Text(r, "negative"));
    }
}
