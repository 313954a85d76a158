using System.ComponentModel.DataAnnotations;
using System.Globalization;
using Bunit;
using Incubator.Domain.Accounts;
using Incubator.Domain.Data;
using Incubator.Tests.Infrastructure;
using Incubator.Web;
using Incubator.Web.Accounts;
using Incubator.Web.Components.Pages.Shared;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Localization;
using Microsoft.Extensions.Options;

namespace Incubator.Tests.Components;

/// <summary>Issue 18's small things: one way to show a moment per culture (and relative times in both languages), money
/// with the site currency's symbol, an invalid currency refused at start, the display name in the sign-in.</summary>
public sealed class DisplayFormatsTests
{
    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    private static readonly DateTimeOffset Noon = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);

    private static T WithCulture<T>(string culture, Func<T> test)
    {
        var (ui, current) = (CultureInfo.CurrentUICulture, CultureInfo.CurrentCulture);
        CultureInfo.CurrentUICulture = CultureInfo.CurrentCulture = new CultureInfo(culture);
        try
        {
            return test();
        }
        finally
        {
            (CultureInfo.CurrentUICulture, CultureInfo.CurrentCulture) = (ui, current);
        }
    }

    /// <summary>Dates as a page has them: in the zone the reader's browser named, or UTC (named) while unknown.</summary>
    private static Dates DatesIn(string? zone)
    {
        var browser = new BrowserTimeZone();
        if (zone is not null) Assert.True(browser.TrySet(zone));
        return new Dates(browser);
    }

    [Theory]
    [InlineData("en", "America/New_York", "12/6/2026 7:00 AM", "7:00:00 AM")]
    [InlineData("ja", "Asia/Tokyo", "2026/12/06 21:00", "21:00:00")]
    [InlineData("en", "Asia/Kolkata", "12/6/2026 5:30 PM", "5:30:00 PM")]
    public void A_moment_is_the_cultures_short_date_and_time_in_the_readers_time_zone(string culture, string zone, string moment, string clock)
    {
        var dates = DatesIn(zone);
        var (m, c) = WithCulture(culture, () => (dates.Moment(Noon), dates.Clock(Noon)));
        // .NET's ICU formats may put a narrow no-break space before AM/PM.
        Assert.Equal(moment, m.Replace('\u202f', ' '));
        Assert.Equal(clock, c.Replace('\u202f', ' '));
        // Just before midnight UTC is already the next day in Tokyo.
        Assert.Equal(new DateOnly(2026, 12, 7), DatesIn("Asia/Tokyo").DayOf(new DateTimeOffset(2026, 12, 6, 23, 0, 0, TimeSpan.Zero)));
    }

    [Fact]
    public void Until_the_browser_names_its_zone_moments_are_in_utc_and_say_so()
    {
        var dates = DatesIn(null);
        Assert.Equal("12/6/2026 12:00 PM UTC", WithCulture("en", () => dates.Moment(Noon)).Replace('\u202f', ' '));
        Assert.Equal("2026/12/06 12:00 UTC", WithCulture("ja", () => dates.Moment(Noon)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("Not/A_Zone")]
    [InlineData("Europe/Berlin<script>")]
    public void A_zone_name_the_server_does_not_know_is_ignored(string zone)
    {
        var browser = new BrowserTimeZone();
        Assert.True(browser.TrySet("Europe/Berlin"));
        Assert.False(browser.TrySet(zone));
        Assert.Equal("Europe/Berlin", browser.ZoneId);
        Assert.False(browser.TrySet(new string('A', 65)));
    }

    [Fact]
    public async Task The_when_component_shows_the_moment_in_the_zone_the_circuit_was_given()
    {
        await using var ctx = PortalBunit.NewContext(s => s.AddSingleton<TimeProvider>(new FixedTime(Noon)));
        Assert.True(ctx.Services.GetRequiredService<BrowserTimeZone>().TrySet("Asia/Tokyo"));
        var cut = WithCulture("ja", () => ctx.Render<When>(p => p.Add(x => x.At, Noon.AddDays(-10))));
        Assert.Equal("2026/11/26 21:00", cut.Find("time").TextContent);
        Assert.Equal("2026-11-26T12:00:00.0000000+00:00", cut.Find("time").GetAttribute("datetime"));
    }

    [Theory]
    [InlineData("en", 20, "just now")]
    [InlineData("en", 5 * 60, "5 min ago")]
    [InlineData("en", 3 * 3600 + 59, "3 h ago")]
    [InlineData("en", 2 * 86400, "2 days ago")]
    [InlineData("ja", 20, "たった今")]
    [InlineData("ja", 5 * 60, "5 分前")]
    [InlineData("ja", 3 * 3600, "3 時間前")]
    [InlineData("ja", 6 * 86400, "6 日前")]
    public async Task Relative_times_read_naturally_in_both_languages(string culture, int secondsAgo, string expected)
    {
        await using var ctx = PortalBunit.NewContext();
        var l = ctx.Services.GetRequiredService<IStringLocalizer<SharedResource>>();
        Assert.Equal(expected, WithCulture(culture, () => DatesIn("Asia/Tokyo").Relative(l, Noon.AddSeconds(-secondsAgo), Noon)));
    }

    [Fact]
    public async Task Beyond_a_week_the_relative_form_gives_the_moment_and_the_component_keeps_it_as_tooltip()
    {
        await using var ctx = PortalBunit.NewContext(s => s.AddSingleton<TimeProvider>(new FixedTime(Noon)));
        var l = ctx.Services.GetRequiredService<IStringLocalizer<SharedResource>>();
        var old = Noon.AddDays(-8);
        var dates = ctx.Services.GetRequiredService<Dates>();
        Assert.Equal(dates.Moment(old), dates.Relative(l, old, Noon));

        var cut = WithCulture("en", () => ctx.Render<When>(p => p.Add(x => x.At, Noon.AddMinutes(-7)).Add(x => x.Relative, true)));
        var time = cut.Find("time");
        Assert.Equal("7 min ago", time.TextContent);
        Assert.Equal(Noon.AddMinutes(-7).ToString("g", new CultureInfo("en")) + " UTC", time.GetAttribute("title"));
        Assert.Equal("2026-12-06T11:53:00.0000000+00:00", time.GetAttribute("datetime"));
    }

    private static MoneyFormat Money(string currency) => new(Options.Create(new IncubatorOptions { Currency = currency }));

    [Theory]
    [InlineData("en", "USD", 0.12, "$0.12")]
    [InlineData("en", "USD", 0.0031, "$0.0031")]
    [InlineData("en", "USD", 1234.5, "$1,234.50")]
    [InlineData("en", "EUR", 2.5, "€2.50")]
    [InlineData("ja", "USD", 0.12, "$0.12")]
    [InlineData("ja-JP", "JPY", 15, "￥15")]
    public void Money_carries_the_site_currency(string culture, string currency, double amount, string expected) =>
        Assert.Equal(expected, WithCulture(culture, () => Money(currency).Amount((decimal)amount)));

    [Fact]
    public void A_cost_is_marked_as_approximate_and_an_unknown_code_is_written_out() =>
        Assert.Equal(("≈ $0.12", "XTS 0.50"), WithCulture("en", () => (Money("USD").About(0.12m), Money("XTS").Amount(0.5m))));

    [Theory]
    [InlineData("usd")]
    [InlineData("DOLLAR")]
    [InlineData("")]
    public void A_currency_that_is_not_an_iso_code_is_refused(string currency)
    {
        var options = new IncubatorOptions { Currency = currency };
        var errors = new List<ValidationResult>();
        Assert.False(Validator.TryValidateObject(options, new ValidationContext(options), errors, validateAllProperties: true));
        Assert.Contains(errors, e => e.MemberNames.Contains(nameof(IncubatorOptions.Currency)));
    }

    [Fact]
    public async Task The_sign_in_carries_the_display_name_for_the_user_menu()
    {
        using var portal = new PortalFactory();
        var hana = await portal.RegisterAsync(PortalExtensions.UniqueEmail("hana"), displayName: "Hana Sato");
        var nameless = await portal.RegisterAsync(PortalExtensions.UniqueEmail("ken"));
        var (named, plain) = await portal.InScopeAsync(async sp =>
        {
            var factory = sp.GetRequiredService<IUserClaimsPrincipalFactory<AppUser>>();
            return (await factory.CreateAsync(hana), await factory.CreateAsync(nameless));
        });
        Assert.Equal("Hana Sato", DisplayNameClaims.ShownName(named));
        // Registering without a name gives the address's local part as display name.
        Assert.Equal(nameless.Email!.Split('@')[0], DisplayNameClaims.ShownName(plain));
    }
}
