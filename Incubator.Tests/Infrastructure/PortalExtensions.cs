using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using Incubator.Domain.Accounts;
using Incubator.Domain.Data;
using Incubator.Web.Accounts;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.Infrastructure;

/// <summary>Shortcuts that go through the portal's real services (never around them).</summary>
public static class PortalExtensions
{
    /// <summary>Satisfies the configured rules: 8+ characters, a digit, upper and lower case, 4+ distinct characters.</summary>
    public const string GoodPassword = "Sunflower7Seeds";

    /// <summary>How the API serialises (web defaults, enums as strings).</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    public static string UniqueEmail(string prefix) => $"{prefix}-{Guid.NewGuid():N}@example.test";

    public static async Task<T> InScopeAsync<T>(this PortalFactory portal, Func<IServiceProvider, Task<T>> action)
    {
        await using var scope = portal.Services.CreateAsyncScope();
        return await action(scope.ServiceProvider);
    }

    /// <summary>Registers a new account (the address must not have one: registering a known address changes nothing and
    /// returns no account, which this shortcut reports as an error).</summary>
    public static Task<AppUser> RegisterAsync(this PortalFactory portal, string email, string? password = GoodPassword, string? displayName = null,
        string? invitation = null) =>
        portal.InScopeAsync(async sp => await sp.GetRequiredService<AccountService>().RegisterAsync(email, password, displayName, invitation)
            ?? throw new InvalidOperationException($"{email} already has an account."));

    /// <summary>Reads the database through a fresh context, as another request would.</summary>
    public static async Task<T> QueryAsync<T>(this PortalFactory portal, Func<IncubatorDbContext, Task<T>> query)
    {
        var factory = portal.Services.GetRequiredService<IDbContextFactory<IncubatorDbContext>>();
        await using var db = await factory.CreateDbContextAsync();
        return await query(db);
    }

    public static Task<int> CountUsersWithEmailAsync(this PortalFactory portal, string email)
    {
        var normalized = email.Trim().ToUpperInvariant();
        return portal.QueryAsync(db => db.Users.CountAsync(u => u.NormalizedEmail == normalized));
    }

    /// <summary>Issues a sign-in ticket exactly as the login page does, for the account's current security stamp.</summary>
    public static Task<string> IssueTicketAsync(this PortalFactory portal, string email, bool remember = false, string? returnUrl = null) =>
        portal.InScopeAsync(async sp =>
        {
            var user = await sp.GetRequiredService<UserManager<AppUser>>().FindByEmailAsync(email)
                ?? throw new InvalidOperationException($"No account {email}.");
            return sp.GetRequiredService<SignInTickets>().Issue(user, remember, returnUrl);
        });

    public static async Task<T> ReadJsonAsync<T>(this HttpResponseMessage response) =>
        await response.Content.ReadFromJsonAsync<T>(Json) ?? throw new InvalidOperationException("Empty JSON body.");

    public static Task<HttpResponseMessage> PostJsonAsync<T>(this HttpClient http, string path, T body) =>
        http.PostAsJsonAsync(path, body, Json);
}
