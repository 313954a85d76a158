using Incubator.Domain.Mining.Query;

namespace Incubator.Tests.Mining;

/// <summary>The query language: precedence, thresholds, quoting, canonical printing, and every error with its
/// exact position.</summary>
public sealed class QueryParserTests
{
    private static QueryNode P(string text) => QueryParser.ParseOrThrow(text);

    private static QueryError Fail(string text)
    {
        var r = QueryParser.Parse(text);
        Assert.False(r.Success, $"'{text}' parsed as {r.Query}");
        return r.Error!;
    }

    private static ClauseNode C(string model, string label, Comparison? op = null, double? t = null) =>
        new(model, label, op, t, default, default, default);

    [Fact]
    public void A_clause_without_a_threshold_names_model_and_label_with_their_positions()
    {
        var c = Assert.IsType<ClauseNode>(P("  urgency:urgent "));
        Assert.Equal(("urgency", "urgent", (Comparison?)null, (double?)null), (c.Model, c.Label, c.Op, c.Threshold));
        Assert.Equal(new TextSpan(2, 7), c.ModelSpan);
        Assert.Equal(new TextSpan(10, 6), c.LabelSpan);
        Assert.Equal(new TextSpan(2, 14), c.Span);
    }

    [Theory]
    [InlineData("urgency:urgent>=0.8", Comparison.GreaterOrEqual, 0.8)]
    [InlineData("urgency:urgent > 0.5", Comparison.Greater, 0.5)]
    [InlineData("urgency:urgent<0.25", Comparison.Less, 0.25)]
    [InlineData("urgency:urgent <= 1", Comparison.LessOrEqual, 1.0)]
    [InlineData("urgency:urgent>=0", Comparison.GreaterOrEqual, 0.0)]
    [InlineData("urgency:urgent>=.9", Comparison.GreaterOrEqual, 0.9)]
    public void Thresholds_take_every_comparison(string text, Comparison op, double threshold)
    {
        var c = Assert.IsType<ClauseNode>(P(text));
        Assert.Equal(op, c.Op);
        Assert.Equal(threshold, c.Threshold);
        Assert.Equal(text.Trim().Length, c.Span.Length);
    }

    [Fact]
    public void Not_binds_tighter_than_and_which_binds_tighter_than_or()
    {
        // a OR NOT b AND c  ==  a OR ((NOT b) AND c)
        var or = Assert.IsType<OrNode>(P("a:x OR NOT b:y AND c:z"));
        Assert.Equal(2, or.Operands.Count);
        Assert.Equal(C("a", "x"), or.Operands[0]);
        var and = Assert.IsType<AndNode>(or.Operands[1]);
        Assert.Equal(new NotNode(C("b", "y"), default), and.Operands[0]);
        Assert.Equal(C("c", "z"), and.Operands[1]);

        // a AND b OR c AND d == (a AND b) OR (c AND d)
        var or2 = Assert.IsType<OrNode>(P("a:x and b:y or c:z and d:w"));
        Assert.All(or2.Operands, o => Assert.Equal(2, Assert.IsType<AndNode>(o).Operands.Count));
    }

    [Fact]
    public void Parentheses_override_precedence_and_chains_are_flat()
    {
        var and = Assert.IsType<AndNode>(P("(a:x OR b:y) AND NOT (c:z OR d:w) AND e:v"));
        Assert.Equal(3, and.Operands.Count);
        Assert.IsType<OrNode>(and.Operands[0]);
        var not = Assert.IsType<NotNode>(and.Operands[1]);
        Assert.Equal(2, Assert.IsType<OrNode>(not.Operand).Operands.Count);
        Assert.Equal(C("e", "v"), and.Operands[2]);

        var chain = Assert.IsType<AndNode>(P("a:x AND b:y AND c:z AND d:w"));
        Assert.Equal(4, chain.Operands.Count);
        // Parentheses the user wrote around a same-operator group are kept as structure.
        var nested = Assert.IsType<AndNode>(P("a:x AND (b:y AND c:z)"));
        Assert.Equal(2, nested.Operands.Count);
        Assert.IsType<AndNode>(nested.Operands[1]);
    }

    [Fact]
    public void Keywords_are_case_insensitive_and_not_can_repeat()
    {
        Assert.Equal(P("a:x AND NOT b:y OR c:z"), P("a:x and not b:y Or c:z"));
        var n = Assert.IsType<NotNode>(P("NOT not a:x"));
        Assert.IsType<NotNode>(n.Operand);
    }

    [Fact]
    public void Quoted_names_hold_spaces_keywords_colons_and_escaped_quotes()
    {
        var c = Assert.IsType<ClauseNode>(P("\"customer intent\":\"billing issue\">=0.5"));
        Assert.Equal(("customer intent", "billing issue"), (c.Model, c.Label));
        Assert.Equal(new TextSpan(0, 17), c.ModelSpan);
        Assert.Equal(new TextSpan(18, 15), c.LabelSpan);

        var k = Assert.IsType<ClauseNode>(P("\"and\":\"a:b (c)\""));
        Assert.Equal(("and", "a:b (c)"), (k.Model, k.Label));
        var e = Assert.IsType<ClauseNode>(P("m:\"say \\\"hi\\\" \\\\ now\""));
        Assert.Equal("say \"hi\" \\ now", e.Label);
    }

    [Fact]
    public void Bare_names_take_unicode_letters_digits_and_common_punctuation()
    {
        var and = Assert.IsType<AndNode>(P("問い合わせ:請求 AND topic-v2.1:out_of_stock"));
        Assert.Equal(C("問い合わせ", "請求"), and.Operands[0]);
        Assert.Equal(C("topic-v2.1", "out_of_stock"), and.Operands[1]);
    }

    [Theory]
    [InlineData("a:x")]
    [InlineData("urgency:urgent>=0.8")]
    [InlineData("a:x AND b:y OR c:z")]
    [InlineData("(a:x OR b:y) AND c:z")]
    [InlineData("NOT (a:x AND b:y)")]
    [InlineData("NOT NOT a:x")]
    [InlineData("a:x AND (b:y AND c:z)")]
    [InlineData("(a:x OR b:y) OR c:z")]
    [InlineData("\"customer intent\":\"billing issue\"<0.3 AND NOT \"and\":x")]
    [InlineData("m:\"say \\\"hi\\\"\" OR 問い合わせ:請求>0.125")]
    public void Canonical_text_parses_back_to_the_same_tree(string canonical)
    {
        var tree = P(canonical);
        Assert.Equal(canonical, QueryPrinter.Print(tree));
        Assert.Equal(tree, P(QueryPrinter.Print(tree)));
    }

    [Theory]
    [InlineData("a:x and   b:y  OR c:z", "a:x AND b:y OR c:z")]
    [InlineData("((a:x))", "a:x")]
    [InlineData("a:x AND (b:y OR c:z)", "a:x AND (b:y OR c:z)")]
    [InlineData("(a:x AND b:y) OR c:z", "a:x AND b:y OR c:z")]
    [InlineData("not(a:x)", "NOT a:x")]
    [InlineData("\"plain\":\"name\" >= 0.50", "plain:name>=0.5")]
    [InlineData("x:\"has space\"", "x:\"has space\"")]
    [InlineData("x:\"not\"", "x:\"not\"")]
    public void Printing_normalises_spacing_keywords_parentheses_and_quotes(string input, string canonical)
    {
        Assert.Equal(canonical, QueryPrinter.Print(P(input)));
        Assert.Equal(P(input), P(canonical));
    }

    [Fact]
    public void A_builder_assembled_tree_prints_text_the_parser_reads_back()
    {
        // What the visual builder does: make clauses and combine them, then print.
        QueryNode built = new AndNode(
        [
            new ClauseNode("customer intent", "billing issue", Comparison.GreaterOrEqual, 0.7, default, default, default),
            new NotNode(new OrNode([C("sentiment", "positive"), C("lang", "ja")], default), default),
        ], default);
        var text = QueryPrinter.Print(built);
        Assert.Equal("\"customer intent\":\"billing issue\">=0.7 AND NOT (sentiment:positive OR lang:ja)", text);
        Assert.Equal(built, P(text));
    }

    public static TheoryData<string, int, int, string> Errors => new()
    {
        // text, offset, length, code
        { "", 0, 0, QueryErrorCodes.Empty },
        { "   ", 0, 0, QueryErrorCodes.Empty },
        { "urgency", 7, 0, QueryErrorCodes.ExpectedColon },
        { "urgency urgent", 8, 6, QueryErrorCodes.ExpectedColon },
        { "urgency:", 8, 0, QueryErrorCodes.ExpectedLabel },
        { "urgency:AND", 8, 3, QueryErrorCodes.ExpectedLabel },
        { "urgency:urgent >=", 17, 0, QueryErrorCodes.ExpectedNumber },
        { "urgency:urgent >= high", 18, 4, QueryErrorCodes.ExpectedNumber },
        { "urgency:urgent>=0.8.1", 16, 5, QueryErrorCodes.ExpectedNumber },
        { "urgency:urgent>=1e-3", 16, 4, QueryErrorCodes.ExpectedNumber },
        { "urgency:urgent>=1.5", 16, 3, QueryErrorCodes.ThresholdOutOfRange },
        { "urgency:urgent>=80", 16, 2, QueryErrorCodes.ThresholdOutOfRange },
        { "a:x AND", 7, 0, QueryErrorCodes.ExpectedClause },
        { "a:x AND OR b:y", 8, 2, QueryErrorCodes.ExpectedClause },
        { "AND a:x", 0, 3, QueryErrorCodes.ExpectedClause },
        { "a:x b:y", 4, 1, QueryErrorCodes.ExpectedOperator },
        { "a:x AND b:y NOT c:z", 12, 3, QueryErrorCodes.ExpectedOperator },
        { "(a:x OR b:y", 11, 0, QueryErrorCodes.ExpectedCloseParen },
        { "(a:x OR b:y c:z)", 12, 1, QueryErrorCodes.ExpectedCloseParen },
        { "a:x)", 3, 1, QueryErrorCodes.UnmatchedCloseParen },
        { "()", 1, 1, QueryErrorCodes.ExpectedClause },
        { "a:\"open", 2, 5, QueryErrorCodes.UnterminatedQuote },
        { "\"\":x", 0, 2, QueryErrorCodes.EmptyName },
        { "a:\"\"", 2, 2, QueryErrorCodes.EmptyName },
        { "a:x AND b:y$", 11, 1, QueryErrorCodes.InvalidCharacter },
        { "a:x && b:y", 4, 2, QueryErrorCodes.UseKeyword },
        { "a:x || b:y", 4, 2, QueryErrorCodes.UseKeyword },
        { "!a:x", 0, 1, QueryErrorCodes.UseKeyword },
        { "a:x = 0.5", 4, 1, QueryErrorCodes.InvalidComparison },
        { "a:x => 0.5", 4, 2, QueryErrorCodes.InvalidComparison },
        { "a:x == 0.5", 4, 2, QueryErrorCodes.InvalidComparison },
    };

    [Theory]
    [MemberData(nameof(Errors))]
    public void Every_error_names_its_exact_position(string text, int offset, int length, string code)
    {
        var e = Fail(text);
        Assert.Equal(code, e.Code);
        Assert.Equal((offset, length), (e.Offset, e.Length));
        Assert.False(string.IsNullOrWhiteSpace(e.Message));
    }

    [Fact]
    public void Expected_errors_say_what_was_expected_and_what_was_found()
    {
        var e = Fail("urgency:urgent >= high");
        Assert.Equal("Expected a probability between 0 and 1 after '>=' but found 'high'.", e.Message);
        Assert.Equal([">=", "high"], e.Args);
        Assert.False(e.AtEnd);

        var end = Fail("a:x AND");
        Assert.Equal("Expected a clause (model:label), NOT or '(' but found the end of the query.", end.Message);
        Assert.True(end.AtEnd);

        var paren = Fail("b:y AND (a:x OR b:y");
        Assert.Contains("'(' at column 9", paren.Message);
    }

    [Fact]
    public void The_caret_line_points_under_the_offending_characters()
    {
        var text = "urgency:urgent >= high";
        var described = Fail(text).Describe(text);
        var lines = described.Split('\n');
        Assert.Equal(text, lines[0].TrimEnd('\r'));
        Assert.StartsWith(new string(' ', 18) + "^~~~ Expected a probability", lines[1]);
        Assert.EndsWith("(line 1, column 19)", lines[1].TrimEnd());

        // On a second line, the caret is under that line's text and the line number is right.
        var multi = "a:x AND\n  (b:y OR c:z";
        var lines2 = Fail(multi).Describe(multi).Split('\n');
        Assert.Equal("  (b:y OR c:z", lines2[0]);
        Assert.StartsWith(new string(' ', 13) + "^ Expected ')'", lines2[1]);
        Assert.Contains("(line 2, column 14)", lines2[1]);
    }

    [Fact]
    public void A_lexing_error_after_a_parse_error_does_not_hide_it()
    {
        // The first problem in reading order wins.
        var e = Fail("a:x AND AND b:\"open");
        Assert.Equal(QueryErrorCodes.ExpectedClause, e.Code);
        Assert.Equal(8, e.Offset);
    }

    [Fact]
    public void Excessive_nesting_and_length_are_refused_with_a_position()
    {
        var deep = string.Concat(Enumerable.Repeat("(", QueryParser.MaxDepth + 1)) + "a:x" + string.Concat(Enumerable.Repeat(")", QueryParser.MaxDepth + 1));
        var e = Fail(deep);
        Assert.Equal(QueryErrorCodes.TooDeep, e.Code);
        Assert.Equal(QueryParser.MaxDepth, e.Offset);
        var ok = string.Concat(Enumerable.Repeat("(", QueryParser.MaxDepth)) + "a:x" + string.Concat(Enumerable.Repeat(")", QueryParser.MaxDepth));
        Assert.Equal(C("a", "x"), P(ok));

        var notChain = string.Concat(Enumerable.Repeat("NOT ", 200)) + "a:x";
        Assert.Equal(QueryErrorCodes.TooDeep, Fail(notChain).Code);
        Assert.Equal(QueryErrorCodes.TooLong, Fail(new string('a', QueryParser.MaxLength + 1)).Code);
    }
}
