using Incubator.Domain.Mining.Query;

namespace Incubator.Tests.Mining;

public sealed class QueryValidatorTests
{
    private static readonly QuerySchema Schema = new(new Dictionary<string, IReadOnlyList<string>>
    {
        ["urgency"] = ["urgent", "normal"],
        ["customer intent"] = ["billing issue", "outage", "other"],
        ["Sentiment"] = ["positive", "negative"],
    });

    [Fact]
    public void Unknown_model_is_an_error_at_the_model_name_listing_the_available_models()
    {
        var (q, errors) = QueryValidator.ParseAndValidate("urgency:urgent AND topic:shipping", Schema);
        Assert.Null(q);
        var e = Assert.Single(errors);
        Assert.Equal(QueryErrorCodes.UnknownModel, e.Code);
        Assert.Equal((19, 5), (e.Offset, e.Length));
        Assert.Equal("There is no model 'topic'. Available: \"customer intent\", Sentiment, urgency.", e.Message);
    }

    [Fact]
    public void Unknown_label_is_an_error_at_the_label_and_every_problem_is_reported()
    {
        var text = "urgency:critical OR \"customer intent\":\"billing\" OR nope:x";
        var (q, errors) = QueryValidator.ParseAndValidate(text, Schema);
        Assert.Null(q);
        Assert.Equal(3, errors.Count);
        Assert.Equal((QueryErrorCodes.UnknownLabel, 8, 8), (errors[0].Code, errors[0].Offset, errors[0].Length));
        Assert.Equal("The model 'urgency' has no label 'critical'. Its labels: urgent, normal.", errors[0].Message);
        Assert.Equal((QueryErrorCodes.UnknownLabel, 38, 9), (errors[1].Code, errors[1].Offset, errors[1].Length));
        Assert.Equal((QueryErrorCodes.UnknownModel, 51, 4), (errors[2].Code, errors[2].Offset, errors[2].Length));
        Assert.Contains("^~~~~~~~", errors[0].Describe(text));
    }

    [Fact]
    public void Names_differing_only_in_case_resolve_to_the_registered_spelling()
    {
        var (q, errors) = QueryValidator.ParseAndValidate("sentiment:POSITIVE AND URGENCY:urgent>=0.5", Schema);
        Assert.Empty(errors);
        Assert.Equal("Sentiment:positive AND urgency:urgent>=0.5", QueryPrinter.Print(q!));
    }

    [Fact]
    public void A_syntax_error_is_reported_before_names_are_checked()
    {
        var ex = Assert.Throws<QuerySyntaxException>(() => QueryValidator.ParseAndValidateOrThrow("nope:x AND", Schema));
        Assert.Equal(QueryErrorCodes.ExpectedClause, Assert.Single(ex.Errors).Code);
        var domain = ex.ToValidationException();
        Assert.Equal(QueryErrorCodes.ExpectedClause, Assert.Single(domain.Details).Code);
    }
}
