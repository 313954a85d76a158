namespace Incubator.Domain.Common.TextFiles;

public static class TsvCell
{
    /// <summary>Makes text safe for one TSV cell (and one line): tabs and line breaks become spaces.</summary>
    public static string Of(string text) => text.Replace("\r\n", " ").Replace('\t', ' ').Replace('\n', ' ').Replace('\r', ' ');
}
