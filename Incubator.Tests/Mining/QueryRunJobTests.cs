using Incubator.Tests.Infrastructure;
using Incubator.Domain.Data;
using Incubator.Domain.Benchmarks;
using System.Text;
using Incubator.Domain.Common;
using Incubator.Domain.Embeddings;
using Incubator.Domain.Jobs;
using Incubator.Domain.Mining;
using Incubator.Domain.Mining.Query;
using Incubator.Domain.Projects;
using Incubator.Domain.Training;
using Incubator.Tests.Jobs;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.Mining;

/// <summary>Query runs and model applications as durable jobs over a stored corpus, with real trained sparse models
/// standing in for the registry: results match a one-pass evaluation, a stopped job resumes from its last batch without
/// repeating or skipping a text, results page and export as CSV, and roles are enforced.</summary>
public sealed class QueryRunJobTests(QueryModelsFixture fixture) : IClassFixture<QueryModelsFixture>
{
    private const int Texts = 600; // three batches: 256, 256, 88

    /// <summary>The registry stand-in: the fixture's models, each wrapped to count texts and optionally hold a batch.</summary>
    private sealed class Models(QueryModelsFixture fixture) : IQueryModelSource
    {
        public readonly Dictionary<string, Guid> Ids = fixture.Models.Keys.ToDictionary(k => k, _ => Guid.NewGuid());
        public int UrgencyTexts;
        public int UrgencyCalls;
        public ManualResetEventSlim? HoldSecondBatch;
        public readonly ManualResetEventSlim Holding = new(false);

        public Task<IReadOnlyList<QueryModelInfo>> PublishedAsync(Guid projectId, CancellationToken ct) =>
            Task.FromResult<IReadOnlyList<QueryModelInfo>>(fixture.Models.Select(m => new QueryModelInfo(m.Key, Ids[m.Key], m.Value.Labels, m.Key)).ToList());

        public Task<ITextClassifier> LoadAsync(Guid projectId, Guid modelVersionId, CancellationToken ct)
        {
            var name = Ids.Single(i => i.Value == modelVersionId).Key;
            return Task.FromResult<ITextClassifier>(new Counting(this, name, fixture.Models[name]));
        }

        private sealed class Counting(Models owner, string name, ITextClassifier inner) : ITextClassifier
        {
            public IReadOnlyList<string> Labels => inner.Labels;

            public ModelFamily Family => inner.Family;

            public IReadOnlyList<Prediction> Predict(IReadOnlyList<string> texts)
            {
                if (name == "urgency")
                {
                    if (Interlocked.Increment(ref owner.UrgencyCalls) == 2 && owner.HoldSecondBatch is { } hold)
                    {
                        owner.Holding.Set();
                        hold.Wait(TimeSpan.FromSeconds(60));
                    }
                    Interlocked.Add(ref owner.UrgencyTexts, texts.Count);
                }
                return inner.Predict(texts);
            }
        }
    }

    private sealed record Setup(JobTestHost Host, Models Models, Guid ProjectId, Guid CorpusId, List<string> Texts, string Author, string Viewer)
    {
        public QueryRunService Service => Host.Services.GetRequiredService<QueryRunService>();
    }

    private async Task<Setup> ArrangeAsync(DatabaseProvider provider = DatabaseProvider.Sqlite)
    {
        var models = new Models(fixture);
        var host = await JobTestHost.CreateAsync(configure: s =>
        {
            s.AddIncubatorEmbeddings();
            s.AddIncubatorMining();
            s.AddSingleton<IQueryModelSource>(models);
            s.AddIncubatorQueries();
        }, provider: provider);
        var projectId = await host.CreateProjectAsync("query runs");
        var author = await host.CreateUserAsync(projectId, ProjectRole.Author, "author");
        var viewer = await host.CreateUserAsync(projectId, ProjectRole.Viewer, "viewer");
        var texts = SyntheticTickets.Texts(Texts, 21).Select((t, i) => $"{t} #{i}").ToList();
        texts[7] = "=HYPERLINK(\"http://evil\") urgent package, \"quoted\" angry";
        var corpusId = Guid.NewGuid();
        await using (var db = await host.Db.CreateDbContextAsync())
        {
            db.Corpora.Add(new Corpus { Id = corpusId, ProjectId = projectId, Name = "tickets", FileName = "tickets.txt", TextCount = texts.Count, CreatedAt = DateTimeOffset.UtcNow });
            db.CorpusTexts.AddRange(texts.Select((t, i) => new CorpusText { CorpusId = corpusId, Ordinal = i, Text = t, Line = i + 1 }));
            await db.SaveChangesAsync();
        }
        return new Setup(host, models, projectId, corpusId, texts, author, viewer);
    }

    private QueryBatchResult Expected(string expr, IReadOnlyList<string> texts)
    {
        var models = fixture.Models.ToDictionary(m => m.Key, m => (ITextClassifier)m.Value);
        return QueryEvaluator.Evaluate(CompiledQuery.Compile(expr, QueryEvaluator.SchemaOf(models)), models, texts);
    }

    [Theory]
    [MemberData(nameof(TestServers.Providers), MemberType = typeof(TestServers))]
    public async Task A_stopped_query_job_resumes_from_its_last_batch_and_ends_with_the_one_pass_results(DatabaseProvider provider)
    {
        var s = await ArrangeAsync(provider: provider);
        await using var host = s.Host;
        using var hold = new ManualResetEventSlim(false);
        s.Models.HoldSecondBatch = hold;
        const string expr = "urgency:urgent>=0.5 AND (topic:shipping OR NOT sentiment:positive)";

        var run = await s.Service.StartQueryAsync(s.Author, s.ProjectId, s.CorpusId, expr);
        await host.StartWorkerAsync();
        Assert.True(s.Models.Holding.Wait(TimeSpan.FromSeconds(60)), "the job never reached its second batch");
        // The host stops while the second batch is being predicted.
        var stopping = host.StopWorkerAsync();
        hold.Set();
        await stopping;

        var afterStop = (await s.Service.GetAsync(s.Author, run.Id)).Run;
        Assert.NotEqual(JobState.Succeeded, afterStop.State);
        Assert.InRange(afterStop.Processed, 256, 512);
        var textsBefore = s.Models.UrgencyTexts;
        s.Models.HoldSecondBatch = null;

        await host.StartWorkerAsync();
        var job = await host.WaitForJobAsync(run.JobId!.Value, j => j.IsFinished, "finished");
        Assert.True(job.State == JobState.Succeeded, JobTestHost.Describe(job));
        Assert.Contains(await host.GetLogAsync(job.Id), l => l.Message == $"Resuming at text {afterStop.Processed:N0} ({afterStop.Processed:N0} of {Texts:N0} done).");
        // Resumed, not restarted: the second attempt predicted only what the first had not committed.
        Assert.Equal(Texts - afterStop.Processed, s.Models.UrgencyTexts - textsBefore);

        var expected = Expected(expr, s.Texts);
        var view = await s.Service.GetAsync(s.Viewer, run.Id);
        Assert.Equal((Texts, Texts, (int)expected.Funnel.Matched), (view.Run.Total, view.Run.Processed, view.Run.Matched));
        Assert.Equal(expected.Funnel.ClausePassed, view.Funnel!.ClausePassed);
        Assert.Equal(expected.Funnel.Cumulative, view.Funnel.Cumulative);
        Assert.Equal(["urgency:urgent>=0.5", "topic:shipping", "sentiment:positive"], view.Columns);
        Assert.Equal(["urgency:urgent>=0.5", "(topic:shipping OR NOT sentiment:positive)"], view.Steps);

        // Every hit once, in corpus order, with each clause's probability.
        var hits = new List<QueryHitView>();
        for (var page = 0; ; page++)
        {
            var p = await s.Service.HitsAsync(s.Viewer, run.Id, page, 50);
            Assert.Equal(expected.Funnel.Matched, p.Total);
            hits.AddRange(p.Items);
            if (p.Items.Count < 50) break;
        }
        var expectedHits = expected.Rows.Where(r => r.Matched).ToList();
        Assert.Equal(expectedHits.Select(r => r.Index), hits.Select(h => h.Ordinal));
        for (var i = 0; i < hits.Count; i++)
        {
            Assert.Equal(s.Texts[hits[i].Ordinal], hits[i].Text);
            for (var c = 0; c < 3; c++) Assert.Equal(expectedHits[i].Probabilities[c], hits[i].Probabilities[c], 0.0001f);
        }
    }

    [Theory]
    [MemberData(nameof(TestServers.Providers), MemberType = typeof(TestServers))]
    public async Task Applying_a_model_labels_every_text_charts_the_distribution_and_exports_csv(DatabaseProvider provider)
    {
        var s = await ArrangeAsync(provider: provider);
        await using var host = s.Host;
        var run = await s.Service.StartApplyAsync(s.Author, s.ProjectId, s.CorpusId, s.Models.Ids["topic"]);
        await host.StartWorkerAsync();
        var job = await host.WaitForJobAsync(run.JobId!.Value, j => j.IsFinished, "finished");
        Assert.True(job.State == JobState.Succeeded, JobTestHost.Describe(job));

        var predictions = fixture.Models["topic"].Predict(s.Texts);
        var view = await s.Service.GetAsync(s.Viewer, run.Id);
        Assert.Equal(fixture.Models["topic"].Labels, view.Distribution.Select(d => d.Label));
        foreach (var d in view.Distribution) Assert.Equal(predictions.Count(p => p.Label == d.Label), d.Count);
        Assert.Equal(Texts, view.Distribution.Sum(d => d.Count));

        var shipping = await s.Service.HitsAsync(s.Viewer, run.Id, 0, 500, "shipping");
        Assert.Equal(predictions.Count(p => p.Label == "shipping"), shipping.Total);
        Assert.All(shipping.Items, h => Assert.Equal("shipping", h.Label));

        var csv = new StringWriter();
        var written = await s.Service.WriteCsvAsync(s.Viewer, run.Id, csv);
        Assert.Equal(Texts, written);
        var lines = csv.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal($"ordinal,text,label,p({fixture.Models["topic"].Labels[0]}),p({fixture.Models["topic"].Labels[1]})", lines[0].TrimEnd('\r'));
        Assert.Equal(Texts + 1, lines.Length);
        // The formula-looking text is made inert and quoted properly.
        Assert.StartsWith("7,\"'=HYPERLINK(\"\"http://evil\"\") urgent package, \"\"quoted\"\" angry\",", lines[8]);
        Assert.StartsWith($"0,{s.Texts[0]},{predictions[0].Label},", lines[1]);
    }

    [Fact]
    public async Task Viewers_read_but_cannot_start_and_bad_queries_are_refused_with_their_position()
    {
        var s = await ArrangeAsync();
        await using var host = s.Host;
        await Assert.ThrowsAsync<ForbiddenException>(() => s.Service.StartQueryAsync(s.Viewer, s.ProjectId, s.CorpusId, "urgency:urgent"));
        await Assert.ThrowsAsync<ForbiddenException>(() => s.Service.StartApplyAsync(s.Viewer, s.ProjectId, s.CorpusId, s.Models.Ids["topic"]));
        var outsider = await host.CreateUserAsync(s.ProjectId, null, "outsider");
        await Assert.ThrowsAsync<ForbiddenException>(() => s.Service.ModelsAsync(outsider, s.ProjectId));

        var bad = await Assert.ThrowsAsync<DomainValidationException>(() => s.Service.StartQueryAsync(s.Author, s.ProjectId, s.CorpusId, "urgency:urgent AND topic:returns"));
        var e = Assert.Single(bad.Details);
        Assert.Equal(QueryErrorCodes.UnknownLabel, e.Code);
        var check = QueryRunService.Check("urgency:urgent AND topic:returns", await s.Service.ModelsAsync(s.Viewer, s.ProjectId));
        Assert.Equal(25, Assert.Single(check.Errors).Offset);
        var missing = await Assert.ThrowsAsync<DomainValidationException>(() => s.Service.StartQueryAsync(s.Author, s.ProjectId, Guid.NewGuid(), "urgency:urgent"));
        Assert.Equal("QueryCorpusMissing", Assert.Single(missing.Details).Code);
        Assert.Empty(await s.Service.ListAsync(s.Viewer, s.ProjectId));
    }
}
