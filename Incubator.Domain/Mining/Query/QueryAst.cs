namespace Incubator.Domain.Mining.Query;

/// <summary>A stretch of the query text: where a node or token starts (0-based character offset) and how long it is.</summary>
public readonly record struct TextSpan(int Start, int Length)
{
    public int End => Start + Length;

    public static TextSpan Cover(TextSpan a, TextSpan b) => new(Math.Min(a.Start, b.Start), Math.Max(a.End, b.End) - Math.Min(a.Start, b.Start));
}

public enum Comparison
{
    GreaterOrEqual,
    Greater,
    LessOrEqual,
    Less,
}

public static class ComparisonText
{
    public static string Symbol(this Comparison c) => c switch
    {
        Comparison.GreaterOrEqual => ">=",
        Comparison.Greater => ">",
        Comparison.LessOrEqual => "<=",
        Comparison.Less => "<",
        _ => throw new ArgumentOutOfRangeException(nameof(c)),
    };

    public static bool Holds(this Comparison c, double value, double threshold) => c switch
    {
        Comparison.GreaterOrEqual => value >= threshold,
        Comparison.Greater => value > threshold,
        Comparison.LessOrEqual => value <= threshold,
        Comparison.Less => value < threshold,
        _ => throw new ArgumentOutOfRangeException(nameof(c)),
    };
}

/// <summary>A parsed query. AND and OR are n-ary: a chain <c>a AND b AND c</c> is one node with three operands, while
/// parentheses the user wrote around a same-operator group stay a nested node, so printing reproduces the structure.</summary>
public abstract record QueryNode(TextSpan Span)
{
    /// <summary>Every clause, left to right as written (the order of result columns and of the funnel).</summary>
    public IReadOnlyList<ClauseNode> Clauses()
    {
        var list = new List<ClauseNode>();
        Collect(this, list);
        return list;

        static void Collect(QueryNode n, List<ClauseNode> acc)
        {
            switch (n)
            {
                case ClauseNode c: acc.Add(c); break;
                case NotNode x: Collect(x.Operand, acc); break;
                case AndNode a: foreach (var o in a.Operands) Collect(o, acc); break;
                case OrNode o: foreach (var p in o.Operands) Collect(p, acc); break;
            }
        }
    }

    /// <summary>The steps of the funnel: the operands of a top-level AND chain, or the whole query as one step.</summary>
    public IReadOnlyList<QueryNode> Conjuncts() => this is AndNode a ? a.Operands : [this];

    public override string ToString() => QueryPrinter.Print(this);
}

/// <summary><c>model:label</c>, optionally with a probability threshold (<c>model:label&gt;=0.8</c>). Without a
/// threshold the clause holds when the model's predicted label is <see cref="Label"/>.</summary>
public sealed record ClauseNode(string Model, string Label, Comparison? Op, double? Threshold, TextSpan Span, TextSpan ModelSpan, TextSpan LabelSpan,
    TextSpan? ThresholdSpan = null) : QueryNode(Span)
{
    public bool Equals(ClauseNode? other) => other is not null && Model == other.Model && Label == other.Label && Op == other.Op && Threshold == other.Threshold;

    public override int GetHashCode() => HashCode.Combine(Model, Label, Op, Threshold);

    public override string ToString() => QueryPrinter.Print(this);
}

public sealed record NotNode(QueryNode Operand, TextSpan Span) : QueryNode(Span)
{
    public bool Equals(NotNode? other) => other is not null && Operand.Equals(other.Operand);

    public override int GetHashCode() => HashCode.Combine("NOT", Operand);

    public override string ToString() => QueryPrinter.Print(this);
}

public sealed record AndNode(IReadOnlyList<QueryNode> Operands, TextSpan Span) : QueryNode(Span)
{
    public bool Equals(AndNode? other) => other is not null && Operands.SequenceEqual(other.Operands);

    public override int GetHashCode() => Operands.Aggregate(17, (h, o) => HashCode.Combine(h, o));

    public override string ToString() => QueryPrinter.Print(this);
}

public sealed record OrNode(IReadOnlyList<QueryNode> Operands, TextSpan Span) : QueryNode(Span)
{
    public bool Equals(OrNode? other) => other is not null && Operands.SequenceEqual(other.Operands);

    public override int GetHashCode() => Operands.Aggregate(31, (h, o) => HashCode.Combine(h, o));

    public override string ToString() => QueryPrinter.Print(this);
}
