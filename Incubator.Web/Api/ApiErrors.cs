using Incubator.Domain.Common;

namespace Incubator.Web.Api;

/// <summary>Turns the domain's exceptions into problem responses: what is wrong, and where.</summary>
internal sealed class ApiErrorFilter : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context);
        }
        catch (DomainValidationException ex)
        {
            // "problems" carries the stable codes (the same ones the portal localises) beside the English messages.
            return Results.ValidationProblem(ex.Errors.ToDictionary(e => e.Key, e => e.Value), title: "The request has invalid fields.",
                extensions: new Dictionary<string, object?>
                {
                    ["problems"] = ex.Details.Select(d => new { field = d.Field, code = d.Code, message = d.Message }).ToList(),
                });
        }
        catch (ForbiddenException ex)
        {
            return Results.Problem(ex.Message, statusCode: StatusCodes.Status403Forbidden, title: "Forbidden");
        }
        catch (NotFoundException ex)
        {
            return Results.Problem(ex.Message, statusCode: StatusCodes.Status404NotFound, title: "Not found");
        }
        catch (ConflictException ex)
        {
            return Results.Problem(ex.Message, statusCode: StatusCodes.Status409Conflict, title: "Conflict");
        }
    }
}
