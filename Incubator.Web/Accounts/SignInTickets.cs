using System.Text.Json;
using Incubator.Domain.Accounts;
using Microsoft.AspNetCore.DataProtection;

namespace Incubator.Web.Accounts;

/// <summary>Hands a successful password check from the interactive page to a real HTTP request that can set the
/// cookie. The ticket is encrypted, valid for two minutes, bound to the user's security stamp, and posted (never put
/// in a URL) together with an antiforgery token.</summary>
public sealed class SignInTickets(IDataProtectionProvider provider, TimeProvider time)
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(2);
    private readonly ITimeLimitedDataProtector _protector = provider.CreateProtector("Incubator.SignInTicket.v1").ToTimeLimitedDataProtector();

    public sealed record Ticket(string UserId, string SecurityStamp, bool Remember, string ReturnUrl);

    public string Issue(AppUser user, bool remember, string? returnUrl)
    {
        var payload = JsonSerializer.Serialize(new Ticket(user.Id, user.SecurityStamp ?? "", remember, SafeReturnUrl(returnUrl)));
        return _protector.Protect(payload, time.GetUtcNow() + Lifetime);
    }

    public Ticket? Read(string? protectedTicket)
    {
        if (string.IsNullOrEmpty(protectedTicket)) return null;
        try
        {
            return JsonSerializer.Deserialize<Ticket>(_protector.Unprotect(protectedTicket, out _));
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            return null;
        }
    }

    /// <summary>Only local paths: an open redirect after sign-in is a phishing tool. Control characters are refused
    /// too: browsers drop tabs and newlines ("/\t/evil" becomes "//evil"), and LocalRedirect throws on them.</summary>
    public static string SafeReturnUrl(string? returnUrl)
    {
        if (string.IsNullOrWhiteSpace(returnUrl)) return "/";
        var url = returnUrl.Trim();
        if (!url.StartsWith('/')) url = "/" + url;
        if (url.StartsWith("//", StringComparison.Ordinal) || url.StartsWith("/\\", StringComparison.Ordinal) || url.Contains("://", StringComparison.Ordinal)
            || url.Any(char.IsControl))
            return "/";
        return url;
    }
}
