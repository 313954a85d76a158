using Incubator.Web.Components;
using Incubator.Web.Components.Pages.Shared;
using Microsoft.AspNetCore.Components.Web;
using MudBlazor.Services;

namespace Incubator.Web.Extensions;

public static class PortalUiExtensions
{
    public static WebApplicationBuilder AddPortalUi(this WebApplicationBuilder builder)
    {
        // The reader's time zone travels from the prerendered page into its circuit (BrowserTimeZone).
        builder.Services.AddRazorComponents().AddInteractiveServerComponents()
            .RegisterPersistentService<BrowserTimeZone>(RenderMode.InteractiveServer);
        builder.Services.AddScoped<BrowserTimeZone>();
        builder.Services.AddScoped<Dates>();
        builder.Services.AddMudServices();
        builder.Services.AddScoped<Incubator.Web.Components.Pages.Shared.PageErrors>();
        builder.Services.AddSingleton<Incubator.Web.Components.Pages.Shared.MoneyFormat>();
        return builder;
    }

    public static WebApplication MapPortalUi(this WebApplication app)
    {
        app.MapStaticAssets();
        // Each request (a prerendered page among them) knows the reader's time zone from the cookie their browser wrote.
        app.Use((context, next) =>
        {
            if (context.Request.Cookies.TryGetValue(BrowserTimeZone.CookieName, out var zone))
                context.RequestServices.GetRequiredService<BrowserTimeZone>().TrySet(Uri.UnescapeDataString(zone));
            return next(context);
        });
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
        return app;
    }
}
