using System.Text.Json;
using Incubator.Domain.Common;
using Incubator.Domain.Data;
using Incubator.Domain.Jobs;
using Incubator.Domain.Labelling;
using Incubator.Domain.Llm;
using Incubator.Domain.Review;
using Incubator.Tests.Fakes;
using Incubator.Tests.Infrastructure;
using Incubator.Tests.Jobs;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.Labelling;

/// <summary>The LLM labels a corpus (issue 17, item 2) as a durable job: real SQLite and worker, the real Semantic Kernel
/// connector over HTTP to the fake OpenAI-compatible server, which answers each batch as the texts tell it (see
/// <see cref="LabellingFixture"/>) and reports 11 + 7 = 18 tokens per call.</summary>
public sealed class LabellingJobTests
{
    private const int TokensPerCall = 18;

    private static StartLabellingRequest Request(Guid corpusId, int batchSize, long? budgetTokens = 100_000, int? limit = null) =>
        new(corpusId, LlmConnectionService.ConfiguredConnectionId, limit, batchSize, budgetTokens);

    private static async Task<LabellingRunView> FinishedAsync(LabellingFixture.Setup s, Guid runId)
    {
        var run = await s.Service.GetRunAsync(s.Author, runId);
        await s.Host.WaitForJobAsync(run.JobId!.Value, j => j.IsFinished, "finished", TimeSpan.FromSeconds(120));
        return await s.Service.GetRunAsync(s.Viewer, runId);
    }

    private static string Counts(IReadOnlyDictionary<LabelRejectReason, int> counts) =>
        string.Join(", ", counts.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key} {kv.Value}"));

    /// <summary>Starts a run, starts the worker and waits for the run's end.</summary>
    private static async Task<LabellingRunView> LabelAsync(LabellingFixture.Setup s, StartLabellingRequest request)
    {
        var started = await s.Service.StartAsync(s.Author, s.TaskId, request);
        await s.Host.StartWorkerAsync();
        return await FinishedAsync(s, started.Id);
    }

    private static Task<List<Candidate>> CandidatesAsync(LabellingFixture.Setup s, Guid runId) =>
        s.Host.QueryAsync(db => db.Candidates.AsNoTracking().Where(c => c.LabellingRunId == runId).ToListAsync());

    [Theory]
    [MemberData(nameof(TestServers.Providers), MemberType = typeof(TestServers))]
    public async Task A_corpus_is_labelled_in_batches_with_exact_counts_and_its_disagreements_lead_the_queue(DatabaseProvider provider)
    {
        await using var s = await LabellingFixture.ArrangeAsync(provider: provider);
        var run = await LabelAsync(s, Request(s.CorpusId, batchSize: 5));

        Assert.True(run.State == JobState.Succeeded, $"{run.State} {run.Note?.Message}");
        Assert.Null(run.Note);
        // Its title is a note the portal says in the reader's language ("LLM ラベル付け · …"), like every other job's.
        var job = await s.Host.Services.GetRequiredService<JobQueue>().GetAsync(s.Viewer, run.JobId!.Value);
        Assert.Equal("Title.Label", job.TitleNote?.Code);
        // 12 texts in batches of 5, 5 and 2: three calls, each text sent once.
        Assert.Equal(3, s.Llm.ChatRequests.Count);
        var sent = s.Llm.ChatRequests.Select(LabellingFixture.TextsOf).ToList();
        Assert.Equal([5, 5, 2], sent.Select(b => b.Count));
        Assert.Equal(LabellingFixture.Texts.Order(), sent.SelectMany(b => b.Values).Order());
        Assert.Equal((12, 12, 3, 3L * TokensPerCall), (run.SampleSize, run.TextsDone, run.Calls, run.Tokens));
        Assert.Equal((LabellingFixture.Labelled, LabellingFixture.Labelled, LabellingFixture.NoneOfThese), (run.Labelled, run.Candidates, run.NoneOfThese));
        // A reason for every rejected piece: the label the task lacks, the text left out, and "99" in each of the 3 answers.
        Assert.Equal("UnknownLabel 1, UnknownId 3, MissingId 1", Counts(run.Rejected));

        var candidates = await CandidatesAsync(s, run.Id);
        Assert.Equal(LabellingFixture.Labelled, candidates.Count);
        Assert.All(candidates, c =>
        {
            Assert.Equal(CandidateSource.LlmLabelled, c.Source);
            Assert.Equal(CandidateStatus.Pending, c.Status);
            Assert.Equal(LabellingFixture.AnswerFor(c.Text)!.ToLowerInvariant(), c.Label); // "Shipping" is read as the label "shipping"
            Assert.NotNull(c.MinerLabel);
        });
        Assert.Equal(candidates.Count(c => c.MinerLabel != c.Label), run.Disagreed);

        // The LLM-labelled view of the queue in its default order: every disagreement with the miner before any agreement,
        // each row carrying the miner's label.
        var queue = await s.Review.QueryAsync(s.Viewer, s.TaskId, new CandidateFilter(Source: CandidateSource.LlmLabelled), 0, 50, CandidateSort.Spread);
        Assert.Equal(LabellingFixture.Labelled, queue.Total);
        var agreements = queue.Items.Select(r => r.MinerLabel == r.Label).ToList();
        Assert.Equal(Enumerable.Repeat(false, run.Disagreed).Concat(Enumerable.Repeat(true, LabellingFixture.Labelled - run.Disagreed)), agreements);
    }

    [Fact]
    public async Task A_budget_stops_the_run_short_after_the_call_that_reached_it_and_keeps_what_was_paid_for()
    {
        await using var s = await LabellingFixture.ArrangeAsync();
        var run = await LabelAsync(s, Request(s.CorpusId, batchSize: 5, budgetTokens: 2 * TokensPerCall));

        Assert.Equal(JobState.StoppedShort, run.State);
        Assert.Equal(LabelNotes.Budget(10, 12), run.Note);
        Assert.Equal(2, s.Llm.ChatRequests.Count);
        // The first ten texts: 8 labelled, the weather "none", the opera a label the task lacks.
        Assert.Equal((10, 8, 8, 1), (run.TextsDone, run.Labelled, run.Candidates, run.NoneOfThese));
        Assert.Equal("UnknownLabel 1, UnknownId 2", Counts(run.Rejected));
        Assert.Equal(8, (await CandidatesAsync(s, run.Id)).Count);
        var job = await s.Host.GetJobAsync(run.JobId!.Value);
        Assert.Contains("Label.Short.Budget", job.NoteJson);
    }

    [Fact]
    public async Task A_text_the_task_already_holds_is_not_sent_to_the_model()
    {
        await using var s = await LabellingFixture.ArrangeAsync();
        await s.Host.AddCandidateAsync(new Candidate
        {
            Id = Guid.NewGuid(), ProjectId = s.ProjectId, TaskId = s.TaskId, TaskVersionNumber = 1, Label = "billing", Text = LabellingFixture.Texts[0],
            NormalizedText = Incubator.Domain.Generation.TextNormalizer.Normalize(LabellingFixture.Texts[0]), Source = CandidateSource.Mining,
            Stage = CandidateStage.Selected, Status = CandidateStatus.Pending, CreatedAt = JobTestHost.UtcNowMs(),
        });
        var run = await LabelAsync(s, Request(s.CorpusId, batchSize: 20));

        Assert.Equal(JobState.Succeeded, run.State);
        var sent = LabellingFixture.TextsOf(Assert.Single(s.Llm.ChatRequests)).Values.ToList();
        Assert.Equal(11, sent.Count);
        Assert.DoesNotContain(LabellingFixture.Texts[0], sent);
        Assert.Equal((11, 11, LabellingFixture.Labelled - 1), (run.SampleSize, run.TextsDone, run.Candidates));
    }

    [Fact]
    public async Task A_run_whose_corpus_was_deleted_fails_with_that_as_its_reason()
    {
        await using var s = await LabellingFixture.ArrangeAsync();
        var started = await s.Service.StartAsync(s.Author, s.TaskId, Request(s.CorpusId, batchSize: 5));
        // The corpus is deleted while the run waits in the queue (its run keeps its name, the link is cleared).
        await s.Host.QueryAsync(db => db.Corpora.Where(c => c.Id == s.CorpusId).ExecuteDeleteAsync());
        Assert.Null(await s.Host.QueryAsync(db => db.LabellingRuns.Where(r => r.Id == started.Id).Select(r => r.CorpusId).SingleAsync()));
        await s.Host.StartWorkerAsync();
        var run = await FinishedAsync(s, started.Id);

        Assert.Equal(JobState.Failed, run.State);
        // Before: a bare exception, no note, and the labelling page showed "Failed" with no reason.
        Assert.Equal("Label.Failed.CorpusGone", run.Note?.Code);
        Assert.Empty(s.Llm.ChatRequests);
    }

    /// <summary>Issue 17's standard: a labelling run that put nothing in the queue did not give the user what they asked
    /// for, and every failure says why. Before: the first two ended Succeeded ("Done: 0 labelled"), the last two Failed
    /// with no note, so the labelling page showed "Failed" and no reason.</summary>
    [Fact]
    public async Task A_run_whose_every_answer_is_none_of_these_fails_with_the_counts()
    {
        await using var s = await LabellingFixture.ArrangeAsync();
        s.Llm.DefaultResponder = r => FakeReply.Completion(JsonSerializer.Serialize(LabellingFixture.TextsOf(r).Keys.ToDictionary(k => k, _ => "none")));
        var run = await LabelAsync(s, Request(s.CorpusId, batchSize: 5));

        Assert.Equal(JobState.Failed, run.State);
        Assert.Equal("Label.Failed.NoneLabelled", run.Note?.Code);
        Assert.Equal(["12", "12", "0"], run.Note!.Args);
        Assert.Equal((12, 3, 0), (run.TextsDone, run.Calls, run.Candidates));
    }

    [Fact]
    public async Task A_run_over_a_corpus_the_task_already_holds_fails_without_a_call()
    {
        await using var s = await LabellingFixture.ArrangeAsync();
        foreach (var text in LabellingFixture.Texts)
            await s.Host.AddCandidateAsync(new Candidate
            {
                Id = Guid.NewGuid(), ProjectId = s.ProjectId, TaskId = s.TaskId, TaskVersionNumber = 1, Label = "billing", Text = text,
                NormalizedText = Incubator.Domain.Generation.TextNormalizer.Normalize(text), Source = CandidateSource.Mining,
                Stage = CandidateStage.Selected, Status = CandidateStatus.Pending, CreatedAt = JobTestHost.UtcNowMs(),
            });
        var run = await LabelAsync(s, Request(s.CorpusId, batchSize: 5));

        Assert.Equal(JobState.Failed, run.State);
        Assert.Equal(("Label.Failed.NothingToLabel", "12"), (run.Note?.Code, run.Note?.Args[0]));
        Assert.Empty(s.Llm.ChatRequests);
    }

    [Fact]
    public async Task A_run_whose_connection_was_deleted_fails_with_that_as_its_reason()
    {
        await using var s = await LabellingFixture.ArrangeAsync();
        var started = await s.Service.StartAsync(s.Author, s.TaskId, Request(s.CorpusId, batchSize: 5));
        // The connection is gone by the time the job runs (a project connection deleted while the run waited).
        await s.Host.QueryAsync(db => db.LabellingRuns.Where(r => r.Id == started.Id).ExecuteUpdateAsync(u => u.SetProperty(r => r.ConnectionId, Guid.NewGuid())));
        await s.Host.StartWorkerAsync();
        var run = await FinishedAsync(s, started.Id);

        Assert.Equal(JobState.Failed, run.State);
        Assert.Equal("Label.Failed.ConnectionGone", run.Note?.Code);
        Assert.Empty(s.Llm.ChatRequests);
    }

    [Fact]
    public async Task A_run_that_fails_in_a_way_the_job_did_not_foresee_still_has_a_note_with_the_error()
    {
        await using var s = await LabellingFixture.ArrangeAsync();
        var started = await s.Service.StartAsync(s.Author, s.TaskId, Request(s.CorpusId, batchSize: 5));
        // A damaged row: the chosen texts cannot be read back.
        await s.Host.QueryAsync(db => db.LabellingRuns.Where(r => r.Id == started.Id).ExecuteUpdateAsync(u => u.SetProperty(r => r.SampleJson, "not json")));
        await s.Host.StartWorkerAsync();
        var run = await FinishedAsync(s, started.Id);

        Assert.Equal(JobState.Failed, run.State);
        Assert.Equal("Label.Failed.Error", run.Note?.Code);
        Assert.Equal(run.Error, run.Note!.Message);
        Assert.StartsWith("Failed: ", run.Error);
    }

    [Fact]
    public async Task A_daily_spending_cap_stops_the_run_short_with_the_cap_as_its_reason()
    {
        await using var s = await LabellingFixture.ArrangeAsync();
        var started = await s.Service.StartAsync(s.Author, s.TaskId, Request(s.CorpusId, batchSize: 5));
        // The project may spend two calls' worth today on the site's connection: the third call is not made.
        await using (var db = await s.Host.Db.CreateDbContextAsync())
        {
            db.SiteSettings.Add(new Incubator.Domain.Accounts.SiteSettings { DailyTokensPerProject = 2 * TokensPerCall });
            await db.SaveChangesAsync();
        }
        await s.Host.StartWorkerAsync();
        var run = await FinishedAsync(s, started.Id);

        Assert.Equal(JobState.StoppedShort, run.State);
        Assert.Equal("Label.Short.SpendingCap", run.Note!.Code);
        Assert.Equal(["10", "12"], run.Note.Args.Take(2));
        Assert.Equal("Spending.ProjectTokens", run.Note.Cause!.Code);
        Assert.Equal((2, 10, 8), (s.Llm.ChatRequests.Count, run.TextsDone, run.Candidates));
        Assert.Equal(2 * TokensPerCall, await s.Host.QueryAsync(db => db.LlmSpend.SumAsync(x => x.Tokens)));
    }

    [Fact]
    public async Task An_endpoint_that_stops_answering_makes_the_job_wait_and_it_goes_on_when_it_is_back()
    {
        await using var s = await LabellingFixture.ArrangeAsync(new Dictionary<string, string?> { ["Llm:MaxAttempts"] = "1" });
        var calls = 0;
        s.Llm.DefaultResponder = r => Interlocked.Increment(ref calls) is 2 or 3 ? FakeReply.Error(503, "down for maintenance") : LabellingFixture.Answer(r);
        var run = await LabelAsync(s, Request(s.CorpusId, batchSize: 5));

        Assert.True(run.State == JobState.Succeeded, $"{run.State} {run.Note?.Message}");
        Assert.False(run.Waiting);
        // Three batches, two failed tries in between; every text labelled once.
        Assert.Equal(5, s.Llm.ChatRequests.Count);
        Assert.Equal((12, 3, LabellingFixture.Labelled), (run.TextsDone, run.Calls, run.Candidates));
        var log = await s.Host.GetLogAsync(run.JobId!.Value);
        Assert.Equal(2, log.Count(l => l.Level == "warning" && l.Message.StartsWith("Waiting for the endpoint:", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task An_endpoint_that_never_answers_fails_the_run_at_once()
    {
        await using var s = await LabellingFixture.ArrangeAsync(new Dictionary<string, string?> { ["Llm:MaxAttempts"] = "1" });
        s.Llm.DefaultResponder = _ => FakeReply.Error(503, "down for maintenance");
        var run = await LabelAsync(s, Request(s.CorpusId, batchSize: 5));

        Assert.Equal(JobState.Failed, run.State);
        Assert.Equal("Run.Failed.Unreachable", run.Note!.Code);
        Assert.Single(s.Llm.ChatRequests);
        Assert.Equal((0, 0), (run.TextsDone, run.Candidates));
    }

    [Fact]
    public async Task A_stopped_job_resumes_at_its_first_uncommitted_batch_and_never_relabels_a_text()
    {
        await using var s = await LabellingFixture.ArrangeAsync();
        using var holding = new ManualResetEventSlim(false);
        using var hold = new ManualResetEventSlim(false);
        var calls = 0;
        s.Llm.DefaultResponder = r =>
        {
            if (Interlocked.Increment(ref calls) == 2)
            {
                holding.Set();
                hold.Wait(TimeSpan.FromSeconds(60));
            }
            return LabellingFixture.Answer(r);
        };
        var started = await s.Service.StartAsync(s.Author, s.TaskId, Request(s.CorpusId, batchSize: 4));
        await s.Host.StartWorkerAsync();
        Assert.True(holding.Wait(TimeSpan.FromSeconds(90)), "the job never sent its second batch");
        // The worker stops (as at a restart) while the second batch is with the model.
        var stopping = s.Host.StopWorkerAsync();
        hold.Set();
        await stopping;

        var between = await s.Service.GetRunAsync(s.Author, started.Id);
        Assert.NotEqual(JobState.Succeeded, between.State);
        Assert.Equal((4, 1), (between.TextsDone, between.Calls));
        var batchOne = LabellingFixture.TextsOf(s.Llm.ChatRequests[0]).Values.ToList();

        await s.Host.StartWorkerAsync();
        var run = await FinishedAsync(s, started.Id);
        Assert.True(run.State == JobState.Succeeded, $"{run.State} {run.Note?.Message}");
        Assert.Contains(await s.Host.GetLogAsync(run.JobId!.Value), l => l.Message.StartsWith("Resuming at batch 2 of 3 (4 texts already done)", StringComparison.Ordinal));
        // Four calls to the model in all: batch 1, batch 2 cut off by the stop, then batches 2 and 3. Batch 1 was never sent again.
        Assert.Equal(4, s.Llm.ChatRequests.Count);
        var sent = s.Llm.ChatRequests.Select(r => LabellingFixture.TextsOf(r).Values.ToList()).ToList();
        Assert.All(batchOne, t => Assert.Single(sent, b => b.Contains(t)));
        Assert.Equal((12, 3, LabellingFixture.Labelled), (run.TextsDone, run.Calls, run.Labelled));
        var candidates = await CandidatesAsync(s, run.Id);
        Assert.Equal(LabellingFixture.Labelled, candidates.Count);
        Assert.Equal(candidates.Count, candidates.Select(c => c.Text).Distinct().Count());
    }

    [Fact]
    public async Task Only_authors_start_and_only_members_see_a_labelling_run()
    {
        await using var s = await LabellingFixture.ArrangeAsync();
        await Assert.ThrowsAsync<ForbiddenException>(() => s.Service.StartAsync(s.Viewer, s.TaskId, Request(s.CorpusId, 5)));
        await Assert.ThrowsAsync<ForbiddenException>(() => s.Service.EstimateAsync(s.Viewer, s.TaskId, Request(s.CorpusId, 5)));
        await Assert.ThrowsAsync<ForbiddenException>(() => s.Service.StartAsync(s.Outsider, s.TaskId, Request(s.CorpusId, 5)));
        Assert.Equal(0, await s.Host.QueryAsync(db => db.LabellingRuns.CountAsync()));

        var run = await s.Service.StartAsync(s.Author, s.TaskId, Request(s.CorpusId, 5));
        Assert.Equal(run.Id, (await s.Service.GetRunAsync(s.Viewer, run.Id)).Id);
        await Assert.ThrowsAsync<ForbiddenException>(() => s.Service.GetRunAsync(s.Outsider, run.Id));
        await Assert.ThrowsAsync<ForbiddenException>(() => s.Service.ListRunsAsync(s.Outsider, s.TaskId));
        // Bad input is refused with the field named, and starts nothing.
        var bad = await Assert.ThrowsAsync<DomainValidationException>(() => s.Service.StartAsync(s.Author, s.TaskId, Request(s.CorpusId, 0, limit: 0)));
        Assert.Equal(["batchSize", "limit"], bad.Details.Select(e => e.Field).Distinct().Order());
        Assert.Equal(1, await s.Host.QueryAsync(db => db.LabellingRuns.CountAsync()));
    }

    [Fact]
    public async Task The_estimate_counts_one_call_per_batch_and_prices_the_tokens()
    {
        await using var s = await LabellingFixture.ArrangeAsync();
        var all = await s.Service.EstimateAsync(s.Author, s.TaskId, Request(s.CorpusId, 5));
        var some = await s.Service.EstimateAsync(s.Author, s.TaskId, Request(s.CorpusId, 5, limit: 4));
        Assert.Equal((12, 3), (all.Texts, all.Calls));
        Assert.Equal((4, 1), (some.Texts, some.Calls));
        Assert.True(all.InputTokens > some.InputTokens && some.InputTokens > 0);
        Assert.Equal(0m, all.Cost); // the configured connection has no prices
        Assert.Empty(s.Llm.ChatRequests);
    }
}
