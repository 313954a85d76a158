using Incubator.Domain.Training;

namespace Incubator.Domain.Mining.Query;

/// <summary>A validated query prepared for evaluation: its clauses in source order (result columns), the steps of
/// its funnel, and the distinct models it needs.</summary>
public sealed class CompiledQuery
{
    private readonly Dictionary<ClauseNode, int> _clauseIndex = new(ReferenceEqualityComparer.Instance);

    private CompiledQuery(QueryNode root)
    {
        Root = root;
        Clauses = root.Clauses();
        for (var i = 0; i < Clauses.Count; i++) _clauseIndex[Clauses[i]] = i;
        Conjuncts = root.Conjuncts();
        Models = Clauses.Select(c => c.Model).Distinct(StringComparer.Ordinal).ToList();
        Text = QueryPrinter.Print(root);
    }

    public QueryNode Root { get; }

    /// <summary>The canonical text of the query.</summary>
    public string Text { get; }

    public IReadOnlyList<ClauseNode> Clauses { get; }

    /// <summary>Operands of the top-level AND chain (one step holding the whole query when it is not an AND).</summary>
    public IReadOnlyList<QueryNode> Conjuncts { get; }

    public IReadOnlyList<string> Models { get; }

    /// <summary>Column headers for the clauses: their canonical text.</summary>
    public IReadOnlyList<string> ClauseTexts => Clauses.Select(QueryPrinter.Print).ToList();

    public static CompiledQuery Compile(string text, QuerySchema schema) => new(QueryValidator.ParseAndValidateOrThrow(text, schema));

    /// <summary>For a tree that has already been validated against the models it will run with.</summary>
    public static CompiledQuery FromValidated(QueryNode root) => new(root);

    internal int IndexOf(ClauseNode clause) => _clauseIndex[clause];

    // Plain loops, no LINQ: this runs for every text and every node (hot in the 100,000-text benchmark).
    internal bool Holds(QueryNode node, bool[] clausePassed)
    {
        switch (node)
        {
            case ClauseNode c:
                return clausePassed[_clauseIndex[c]];
            case NotNode n:
                return !Holds(n.Operand, clausePassed);
            case AndNode a:
                foreach (var o in a.Operands)
                    if (!Holds(o, clausePassed)) return false;
                return true;
            case OrNode o:
                foreach (var x in o.Operands)
                    if (Holds(x, clausePassed)) return true;
                return false;
            default:
                throw new ArgumentOutOfRangeException(nameof(node));
        }
    }
}

/// <summary>One text's outcome: whether the whole query matched, and per clause (in clause order) the probability
/// the clause's model gave its label and whether the clause held.</summary>
public sealed record QueryRowResult(int Index, bool Matched, float[] Probabilities, bool[] Passed);

public sealed record QueryBatchResult(IReadOnlyList<QueryRowResult> Rows, QueryFunnel Funnel);

/// <summary>Runs a compiled query over a batch of texts. Each model predicts the whole batch once, however many
/// clauses use it; clauses then read their label's probability from those predictions.</summary>
public static class QueryEvaluator
{
    public static QuerySchema SchemaOf(IReadOnlyDictionary<string, ITextClassifier> models) =>
        new(models.Select(m => new KeyValuePair<string, IReadOnlyList<string>>(m.Key, m.Value.Labels)));

    public static QueryBatchResult Evaluate(CompiledQuery query, IReadOnlyDictionary<string, ITextClassifier> models, IReadOnlyList<string> texts)
    {
        var predictions = new Dictionary<string, IReadOnlyList<Prediction>>(StringComparer.Ordinal);
        foreach (var name in query.Models)
        {
            if (!models.TryGetValue(name, out var model))
                throw new ArgumentException($"The query uses the model '{name}' but no such model was given.", nameof(models));
            var p = texts.Count == 0 ? [] : model.Predict(texts);
            if (p.Count != texts.Count)
                throw new InvalidOperationException($"The model '{name}' returned {p.Count} predictions for {texts.Count} texts.");
            predictions[name] = p;
        }

        var clauses = query.Clauses;
        var labelIndex = clauses.Select(c =>
        {
            var labels = models[c.Model].Labels;
            var i = IndexOfLabel(labels, c.Label);
            return i >= 0 ? i : throw new ArgumentException($"The model '{c.Model}' has no label '{c.Label}'.", nameof(query));
        }).ToArray();

        var funnel = new QueryFunnel(clauses.Count, query.Conjuncts.Count);
        var rows = new QueryRowResult[texts.Count];
        var conjunctPassed = new bool[query.Conjuncts.Count];
        for (var t = 0; t < texts.Count; t++)
        {
            var probabilities = new float[clauses.Count];
            var passed = new bool[clauses.Count];
            for (var c = 0; c < clauses.Count; c++)
            {
                var clause = clauses[c];
                var prediction = predictions[clause.Model][t];
                var probability = prediction.Probabilities[labelIndex[c]];
                probabilities[c] = probability;
                // Probabilities are floats: compare at float precision, so a 0.8 shown to the user is not "> 0.8".
                passed[c] = clause.Op is { } op && clause.Threshold is { } threshold
                    ? op.Holds(probability, (float)threshold)
                    : string.Equals(prediction.Label, clause.Label, StringComparison.Ordinal);
            }
            var chain = true;
            for (var k = 0; k < conjunctPassed.Length; k++)
            {
                chain = chain && query.Holds(query.Conjuncts[k], passed);
                conjunctPassed[k] = chain;
            }
            // The root is an AND chain exactly when there is more than one step: then the last step is the verdict.
            var matched = conjunctPassed.Length > 1 ? chain : query.Holds(query.Root, passed);
            funnel.Add(passed, conjunctPassed, matched);
            rows[t] = new QueryRowResult(t, matched, probabilities, passed);
        }
        return new QueryBatchResult(rows, funnel);
    }

    private static int IndexOfLabel(IReadOnlyList<string> labels, string label)
    {
        for (var i = 0; i < labels.Count; i++)
            if (string.Equals(labels[i], label, StringComparison.Ordinal)) return i;
        return -1;
    }
}

/// <summary>How many texts passed each clause on its own (clause order), and how many were still in after each step
/// of the top-level AND chain (cumulative). Counts add up across batches, so a resumed job keeps its funnel.</summary>
public sealed class QueryFunnel
{
    [System.Text.Json.Serialization.JsonConstructor]
    public QueryFunnel()
        : this(0, 0)
    {
    }

    public QueryFunnel(int clauseCount, int stepCount)
    {
        ClausePassed = new long[clauseCount];
        Cumulative = new long[stepCount];
    }

    public long Total { get; set; }

    public long Matched { get; set; }

    public long[] ClausePassed { get; set; }

    public long[] Cumulative { get; set; }

    internal void Add(bool[] passed, bool[] chain, bool matched)
    {
        Total++;
        if (matched) Matched++;
        for (var i = 0; i < passed.Length; i++) if (passed[i]) ClausePassed[i]++;
        for (var i = 0; i < chain.Length; i++) if (chain[i]) Cumulative[i]++;
    }

    public void Add(QueryFunnel other)
    {
        if (other.ClausePassed.Length != ClausePassed.Length || other.Cumulative.Length != Cumulative.Length)
            throw new ArgumentException("The funnels belong to different queries.", nameof(other));
        Total += other.Total;
        Matched += other.Matched;
        for (var i = 0; i < ClausePassed.Length; i++) ClausePassed[i] += other.ClausePassed[i];
        for (var i = 0; i < Cumulative.Length; i++) Cumulative[i] += other.Cumulative[i];
    }

    /// <summary>Printable lines: the number of texts, how many passed each clause on its own, how many remained after
    /// each step of the AND chain (when the query is one), and how many matched.</summary>
    public IReadOnlyList<string> Describe(CompiledQuery query)
    {
        var width = Math.Max(Total.ToString(System.Globalization.CultureInfo.InvariantCulture).Length, 5);
        string N(long n) => n.ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(width);
        var lines = new List<string> { $"texts    {N(Total)}" };
        for (var i = 0; i < query.Clauses.Count; i++)
            lines.Add($"clause {i + 1} {N(ClausePassed[i])}  {QueryPrinter.Print(query.Clauses[i])}");
        if (query.Conjuncts.Count > 1)
            for (var i = 0; i < query.Conjuncts.Count; i++)
                lines.Add($"step {i + 1}   {N(Cumulative[i])}  {(i == 0 ? "" : "AND ")}{QueryPrinter.PrintStep(query.Conjuncts[i])}");
        lines.Add($"matched  {N(Matched)}");
        return lines;
    }
}
