using System.Globalization;
using System.Text;

namespace Incubator.Domain.Mining.Query;

/// <summary>The result of parsing: the tree, or the first error with its exact position.</summary>
public sealed record QueryParseResult(QueryNode? Query, QueryError? Error)
{
    public bool Success => Query is not null;
}

/// <summary>Reads the query language (grammar in docs/decisions/0013-query-language.md): <c>model:label</c> clauses
/// with optional thresholds, NOT &gt; AND &gt; OR, parentheses, case-insensitive keywords, double-quoted names.
/// Recursive descent over a token list; the first error (by position) stops the parse.</summary>
public static class QueryParser
{
    public const int MaxLength = Common.InputLimits.Query;
    public const int MaxDepth = 64;

    private static readonly string[] Keywords = ["AND", "OR", "NOT"];

    public static QueryParseResult Parse(string? text)
    {
        text ??= "";
        if (text.Length > MaxLength)
            return new(null, new QueryError(MaxLength, text.Length - MaxLength, QueryErrorCodes.TooLong,
                $"The query is longer than {MaxLength} characters.", MaxLength));
        var tokens = Lexer.Tokenize(text);
        try
        {
            return new(new Parser(text, tokens).ParseQuery(), null);
        }
        catch (ParseFailure f)
        {
            return new(null, f.Error);
        }
    }

    public static QueryNode ParseOrThrow(string? text)
    {
        var r = Parse(text);
        return r.Query ?? throw new QuerySyntaxException(text ?? "", [r.Error!]);
    }

    /// <summary>A name may be written without quotes when every character is a word character and it is not a keyword.</summary>
    public static bool IsBareName(string name) =>
        name.Length > 0 && name.All(IsWordChar) && !Keywords.Contains(name, StringComparer.OrdinalIgnoreCase);

    internal static bool IsWordChar(char c) =>
        char.IsLetterOrDigit(c) || c is '_' or '-' or '.' or '\'' or '/' or '+' or '#'
        || char.GetUnicodeCategory(c) is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark
            or UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation;

    internal static bool TryParseProbability(string s, out double value)
    {
        value = 0;
        // Plain decimals only: no exponent, sign, thousands separator or culture-specific comma.
        if (s.Length == 0 || s.Any(c => c is not (>= '0' and <= '9' or '.')) || s.Count(c => c == '.') > 1 || s == ".") return false;
        return double.TryParse(s, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out value);
    }

    private enum Kind
    {
        Word,
        Quoted,
        Colon,
        LParen,
        RParen,
        Compare,
        And,
        Or,
        Not,
        Bad,
        End,
    }

    private sealed record Token(Kind Kind, string Value, TextSpan Span, Comparison? Comparison = null, QueryError? Error = null);

    private sealed class ParseFailure(QueryError error) : Exception(error.Message)
    {
        public QueryError Error { get; } = error;
    }

    private static class Lexer
    {
        public static List<Token> Tokenize(string s)
        {
            var tokens = new List<Token>();
            var i = 0;
            while (true)
            {
                while (i < s.Length && char.IsWhiteSpace(s[i])) i++;
                if (i >= s.Length)
                {
                    tokens.Add(new Token(Kind.End, "", new TextSpan(s.Length, 0)));
                    return tokens;
                }
                var start = i;
                var c = s[i];
                if (c == '"')
                {
                    var sb = new StringBuilder();
                    i++;
                    var closed = false;
                    while (i < s.Length)
                    {
                        if (s[i] == '\\' && i + 1 < s.Length && s[i + 1] is '"' or '\\')
                        {
                            sb.Append(s[i + 1]);
                            i += 2;
                        }
                        else if (s[i] == '"')
                        {
                            i++;
                            closed = true;
                            break;
                        }
                        else sb.Append(s[i++]);
                    }
                    if (!closed)
                    {
                        tokens.Add(Bad(start, s.Length - start, QueryErrorCodes.UnterminatedQuote,
                            "This quoted name has no closing '\"'."));
                        tokens.Add(new Token(Kind.End, "", new TextSpan(s.Length, 0)));
                        return tokens;
                    }
                    tokens.Add(new Token(Kind.Quoted, sb.ToString(), new TextSpan(start, i - start)));
                    continue;
                }
                switch (c)
                {
                    case ':':
                        tokens.Add(new Token(Kind.Colon, ":", new TextSpan(i++, 1)));
                        continue;
                    case '(':
                        tokens.Add(new Token(Kind.LParen, "(", new TextSpan(i++, 1)));
                        continue;
                    case ')':
                        tokens.Add(new Token(Kind.RParen, ")", new TextSpan(i++, 1)));
                        continue;
                    case '>' or '<' when i + 1 < s.Length && s[i + 1] == '=':
                        tokens.Add(new Token(Kind.Compare, s.Substring(i, 2), new TextSpan(i, 2), c == '>' ? Comparison.GreaterOrEqual : Comparison.LessOrEqual));
                        i += 2;
                        continue;
                    case '>' or '<':
                        tokens.Add(new Token(Kind.Compare, c.ToString(), new TextSpan(i++, 1), c == '>' ? Comparison.Greater : Comparison.Less));
                        continue;
                    case '=' or '!' when i + 1 < s.Length && s[i + 1] is '=' or '>' or '<':
                    case '=':
                    {
                        while (i < s.Length && s[i] is '=' or '!' or '>' or '<') i++;
                        var found = s[start..i];
                        tokens.Add(Bad(start, i - start, QueryErrorCodes.InvalidComparison,
                            $"'{found}' is not a comparison; use >=, >, <= or <.", found));
                        continue;
                    }
                    case '&' or '|' or '!':
                    {
                        while (i < s.Length && s[i] == c) i++;
                        var found = s[start..i];
                        var keyword = c switch { '&' => "AND", '|' => "OR", _ => "NOT" };
                        tokens.Add(Bad(start, i - start, QueryErrorCodes.UseKeyword, $"'{found}' is not an operator here; write {keyword}.", found, keyword));
                        continue;
                    }
                }
                if (IsWordChar(c))
                {
                    while (i < s.Length && IsWordChar(s[i])) i++;
                    var word = s[start..i];
                    var kind = word.ToUpperInvariant() switch { "AND" => Kind.And, "OR" => Kind.Or, "NOT" => Kind.Not, _ => Kind.Word };
                    tokens.Add(new Token(kind, word, new TextSpan(start, i - start)));
                    continue;
                }
                var ch = char.IsSurrogatePair(s, i) ? s.Substring(i, 2) : c.ToString();
                tokens.Add(Bad(start, ch.Length, QueryErrorCodes.InvalidCharacter,
                    $"The character '{ch}' cannot appear here; put names with such characters in double quotes.", ch));
                i += ch.Length;
            }
        }

        private static Token Bad(int start, int length, string code, string message, params object[] args) =>
            new(Kind.Bad, "", new TextSpan(start, length), Error: new QueryError(start, length, code, message, args));
    }

    private sealed class Parser(string text, List<Token> tokens)
    {
        private int _pos;

        private Token Current => tokens[_pos];

        private Token Advance() => tokens[_pos++];

        public QueryNode ParseQuery()
        {
            if (Current.Kind == Kind.End)
                throw new ParseFailure(new QueryError(0, 0, QueryErrorCodes.Empty, "The query is empty; write at least one clause such as model:label."));
            var node = ParseOr(0);
            var t = Current;
            switch (t.Kind)
            {
                case Kind.End:
                    return node;
                case Kind.RParen:
                    throw new ParseFailure(new QueryError(t.Span.Start, 1, QueryErrorCodes.UnmatchedCloseParen, "This ')' has no matching '('."));
                default:
                    throw Unexpected(t, QueryErrorCodes.ExpectedOperator, "expected AND, OR, ')' or the end of the query");
            }
        }

        private QueryNode ParseOr(int depth)
        {
            var first = ParseAnd(depth);
            if (Current.Kind != Kind.Or) return first;
            var operands = new List<QueryNode> { first };
            while (Current.Kind == Kind.Or)
            {
                Advance();
                operands.Add(ParseAnd(depth));
            }
            return new OrNode(operands, TextSpan.Cover(first.Span, operands[^1].Span));
        }

        private QueryNode ParseAnd(int depth)
        {
            var first = ParseNot(depth);
            if (Current.Kind != Kind.And) return first;
            var operands = new List<QueryNode> { first };
            while (Current.Kind == Kind.And)
            {
                Advance();
                operands.Add(ParseNot(depth));
            }
            return new AndNode(operands, TextSpan.Cover(first.Span, operands[^1].Span));
        }

        private QueryNode ParseNot(int depth)
        {
            if (Current.Kind != Kind.Not) return ParsePrimary(depth);
            var not = Advance();
            CheckDepth(not, depth + 1);
            var operand = ParseNot(depth + 1);
            return new NotNode(operand, TextSpan.Cover(not.Span, operand.Span));
        }

        private QueryNode ParsePrimary(int depth)
        {
            var t = Current;
            switch (t.Kind)
            {
                case Kind.LParen:
                {
                    CheckDepth(t, depth + 1);
                    Advance();
                    var inner = ParseOr(depth + 1);
                    var close = Current;
                    if (close.Kind != Kind.RParen)
                    {
                        var (_, column, _) = QueryError.Locate(text, t.Span.Start);
                        throw Unexpected(close, QueryErrorCodes.ExpectedCloseParen, $"expected ')' to close the '(' at column {column}", column);
                    }
                    Advance();
                    return inner;
                }
                case Kind.Word or Kind.Quoted:
                    return ParseClause();
                default:
                    throw Unexpected(t, QueryErrorCodes.ExpectedClause, "expected a clause (model:label), NOT or '('");
            }
        }

        private ClauseNode ParseClause()
        {
            var model = Name(Advance());
            var colon = Current;
            if (colon.Kind != Kind.Colon)
                throw Unexpected(colon, QueryErrorCodes.ExpectedColon, $"expected ':' after the model name '{model.Value}'", model.Value);
            Advance();
            var labelToken = Current;
            if (labelToken.Kind is not (Kind.Word or Kind.Quoted))
                throw Unexpected(labelToken, QueryErrorCodes.ExpectedLabel, $"expected a label name after '{model.Value}:'", model.Value);
            var label = Name(Advance());
            if (Current.Kind != Kind.Compare)
                return new ClauseNode(model.Value, label.Value, null, null, TextSpan.Cover(model.Span, label.Span), model.Span, label.Span);
            var op = Advance();
            var number = Current;
            if (number.Kind != Kind.Word || !TryParseProbability(number.Value, out var threshold))
                throw Unexpected(number, QueryErrorCodes.ExpectedNumber, $"expected a probability between 0 and 1 after '{op.Value}'", op.Value);
            Advance();
            if (threshold > 1)
                throw new ParseFailure(new QueryError(number.Span.Start, number.Span.Length, QueryErrorCodes.ThresholdOutOfRange,
                    $"The threshold {number.Value} is not a probability; use a number from 0 to 1.", number.Value));
            return new ClauseNode(model.Value, label.Value, op.Comparison, threshold, TextSpan.Cover(model.Span, number.Span), model.Span, label.Span, number.Span);
        }

        private static Token Name(Token t) =>
            t.Kind == Kind.Quoted && t.Value.Length == 0
                ? throw new ParseFailure(new QueryError(t.Span.Start, t.Span.Length, QueryErrorCodes.EmptyName, "A quoted name cannot be empty."))
                : t;

        private void CheckDepth(Token t, int depth)
        {
            if (depth > MaxDepth)
                throw new ParseFailure(new QueryError(t.Span.Start, t.Span.Length, QueryErrorCodes.TooDeep,
                    $"The query nests NOT and parentheses more than {MaxDepth} levels deep.", MaxDepth));
        }

        /// <summary>A lexing problem wins (it says more); otherwise "expected X but found Y" at the token.</summary>
        private static ParseFailure Unexpected(Token t, string code, string expected, params object[] args)
        {
            if (t.Error is not null) return new ParseFailure(t.Error);
            var atEnd = t.Kind == Kind.End;
            var source = atEnd ? "" : t.Kind == Kind.Quoted ? QueryPrinter.Quote(t.Value) : t.Value;
            var found = atEnd ? "the end of the query" : $"'{Shorten(source)}'";
            return new ParseFailure(new QueryError(t.Span.Start, t.Span.Length, code, $"{Capitalize(expected)} but found {found}.", [.. args, Shorten(source)])
            {
                AtEnd = atEnd,
            });
        }

        private static string Shorten(string s) => s.Length <= 40 ? s : s[..37] + "...";

        private static string Capitalize(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..];
    }
}
