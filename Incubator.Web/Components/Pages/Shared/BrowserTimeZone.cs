using Microsoft.AspNetCore.Components;

namespace Incubator.Web.Components.Pages.Shared;

/// <summary>The reader's time zone, as their browser names it (<c>Intl.DateTimeFormat().resolvedOptions().timeZone</c>),
/// for one request or circuit. The browser writes it into a cookie on every page (shared/incubator.js); each request
/// reads the cookie (<c>PortalUiExtensions.MapPortalUi</c>), and the prerendered value is carried into the circuit as persisted
/// state, so the prerendered and the interactive page show the same times. Until the browser has said it (the very
/// first page, or cookies refused) times are in UTC and say so; the layout then asks the browser directly.</summary>
public sealed class BrowserTimeZone
{
    public const string CookieName = "incubator-tz";

    private string? _zoneId;
    private TimeZoneInfo? _zone;

    /// <summary>The IANA name the browser gave, null while unknown. Persisted from prerendering into the circuit.</summary>
    [PersistentState]
    public string? ZoneId
    {
        get => _zoneId;
        set => TrySet(value);
    }

    /// <summary>The zone times are shown in: the browser's, or UTC while it is unknown.</summary>
    public TimeZoneInfo Zone => _zone ?? TimeZoneInfo.Utc;

    /// <summary>Whether <see cref="Zone"/> is the browser's (else UTC stands in, and moments name it).</summary>
    public bool Known => _zone is not null;

    /// <summary>Takes the browser's zone name; false (nothing changes) when it is empty, too long or not a zone this
    /// server knows, or when it is the zone already set.</summary>
    public bool TrySet(string? id)
    {
        if (string.IsNullOrWhiteSpace(id) || id.Length > 64 || id == _zoneId) return false;
        if (!TimeZoneInfo.TryFindSystemTimeZoneById(id, out var zone)) return false;
        (_zoneId, _zone) = (id, zone);
        return true;
    }
}
