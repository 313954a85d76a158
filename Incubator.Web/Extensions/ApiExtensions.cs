using System.Text.Json.Serialization;
using Incubator.Web.Api;

namespace Incubator.Web.Extensions;

public static class ApiExtensions
{
    public static WebApplicationBuilder AddApi(this WebApplicationBuilder builder)
    {
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.Converters.Add(new JsonStringEnumConverter()));
        builder.Services.AddProblemDetails();
        builder.Services.AddSingleton<CorpusUploads>();
        return builder;
    }

    public static WebApplication MapApi(this WebApplication app)
    {
        // Cookie-authenticated calls from the browser are same-site JSON; antiforgery applies to form posts only.
        var api = app.MapGroup("/api").AddEndpointFilter<ApiErrorFilter>().DisableAntiforgery();
        api.MapProjectsApi();
        api.MapTasksApi();
        api.MapReviewApi();
        api.MapMiningApi();
        return app;
    }
}
