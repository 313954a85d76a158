using Incubator.Domain.Mining.Query;

namespace Incubator.Tests.Mining;

/// <summary>The visual builder's model writes exactly the text the parser reads, and loads any parsed query.</summary>
public sealed class QueryBuilderTests
{
    [Theory]
    [InlineData("a:x")]
    [InlineData("urgency:urgent>=0.8")]
    [InlineData("a:x AND b:y OR c:z")]
    [InlineData("(a:x OR b:y) AND NOT c:z<0.25")]
    [InlineData("NOT (a:x AND b:y)")]
    [InlineData("NOT NOT a:x")]
    [InlineData("NOT NOT (a:x OR b:y)")]
    [InlineData("a:x AND (b:y AND c:z)")]
    [InlineData("\"customer intent\":\"billing issue\">0.5 OR NOT (問い合わせ:請求 AND NOT x:y)")]
    public void Loading_a_query_into_the_builder_and_writing_it_out_gives_the_same_text(string canonical)
    {
        var builder = QueryBuilder.FromQuery(QueryParser.ParseOrThrow(canonical));
        Assert.Equal(canonical, QueryBuilder.ToText(builder));
    }

    [Fact]
    public void Building_step_by_step_writes_parseable_canonical_text()
    {
        var root = new QueryBuilderGroup();
        Assert.Equal("", QueryBuilder.ToText(root));

        var first = new QueryBuilderClause { Model = "urgency" };
        root.Items.Add(first);
        Assert.Equal("", QueryBuilder.ToText(root)); // no label yet: nothing to write
        first.Label = "urgent";
        first.Threshold = 0.8;
        Assert.Equal("urgency:urgent>=0.8", QueryBuilder.ToText(root));

        var group = new QueryBuilderGroup { IsOr = true, Negated = true };
        group.Items.Add(new QueryBuilderClause { Model = "sentiment", Label = "positive" });
        group.Items.Add(new QueryBuilderClause { Model = "customer intent", Label = "billing issue", Comparison = Comparison.Less, Threshold = 0.3 });
        root.Items.Add(group);
        var text = QueryBuilder.ToText(root);
        Assert.Equal("urgency:urgent>=0.8 AND NOT (sentiment:positive OR \"customer intent\":\"billing issue\"<0.3)", text);
        Assert.Equal(text, QueryPrinter.Print(QueryParser.ParseOrThrow(text)));

        root.IsOr = true;
        Assert.Equal("urgency:urgent>=0.8 OR NOT (sentiment:positive OR \"customer intent\":\"billing issue\"<0.3)", QueryBuilder.ToText(root));
        group.Items.RemoveAt(0);
        Assert.Equal("urgency:urgent>=0.8 OR NOT \"customer intent\":\"billing issue\"<0.3", QueryBuilder.ToText(root));
    }

    [Fact]
    public void An_out_of_range_threshold_keeps_the_clause_out_of_the_text()
    {
        var root = new QueryBuilderGroup { Items = { new QueryBuilderClause { Model = "a", Label = "x", Threshold = 1.5 }, new QueryBuilderClause { Model = "b", Label = "y" } } };
        Assert.Equal("b:y", QueryBuilder.ToText(root));
    }
}
