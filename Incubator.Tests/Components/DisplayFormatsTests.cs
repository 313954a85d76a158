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

    [Theory]
    [InlineData("en")]
    [InlineData("ja")]
    public void A_moment_is_the_cultures_short_date_and_time_and_the_clock_its_long_time(string culture)
    {
        var (moment, clock) = WithCulture(culture, () => (Dates.Moment(Noon), Dates.Clock(Noon)));
        var local = Noon.ToLocalTime();
        Assert.Equal(local.ToString("g", new CultureInfo(culture)), moment);
        Assert.Equal(local.ToString("T", new CultureInfo(culture)), clock);
        Assert.Contains(local.Year.ToString(CultureInfo.InvariantCulture), moment);
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
        Assert.Equal(expected, WithCulture(culture, () => Dates.Relative(l, Noon.AddSeconds(-secondsAgo), Noon)));
    }

    [Fact]
    public async Task Beyond_a_week_the_relative_form_gives_the_moment_and_the_component_keeps_it_as_tooltip()
    {
        await using var ctx = PortalBunit.NewContext(s => s.AddSingleton<TimeProvider>(new FixedTime(Noon)));
        var l = ctx.Services.GetRequiredService<IStringLocalizer<SharedResource>>();
        var old = Noon.AddDays(-8);
        Assert.Equal(Dates.Moment(old), Dates.Relative(l, old, Noon));

        var cut = WithCulture("en", () => ctx.Render<When>(p => p.Add(x => x.At, Noon.AddMinutes(-7)).Add(x => x.Relative, true)));
        var time = cut.Find("time");
        Assert.Equal("7 min ago", time.TextContent);
        Assert.Equal(Noon.AddMinutes(-7).ToLocalTime().ToString("g", new CultureInfo("en")), time.GetAttribute("title"));
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
