using System.Globalization;
using Incubator.Web;
using Microsoft.Extensions.Localization;
using Microsoft.Extensions.Options;

namespace Incubator.Tests.Infrastructure;

/// <summary>The portal's localiser over its real resource files, as pages use it, and a way to hear what it says in one
/// culture (the current UI culture is put back afterwards).</summary>
internal static class Localized
{
    public static readonly IStringLocalizer L = CountingLocalizer.Standalone();

    public static T In<T>(string culture, Func<T> say)
    {
        var previous = CultureInfo.CurrentUICulture;
        try
        {
            CultureInfo.CurrentUICulture = new CultureInfo(culture);
            return say();
        }
        finally
        {
            CultureInfo.CurrentUICulture = previous;
        }
    }

    public static void In(string culture, Action act) => In(culture, () =>
    {
        act();
        return 0;
    });
}
