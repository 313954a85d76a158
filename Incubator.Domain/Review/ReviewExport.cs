using System.Globalization;
using System.Text;
using System.Text.Json;
using Incubator.Domain.Common;

namespace Incubator.Domain.Review;

public enum ExportFormat
{
    Csv,
    Tsv,
    Jsonl,
}

/// <summary>Writes reviewed samples and audit trails as files. Pages through the queue so memory stays flat for large
/// tasks; the text written is the reviewer's edit when there is one.</summary>
public static class ReviewExport
{
    private const int PageSize = 500;

    public static ExportFormat ParseFormat(string? format) => (format ?? "tsv").ToLowerInvariant() switch
    {
        "csv" => ExportFormat.Csv,
        "tsv" => ExportFormat.Tsv,
        "jsonl" => ExportFormat.Jsonl,
        var f => throw new DomainValidationException("format", "ExportFormatUnknown", $"Unknown export format '{f}'. Use csv, tsv or jsonl.", f),
    };

    public static string ContentType(ExportFormat f) => f switch
    {
        ExportFormat.Csv => "text/csv; charset=utf-8",
        ExportFormat.Tsv => "text/tab-separated-values; charset=utf-8",
        _ => "application/x-ndjson; charset=utf-8",
    };

    public static string Extension(ExportFormat f) => f.ToString().ToLowerInvariant();

    public const string CsvHeader = "id,label,text,status,stage,source,ambiguous,original_label,original_text,rejection_reason,created_at,reviewed_at,reviewed_by";

    /// <summary>TSV is the training format: `label&lt;TAB&gt;text`, one sample a line, no header.</summary>
    public static async Task<int> WriteCandidatesAsync(ReviewQueries review, string userId, Guid taskId, CandidateFilter filter, ExportFormat format,
        TextWriter writer, CancellationToken ct)
    {
        if (format == ExportFormat.Csv)
            await writer.WriteLineAsync(CsvHeader);
        var written = 0;
        for (var page = 0; ; page++)
        {
            var rows = await review.QueryAsync(userId, taskId, filter, page, PageSize, CandidateSort.Oldest, ct);
            foreach (var r in rows.Items)
            {
                await WriteRowAsync(r, format, writer);
                written++;
            }
            if ((page + 1) * PageSize >= rows.Total || rows.Items.Count == 0) break;
        }
        await writer.FlushAsync(ct);
        return written;
    }

    /// <summary>One sample as one line of the format.</summary>
    public static async Task WriteRowAsync(CandidateRow r, ExportFormat format, TextWriter writer)
    {
        var text = r.EditedText ?? r.Text;
        switch (format)
        {
            case ExportFormat.Tsv:
                await writer.WriteLineAsync($"{OneLine(r.Label)}\t{OneLine(text)}");
                break;
            case ExportFormat.Csv:
                await writer.WriteLineAsync(string.Join(',', Csv(r.Id.ToString()), Csv(r.Label), Csv(text), Csv(r.Status.ToString()), Csv(r.Stage.ToString()),
                    Csv(r.Source.ToString()), Csv(r.IsAmbiguous ? "true" : "false"), Csv(r.OriginalLabel), Csv(r.EditedText is null ? null : r.Text),
                    Csv(r.RejectionReason?.ToString()), Csv(Iso(r.CreatedAt)), Csv(r.ReviewedAt is { } at ? Iso(at) : null), Csv(r.ReviewedByEmail)));
                break;
            default:
                await writer.WriteLineAsync(JsonSerializer.Serialize(new
                {
                    id = r.Id, label = r.Label, text, status = r.Status.ToString(), stage = r.Stage.ToString(), source = r.Source.ToString(),
                    ambiguous = r.IsAmbiguous, originalLabel = r.OriginalLabel, originalText = r.EditedText is null ? null : r.Text,
                    rejectionReason = r.RejectionReason?.ToString(), createdAt = r.CreatedAt, reviewedAt = r.ReviewedAt, reviewedBy = r.ReviewedByEmail,
                }, Json));
                break;
        }
    }

    /// <summary>The project's audit trail as CSV: who, when, before → after, including attempts that lost a race.</summary>
    public static async Task<int> WriteProjectAuditAsync(ReviewQueries review, string userId, Guid projectId, TextWriter writer, CancellationToken ct)
    {
        await writer.WriteLineAsync("id,candidate_id,at,user,kind,status_before,status_after,label_before,label_after,text_before,text_after,reason,comment,lost");
        var written = 0;
        for (var page = 0; ; page++)
        {
            var rows = await review.ProjectAuditAsync(userId, projectId, page, PageSize, ct);
            foreach (var e in rows.Items)
            {
                await writer.WriteLineAsync(string.Join(',', e.Id.ToString(CultureInfo.InvariantCulture), Csv(e.CandidateId.ToString()), Csv(Iso(e.At)), Csv(e.UserEmail),
                    Csv(e.Kind.ToString()), Csv(e.StatusBefore.ToString()), Csv(e.StatusAfter.ToString()), Csv(e.LabelBefore), Csv(e.LabelAfter), Csv(e.TextBefore),
                    Csv(e.TextAfter), Csv(e.Reason?.ToString()), Csv(e.Comment), e.Lost ? "true" : "false"));
                written++;
            }
            if ((page + 1) * PageSize >= rows.Total || rows.Items.Count == 0) break;
        }
        await writer.FlushAsync(ct);
        return written;
    }

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private static string Iso(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);

    private static string OneLine(string s) => s.Replace('\t', ' ').Replace("\r\n", " ").Replace('\n', ' ').Replace('\r', ' ');

    /// <summary>RFC 4180: quote every field that needs it, double the quotes inside.</summary>
    internal static string Csv(string? value)
    {
        if (value is null) return "";
        var needs = value.IndexOfAny([',', '"', '\n', '\r']) >= 0 || value.StartsWith(' ') || value.EndsWith(' ');
        // A leading = + - @ would be a formula in a spreadsheet: prefix it so an exported sample can never run as one.
        if (value.Length > 0 && value[0] is '=' or '+' or '-' or '@') value = "'" + value;
        return needs || value.StartsWith('\'') ? "\"" + value.Replace("\"", "\"\"") + "\"" : value;
    }
}
