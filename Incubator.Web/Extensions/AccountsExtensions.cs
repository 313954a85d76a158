using System.Security.Claims;
using Incubator.Domain.Accounts;
using Incubator.Domain.Data;
using Incubator.Web.Accounts;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Localization;
using Microsoft.AspNetCore.Mvc;

namespace Incubator.Web.Extensions;

public static class AccountsExtensions
{
    public static WebApplicationBuilder AddAccounts(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddCascadingAuthenticationState();
        services.AddScoped<AuthenticationStateProvider, IdentityRevalidatingAuthenticationStateProvider>();
        services.AddAuthentication(o =>
            {
                o.DefaultScheme = ApiTokenAuthenticationHandler.SelectorScheme;
                o.DefaultSignInScheme = IdentityConstants.ExternalScheme;
            })
            .AddPolicyScheme(ApiTokenAuthenticationHandler.SelectorScheme, null, o => o.ForwardDefaultSelector = ApiTokenAuthenticationHandler.SelectScheme)
            .AddScheme<AuthenticationSchemeOptions, ApiTokenAuthenticationHandler>(ApiTokenAuthenticationHandler.SchemeName, null, null)
            .AddIdentityCookies();
        services.ConfigureApplicationCookie(o =>
        {
            o.LoginPath = "/account/login";
            o.AccessDeniedPath = "/account/access-denied";
            o.Cookie.Name = "incubator.auth";
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Lax;
            o.SlidingExpiration = true;
            o.ExpireTimeSpan = TimeSpan.FromDays(14);
            // Every request with the cookie checks the account's security stamp, so signing out, a password change or an
            // administrator's reset ends copies of the cookie at once, not at the next periodic check.
            o.Events.OnValidatePrincipal = SessionValidation.ValidateAsync;
            // Programs calling the API or the hub want a status code, not an HTML sign-in page.
            o.Events.OnRedirectToLogin = ctx => IsMachinePath(ctx.Request) ? Status(ctx.Response, 401) : Redirect(ctx.Response, ctx.RedirectUri);
            o.Events.OnRedirectToAccessDenied = ctx => IsMachinePath(ctx.Request) ? Status(ctx.Response, 403) : Redirect(ctx.Response, ctx.RedirectUri);
        });
        services.AddIdentityCore<AppUser>(o =>
            {
                o.User.RequireUniqueEmail = true;
                o.Password.RequiredLength = 8;
                o.Password.RequireDigit = true;
                o.Password.RequireLowercase = true;
                o.Password.RequireUppercase = true;
                o.Password.RequireNonAlphanumeric = false;
                o.Password.RequiredUniqueChars = 4;
                // Failed sign-ins are throttled by SignInThrottle (per account name and per address); Identity's own
                // lock-out would let anyone lock any account and would answer differently for unknown addresses.
                o.Lockout.AllowedForNewUsers = false;
                o.SignIn.RequireConfirmedAccount = false;
            })
            .AddRoles<IdentityRole>()
            .AddClaimsPrincipalFactory<Incubator.Web.Accounts.DisplayNameClaims>()
            .AddEntityFrameworkStores<IncubatorDbContext>()
            .AddSignInManager()
            .AddDefaultTokenProviders();
        services.AddScoped(sp => sp.GetRequiredService<Microsoft.EntityFrameworkCore.IDbContextFactory<IncubatorDbContext>>().CreateDbContext());
        services.AddAuthorization(ProjectPolicies.Add);
        services.AddSingleton<IAuthorizationHandler, ProjectRoleHandler>();
        services.AddSingleton<SignInTickets>();
        services.AddIncubatorAccounts(builder.Configuration);
        services.AddHttpContextAccessor();
        services.AddScoped<AccountService>();
        services.AddScoped<UserAdministration>();
        return builder;
    }

    private static bool IsMachinePath(HttpRequest request) =>
        request.Path.StartsWithSegments("/api") || request.Path.StartsWithSegments("/hubs");

    private static Task Status(HttpResponse response, int code)
    {
        response.StatusCode = code;
        return Task.CompletedTask;
    }

    private static Task Redirect(HttpResponse response, string uri)
    {
        response.Redirect(uri);
        return Task.CompletedTask;
    }

    public static WebApplication MapAccountEndpoints(this WebApplication app)
    {
        var account = app.MapGroup("/account");

        account.MapPost("/signin-ticket", async ([FromForm] string ticket, SignInTickets tickets, SignInManager<AppUser> signIn,
            UserManager<AppUser> users, SignInThrottle throttle, HttpContext http) =>
        {
            var t = tickets.Read(ticket);
            var user = t is null ? null : await users.FindByIdAsync(t.UserId);
            if (t is null || user is null || user.SecurityStamp != t.SecurityStamp || await throttle.AccountBlockedUntilAsync(user.Email) is not null)
                return Results.LocalRedirect("/account/login?expired=1");
            await signIn.SignInAsync(user, isPersistent: t.Remember);
            if (user.PreferredCulture is { } culture) UiLocalizationExtensions.WriteCultureCookie(http.Response, culture);
            return Results.LocalRedirect(SignInTickets.SafeReturnUrl(t.ReturnUrl));
        });

        account.MapPost("/logout", async ([FromForm] string? returnUrl, SignInManager<AppUser> signIn, AccountService accounts, HttpContext http) =>
        {
            if (http.User.FindFirstValue(ClaimTypes.NameIdentifier) is { } userId) await accounts.SignOutEverywhereAsync(userId);
            await signIn.SignOutAsync();
            return Results.LocalRedirect("/");
        });

        account.MapPost("/culture", async ([FromForm] string culture, [FromForm] string? returnUrl, HttpContext http, AccountService accounts) =>
        {
            if (!UiLocalizationExtensions.SupportedCultures.Contains(culture))
                return Results.BadRequest($"Unsupported language '{culture}'. Supported: {string.Join(", ", UiLocalizationExtensions.SupportedCultures)}.");
            UiLocalizationExtensions.WriteCultureCookie(http.Response, culture);
            if (http.User.FindFirstValue(ClaimTypes.NameIdentifier) is { } userId)
                await accounts.SetPreferredCultureAsync(userId, culture);
            return Results.LocalRedirect(SignInTickets.SafeReturnUrl(returnUrl));
        });
        return app;
    }
}
