using System.Globalization;
using Microsoft.Extensions.Localization;

namespace Incubator.Web.Components.Pages.Shared;

/// <summary>The one way the portal shows a moment, per culture: <see cref="Moment"/> (the culture's short date and time,
/// "12/6/2026 1:05 AM" in English, "2026/12/06 1:05" in Japanese) everywhere, <see cref="Clock"/> (time of day with
/// seconds) only beside lines of one log or a live state where the day is evident, and <see cref="Relative"/> ("5 min
/// ago") where recency is what matters, with the moment as its tooltip (<c>When.razor</c>). Times are in the server's
/// time zone, as before.</summary>
public static class Dates
{
    public static string Moment(DateTimeOffset at) => at.ToLocalTime().ToString("g", CultureInfo.CurrentCulture);

    /// <summary>A calendar day (chart axes): the culture's short date.</summary>
    public static string Day(DateOnly day) => day.ToString("d", CultureInfo.CurrentCulture);

    public static string Clock(DateTimeOffset at) => at.ToLocalTime().ToString("T", CultureInfo.CurrentCulture);

    /// <summary>"just now", minutes, hours or days ago for the last week; the <see cref="Moment"/> beyond that (and for
    /// a moment in the future, which only a clock skew produces).</summary>
    public static string Relative(IStringLocalizer l, DateTimeOffset at, DateTimeOffset now)
    {
        var ago = now - at;
        if (ago < TimeSpan.Zero || ago >= TimeSpan.FromDays(7)) return Moment(at);
        if (ago < TimeSpan.FromMinutes(1)) return l["When.JustNow"];
        if (ago < TimeSpan.FromHours(1)) return l["When.MinutesAgo", (int)ago.TotalMinutes];
        if (ago < TimeSpan.FromDays(1)) return l["When.HoursAgo", (int)ago.TotalHours];
        return l["When.DaysAgo", (int)ago.TotalDays];
    }
}
