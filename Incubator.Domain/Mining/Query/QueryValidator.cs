namespace Incubator.Domain.Mining.Query;

/// <summary>The models a query may use and each one's labels.</summary>
public sealed class QuerySchema
{
    private readonly Dictionary<string, IReadOnlyList<string>> _models;

    public QuerySchema(IEnumerable<KeyValuePair<string, IReadOnlyList<string>>> models)
    {
        _models = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var (name, labels) in models) _models[name] = labels;
    }

    public IReadOnlyCollection<string> Models => _models.Keys;

    public IReadOnlyList<string> LabelsOf(string model) => _models[model];

    /// <summary>The model's name as registered: an exact match, else the only case-insensitive match.</summary>
    public string? ResolveModel(string name) => Resolve(name, _models.Keys);

    public string? ResolveLabel(string model, string label) => Resolve(label, _models[model]);

    private static string? Resolve(string name, IEnumerable<string> candidates)
    {
        var list = candidates as IReadOnlyCollection<string> ?? candidates.ToList();
        if (list.Contains(name, StringComparer.Ordinal)) return name;
        var loose = list.Where(c => string.Equals(c, name, StringComparison.OrdinalIgnoreCase)).Take(2).ToList();
        return loose.Count == 1 ? loose[0] : null;
    }
}

/// <summary>Checks a parsed query against the available models: every unknown model or label is an error at its
/// position. Names that differ only in case are resolved to the registered spelling.</summary>
public static class QueryValidator
{
    public static (QueryNode? Query, IReadOnlyList<QueryError> Errors) Validate(QueryNode query, QuerySchema schema)
    {
        var errors = new List<QueryError>();
        var resolved = Rewrite(query, schema, errors);
        return (errors.Count == 0 ? resolved : null, errors);
    }

    /// <summary>Parse and validate in one step; a syntax error comes first, then all unknown names.</summary>
    public static (QueryNode? Query, IReadOnlyList<QueryError> Errors) ParseAndValidate(string text, QuerySchema schema)
    {
        var parsed = QueryParser.Parse(text);
        return parsed.Query is null ? (null, [parsed.Error!]) : Validate(parsed.Query, schema);
    }

    public static QueryNode ParseAndValidateOrThrow(string text, QuerySchema schema)
    {
        var (q, errors) = ParseAndValidate(text, schema);
        return q ?? throw new QuerySyntaxException(text, errors);
    }

    private static QueryNode Rewrite(QueryNode node, QuerySchema schema, List<QueryError> errors) => node switch
    {
        ClauseNode c => Resolve(c, schema, errors),
        NotNode n => n with { Operand = Rewrite(n.Operand, schema, errors) },
        AndNode a => a with { Operands = a.Operands.Select(o => Rewrite(o, schema, errors)).ToList() },
        OrNode o => o with { Operands = o.Operands.Select(x => Rewrite(x, schema, errors)).ToList() },
        _ => throw new ArgumentOutOfRangeException(nameof(node)),
    };

    private static ClauseNode Resolve(ClauseNode c, QuerySchema schema, List<QueryError> errors)
    {
        var model = schema.ResolveModel(c.Model);
        if (model is null)
        {
            var available = string.Join(", ", schema.Models.Order(StringComparer.OrdinalIgnoreCase).Select(QueryPrinter.Name));
            errors.Add(new QueryError(c.ModelSpan.Start, c.ModelSpan.Length, QueryErrorCodes.UnknownModel,
                schema.Models.Count == 0
                    ? $"There is no model '{c.Model}': no models are available."
                    : $"There is no model '{c.Model}'. Available: {available}.", c.Model, available));
            return c;
        }
        var label = schema.ResolveLabel(model, c.Label);
        if (label is null)
        {
            var labels = string.Join(", ", schema.LabelsOf(model).Select(QueryPrinter.Name));
            errors.Add(new QueryError(c.LabelSpan.Start, c.LabelSpan.Length, QueryErrorCodes.UnknownLabel,
                $"The model '{model}' has no label '{c.Label}'. Its labels: {labels}.", c.Label, model, labels));
            return c with { Model = model };
        }
        return c with { Model = model, Label = label };
    }
}
