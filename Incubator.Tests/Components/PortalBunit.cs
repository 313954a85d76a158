using Bunit;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;

namespace Incubator.Tests.Components;

/// <summary>A bUnit context as the portal renders components: the real resource files, MudBlazor's services, loose JS
/// interop. MudBlazor registers services that only support async disposal, so each test owns an `await using` context.</summary>
internal static class PortalBunit
{
    public static BunitContext NewContext(Action<IServiceCollection>? services = null)
    {
        var ctx = new BunitContext();
        Incubator.Web.Extensions.UiLocalizationExtensions.AddIncubatorLocalization(ctx.Services);
        ctx.Services.AddMudServices();
        ctx.Services.AddSingleton(TimeProvider.System);
        ctx.Services.AddScoped<Incubator.Web.Components.Pages.Shared.BrowserTimeZone>();
        ctx.Services.AddScoped<Incubator.Web.Components.Pages.Shared.Dates>();
        ctx.Services.AddSingleton(new Incubator.Web.Components.Pages.Shared.MoneyFormat(Microsoft.Extensions.Options.Options.Create(new Incubator.Domain.Data.IncubatorOptions())));
        services?.Invoke(ctx.Services);
        ctx.JSInterop.Mode = JSRuntimeMode.Loose;
        return ctx;
    }
}
