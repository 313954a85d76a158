using System.Text;

namespace Incubator.Domain.Common.TextFiles;

/// <summary>One CSV/TSV record: the physical line it starts on, and its fields or why it could not be split.</summary>
internal readonly record struct DelimitedRecord(long Line, List<string>? Fields, BadRowReason Reason, string? Code, string? Error);

/// <summary>RFC 4180 records over physical lines: a quoted field may hold delimiters, doubled quotes and line breaks.
/// A CSV record whose quote is still open after <see cref="TextFileOptions.MaxLinesPerCsvRecord"/> lines (or at the end)
/// is reported at its first line, and the lines after that first line are read again as records. TSV has no quoting
/// standard, so a TSV field is unquoted only when it is cleanly quoted; otherwise the line is taken as it is.</summary>
internal static class DelimitedRecords
{
    public static IEnumerable<DelimitedRecord> Read(TextReader reader, char delimiter, CancellationToken ct)
    {
        var pending = new Queue<(long Line, string Text)>(); // lines read ahead and given back after an unclosed quote
        long lineNo = 0;
        bool Next(out (long Line, string Text) l)
        {
            if (pending.Count > 0)
            {
                l = pending.Dequeue();
                return true;
            }
            var s = reader.ReadLine();
            if (s is null)
            {
                l = default;
                return false;
            }
            l = (++lineNo, s);
            return true;
        }

        var lenient = delimiter == '\t';
        while (Next(out var firstLine))
        {
            ct.ThrowIfCancellationRequested();
            if (!firstLine.Text.Contains('"'))
            {
                // Most lines hold no quote at all: nothing to unquote, a plain split is the whole record.
                yield return new DelimitedRecord(firstLine.Line, [.. firstLine.Text.Split(delimiter)], default, null, null);
                continue;
            }
            var consumed = new List<(long Line, string Text)> { firstLine };
            var record = new StringBuilder(firstLine.Text);
            while (true)
            {
                var status = TrySplit(record, delimiter, out var fields, out var code, out var error);
                if (status == SplitStatus.Ok)
                {
                    yield return new DelimitedRecord(firstLine.Line, fields, default, null, null);
                    break;
                }
                if (status == SplitStatus.Malformed && consumed.Count == 1)
                {
                    yield return lenient
                        ? new DelimitedRecord(firstLine.Line, [.. firstLine.Text.Split(delimiter)], default, null, null)
                        : new DelimitedRecord(firstLine.Line, null, BadRowReason.UnparseableCsv, code, error);
                    break;
                }
                // Unclosed quote: take the next line into the record, unless the record is already too long. A record
                // that only went wrong after taking in more lines was really an unclosed quote on its first line.
                if (status == SplitStatus.Malformed || consumed.Count >= TextFileOptions.MaxLinesPerCsvRecord || !Next(out var more))
                {
                    yield return lenient
                        ? new DelimitedRecord(firstLine.Line, [.. firstLine.Text.Split(delimiter)], default, null, null)
                        : new DelimitedRecord(firstLine.Line, null, BadRowReason.UnparseableCsv, TextFileCodes.UnclosedQuote, "a quoted field is never closed");
                    // Give back every line after the first one: they may be good rows.
                    var back = new Queue<(long, string)>(consumed.Skip(1).Concat(pending));
                    pending.Clear();
                    foreach (var b in back) pending.Enqueue(b);
                    break;
                }
                consumed.Add(more);
                record.Append('\n').Append(more.Text);
            }
        }
    }

    private enum SplitStatus
    {
        Ok,
        Unclosed,
        Malformed,
    }

    private static SplitStatus TrySplit(StringBuilder record, char delimiter, out List<string> fields, out string? code, out string? error)
    {
        fields = [];
        code = null;
        error = null;
        var field = new StringBuilder();
        var i = 0;
        var n = record.Length;
        while (true)
        {
            field.Clear();
            if (i < n && record[i] == '"')
            {
                i++;
                var closed = false;
                while (i < n)
                {
                    var c = record[i];
                    if (c == '"')
                    {
                        if (i + 1 < n && record[i + 1] == '"')
                        {
                            field.Append('"');
                            i += 2;
                            continue;
                        }
                        closed = true;
                        i++;
                        break;
                    }
                    field.Append(c);
                    i++;
                }
                if (!closed) return SplitStatus.Unclosed;
                if (i < n && record[i] != delimiter)
                {
                    code = TextFileCodes.TextAfterQuote;
                    error = $"text follows a closing quote (column {fields.Count + 1})";
                    return SplitStatus.Malformed;
                }
            }
            else
            {
                while (i < n && record[i] != delimiter)
                {
                    if (record[i] == '"' && delimiter == ',')
                    {
                        code = TextFileCodes.QuoteInField;
                        error = $"a quote inside an unquoted field (column {fields.Count + 1}); quote the whole field and double the quotes inside it";
                        return SplitStatus.Malformed;
                    }
                    field.Append(record[i]);
                    i++;
                }
            }
            fields.Add(field.ToString());
            if (i >= n) return SplitStatus.Ok;
            i++; // the delimiter
        }
    }
}
