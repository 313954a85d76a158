using System.Globalization;
using Microsoft.Extensions.Localization;

namespace Incubator.Web.Components.Pages.Shared;

/// <summary>The one way the portal shows a moment, per culture and in the reader's time zone
/// (<see cref="BrowserTimeZone"/>): <see cref="Moment"/> (the culture's short date and time, "12/6/2026 1:05 AM" in
/// English, "2026/12/06 1:05" in Japanese) everywhere, <see cref="Clock"/> (time of day with seconds) only beside lines
/// of one log or a live state where the day is evident, and <see cref="Relative"/> ("5 min ago") where recency is what
/// matters, with the moment as its tooltip (<c>When.razor</c>). While the browser has not said its zone, moments are in
/// UTC and end with "UTC", so no one reads the server's zone as theirs. Every component has it as <c>Dates</c>
/// (Components/_Imports.razor).</summary>
public sealed class Dates(BrowserTimeZone zone)
{
    public TimeZoneInfo Zone => zone.Zone;

    /// <summary>The moment in the reader's zone.</summary>
    public DateTimeOffset Local(DateTimeOffset at) => TimeZoneInfo.ConvertTime(at, zone.Zone);

    public string Moment(DateTimeOffset at) => Named(Local(at).ToString("g", CultureInfo.CurrentCulture));

    /// <summary>A calendar day (chart axes): the culture's short date.</summary>
    public static string Day(DateOnly day) => day.ToString("d", CultureInfo.CurrentCulture);

    /// <summary>The calendar day a moment falls on in the reader's zone.</summary>
    public DateOnly DayOf(DateTimeOffset at) => DateOnly.FromDateTime(Local(at).DateTime);

    public string Clock(DateTimeOffset at) => Named(Local(at).ToString("T", CultureInfo.CurrentCulture));

    /// <summary>"just now", minutes, hours or days ago for the last week; the <see cref="Moment"/> beyond that (and for
    /// a moment in the future, which only a clock skew produces).</summary>
    public string Relative(IStringLocalizer l, DateTimeOffset at, DateTimeOffset now)
    {
        var ago = now - at;
        if (ago < TimeSpan.Zero || ago >= TimeSpan.FromDays(7)) return Moment(at);
        if (ago < TimeSpan.FromMinutes(1)) return l["When.JustNow"];
        if (ago < TimeSpan.FromHours(1)) return l["When.MinutesAgo", (int)ago.TotalMinutes];
        if (ago < TimeSpan.FromDays(1)) return l["When.HoursAgo", (int)ago.TotalHours];
        return l["When.DaysAgo", (int)ago.TotalDays];
    }

    private string Named(string shown) => zone.Known ? shown : shown + " UTC";
}
