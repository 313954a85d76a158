namespace Incubator.Domain.Common;

/// <summary>The one set of size limits for what people and programs send, applied by every path that writes a sample
/// (generation, review edits, corpus import, mining, gold sets) and every filter. A limit is a constant here and
/// nowhere else; the rule types (<see cref="Review.ReviewDecision"/>, <see cref="Tasks.TaskSpecValidator"/>, the
/// text-file reader, the query parser) refer to these.</summary>
public static class InputLimits
{
    /// <summary>A sample's text: generated, edited, imported from a corpus, mined or in a gold set. Long enough for a
    /// support ticket or a review, short enough that a queue page of 50 stays a few hundred KB.</summary>
    public const int SampleText = 4000;

    /// <summary>A label's name (the task editor's rule, and every place a label is named).</summary>
    public const int LabelName = 64;

    /// <summary>A reviewer's comment on a decision.</summary>
    public const int Comment = 900;

    /// <summary>A search text or a label filter.</summary>
    public const int Filter = 200;

    /// <summary>A query expression over published models.</summary>
    public const int Query = 10_000;

    /// <summary>Trims a filter value and refuses one that is too long or holds control characters (a NUL would end
    /// the pattern early in SQLite's LIKE and match every row). Null or blank means "no filter".</summary>
    public static string? CheckFilter(string field, string? value, int maxLength = Filter)
    {
        if (string.IsNullOrEmpty(value)) return null;
        if (value.Any(char.IsControl))
            throw new DomainValidationException(field, "FilterControlCharacters",
                $"The {field} filter holds control characters (such as NUL or a line break); remove them.", field);
        var trimmed = value.Trim();
        if (trimmed.Length == 0) return null;
        if (trimmed.Length > maxLength)
            throw new DomainValidationException(field, "FilterTooLong",
                $"The {field} filter must be at most {maxLength} characters (it has {trimmed.Length}).", field, maxLength, trimmed.Length);
        return trimmed;
    }

    /// <summary>Refuses an enum value that is not one of the type's names (JSON and query strings accept any number).</summary>
    public static void RequireDefined<TEnum>(string field, TEnum value) where TEnum : struct, Enum
    {
        if (!Enum.IsDefined(value))
            throw UnknownEnumValue(field, value.ToString(), typeof(TEnum));
    }

    /// <summary>A page index (counted from 0) and a page size (at least 1) given in a request; an absent one takes the
    /// endpoint's default and a size above the endpoint's maximum is cut to it (the answer says its pageSize). A
    /// negative index or a size below 1 was silently read as page 0 or size 1; now it is refused by name.</summary>
    public static void CheckPaging(int? page, int? pageSize)
    {
        var errors = new List<DomainError>();
        if (page is < 0) errors.Add(new("page", "PageOutOfRange", $"page counts from 0; {page} is not a page.", [page.Value]));
        if (pageSize is < 1) errors.Add(new("pageSize", "PageSizeOutOfRange", $"pageSize must be at least 1 (it is {pageSize}).", [pageSize.Value]));
        if (errors.Count > 0) throw new DomainValidationException(errors);
    }

    /// <summary>The 400 for an enum value the type does not define.</summary>
    public static DomainValidationException UnknownEnumValue(string field, string value, Type enumType) =>
        new(field, "EnumValueUnknown", $"'{value}' is not a valid {field}; use one of: {string.Join(", ", Enum.GetNames(enumType))}.",
            value, string.Join(", ", Enum.GetNames(enumType)));
}
