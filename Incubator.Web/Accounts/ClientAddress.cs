namespace Incubator.Web.Accounts;

/// <summary>The client's IP address as the portal sees it (after X-Forwarded-For from a trusted proxy), for throttling.
/// An interactive page reads it from the request that opened its circuit.</summary>
public static class ClientAddress
{
    public const string Unknown = "unknown";

    public static string Of(HttpContext? context) => context?.Connection.RemoteIpAddress?.ToString() ?? Unknown;
}
