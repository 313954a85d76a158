namespace Incubator.Domain.Mining.Query;

/// <summary>One line of the visual builder: a clause or a nested group, optionally negated.</summary>
public abstract class QueryBuilderItem
{
    public bool Negated { get; set; }

    internal abstract QueryNode? Build();
}

/// <summary>A clause as the builder edits it. An empty <see cref="Threshold"/> means "the predicted label is".</summary>
public sealed class QueryBuilderClause : QueryBuilderItem
{
    public string Model { get; set; } = "";

    public string Label { get; set; } = "";

    public Comparison Comparison { get; set; } = Comparison.GreaterOrEqual;

    public double? Threshold { get; set; }

    public bool IsComplete => Model.Length > 0 && Label.Length > 0 && Threshold is null or (>= 0 and <= 1);

    internal override QueryNode? Build() =>
        IsComplete ? new ClauseNode(Model, Label, Threshold is null ? null : Comparison, Threshold, default, default, default) : null;
}

/// <summary>Items joined by one operator. A group inside a group is a pair of parentheses.</summary>
public sealed class QueryBuilderGroup : QueryBuilderItem
{
    public bool IsOr { get; set; }

    public List<QueryBuilderItem> Items { get; } = [];

    internal override QueryNode? Build()
    {
        var parts = Items.Select(i => i.Negated ? Negate(i.Build()) : i.Build()).OfType<QueryNode>().ToList();
        return parts.Count switch
        {
            0 => null,
            1 => parts[0],
            _ => IsOr ? new OrNode(parts, default) : new AndNode(parts, default),
        };
    }

    private static QueryNode? Negate(QueryNode? n) => n is null ? null : new NotNode(n, default);
}

/// <summary>The visual builder's model. It writes the canonical query text (the same text the parser reads) and can be
/// loaded from any parsed query, so the text field and the builder stay two views of one query.</summary>
public static class QueryBuilder
{
    /// <summary>The query text the builder describes, or "" while it holds no complete clause.</summary>
    public static string ToText(QueryBuilderGroup root)
    {
        var node = root.Negated && root.Build() is { } inner ? new NotNode(inner, default) : root.Build();
        return node is null ? "" : QueryPrinter.Print(node);
    }

    /// <summary>A builder tree for a parsed query. Every tree can be shown: NOT becomes the item's negation (a double NOT is
    /// a group holding a negated item), AND/OR chains become groups, a lone clause becomes a one-item group.</summary>
    public static QueryBuilderGroup FromQuery(QueryNode node)
    {
        var root = node is AndNode or OrNode ? (QueryBuilderGroup)Item(node) : new QueryBuilderGroup { Items = { Item(node) } };
        return root;
    }

    private static QueryBuilderItem Item(QueryNode node)
    {
        switch (node)
        {
            case ClauseNode c:
                return new QueryBuilderClause
                {
                    Model = c.Model, Label = c.Label, Comparison = c.Op ?? Comparison.GreaterOrEqual, Threshold = c.Op is null ? null : c.Threshold,
                };
            case NotNode n:
            {
                var inner = Item(n.Operand);
                if (!inner.Negated)
                {
                    inner.Negated = true;
                    return inner;
                }
                // NOT NOT x: the outer NOT wraps a one-item group holding NOT x, which prints back as NOT NOT x.
                return new QueryBuilderGroup { Negated = true, Items = { inner } };
            }
            case AndNode a:
                return Group(a.Operands, isOr: false);
            case OrNode o:
                return Group(o.Operands, isOr: true);
            default:
                throw new ArgumentOutOfRangeException(nameof(node));
        }
    }

    private static QueryBuilderGroup Group(IReadOnlyList<QueryNode> operands, bool isOr)
    {
        var g = new QueryBuilderGroup { IsOr = isOr };
        g.Items.AddRange(operands.Select(Item));
        return g;
    }
}
