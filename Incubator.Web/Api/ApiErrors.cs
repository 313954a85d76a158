using System.Collections.Concurrent;
using System.Reflection;
using Incubator.Domain.Common;
using Microsoft.Extensions.Localization;

namespace Incubator.Web.Api;

/// <summary>Turns the domain's exceptions into problem responses: what is wrong, and where. Before the handler runs it
/// refuses enum values the type does not define (JSON numbers and query strings bind any number to an enum).</summary>
internal sealed class ApiErrorFilter : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            EnumArguments.Check(context.Arguments);
            var query = context.HttpContext.Request.Query;
            InputLimits.CheckPaging(QueryInt(query, "page"), QueryInt(query, "pageSize"));
            return await next(context);
        }
        catch (DomainValidationException ex)
        {
            // "problems" carries the stable codes (the same ones the portal localises) beside the English messages. A write
            // to an archived project is a valid request the project's state refuses: 409 Conflict, same shape and code.
            var http = context.HttpContext;
            var archived = Incubator.Domain.Projects.ProjectAccess.IsArchived(ex);
            var titleCode = archived ? ProblemTitles.Conflict : ProblemTitles.Invalid;
            return Results.ValidationProblem(ex.Errors.ToDictionary(e => e.Key, e => e.Value), title: ProblemTitles.Of(http, titleCode),
                statusCode: archived ? StatusCodes.Status409Conflict : StatusCodes.Status400BadRequest,
                extensions: new Dictionary<string, object?>
                {
                    ["titleCode"] = titleCode,
                    ["problems"] = ex.Details.Select(d => new { field = d.Field, code = d.Code, message = d.Message }).ToList(),
                });
        }
        catch (ForbiddenException ex)
        {
            return ProblemTitles.Problem(context.HttpContext, ex.Message, StatusCodes.Status403Forbidden, ProblemTitles.Forbidden);
        }
        catch (NotFoundException ex)
        {
            return ProblemTitles.Problem(context.HttpContext, ex.Message, StatusCodes.Status404NotFound, ProblemTitles.NotFound);
        }
        catch (ConflictException ex)
        {
            return ProblemTitles.Problem(context.HttpContext, ex.Message, StatusCodes.Status409Conflict, ProblemTitles.Conflict);
        }
    }

    /// <summary>A whole-number query value, or null when absent or not a number (the binder refuses those by name).</summary>
    private static int? QueryInt(IQueryCollection query, string name) =>
        query.TryGetValue(name, out var values) && int.TryParse(values.ToString(), System.Globalization.NumberStyles.Integer,
            System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : null;
}

/// <summary>Undefined enum values among an endpoint's arguments: the argument itself (a query parameter) or a property
/// of a request record (a JSON body, an <c>[AsParameters]</c> group), one level deep — the shape of every request
/// type here.</summary>
internal static class EnumArguments
{
    private static readonly ConcurrentDictionary<Type, PropertyInfo[]> EnumProperties = new();

    public static void Check(IList<object?> arguments)
    {
        foreach (var argument in arguments)
        {
            if (argument is null) continue;
            var type = argument.GetType();
            if (type.IsEnum)
            {
                Require(type.Name, argument);
                continue;
            }
            if (type.Namespace?.StartsWith("Incubator.", StringComparison.Ordinal) != true) continue;
            foreach (var property in EnumProperties.GetOrAdd(type, Find))
                if (property.GetValue(argument) is { } value) Require(property.Name, value);
        }
    }

    private static PropertyInfo[] Find(Type type) => type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(p => p.GetIndexParameters().Length == 0 && (Nullable.GetUnderlyingType(p.PropertyType) ?? p.PropertyType).IsEnum)
        .ToArray();

    private static void Require(string name, object value)
    {
        var enumType = value.GetType();
        if (!Enum.IsDefined(enumType, value))
            throw InputLimits.UnknownEnumValue(char.ToLowerInvariant(name[0]) + name[1..], value.ToString() ?? "", enumType);
    }
}

/// <summary>A body over an endpoint's own limit: 413 with a stable code (the portal's pages localise "Error.{Code}").</summary>
internal sealed class RequestTooLargeException(string code, string message) : BadHttpRequestException(message, StatusCodes.Status413PayloadTooLarge)
{
    public string Code { get; } = code;
}

/// <summary>A request the server could not read — a body over its size limit (413, whether it announced its length or
/// came in chunks), malformed JSON, a wrong content type — becomes a problem document with the status Kestrel or the
/// binder chose, instead of an unhandled exception (500 with an HTML page). Pages keep their own error handling.</summary>
internal sealed partial class BadRequestProblems(RequestDelegate next, IProblemDetailsService problems, ILogger<BadRequestProblems> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
            // The binder answers some unreadable bodies with a bare status code (the body stream's own 413 among them).
            if (!context.Response.HasStarted && context.Response.StatusCode is 400 or 413 or 415 && IsApi(context.Request))
            {
                UseRequestCulture(context);
                await problems.TryWriteAsync(new ProblemDetailsContext
                {
                    HttpContext = context,
                    ProblemDetails = { Status = context.Response.StatusCode, Title = ProblemTitles.Of(context, Title(context.Response.StatusCode)) },
                });
            }
        }
        catch (BadHttpRequestException caught) when (!context.Response.HasStarted)
        {
            // The binder wraps the body's own failure (Kestrel's 413) in a 400 "failed to read": the inner one is the truth.
            var ex = Innermost(caught);
            UseRequestCulture(context);
            logger.LogInformation("Refused a bad request to {Path}: {Status} {Message}", context.Request.Path, ex.StatusCode, ex.Message);
            context.Response.Clear();
            context.Response.StatusCode = ex.StatusCode;
            // The binder's message names the parameter; the inner JSON error says where in the body it went wrong.
            var detail = ex.InnerException is System.Text.Json.JsonException json ? $"{ex.Message} {json.Message}" : ex.Message;
            var problem = new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails = { Status = ex.StatusCode, Title = ProblemTitles.Of(context, Title(ex.StatusCode)), Detail = detail },
                Exception = ex,
            };
            if (ex is RequestTooLargeException { Code: var code }) problem.ProblemDetails.Extensions["code"] = code;
            if (ex.StatusCode == StatusCodes.Status400BadRequest && FieldProblem(context, caught) is { } field)
            {
                // Like a validation problem: the field, a stable code and a message in the request's language.
                problem.ProblemDetails.Extensions["errors"] = new Dictionary<string, string[]> { [field.Field] = [field.Message] };
                problem.ProblemDetails.Extensions["problems"] = new[] { new { field = field.Field, code = field.Code, message = field.Message } };
            }
            var written = await problems.TryWriteAsync(problem);
            if (!written) await context.Response.WriteAsync(detail);
        }
    }

    /// <summary>The request localization middleware (after this one) chose the request's culture, but an exception or a
    /// return brings control back here without it: its choice, kept in the request's features, is applied again so
    /// titles and messages are in the user's language.</summary>
    private static void UseRequestCulture(HttpContext context)
    {
        if (context.Features.Get<Microsoft.AspNetCore.Localization.IRequestCultureFeature>() is { } chosen)
        {
            System.Globalization.CultureInfo.CurrentCulture = chosen.RequestCulture.Culture;
            System.Globalization.CultureInfo.CurrentUICulture = chosen.RequestCulture.UICulture;
        }
    }

    /// <summary>The member of the body (a JSON path without "$.", such as <c>perLabel</c> or <c>texts[2]</c>) or the query
    /// parameter the binder could not read, when its message says which.</summary>
    internal static (string Field, string Code, string Message)? FieldProblem(HttpContext context, BadHttpRequestException ex)
    {
        string? field = null;
        var code = "RequestFieldInvalid";
        for (Exception? e = ex; e is not null && field is null; e = e.InnerException)
        {
            if (e is System.Text.Json.JsonException json)
            {
                var path = json.Path is { Length: > 0 } p ? p : "$";
                if (UnmappedMember().Match(json.Message) is { Success: true } unmapped)
                {
                    code = "RequestFieldUnknown";
                    path = path.EndsWith("." + unmapped.Groups[1].Value, StringComparison.Ordinal) ? path : $"{path}.{unmapped.Groups[1].Value}";
                }
                else if (json.Message.Contains("could not be converted", StringComparison.Ordinal) is false)
                    return null; // malformed JSON: the detail's line and position say where
                field = path == "$" ? "$" : path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');
            }
            else if (BoundParameter().Match(e.Message) is { Success: true } bound)
                field = bound.Groups[1].Value;
        }
        if (field is null) return null;
        var localizer = context.RequestServices.GetRequiredService<IStringLocalizer<SharedResource>>();
        return (field, code, localizer["Error." + code, field]);
    }

    [System.Text.RegularExpressions.GeneratedRegex("The JSON property '([^']+)' could not be mapped")]
    private static partial System.Text.RegularExpressions.Regex UnmappedMember();

    [System.Text.RegularExpressions.GeneratedRegex("^Failed to bind parameter \"(?:[^\"]* )?([A-Za-z_][A-Za-z0-9_]*)\" from ")]
    private static partial System.Text.RegularExpressions.Regex BoundParameter();

    private static bool IsApi(HttpRequest request) => request.Path.StartsWithSegments("/api") || request.Path.StartsWithSegments("/hubs");

    private static BadHttpRequestException Innermost(BadHttpRequestException ex)
    {
        var found = ex;
        for (var inner = ex.InnerException; inner is not null; inner = inner.InnerException)
            if (inner is BadHttpRequestException bad) found = bad;
        return found;
    }

    private static string Title(int status) => status switch
    {
        StatusCodes.Status413PayloadTooLarge => ProblemTitles.TooLarge,
        StatusCodes.Status415UnsupportedMediaType => ProblemTitles.Unsupported,
        _ => ProblemTitles.Unreadable,
    };
}

/// <summary>Problem documents' titles, in the request's language (cookie, query or Accept-Language; English when none is
/// asked for). The codes here are the resource keys' stable suffixes ("Problem.{Code}"); a validation problem also
/// carries its code as "titleCode", and every problem keeps its status and, where it has one, its domain code.</summary>
internal static class ProblemTitles
{
    public const string Invalid = "Invalid";
    public const string Forbidden = "Forbidden";
    public const string NotFound = "NotFound";
    public const string Conflict = "Conflict";
    public const string TooLarge = "TooLarge";
    public const string Unsupported = "Unsupported";
    public const string Unreadable = "Unreadable";

    public static string Of(HttpContext http, string code) =>
        http.RequestServices.GetRequiredService<IStringLocalizer<SharedResource>>()["Problem." + code];

    public static IResult Problem(HttpContext http, string detail, int status, string code) =>
        Results.Problem(detail, statusCode: status, title: Of(http, code), extensions: new Dictionary<string, object?> { ["titleCode"] = code });
}
