using System.Globalization;
using Microsoft.AspNetCore.Localization;

namespace Incubator.Web.Extensions;

public static class UiLocalizationExtensions
{
    public static readonly string[] SupportedCultures = ["en", "ja"];

    public static WebApplicationBuilder AddUiLocalization(this WebApplicationBuilder builder)
    {
        builder.Services.AddIncubatorLocalization();
        // Model cards written by background jobs say auto's choice and the rounds in the card's language.
        builder.Services.AddSingleton<Incubator.Domain.Training.ICardNotes, ResourceCardNotes>();
        builder.Services.Configure<RequestLocalizationOptions>(o =>
        {
            var cultures = SupportedCultures.Select(c => new CultureInfo(c)).ToList();
            o.DefaultRequestCulture = new RequestCulture("en");
            o.SupportedCultures = cultures;
            o.SupportedUICultures = cultures;
            // The cookie (set by the language switcher and at sign-in from the user's saved choice) wins over the
            // browser's Accept-Language.
            o.RequestCultureProviders =
            [
                new QueryStringRequestCultureProvider(),
                new CookieRequestCultureProvider(),
                new AcceptLanguageHeaderRequestCultureProvider(),
            ];
        });
        return builder;
    }

    /// <summary>The resource files, read through <see cref="CountingLocalizer"/> (counts with their words).</summary>
    public static IServiceCollection AddIncubatorLocalization(this IServiceCollection services)
    {
        services.AddLocalization(o => o.ResourcesPath = "Resources");
        services.AddTransient<Microsoft.Extensions.Localization.IStringLocalizer<SharedResource>, CountingLocalizer>();
        return services;
    }

    public static WebApplication UseUiLocalization(this WebApplication app)
    {
        app.UseRequestLocalization();
        return app;
    }

    public static void WriteCultureCookie(HttpResponse response, string culture) =>
        response.Cookies.Append(
            CookieRequestCultureProvider.DefaultCookieName,
            CookieRequestCultureProvider.MakeCookieValue(new RequestCulture(culture)),
            new CookieOptions { Expires = DateTimeOffset.UtcNow.AddYears(1), IsEssential = true, SameSite = SameSiteMode.Lax, HttpOnly = false });
}
