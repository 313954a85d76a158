using System.Globalization;

namespace Incubator.Domain.Common;

/// <summary>A count with its English word for the domain's own English messages and files ("1 text", "3 texts"), as
/// the portal's resources say counts (<c>{N#one|other}</c>): never "text(s)".</summary>
public static class EnglishCount
{
    public static string Of(long n, string one, string other) => string.Create(CultureInfo.InvariantCulture, $"{n} {(n == 1 ? one : other)}");

    /// <summary>The same with the number formatted by <paramref name="format"/> ("N0": "1,234 features").</summary>
    public static string Of(long n, string one, string other, string format) =>
        n.ToString(format, CultureInfo.InvariantCulture) + " " + (n == 1 ? one : other);

    /// <summary>"is" for one, "are" otherwise.</summary>
    public static string Be(long n) => n == 1 ? "is" : "are";
}
