using System.Text.Json.Serialization;
using Incubator.Web.Api;

namespace Incubator.Web.Extensions;

public static class ApiExtensions
{
    public static WebApplicationBuilder AddApi(this WebApplicationBuilder builder)
    {
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter());
            // A misspelt member ("oversampel", "datasetId" for "datasetVersionId") is a 400 naming it, not a request run
            // silently with the default value (BadRequestProblems turns the binder's error into the problem's "errors").
            o.SerializerOptions.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
        });
        builder.Services.AddProblemDetails();
        builder.Services.AddOpenApi("v1", o => o.AddDocumentTransformer((doc, _, _) =>
        {
            doc.Info.Title = "Incubator API";
            doc.Info.Description = "Send `Authorization: Bearer <personal token>` (create one under Account → API tokens).";
            return Task.CompletedTask;
        }));
        builder.Services.AddSingleton<CorpusUploads>();
        return builder;
    }

    public static WebApplication MapApi(this WebApplication app)
    {
        // Form antiforgery tokens are for the portal's own form posts; cross-origin calls with the cookie are refused for
        // every path by CrossSiteProtection (Origin / Sec-Fetch-Site), bearer-token calls carry no ambient credential.
        var api = app.MapGroup("/api").AddEndpointFilter<ApiErrorFilter>().DisableAntiforgery();
        api.MapProjectsApi();
        api.MapTasksApi();
        api.MapReviewApi();
        api.MapGenerationApi();
        api.MapMiningApi();
        api.MapLabellingApi();
        api.MapQueryApi();
        api.MapTrainingApi();
        // The OpenAPI document describes the API; it is public like any API description and reveals no data.
        app.MapOpenApi("/openapi/{documentName}.json");
        return app;
    }
}
