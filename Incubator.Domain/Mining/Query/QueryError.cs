using System.Globalization;
using System.Text;
using Incubator.Domain.Common;

namespace Incubator.Domain.Mining.Query;

/// <summary>Stable codes of everything that can be wrong with a query. The portal localises them as
/// "Error.{Code}" formatted with <see cref="QueryError.Args"/>.</summary>
public static class QueryErrorCodes
{
    public const string Empty = "QueryEmpty";
    public const string TooLong = "QueryTooLong";
    public const string TooDeep = "QueryTooDeep";
    public const string ExpectedClause = "QueryExpectedClause";
    public const string ExpectedColon = "QueryExpectedColon";
    public const string ExpectedLabel = "QueryExpectedLabel";
    public const string ExpectedNumber = "QueryExpectedNumber";
    public const string ThresholdOutOfRange = "QueryThresholdOutOfRange";
    public const string ExpectedOperator = "QueryExpectedOperator";
    public const string ExpectedCloseParen = "QueryExpectedCloseParen";
    public const string UnmatchedCloseParen = "QueryUnmatchedCloseParen";
    public const string UnterminatedQuote = "QueryUnterminatedQuote";
    public const string EmptyName = "QueryEmptyName";
    public const string InvalidCharacter = "QueryInvalidCharacter";
    public const string UseKeyword = "QueryUseKeyword";
    public const string InvalidComparison = "QueryInvalidComparison";
    public const string UnknownModel = "QueryUnknownModel";
    public const string UnknownLabel = "QueryUnknownLabel";

    public static readonly IReadOnlyList<string> All =
    [
        Empty, TooLong, TooDeep, ExpectedClause, ExpectedColon, ExpectedLabel, ExpectedNumber, ThresholdOutOfRange, ExpectedOperator,
        ExpectedCloseParen, UnmatchedCloseParen, UnterminatedQuote, EmptyName, InvalidCharacter, UseKeyword, InvalidComparison, UnknownModel,
        UnknownLabel,
    ];
}

/// <summary>One problem in a query: where (0-based offset and length in the text), a stable code, the English
/// message, and the arguments the message was formatted with (for localisation).</summary>
public sealed record QueryError(int Offset, int Length, string Code, string Message, params object[] Args)
{
    /// <summary>True when the problem is that the query stopped too early; the "found" argument is then empty and the
    /// UI says "the end of the query" in its own language.</summary>
    public bool AtEnd { get; init; }

    /// <summary>The text line holding the error, a caret line under the offending characters, and the message, e.g.
    /// <code>
    /// urgency:urgent &gt;= high
    ///                   ^~~~ expected a probability between 0 and 1 after '&gt;=' but found 'high' (line 1, column 19)
    /// </code></summary>
    public string Describe(string query)
    {
        var (line, column, lineText) = Locate(query, Offset);
        var sb = new StringBuilder();
        sb.AppendLine(lineText);
        // Keep tabs so the caret lines up under the same characters in a terminal.
        for (var i = 0; i < column - 1 && i < lineText.Length; i++) sb.Append(lineText[i] == '\t' ? '\t' : ' ');
        for (var i = lineText.Length; i < column - 1; i++) sb.Append(' ');
        var width = Math.Max(1, Math.Min(Length, Math.Max(1, lineText.Length - (column - 1))));
        sb.Append('^').Append(new string('~', width - 1));
        sb.Append(' ').Append(Message).Append(CultureInfo.InvariantCulture, $" (line {line}, column {column})");
        return sb.ToString();
    }

    /// <summary>1-based line and column of an offset, and the text of that line.</summary>
    public static (int Line, int Column, string LineText) Locate(string query, int offset)
    {
        offset = Math.Clamp(offset, 0, query.Length);
        var lineStart = offset == 0 ? 0 : query.LastIndexOf('\n', offset - 1) + 1;
        var line = 1 + query.AsSpan(0, lineStart).Count('\n');
        var lineEnd = query.IndexOf('\n', lineStart);
        var text = (lineEnd < 0 ? query[lineStart..] : query[lineStart..lineEnd]).TrimEnd('\r');
        return (line, offset - lineStart + 1, text);
    }

    public DomainError ToDomainError(string field = "expression") => new(field, Code, Message, Args);
}

/// <summary>A query that cannot be parsed or does not fit the available models.</summary>
public sealed class QuerySyntaxException(string query, IReadOnlyList<QueryError> errors)
    : Exception(string.Join(Environment.NewLine, errors.Select(e => e.Describe(query))))
{
    public string Query { get; } = query;

    public IReadOnlyList<QueryError> Errors { get; } = errors;

    public DomainValidationException ToValidationException(string field = "expression") => new(Errors.Select(e => e.ToDomainError(field)).ToList());
}
