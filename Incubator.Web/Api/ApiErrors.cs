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
            return await next(context);
        }
        catch (DomainValidationException ex)
        {
            // "problems" carries the stable codes (the same ones the portal localises) beside the English messages.
            var http = context.HttpContext;
            return Results.ValidationProblem(ex.Errors.ToDictionary(e => e.Key, e => e.Value), title: ProblemTitles.Of(http, ProblemTitles.Invalid),
                extensions: new Dictionary<string, object?>
                {
                    ["titleCode"] = ProblemTitles.Invalid,
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
internal sealed class BadRequestProblems(RequestDelegate next, IProblemDetailsService problems, ILogger<BadRequestProblems> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
            // The binder answers some unreadable bodies with a bare status code (the body stream's own 413 among them).
            if (!context.Response.HasStarted && context.Response.StatusCode is 400 or 413 or 415 && IsApi(context.Request))
                await problems.TryWriteAsync(new ProblemDetailsContext
                {
                    HttpContext = context,
                    ProblemDetails = { Status = context.Response.StatusCode, Title = ProblemTitles.Of(context, Title(context.Response.StatusCode)) },
                });
        }
        catch (BadHttpRequestException caught) when (!context.Response.HasStarted)
        {
            // The binder wraps the body's own failure (Kestrel's 413) in a 400 "failed to read": the inner one is the truth.
            var ex = Innermost(caught);
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
            var written = await problems.TryWriteAsync(problem);
            if (!written) await context.Response.WriteAsync(detail);
        }
    }

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
