namespace Incubator.Domain.Common.TextFiles;

/// <summary>The stable codes of every problem the text-file reader reports (the portal localises "Error.{code}"; a
/// test checks both languages have each). Row problems carry the line as their first argument.</summary>
public static class TextFileCodes
{
    // The file is not text (TextSniffer).
    public const string NotTextKnownFormat = "NotTextKnownFormat";
    public const string NotTextNulBytes = "NotTextNulBytes";
    public const string NotTextUtf16WithoutBom = "NotTextUtf16WithoutBom";
    public const string NotTextControlCharacters = "NotTextControlCharacters";
    public const string NotTextEncoding = "NotTextEncoding";
    public const string NotTextLatin1Controls = "NotTextLatin1Controls";
    public const string NotTextChineseEncoding = "NotTextChineseEncoding";
    public const string NotTextKoi8r = "NotTextKoi8r";

    // A row that cannot be used.
    public const string UnclosedQuote = "UploadUnclosedQuote";
    public const string TextAfterQuote = "UploadMalformedCsv";
    public const string QuoteInField = "UploadQuoteInField";
    public const string InvalidJson = "UploadInvalidJson";
    public const string JsonShape = "UploadJsonShape";
    public const string MissingField = "UploadMissingField";
    public const string MissingColumn = "UploadMissingColumn";
    public const string MissingTab = "UploadMissingTab";
    public const string WrongFieldCount = "UploadWrongFieldCount";
    public const string MoreFieldsThanHeader = "UploadMoreFieldsThanHeader";
    public const string LabelsMixed = "UploadLabelsMixed";
    public const string EmptyLabel = "UploadEmptyLabel";
    public const string EmptyText = "UploadEmptyText";
    public const string TextTooLong = "UploadTextTooLong";

    // The file as a whole.
    public const string ColumnUnknown = "CorpusColumnUnknown";
    public const string Empty = "UploadEmpty";
    public const string TooManyRows = "UploadTooManyRows";
    public const string MoreErrors = "UploadMoreErrors";
}
