using System.Net;
using Incubator.Domain.Mining;
using Microsoft.Extensions.Options;

namespace Incubator.Web.Extensions;

/// <summary>Section "Security" (env: <c>Security__AllowedOrigins__0=https://portal.example.com</c>, ...). Bound and
/// validated at start.</summary>
public sealed class SecurityOptions
{
    public const string Section = "Security";

    /// <summary>Origins (scheme://host[:port]) besides the portal's own whose pages may send cookie-authenticated
    /// unsafe requests and open the hub: the public address when a reverse proxy rewrites the Host header, or a
    /// companion site the operator trusts. Empty by default: only the portal's own origin.</summary>
    public List<string> AllowedOrigins { get; set; } = [];

    /// <summary>Addresses (IPs or CIDR networks such as 10.0.0.0/8) of reverse proxies whose X-Forwarded-For and
    /// X-Forwarded-Proto are believed. Loopback is always trusted. Without the proxy here, a request that reached the
    /// proxy over HTTPS looks like plain HTTP and cookies lose their Secure flag.</summary>
    public List<string> TrustedProxies { get; set; } = [];

    /// <summary>The largest corpus upload, in MB (at most <see cref="CorpusService.MaxUploadBytes"/>).</summary>
    public int MaxUploadMegabytes { get; set; } = (int)(CorpusService.MaxUploadBytes / (1024 * 1024));

    public long MaxUploadBytes => MaxUploadMegabytes * 1024L * 1024;

    /// <summary>The allowed origins, normalised to lower-case scheme://host:port.</summary>
    internal IReadOnlySet<string> OriginSet() =>
        AllowedOrigins.Select(o => TryOrigin(o, out var n) ? n : null).OfType<string>().ToHashSet(StringComparer.OrdinalIgnoreCase);

    internal static bool TryOrigin(string? text, out string normalized)
    {
        normalized = "";
        if (!Uri.TryCreate(text?.Trim(), UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")
            || uri.AbsolutePath != "/" || !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment) || !string.IsNullOrEmpty(uri.UserInfo))
            return false;
        normalized = $"{uri.Scheme}://{uri.Authority}".ToLowerInvariant();
        return true;
    }

    internal static bool TryNetwork(string text, out System.Net.IPNetwork network)
    {
        network = default;
        var t = text.Trim();
        if (IPAddress.TryParse(t, out var ip))
        {
            network = new System.Net.IPNetwork(ip, ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128);
            return true;
        }
        return System.Net.IPNetwork.TryParse(t, out network);
    }
}

internal sealed class SecurityOptionsValidator : IValidateOptions<SecurityOptions>
{
    public ValidateOptionsResult Validate(string? name, SecurityOptions o)
    {
        var failures = new List<string>();
        foreach (var origin in o.AllowedOrigins.Where(x => !SecurityOptions.TryOrigin(x, out _)))
            failures.Add($"Security:AllowedOrigins: '{origin}' is not an origin; write scheme://host[:port] with nothing after it, for example https://portal.example.com.");
        foreach (var proxy in o.TrustedProxies.Where(x => !SecurityOptions.TryNetwork(x, out _)))
            failures.Add($"Security:TrustedProxies: '{proxy}' is not an IP address or a CIDR network such as 10.0.0.0/8.");
        var max = (int)(CorpusService.MaxUploadBytes / (1024 * 1024));
        if (o.MaxUploadMegabytes < 1 || o.MaxUploadMegabytes > max)
            failures.Add($"Security:MaxUploadMegabytes must be from 1 to {max}; got {o.MaxUploadMegabytes}.");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
