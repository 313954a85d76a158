using System.Globalization;
using System.Text;

namespace Incubator.Domain.Mining.Query;

/// <summary>The one canonical text of a query: upper-case keywords, single spaces, parentheses only where the
/// structure needs them, names quoted only when they must be, thresholds in invariant culture. The visual builder
/// writes this text and the parser reads it back to the same tree.</summary>
public static class QueryPrinter
{
    public static string Print(QueryNode node)
    {
        var sb = new StringBuilder();
        Write(sb, node);
        return sb.ToString();
    }

    /// <summary>A step of an AND chain on its own: an OR group keeps its parentheses so "AND (a OR b)" reads right.</summary>
    public static string PrintStep(QueryNode node) => node is OrNode ? "(" + Print(node) + ")" : Print(node);

    public static string Name(string name) => QueryParser.IsBareName(name) ? name : Quote(name);

    public static string Quote(string name) => "\"" + name.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";

    public static string Threshold(double value) => value.ToString("0.################", CultureInfo.InvariantCulture);

    public static string Clause(string model, string label, Comparison? op = null, double? threshold = null) =>
        Name(model) + ":" + Name(label) + (op is { } o && threshold is { } t ? o.Symbol() + Threshold(t) : "");

    // Binding strength: OR 1, AND 2, NOT 3, clause 4.
    private static int Strength(QueryNode n) => n switch { OrNode => 1, AndNode => 2, NotNode => 3, _ => 4 };

    private static void Write(StringBuilder sb, QueryNode node)
    {
        switch (node)
        {
            case ClauseNode c:
                sb.Append(Clause(c.Model, c.Label, c.Op, c.Threshold));
                break;
            case NotNode n:
                sb.Append("NOT ");
                Child(sb, n.Operand, needsParens: Strength(n.Operand) < 3);
                break;
            case AndNode a:
                Join(sb, a.Operands, " AND ", o => Strength(o) <= 2);
                break;
            case OrNode o:
                // A nested OR only exists when the user parenthesised it; keep those parentheses.
                Join(sb, o.Operands, " OR ", x => Strength(x) <= 1);
                break;
        }
    }

    private static void Join(StringBuilder sb, IReadOnlyList<QueryNode> operands, string op, Func<QueryNode, bool> needsParens)
    {
        for (var i = 0; i < operands.Count; i++)
        {
            if (i > 0) sb.Append(op);
            Child(sb, operands[i], needsParens(operands[i]));
        }
    }

    private static void Child(StringBuilder sb, QueryNode child, bool needsParens)
    {
        if (needsParens) sb.Append('(');
        Write(sb, child);
        if (needsParens) sb.Append(')');
    }
}
