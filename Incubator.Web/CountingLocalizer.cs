using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Localization;

namespace Incubator.Web;

/// <summary>The portal's localiser: the resource files as <see cref="StringLocalizer{T}"/> reads them, plus the one
/// thing .resx cannot say — a word that follows a count. A value may hold <c>{N#one|other}</c>: the first word when
/// argument N is 1, the second otherwise ("{0} {0#member|members}" → "1 member", "3 members"). Japanese has no plural
/// and does not use it. Every page, API answer and test reads resources through this, so no value with a count ever
/// says "member(s)".</summary>
public sealed partial class CountingLocalizer(IStringLocalizerFactory factory) : IStringLocalizer<SharedResource>
{
    private readonly IStringLocalizer _inner = factory.Create(typeof(SharedResource));

    /// <summary>Without a host (the CLI's card notes, tests): the same resources read from the assembly.</summary>
    public static CountingLocalizer Standalone() => new(new ResourceManagerStringLocalizerFactory(
        Microsoft.Extensions.Options.Options.Create(new LocalizationOptions { ResourcesPath = "Resources" }),
        Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance));

    public LocalizedString this[string name] => _inner[name];

    public LocalizedString this[string name, params object[] arguments]
    {
        get
        {
            var raw = _inner[name];
            if (raw.ResourceNotFound) return _inner[name, arguments];
            return new LocalizedString(name, Format(raw.Value, arguments), false, raw.SearchedLocation);
        }
    }

    public IEnumerable<LocalizedString> GetAllStrings(bool includeParentCultures) => _inner.GetAllStrings(includeParentCultures);

    /// <summary>Chooses each <c>{N#one|other}</c>, then formats the value in the current culture.</summary>
    public static string Format(string value, object?[] arguments) =>
        string.Format(CultureInfo.CurrentCulture, Counted().Replace(value, m =>
        {
            var index = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            var one = index < arguments.Length && IsOne(arguments[index]);
            return Escape(one ? m.Groups[2].Value : m.Groups[3].Value);
        }), arguments);

    private static bool IsOne(object? argument) => argument switch
    {
        int i => i == 1,
        long l => l == 1,
        short s => s == 1,
        byte b => b == 1,
        uint u => u == 1,
        ulong u => u == 1,
        decimal d => d == 1,
        double d => d == 1,
        float f => f == 1,
        string s => s.Trim() == "1", // error and job-note arguments are stored as text
        _ => false,
    };

    private static string Escape(string word) => word.Replace("{", "{{").Replace("}", "}}");

    [GeneratedRegex(@"\{(\d+)#([^|{}]*)\|([^{}]*)\}")]
    private static partial Regex Counted();
}
