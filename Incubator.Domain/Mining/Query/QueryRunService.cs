using System.Globalization;
using System.Text;
using System.Text.Json;
using Incubator.Domain.Common;
using Incubator.Domain.Data;
using Incubator.Domain.Jobs;
using Incubator.Domain.Projects;
using Microsoft.EntityFrameworkCore;

namespace Incubator.Domain.Mining.Query;

public sealed record QueryCheck(string? Canonical, IReadOnlyList<QueryError> Errors)
{
    public bool Valid => Canonical is not null;
}

public sealed record QueryRunSummary(
    Guid Id, QueryRunKind Kind, string Expression, Guid CorpusId, string CorpusName, int Total, int Processed, int Matched, Guid? JobId, JobState? State,
    DateTimeOffset CreatedAt, Guid ProjectId);

public sealed record LabelCount(string Label, int Count);

public sealed record QueryRunView(
    QueryRunSummary Run, IReadOnlyList<QueryRunModel> Models, IReadOnlyList<string> Columns, QueryFunnel? Funnel, IReadOnlyList<string> Steps,
    IReadOnlyList<LabelCount> Distribution, JobView? Job);

public sealed record QueryHitView(int Ordinal, string Text, string? Label, float[] Probabilities);

/// <summary>Use cases of logical text mining in the portal: the published models and corpora a query can use, live
/// checking of a query, starting a query run or a model application as a job (Author), and reading, paging and
/// exporting results (Viewer).</summary>
public sealed class QueryRunService(
    IDbContextFactory<IncubatorDbContext> dbFactory,
    ProjectAccess access,
    IQueryModelSource models,
    IQueryCorpusSource corpora,
    JobQueue jobs,
    TimeProvider time)
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task<IReadOnlyList<QueryModelInfo>> ModelsAsync(string userId, Guid projectId, CancellationToken ct = default)
    {
        await access.RequireAsync(projectId, userId, ProjectRole.Viewer, ct);
        return await models.PublishedAsync(projectId, ct);
    }

    public async Task<IReadOnlyList<QueryCorpusInfo>> CorporaAsync(string userId, Guid projectId, CancellationToken ct = default)
    {
        await access.RequireAsync(projectId, userId, ProjectRole.Viewer, ct);
        return await corpora.ListAsync(projectId, ct);
    }

    /// <summary>Parses and validates against the given models; no database access, so the page can call it per keystroke.</summary>
    public static QueryCheck Check(string text, IReadOnlyList<QueryModelInfo> available)
    {
        var (q, errors) = QueryValidator.ParseAndValidate(text, Schema(available));
        return new QueryCheck(q is null ? null : QueryPrinter.Print(q), errors);
    }

    public static QuerySchema Schema(IReadOnlyList<QueryModelInfo> available) =>
        new(available.Select(m => new KeyValuePair<string, IReadOnlyList<string>>(m.Name, m.Labels)));

    public async Task<QueryRunSummary> StartQueryAsync(string userId, Guid projectId, Guid corpusId, string expression, CancellationToken ct = default)
    {
        await access.RequireWriteAsync(projectId, userId, ProjectRole.Author, ct);
        var available = await models.PublishedAsync(projectId, ct);
        QueryNode query;
        try
        {
            query = QueryValidator.ParseAndValidateOrThrow(expression ?? "", Schema(available));
        }
        catch (QuerySyntaxException ex)
        {
            throw ex.ToValidationException();
        }
        var corpus = await CorpusAsync(projectId, corpusId, ct);
        var compiled = CompiledQuery.FromValidated(query);
        var used = compiled.Models.Select(n => available.Single(m => m.Name == n)).Select(m => new QueryRunModel(m.Name, m.ModelVersionId, m.Labels)).ToList();
        return await StartAsync(userId, projectId, QueryRunKind.Query, corpus, compiled.Text, used, compiled.ClauseTexts,
            JsonSerializer.Serialize(new QueryFunnel(compiled.Clauses.Count, compiled.Conjuncts.Count), Json), JobTitles.Query(Shorten(compiled.Text)), ct);
    }

    public async Task<QueryRunSummary> StartApplyAsync(string userId, Guid projectId, Guid corpusId, Guid modelVersionId, CancellationToken ct = default)
    {
        await access.RequireWriteAsync(projectId, userId, ProjectRole.Author, ct);
        var model = (await models.PublishedAsync(projectId, ct)).FirstOrDefault(m => m.ModelVersionId == modelVersionId)
            ?? throw new DomainValidationException("model", "QueryModelNotPublished", "Choose a published model of this project.");
        var corpus = await CorpusAsync(projectId, corpusId, ct);
        return await StartAsync(userId, projectId, QueryRunKind.Apply, corpus, model.Name, [new QueryRunModel(model.Name, model.ModelVersionId, model.Labels)],
            model.Labels, "{}", JobTitles.Apply(Shorten(model.Name)), ct);
    }

    private async Task<QueryCorpusInfo> CorpusAsync(Guid projectId, Guid corpusId, CancellationToken ct) =>
        (await corpora.ListAsync(projectId, ct)).FirstOrDefault(c => c.Id == corpusId)
        ?? throw new DomainValidationException("corpus", "QueryCorpusMissing", "Choose a corpus of this project.");

    private async Task<QueryRunSummary> StartAsync(string userId, Guid projectId, QueryRunKind kind, QueryCorpusInfo corpus, string expression,
        IReadOnlyList<QueryRunModel> used, IReadOnlyList<string> columns, string funnelJson, JobNote title, CancellationToken ct)
    {
        var run = new QueryRun
        {
            Id = Guid.NewGuid(), ProjectId = projectId, Kind = kind, CorpusId = corpus.Id, CorpusName = corpus.Name, Expression = expression,
            ModelsJson = JsonSerializer.Serialize(used, Json), ColumnsJson = JsonSerializer.Serialize(columns, Json), Total = corpus.TextCount,
            FunnelJson = funnelJson, CreatedAt = time.GetUtcNow(), CreatedById = userId,
        };
        var job = await jobs.StartAsync(userId, projectId, (db, jobId) =>
        {
            run.JobId = jobId;
            db.QueryRuns.Add(run);
            return Task.FromResult(new JobStart(QueryRunJob.KindName, title, new QueryRunJob.Payload(run.Id)));
        }, ct);
        return Summary(run, job.Id, job.State);
    }

    public async Task<IReadOnlyList<QueryRunSummary>> ListAsync(string userId, Guid projectId, QueryRunKind? kind = null, CancellationToken ct = default)
    {
        await access.RequireAsync(projectId, userId, ProjectRole.Viewer, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await db.QueryRuns.AsNoTracking().Where(r => r.ProjectId == projectId && (kind == null || r.Kind == kind))
            .Select(r => new { Run = r, State = db.Jobs.Where(j => j.Id == r.JobId).Select(j => (JobState?)j.State).FirstOrDefault() })
            .ToListAsync(ct);
        // Ordered here: SQLite cannot order by DateTimeOffset.
        return rows.OrderByDescending(x => x.Run.CreatedAt).Take(100).Select(x => Summary(x.Run, x.Run.JobId, x.State)).ToList();
    }

    public async Task<QueryRunView> GetAsync(string userId, Guid runId, CancellationToken ct = default)
    {
        var run = await RunAsync(userId, runId, ct);
        JobView? job = run.JobId is { } jobId ? await jobs.GetAsync(userId, jobId, ct) : null;
        var used = JsonSerializer.Deserialize<List<QueryRunModel>>(run.ModelsJson, Json) ?? [];
        var columns = JsonSerializer.Deserialize<List<string>>(run.ColumnsJson, Json) ?? [];
        QueryFunnel? funnel = null;
        IReadOnlyList<string> steps = [];
        IReadOnlyList<LabelCount> distribution = [];
        if (run.Kind == QueryRunKind.Query)
        {
            funnel = JsonSerializer.Deserialize<QueryFunnel>(run.FunnelJson, Json);
            var parsed = QueryParser.ParseOrThrow(run.Expression);
            steps = parsed.Conjuncts().Select(QueryPrinter.PrintStep).ToList();
        }
        else
        {
            var counts = JsonSerializer.Deserialize<Dictionary<string, int>>(run.FunnelJson, Json) ?? [];
            distribution = columns.Select(l => new LabelCount(l, counts.GetValueOrDefault(l))).ToList();
        }
        return new QueryRunView(Summary(run, run.JobId, job?.State), used, columns, funnel, steps, distribution, job);
    }

    public async Task<Page<QueryHitView>> HitsAsync(string userId, Guid runId, int pageIndex, int pageSize, string? label = null, CancellationToken ct = default)
    {
        await RunAsync(userId, runId, ct);
        label = InputLimits.CheckFilter("label", label, InputLimits.LabelName);
        pageSize = Math.Clamp(pageSize, 1, 500);
        pageIndex = Math.Max(0, pageIndex);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var q = db.QueryHits.AsNoTracking().Where(h => h.RunId == runId && (label == null || h.Label == label));
        var total = await q.CountAsync(ct);
        var items = await q.OrderBy(h => h.Ordinal).Skip(pageIndex * pageSize).Take(pageSize).ToListAsync(ct);
        return new Page<QueryHitView>(items.Select(View).ToList(), total, pageIndex, pageSize);
    }

    /// <summary>CSV: text, (label for a model application), then one probability column per clause or label. Streams
    /// 1,000 rows at a time; formula-looking cells are made inert.</summary>
    public async Task<int> WriteCsvAsync(string userId, Guid runId, TextWriter writer, CancellationToken ct = default)
    {
        var run = await RunAsync(userId, runId, ct);
        var columns = JsonSerializer.Deserialize<List<string>>(run.ColumnsJson, Json) ?? [];
        var header = new List<string> { "ordinal", "text" };
        if (run.Kind == QueryRunKind.Apply) header.Add("label");
        header.AddRange(columns.Select(c => run.Kind == QueryRunKind.Apply ? "p(" + c + ")" : c));
        await writer.WriteLineAsync(string.Join(',', header.Select(Csv)));
        var written = 0;
        var last = -1;
        while (true)
        {
            List<QueryHit> batch;
            await using (var db = await dbFactory.CreateDbContextAsync(ct))
                batch = await db.QueryHits.AsNoTracking().Where(h => h.RunId == runId && h.Ordinal > last).OrderBy(h => h.Ordinal).Take(1000).ToListAsync(ct);
            if (batch.Count == 0) break;
            foreach (var h in batch)
            {
                var cells = new List<string> { h.Ordinal.ToString(CultureInfo.InvariantCulture), Csv(h.Text) };
                if (run.Kind == QueryRunKind.Apply) cells.Add(Csv(h.Label));
                cells.AddRange(h.Probabilities.Split(' ', StringSplitOptions.RemoveEmptyEntries));
                await writer.WriteLineAsync(string.Join(',', cells));
                written++;
            }
            last = batch[^1].Ordinal;
        }
        await writer.FlushAsync(ct);
        return written;
    }

    private async Task<QueryRun> RunAsync(string userId, Guid runId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var run = await db.QueryRuns.AsNoTracking().SingleOrDefaultAsync(r => r.Id == runId, ct)
            ?? throw new ForbiddenException("You do not have access to this run.");
        await access.RequireAsync(run.ProjectId, userId, ProjectRole.Viewer, ct);
        return run;
    }

    internal static string FormatProbabilities(IEnumerable<float> values) =>
        string.Join(' ', values.Select(v => v.ToString("0.####", CultureInfo.InvariantCulture)));

    private static QueryHitView View(QueryHit h) => new(h.Ordinal, h.Text, h.Label,
        h.Probabilities.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(p => float.Parse(p, CultureInfo.InvariantCulture)).ToArray());

    private static QueryRunSummary Summary(QueryRun r, Guid? jobId, JobState? state) =>
        new(r.Id, r.Kind, r.Expression, r.CorpusId, r.CorpusName, r.Total, r.Processed, r.Matched, jobId, state, r.CreatedAt, r.ProjectId);

    private static string Shorten(string s) => s.Length <= 120 ? s : s[..117] + "...";

    /// <summary>RFC 4180 quoting; a leading = + - @ is prefixed so a spreadsheet never runs a text as a formula.</summary>
    internal static string Csv(string? value)
    {
        if (value is null) return "";
        if (value.Length > 0 && value[0] is '=' or '+' or '-' or '@') value = "'" + value;
        var needs = value.IndexOfAny([',', '"', '\n', '\r']) >= 0 || value.StartsWith(' ') || value.EndsWith(' ') || value.StartsWith('\'');
        return needs ? "\"" + value.Replace("\"", "\"\"") + "\"" : value;
    }
}
