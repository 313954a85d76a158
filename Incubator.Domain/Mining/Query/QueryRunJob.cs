using System.Text.Json;
using Incubator.Domain.Data;
using Incubator.Domain.Jobs;
using Incubator.Domain.Training;
using Microsoft.EntityFrameworkCore;

namespace Incubator.Domain.Mining.Query;

/// <summary>Runs a <see cref="QueryRun"/> over its corpus in batches. Each batch's results, the run's counters and the
/// checkpoint (next ordinal) are written in one transaction, so a resumed job neither repeats nor skips a text.</summary>
public sealed class QueryRunJob(IDbContextFactory<IncubatorDbContext> dbFactory, IQueryModelSource modelSource, IQueryCorpusSource corpora) : IJobHandler
{
    public const string KindName = "mining.query";
    public const int BatchSize = 256;

    public sealed record Payload(Guid RunId);

    public sealed record Checkpoint(int NextOrdinal);

    public string Kind => KindName;

    public async Task RunAsync(JobContext context)
    {
        var ct = context.CancellationToken;
        var payload = context.ReadPayload<Payload>();
        QueryRun run;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
            run = await db.QueryRuns.AsNoTracking().SingleAsync(r => r.Id == payload.RunId, ct);
        var used = JsonSerializer.Deserialize<List<QueryRunModel>>(run.ModelsJson, QueryRunService.Json) ?? [];

        var loaded = new Dictionary<string, ITextClassifier>(StringComparer.Ordinal);
        try
        {
            foreach (var m in used) loaded[m.Name] = await modelSource.LoadAsync(run.ProjectId, m.ModelVersionId, ct);
            var next = context.ReadCheckpoint<Checkpoint>()?.NextOrdinal ?? 0;
            if (next > 0) await context.LogAsync(ProgressNotes.QueryResuming(next, run.Processed, run.Total));
            else await context.LogAsync(ProgressNotes.QueryStarted(run.Kind == QueryRunKind.Query, run.Expression, run.CorpusName, run.Total));

            CompiledQuery? compiled = null;
            QueryFunnel? funnel = null;
            Dictionary<string, int>? distribution = null;
            if (run.Kind == QueryRunKind.Query)
            {
                // Validate against the frozen model versions' labels: a run must never evaluate a clause its model cannot answer.
                compiled = CompiledQuery.FromValidated(QueryValidator.ParseAndValidateOrThrow(run.Expression, QueryEvaluator.SchemaOf(loaded)));
                funnel = JsonSerializer.Deserialize<QueryFunnel>(run.FunnelJson, QueryRunService.Json)
                    ?? new QueryFunnel(compiled.Clauses.Count, compiled.Conjuncts.Count);
            }
            else distribution = JsonSerializer.Deserialize<Dictionary<string, int>>(run.FunnelJson, QueryRunService.Json) ?? [];

            var processed = run.Processed;
            var matched = run.Matched;
            while (true)
            {
                ct.ThrowIfCancellationRequested();
                var rows = await corpora.ReadAsync(run.CorpusId, next, BatchSize, ct);
                if (rows.Count == 0) break;
                var texts = rows.Select(r => r.Text).ToList();
                var hits = new List<QueryHit>();
                if (compiled is not null)
                {
                    var result = QueryEvaluator.Evaluate(compiled, loaded, texts);
                    funnel!.Add(result.Funnel);
                    foreach (var row in result.Rows.Where(r => r.Matched))
                        hits.Add(new QueryHit { RunId = run.Id, Ordinal = rows[row.Index].Ordinal, Text = texts[row.Index], Probabilities = QueryRunService.FormatProbabilities(row.Probabilities) });
                }
                else
                {
                    var model = loaded[used[0].Name];
                    var predictions = model.Predict(texts);
                    for (var i = 0; i < rows.Count; i++)
                    {
                        distribution![predictions[i].Label] = distribution.GetValueOrDefault(predictions[i].Label) + 1;
                        hits.Add(new QueryHit
                        {
                            RunId = run.Id, Ordinal = rows[i].Ordinal, Text = texts[i], Label = predictions[i].Label,
                            Probabilities = QueryRunService.FormatProbabilities(predictions[i].Probabilities),
                        });
                    }
                }
                processed += rows.Count;
                matched += hits.Count;
                next = rows[^1].Ordinal + 1;
                var funnelJson = compiled is not null ? JsonSerializer.Serialize(funnel, QueryRunService.Json) : JsonSerializer.Serialize(distribution, QueryRunService.Json);
                var (p, m) = (processed, matched);
                await context.CommitAsync(run.Total == 0 ? 0 : (double)processed / run.Total,
                    ProgressNotes.QueryProgress(processed, run.Total, compiled is not null ? matched : null),
                    new Checkpoint(next),
                    extraWrites: async db =>
                    {
                        db.QueryHits.AddRange(hits);
                        await db.QueryRuns.Where(r => r.Id == run.Id).ExecuteUpdateAsync(s => s
                            .SetProperty(r => r.Processed, p)
                            .SetProperty(r => r.Matched, m)
                            .SetProperty(r => r.FunnelJson, funnelJson), CancellationToken.None);
                    });
            }
            await context.CommitAsync(1, ProgressNotes.QueryDone(processed, compiled is not null ? matched : null),
                log: compiled is not null ? ProgressNotes.QueryFunnel(string.Join("\n", funnel!.Describe(compiled)))
                    : ProgressNotes.QueryDistribution(string.Join(", ", distribution!.Select(d => $"{d.Key} {d.Value}"))));
        }
        finally
        {
            foreach (var m in loaded.Values) (m as IDisposable)?.Dispose();
        }
    }
}
