using System.Net;
using System.Text.RegularExpressions;

namespace Incubator.Domain.Llm;

/// <summary>Credentials written into an endpoint URL: a user name and password (<c>https://user:secret@host</c>) or a
/// key, token or signature in the query (<c>?api-key=</c>, <c>key=</c>, <c>token=</c>, <c>access_token=</c>, <c>sig=</c>
/// ...). The endpoint is stored, shown and logged in the clear; only the API key field is encrypted (decision 0025). So
/// such endpoints are refused wherever one is taken, and text that may carry one is redacted before it is shown or
/// logged.</summary>
public static partial class EndpointSecrets
{
    /// <summary>What stands in for a removed credential.</summary>
    public const string Mask = "***";

    // Query parameter names that carry a credential, compared lower-case with '-', '_' and '.' removed. Besides the
    // exact names, any name ending in "key" (api-key, subscription-key, x-api-key) or containing "token", "secret" or
    // "password" counts. A harmless parameter that happens to match is refused too: the safe mistake.
    private static readonly HashSet<string> ExactNames = new(StringComparer.Ordinal)
    {
        "sig", "signature", "code", "pwd", "pass", "auth", "authorization", "credential", "credentials",
    };

    public static bool IsCredentialName(string name)
    {
        string normalised;
        try
        {
            normalised = Uri.UnescapeDataString(name);
        }
        catch (UriFormatException)
        {
            normalised = name;
        }
        normalised = new string(normalised.ToLowerInvariant().Where(c => c is not ('-' or '_' or '.')).ToArray());
        return ExactNames.Contains(normalised) || normalised.EndsWith("key", StringComparison.Ordinal)
            || normalised.Contains("token", StringComparison.Ordinal) || normalised.Contains("secret", StringComparison.Ordinal)
            || normalised.Contains("password", StringComparison.Ordinal);
    }

    /// <summary>Whether the endpoint carries user info or a credential query parameter (case-insensitive). Works on any
    /// text, valid URL or not, so an invalid endpoint is judged (and redacted) the same way.
    /// (A redacted endpoint, "https://***@host", still counts: saving the form as shown is refused too.)</summary>
    public static bool CarriesCredentials(string? endpoint) =>
        !string.IsNullOrEmpty(endpoint) && (UserInfo().IsMatch(endpoint)
            || QueryParameter().Matches(endpoint).Any(m => IsCredentialName(m.Groups["name"].Value)));

    /// <summary>The text with the user info of every URL in it and the values of credential query parameters replaced by
    /// <see cref="Mask"/>; everything else (host, path, api-version) is kept so a person can still tell endpoints apart.</summary>
    public static string Redact(string? text)
    {
        if (string.IsNullOrEmpty(text)) return text ?? "";
        var result = UserInfo().Replace(text, m => m.Groups["scheme"].Value + Mask + "@");
        return QueryParameter().Replace(result, m => IsCredentialName(m.Groups["name"].Value)
            ? m.Groups["lead"].Value + m.Groups["name"].Value + "=" + Mask
            : m.Value);
    }

    /// <summary>A settings string — a connection string (<c>Host=db;Password=...</c>) or a StackExchange.Redis
    /// configuration (<c>redis:6379,password=...</c>) — with the value of every credential-named setting (password, pwd,
    /// a key, a token...) replaced by <see cref="Mask"/>, and any URL in it redacted as <see cref="Redact"/> does. For an
    /// error or log line that names a configured value: a password written there must never be printed.</summary>
    public static string RedactSettings(string? text)
    {
        if (string.IsNullOrEmpty(text)) return text ?? "";
        var result = Setting().Replace(text, m => IsCredentialName(m.Groups["name"].Value.Trim())
            ? m.Groups["lead"].Value + m.Groups["name"].Value + "=" + Mask
            : m.Value);
        return Redact(result);
    }

    /// <summary>The one rule for "an API key that travels in clear text" (decision 0025, amendment http20): the host the key
    /// would be sent to unencrypted — the endpoint is <c>http://</c>, its host is not this machine and a key will be sent —
    /// or null. Such a connection stays allowed (a vLLM/Ollama box on the team's LAN), but every place the key travels
    /// from says so: the connection form, the connection list, the start-up log for the configured connection and the CLI.
    /// An endpoint that is not an absolute http(s) URL gives null (its validation error says enough).</summary>
    /// <param name="keyWillBeSent">Whether a key goes with the calls (typed, or already stored and kept).</param>
    public static string? KeySentInClearTo(string? endpoint, bool keyWillBeSent)
    {
        if (!keyWillBeSent || !Uri.TryCreate(endpoint?.Trim(), UriKind.Absolute, out var uri)
            || uri.Scheme != Uri.UriSchemeHttp || string.IsNullOrEmpty(uri.Host)) return null;
        return IsLoopback(uri) ? null : uri.Host;
    }

    /// <summary>Whether the URL's host is this machine: <c>localhost</c>, an address in 127.0.0.0/8, or <c>::1</c> (also
    /// written as an IPv4-mapped IPv6 address). Decided on the parsed host, never on a prefix of the text:
    /// <c>localhost.evil.com</c> and <c>127.0.0.1.nip.io</c> are other machines.</summary>
    public static bool IsLoopback(Uri uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        if (uri.HostNameType is UriHostNameType.IPv4 or UriHostNameType.IPv6)
            return IPAddress.TryParse(uri.DnsSafeHost, out var ip) && (IPAddress.IsLoopback(ip) || (ip.IsIPv4MappedToIPv6 && IPAddress.IsLoopback(ip.MapToIPv4())));
        // A fully qualified "localhost." is the same name.
        return uri.HostNameType == UriHostNameType.Dns && string.Equals(uri.DnsSafeHost.TrimEnd('.'), "localhost", StringComparison.OrdinalIgnoreCase);
    }

    // scheme://userinfo@ — the user info stops at the first '/', '?', '#' or space, so an '@' in a path is not taken for it.
    [GeneratedRegex(@"(?<scheme>\b[A-Za-z][A-Za-z0-9+.\-]*://)(?<userinfo>[^/?#@\s]+)@")]
    private static partial Regex UserInfo();

    [GeneratedRegex(@"(?<lead>[?&;])(?<name>[^=&;#?\s]+)=(?<value>[^&;#\s]*)")]
    private static partial Regex QueryParameter();

    // name=value in a ';'- or ','-separated settings string (Npgsql: "User Id=x;Password=y"; Redis: "host:6379,password=y")
    // or a command line's --name=value; the value runs to the next separator.
    [GeneratedRegex(@"(?<lead>(?:^|[;,?&\s])\s*)(?<name>-*[A-Za-z][A-Za-z0-9 _.:\-]*)=(?<value>[^;,&]*)")]
    private static partial Regex Setting();
}
