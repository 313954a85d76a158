using Incubator.Web.Components;
using MudBlazor.Services;

namespace Incubator.Web.Extensions;

public static class PortalUiExtensions
{
    public static WebApplicationBuilder AddPortalUi(this WebApplicationBuilder builder)
    {
        builder.Services.AddRazorComponents().AddInteractiveServerComponents();
        builder.Services.AddMudServices();
        builder.Services.AddScoped<Incubator.Web.Components.Pages.Shared.PageErrors>();
        builder.Services.AddSingleton<Incubator.Web.Components.Pages.Shared.MoneyFormat>();
        return builder;
    }

    public static WebApplication MapPortalUi(this WebApplication app)
    {
        app.MapStaticAssets();
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
        return app;
    }
}
