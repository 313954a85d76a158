using System.Globalization;
using System.Text.Json;

namespace Incubator.Domain.Common.TextFiles;

/// <summary>The one reader for every text file the product takes in: corpus uploads, gold sets, and the command line's
/// training, prediction, mining and query inputs. <see cref="Open"/> decides (in one streamed pass, see
/// <see cref="TextSniffer"/>) whether the bytes are text and how to decode them, refusing anything else before a row is
/// read; <see cref="Records"/> then streams the records with their line numbers, one record in memory at a time. Bad
/// rows are reported (<see cref="Report"/>) and skipped; <see cref="ReadAll"/> is the strict form that refuses a file
/// with any bad row and lists them.</summary>
public sealed class TextFileReader : IDisposable
{
    private static readonly string[] TextColumnNames = ["text", "sentence", "content", "body", "message", "review", "comment", "title", "tweet", "utterance", "document"];

    private readonly TextReader _reader;
    private readonly TextFileOptions _options;
    private readonly Stream? _owned;

    private TextFileReader(TextReader reader, TextFileOptions options, Stream? owned)
    {
        _reader = reader;
        _options = options;
        _owned = owned;
    }

    public TextFileReport Report { get; } = new();

    /// <summary>Sniffs the stream (seekable: uploads are spooled or buffered first) and positions the reader after any
    /// byte-order mark. Throws <see cref="DomainValidationException"/> when the content is not text.</summary>
    public static TextFileReader Open(Stream stream, TextFileOptions options, bool leaveOpen = true)
    {
        var start = stream.Position;
        var info = TextSniffer.Sniff(stream);
        stream.Position = start + info.BomLength;
        var reader = new StreamReader(stream, info.Encoding, detectEncodingFromByteOrderMarks: false, bufferSize: 1 << 16, leaveOpen: true);
        var result = new TextFileReader(reader, options, leaveOpen ? null : stream);
        result.Report.Encoding = info.Name;
        result.Report.Latin1FallbackAtByte = info.Latin1FallbackAtByte;
        return result;
    }

    /// <summary>Reads text that is already decoded (a preview of a file's first bytes).</summary>
    public static TextFileReader FromText(TextReader reader, TextFileOptions options) => new(reader, options, null);

    public void Dispose()
    {
        _reader.Dispose();
        _owned?.Dispose();
    }

    /// <summary>Records in file order. The report is complete once the enumeration has finished.</summary>
    public IEnumerable<TextRecord> Records(CancellationToken ct = default)
    {
        var format = _options.Labels != LabelMode.None && _options.Format == TextFileFormat.Txt ? TextFileFormat.Tsv : _options.Format;
        var records = format switch
        {
            TextFileFormat.Txt => Lines(ct),
            TextFileFormat.Jsonl => Json(ct),
            TextFileFormat.Csv => Delimited(',', ct),
            TextFileFormat.Tsv => Delimited('\t', ct),
            _ => throw new ArgumentOutOfRangeException(nameof(_options), _options.Format, "Unknown format."),
        };
        return _options.Labels == LabelMode.Optional ? AllOrNoneLabelled(records) : records;
    }

    /// <summary>Every record, for files that are used whole (training data, gold sets): refuses the file when any row
    /// is bad (listing the first 50 problems), when it has no rows, or when it has more than
    /// <paramref name="maxRows"/>.</summary>
    public IReadOnlyList<TextRecord> ReadAll(int maxRows = int.MaxValue, CancellationToken ct = default)
    {
        var rows = new List<TextRecord>();
        foreach (var r in Records(ct))
        {
            if (rows.Count == maxRows)
                throw new DomainValidationException("file", TextFileCodes.TooManyRows, $"The file has more than {maxRows} rows.", maxRows);
            rows.Add(r);
        }
        if (Report.BadRowCount > 0)
        {
            var errors = Report.BadRows.Take(50).Select(b => b.ToError()).ToList();
            if (Report.BadRowCount > errors.Count)
            {
                var more = Report.BadRowCount - errors.Count;
                errors.Add(new DomainError("file", TextFileCodes.MoreErrors, $"… and {more} more problems.", [more]));
            }
            throw new DomainValidationException(errors);
        }
        if (rows.Count == 0) throw new DomainValidationException("file", TextFileCodes.Empty, "The file has no rows.");
        Report.Kept = rows.Count;
        return rows;
    }

    private IEnumerable<TextRecord> Lines(CancellationToken ct)
    {
        long line = 0;
        string? s;
        Report.Source = null;
        while ((s = _reader.ReadLine()) is not null)
        {
            ct.ThrowIfCancellationRequested();
            line++;
            Report.RowsRead++;
            if (Accept(line, s, null) is { } record) yield return record;
        }
    }

    private IEnumerable<TextRecord> Json(CancellationToken ct)
    {
        var labelled = _options.Labels != LabelMode.None;
        var field = labelled || string.IsNullOrWhiteSpace(_options.Field) ? "text" : _options.Field.Trim();
        Report.Source = field;
        long line = 0;
        string? s;
        while ((s = _reader.ReadLine()) is not null)
        {
            ct.ThrowIfCancellationRequested();
            line++;
            if (string.IsNullOrWhiteSpace(s)) continue; // blank lines between JSON objects are not rows
            Report.RowsRead++;
            string? text, label = null;
            try
            {
                using var doc = JsonDocument.Parse(s);
                var root = doc.RootElement;
                if (labelled)
                {
                    var hasLabel = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("label", out _);
                    if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("text", out var t) || t.ValueKind != JsonValueKind.String
                        || (hasLabel && root.GetProperty("label").ValueKind != JsonValueKind.String) || (!hasLabel && _options.Labels == LabelMode.Required))
                    {
                        Report.Bad(line, BadRowReason.MissingField, TextFileCodes.JsonShape,
                            _options.Labels == LabelMode.Required ? "expected an object with string fields \"label\" and \"text\"" : "expected an object with a string field \"text\" (and \"label\")");
                        continue;
                    }
                    text = t.GetString();
                    label = hasLabel ? root.GetProperty("label").GetString() : null;
                }
                else
                {
                    if (!TryGetField(root, field, out var element))
                    {
                        Report.Bad(line, BadRowReason.MissingField, TextFileCodes.MissingField, $"no field '{field}'", field);
                        continue;
                    }
                    text = element.ValueKind switch
                    {
                        JsonValueKind.String => element.GetString(),
                        JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => element.GetRawText(),
                        _ => null,
                    };
                    if (text is null)
                    {
                        Report.Bad(line, BadRowReason.MissingField, TextFileCodes.MissingField, $"field '{field}' is {element.ValueKind.ToString().ToLowerInvariant()}, not text", field);
                        continue;
                    }
                }
            }
            catch (JsonException)
            {
                Report.Bad(line, BadRowReason.InvalidJson, TextFileCodes.InvalidJson, "not valid JSON");
                continue;
            }
            if (Accept(line, text!, label) is { } record) yield return record;
        }
    }

    internal static bool TryGetField(JsonElement root, string path, out JsonElement value)
    {
        value = root;
        if (root.ValueKind != JsonValueKind.Object) return false;
        if (root.TryGetProperty(path, out value)) return true;
        var current = root;
        foreach (var part in path.Split('.'))
        {
            if (current.ValueKind != JsonValueKind.Object || !current.TryGetProperty(part, out current)) return false;
        }
        value = current;
        return true;
    }

    private IEnumerable<TextRecord> Delimited(char delimiter, CancellationToken ct)
    {
        var labelled = _options.Labels != LabelMode.None;
        int textColumn = 0, labelColumn = -1, headerCount = 0;
        var headerSeen = false;
        foreach (var (line, fields, reason, code, error) in DelimitedRecords.Read(_reader, delimiter, ct))
        {
            if (fields is [""]) continue; // a blank line is not a row
            if (!headerSeen)
            {
                headerSeen = true;
                if (labelled) (labelColumn, textColumn, Report.HeaderDetected) = LabelColumns(fields);
                else
                {
                    var header = fields is not null && (_options.HasHeader ?? LooksLikeHeader(fields));
                    Report.HeaderDetected = header;
                    textColumn = ResolveColumn(_options.Column, header ? fields : null);
                    Report.Source = header && textColumn < fields!.Count ? fields[textColumn] : $"#{textColumn + 1}";
                }
                if (Report.HeaderDetected)
                {
                    headerCount = fields!.Count;
                    continue;
                }
            }
            Report.RowsRead++;
            if (fields is null)
            {
                Report.Bad(line, reason, code!, error!);
                continue;
            }
            // More filled fields than the header names: a separator inside an unquoted text ("x,Hello, world") would
            // otherwise keep "Hello" and silently drop the rest. Empty trailing fields ("x,text,") are harmless.
            if (Report.HeaderDetected && fields.Count > headerCount && fields.Skip(headerCount).Any(f => f.Trim().Length > 0))
            {
                Report.Bad(line, BadRowReason.WrongFieldCount, TextFileCodes.MoreFieldsThanHeader, delimiter == '\t'
                    ? $"the header has {EnglishCount.Of(headerCount, "column", "columns")} but this row has {fields.Count}; a text cannot contain a tab"
                    : $"the header has {EnglishCount.Of(headerCount, "column", "columns")} but this row has {fields.Count}; quote a text that contains commas", headerCount, fields.Count);
                continue;
            }
            if (!labelled)
            {
                if (textColumn >= fields.Count)
                {
                    Report.Bad(line, BadRowReason.MissingField, TextFileCodes.MissingColumn, $"{EnglishCount.Of(fields.Count, "column", "columns")}; column {textColumn + 1} is missing", fields.Count, textColumn + 1);
                    continue;
                }
                if (Accept(line, fields[textColumn], null) is { } record) yield return record;
                continue;
            }
            if (Report.HeaderDetected)
            {
                var need = Math.Max(labelColumn, textColumn) + 1;
                if (fields.Count < need)
                {
                    Report.Bad(line, BadRowReason.MissingField, TextFileCodes.MissingColumn, $"{EnglishCount.Of(fields.Count, "column", "columns")}; column {need} is missing", fields.Count, need);
                    continue;
                }
                if (Accept(line, fields[textColumn], labelColumn < 0 ? null : fields[labelColumn]) is { } withHeader) yield return withHeader;
                continue;
            }
            // No header: label, text — or text alone where labels are optional.
            if (fields.Count == 1 && _options.Labels == LabelMode.Required)
            {
                if (delimiter == '\t') Report.Bad(line, BadRowReason.MissingLabel, TextFileCodes.MissingTab, "expected label<TAB>text but there is no tab");
                else Report.Bad(line, BadRowReason.WrongFieldCount, TextFileCodes.WrongFieldCount, "expected 2 fields (label,text) but found 1; quote a text that contains commas", 1);
                continue;
            }
            if (fields.Count > 2)
            {
                Report.Bad(line, BadRowReason.WrongFieldCount, TextFileCodes.WrongFieldCount, delimiter == '\t'
                    ? $"expected 2 fields (label<TAB>text) but found {fields.Count}; a text cannot contain a tab"
                    : $"expected 2 fields (label,text) but found {fields.Count}; quote a text that contains commas", fields.Count);
                continue;
            }
            if (Accept(line, fields[^1], fields.Count == 2 ? fields[0] : null) is { } plain) yield return plain;
        }
    }

    /// <summary>A label-and-text header names both columns (a text-only header, just "text"); without one, the label is
    /// the first column and the text the second (or the only one).</summary>
    private (int Label, int Text, bool Header) LabelColumns(List<string>? first)
    {
        if (first is null) return (0, 1, false);
        var names = first.Select(f => f.Trim()).ToList();
        var text = names.FindIndex(n => n.Equals("text", StringComparison.OrdinalIgnoreCase));
        var label = names.FindIndex(n => n.Equals("label", StringComparison.OrdinalIgnoreCase));
        if (text >= 0 && (label >= 0 || names.Count == 1))
        {
            Report.Source = "text";
            return (label, text, true);
        }
        return (0, 1, false);
    }

    /// <summary>Where labels are optional, every row must have one or none; the first row decides.</summary>
    private IEnumerable<TextRecord> AllOrNoneLabelled(IEnumerable<TextRecord> records)
    {
        bool? labelled = null;
        foreach (var r in records)
        {
            labelled ??= r.Label is not null;
            if (labelled == (r.Label is not null))
            {
                yield return r;
                continue;
            }
            Report.Bad(r.Line, BadRowReason.MissingLabel, TextFileCodes.LabelsMixed, labelled.Value
                ? "this row has no label but the first row has one; give every row a label or none"
                : "this row has a label but the first row has none; give every row a label or none");
        }
    }

    /// <summary>0-based column: a header name (case-insensitive), a 1-based number, or (none given) the header column
    /// called text/sentence/content/body/message…, else the first.</summary>
    internal static int ResolveColumn(string? column, IReadOnlyList<string>? header)
    {
        if (!string.IsNullOrWhiteSpace(column))
        {
            var c = column.Trim();
            if (header is not null)
            {
                for (var i = 0; i < header.Count; i++)
                    if (string.Equals(header[i].Trim(), c, StringComparison.OrdinalIgnoreCase)) return i;
            }
            if (int.TryParse(c, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= 1) return n - 1;
            throw new DomainValidationException("column", TextFileCodes.ColumnUnknown, $"There is no column '{c}'" +
                (header is null ? " (the file has no header row; give a column number)." : $". Columns: {string.Join(", ", header)}."), c);
        }
        if (header is not null)
        {
            for (var i = 0; i < header.Count; i++)
                if (IsTextColumnName(header[i])) return i;
        }
        return 0;
    }

    internal static bool IsTextColumnName(string name) => TextColumnNames.Contains(name.Trim(), StringComparer.OrdinalIgnoreCase);

    /// <summary>A first row is a header when every field is a short, distinct, non-numeric name without sentence
    /// punctuation; a single-column file's first row is a header only if it is one of the usual text column names.</summary>
    internal static bool LooksLikeHeader(IReadOnlyList<string> fields)
    {
        if (fields.Count == 1) return IsTextColumnName(fields[0]);
        if (fields.Any(f => f.Trim().Length is 0 or > 40)) return false;
        if (fields.Select(f => f.Trim().ToLowerInvariant()).Distinct().Count() != fields.Count) return false;
        if (fields.Any(f => double.TryParse(f, NumberStyles.Float, CultureInfo.InvariantCulture, out _))) return false;
        return !fields.Any(f => f.TrimEnd().EndsWith('.') || f.Contains('!') || f.Contains('?') || f.Trim().Count(char.IsWhiteSpace) > 3);
    }

    private TextRecord? Accept(long line, string raw, string? rawLabel)
    {
        var label = rawLabel?.Trim();
        if (label is { Length: 0 })
        {
            Report.Bad(line, BadRowReason.EmptyLabel, TextFileCodes.EmptyLabel, "the label is empty");
            return null;
        }
        var text = raw.Trim();
        if (text.Length == 0 && !_options.KeepEmptyTexts)
        {
            Report.Bad(line, BadRowReason.EmptyText, TextFileCodes.EmptyText, "the text is empty");
            return null;
        }
        if (text.Length > _options.MaxTextChars)
        {
            Report.Bad(line, BadRowReason.TooLong, TextFileCodes.TextTooLong, $"the text has {text.Length} characters; at most {_options.MaxTextChars} are allowed",
                text.Length, _options.MaxTextChars);
            return null;
        }
        return new TextRecord(line, text, label);
    }
}
