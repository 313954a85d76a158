using System.Text.Json.Serialization;
using Incubator.Web.Hubs;

namespace Incubator.Web.Extensions;

public static class RealtimeExtensions
{
    public static WebApplicationBuilder AddRealtime(this WebApplicationBuilder builder)
    {
        builder.Services.AddSignalR().AddJsonProtocol(o => o.PayloadSerializerOptions.Converters.Add(new JsonStringEnumConverter()));
        builder.Services.AddSingleton<HubMembership>();
        builder.Services.AddHostedService<HubEventRelay>();
        return builder;
    }

    public static WebApplication MapRealtime(this WebApplication app)
    {
        app.MapHub<ProjectsHub>(ProjectsHub.Path);
        return app;
    }
}
