using System.Globalization;
using Incubator.Domain.Data;
using Microsoft.Extensions.Options;

namespace Incubator.Web.Components.Pages.Shared;

/// <summary>Amounts of money with their currency. Connection prices, budgets, caps and costs are all in the one site-wide
/// currency, <c>Incubator:Currency</c> (an ISO 4217 code, USD unless configured). The symbol is the one the current
/// culture's region uses for that currency when it is its own (¥ for JPY in Japanese), else the one of a culture that
/// uses it ($ for USD), else the code itself. Costs of a few LLM calls are fractions of a cent, so amounts under 1 keep
/// up to four decimals.</summary>
public sealed class MoneyFormat(IOptions<IncubatorOptions> options)
{
    private static readonly Lazy<Dictionary<string, (string Symbol, int Digits)>> Symbols = new(() =>
    {
        var map = new Dictionary<string, (string, int)>(StringComparer.Ordinal);
        foreach (var culture in CultureInfo.GetCultures(CultureTypes.SpecificCultures))
        {
            try
            {
                var region = new RegionInfo(culture.Name);
                // The culture named after the language of the region first (en-US before es-US): its symbol is the usual one.
                if (!map.ContainsKey(region.ISOCurrencySymbol) || culture.Name == "en-US")
                    map[region.ISOCurrencySymbol] = (culture.NumberFormat.CurrencySymbol, culture.NumberFormat.CurrencyDecimalDigits);
            }
            catch (ArgumentException)
            {
                // A culture without a region: nothing to learn.
            }
        }
        return map;
    });

    public string Currency { get; } = options.Value.Currency;

    /// <summary>"$0.12", "$0.0031", "¥15" — the culture's currency pattern with the site currency's symbol.</summary>
    public string Amount(decimal amount)
    {
        var culture = CultureInfo.CurrentCulture;
        var (symbol, digits) = SymbolFor(culture);
        var format = (NumberFormatInfo)culture.NumberFormat.Clone();
        format.CurrencySymbol = symbol;
        var abs = Math.Abs(amount);
        format.CurrencyDecimalDigits = abs is > 0 and < 1 ? Math.Max(digits, Significant(abs)) : digits;
        return amount.ToString("C", format);
    }

    /// <summary>"≈ $0.12": a cost computed from token counts at the connection's prices.</summary>
    public string About(decimal amount) => "≈ " + Amount(amount);

    private (string Symbol, int Digits) SymbolFor(CultureInfo culture)
    {
        try
        {
            if (culture.Name.Length > 0 && new RegionInfo(culture.Name).ISOCurrencySymbol == Currency)
                return (culture.NumberFormat.CurrencySymbol, culture.NumberFormat.CurrencyDecimalDigits);
        }
        catch (ArgumentException)
        {
            // A neutral culture ("ja"): fall through to the table.
        }
        return Symbols.Value.TryGetValue(Currency, out var known) ? known : (Currency + " ", 2);
    }

    /// <summary>Decimals that show two significant digits of an amount under 1, at most four.</summary>
    private static int Significant(decimal abs)
    {
        var digits = 2;
        while (digits < 4 && abs < (decimal)Math.Pow(10, 1 - digits)) digits++;
        return digits;
    }
}
