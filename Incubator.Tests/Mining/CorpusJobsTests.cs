using Incubator.Domain.Data;
using Incubator.Domain.Common.TextFiles;
using Incubator.Domain.Common.Events;
using System.Text;
using Incubator.Domain.Common;
using Incubator.Domain.Embeddings;
using Incubator.Domain.Generation;
using Incubator.Domain.Jobs;
using Incubator.Domain.Mining;
using Incubator.Domain.Projects;
using Incubator.Domain.Review;
using Incubator.Domain.Tasks;
using Incubator.Tests.Infrastructure;
using Incubator.Tests.Jobs;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.Mining;

/// <summary>Corpus import, the embeddings job (resume), the mining job into the review queue, active learning and
/// roles, on a real SQLite database with the job worker.</summary>
public sealed class CorpusJobsTests
{
    private sealed record Fixture(JobTestHost Host, Guid ProjectId, Guid TaskId, string Author, string Viewer, string Outsider) : IAsyncDisposable
    {
        public CorpusService Corpora => Host.Services.GetRequiredService<CorpusService>();

        public MiningService Mining => Host.Services.GetRequiredService<MiningService>();

        public ReviewQueries Review => Host.Services.GetRequiredService<ReviewQueries>();

        public ValueTask DisposeAsync() => Host.DisposeAsync();

        public async Task<CorpusImportResult> ImportAsync(string text, string fileName = "corpus.txt", TextFileFormat format = TextFileFormat.Txt, string? user = null)
        {
            using var stream = new MemoryStream(new UTF8Encoding(false).GetBytes(text));
            return await Corpora.ImportAsync(user ?? Author, ProjectId, null, fileName, stream, new TextFileOptions(format));
        }

        public async Task<Guid> AddCandidateAsync(string label, string text, CandidateStatus status, CandidateStage stage = CandidateStage.Selected)
        {
            var c = new Candidate
            {
                Id = Guid.NewGuid(), ProjectId = ProjectId, TaskId = TaskId, TaskVersionNumber = 1, Label = label, Text = text,
                NormalizedText = TextNormalizer.Normalize(text), Source = CandidateSource.Generation, Stage = stage, Status = status,
                CreatedAt = JobTestHost.UtcNowMs(),
            };
            await using var db = await Host.Db.CreateDbContextAsync();
            db.Candidates.Add(c);
            await db.SaveChangesAsync();
            return c.Id;
        }
    }

    private static async Task<Fixture> ArrangeAsync(TaskSpec spec, Action<IServiceCollection>? configure = null, DatabaseProvider provider = DatabaseProvider.Sqlite)
    {
        var host = await JobTestHost.CreateAsync(configure: s =>
        {
            s.AddIncubatorEmbeddings().AddIncubatorReview(JobTestHost.NoSettings).AddIncubatorMining();
            configure?.Invoke(s);
        }, provider: provider);
        var projectId = await host.CreateProjectAsync("mining");
        var author = await host.CreateUserAsync(projectId, ProjectRole.Author, "author");
        var viewer = await host.CreateUserAsync(projectId, ProjectRole.Viewer, "viewer");
        var outsider = await host.CreateUserAsync(projectId, null, "outsider");
        var taskId = Guid.NewGuid();
        await using (var db = await host.Db.CreateDbContextAsync())
        {
            db.Tasks.Add(new ClassifierTask { Id = taskId, ProjectId = projectId, Name = spec.Name, CurrentVersion = 1, CreatedAt = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow });
            db.TaskVersions.Add(new TaskVersion { Id = Guid.NewGuid(), TaskId = taskId, Number = 1, SpecJson = TaskJson.Serialize(spec), ContentHash = Guid.NewGuid().ToString("N"), CreatedAt = DateTimeOffset.UtcNow });
            await db.SaveChangesAsync();
        }
        return new Fixture(host, projectId, taskId, author, viewer, outsider);
    }

    [Theory]
    [MemberData(nameof(TestServers.Providers), MemberType = typeof(TestServers))]
    public async Task Import_collapses_exact_duplicates_with_counts_keeps_order_and_reports_bad_rows(DatabaseProvider provider)
    {
        await using var f = await ArrangeAsync(MiningFixtures.EnglishTask, provider: provider);
        var text = "Where is my parcel?\nI was charged twice.\n\nWhere is my parcel?\n  I was charged twice.  \nReset my password please.\nWhere is my parcel?\n";
        var result = await f.ImportAsync(text);

        Assert.Equal(7, result.Report.RowsRead);
        Assert.Equal(3, result.Report.Kept);
        Assert.Equal(3, result.Report.DuplicatesCollapsed);
        Assert.Equal(1, result.Report.BadRowCount);
        Assert.Equal((3L, BadRowReason.EmptyText), (result.Report.BadRows[0].Line, result.Report.BadRows[0].Reason));
        Assert.Equal("utf-8", result.Report.Encoding);
        Assert.Equal("en", result.Corpus.Language);
        Assert.Equal(MiniLmEmbedder.ModelName, result.Corpus.Embedder);
        var page = await f.Corpora.TextsAsync(f.Viewer, result.Corpus.Id, 0, 10);
        Assert.Equal([("Where is my parcel?", 3, 1L), ("I was charged twice.", 2, 2L), ("Reset my password please.", 1, 6L)], page.Items.Select(t => (t.Text, t.Count, t.Line)));
        // The stored report is the one shown after the upload.
        Assert.Equal(3, (await f.Corpora.GetReportAsync(f.Viewer, result.Corpus.Id)).DuplicatesCollapsed);
        Assert.NotNull(result.Corpus.EmbeddingJobId);
    }

    /// <summary>Collects reports on the calling thread (Progress&lt;T&gt; would post them later).</summary>
    private sealed class Collect<T> : IProgress<T>
    {
        public List<T> Items { get; } = [];

        public void Report(T value) => Items.Add(value);
    }

    [Theory]
    [MemberData(nameof(TestServers.Providers), MemberType = typeof(TestServers))]
    public async Task Import_reports_progress_per_stored_batch_and_ends_at_the_whole_file(DatabaseProvider provider)
    {
        await using var f = await ArrangeAsync(MiningFixtures.EnglishTask, provider: provider);
        var bytes = new UTF8Encoding(false).GetBytes(string.Join("\n", Enumerable.Range(0, 5000).Select(i => $"customer message number {i} about an order")));
        using var stream = new MemoryStream(bytes);
        var progress = new Collect<CorpusImportProgress>();
        await f.Corpora.ImportAsync(f.Author, f.ProjectId, null, "progress.txt", stream, new TextFileOptions(TextFileFormat.Txt), default, progress);

        // Two full batches of 2,000 stored rows, then the end.
        Assert.Equal(3, progress.Items.Count);
        Assert.True(progress.Items.Zip(progress.Items.Skip(1)).All(p => p.Second.BytesRead >= p.First.BytesRead && p.Second.RowsRead > p.First.RowsRead));
        Assert.True(progress.Items[0].RowsRead >= 2000 && progress.Items[0].Percent < 100, $"{progress.Items[0]}");
        Assert.All(progress.Items, p => Assert.Equal(bytes.Length, p.TotalBytes));
        Assert.Equal(new CorpusImportProgress(bytes.Length, bytes.Length, 5000), progress.Items[^1]);
        Assert.Equal(100, progress.Items[^1].Percent);
        Assert.Null(new CorpusImportProgress(10, null, 3).Percent);
    }

    [Fact]
    public async Task Viewers_read_but_cannot_upload_delete_or_mine_and_non_members_see_nothing()
    {
        await using var f = await ArrangeAsync(MiningFixtures.EnglishTask);
        var corpus = (await f.ImportAsync("one text\nanother text\n")).Corpus;
        await Assert.ThrowsAsync<ForbiddenException>(() => f.ImportAsync("x\n", user: f.Viewer));
        await Assert.ThrowsAsync<ForbiddenException>(() => f.Corpora.DeleteAsync(f.Viewer, corpus.Id));
        await Assert.ThrowsAsync<ForbiddenException>(() => f.Mining.StartAsync(f.Viewer, f.TaskId, new StartMiningRequest(corpus.Id, 5)));
        Assert.Single(await f.Corpora.ListAsync(f.Viewer, f.ProjectId));
        await Assert.ThrowsAsync<ForbiddenException>(() => f.Corpora.ListAsync(f.Outsider, f.ProjectId));
        await Assert.ThrowsAsync<ForbiddenException>(() => f.Corpora.GetAsync(f.Outsider, corpus.Id));
        await Assert.ThrowsAsync<ForbiddenException>(() => f.Corpora.TextsAsync(f.Outsider, corpus.Id, 0, 10));
        await Assert.ThrowsAsync<ForbiddenException>(() => f.Mining.ListRunsAsync(f.Outsider, f.TaskId));
        var bad = await Assert.ThrowsAsync<DomainValidationException>(() => f.Mining.StartAsync(f.Author, f.TaskId, new StartMiningRequest(corpus.Id, 0, 2)));
        Assert.Equal(["MiningPerLabelRange", "MiningMarginRange"], bad.Details.Select(d => d.Code));
    }

    [Theory]
    [MemberData(nameof(TestServers.Providers), MemberType = typeof(TestServers))]
    public async Task The_embeddings_job_resumes_after_an_interruption_without_embedding_a_batch_twice(DatabaseProvider provider)
    {
        await using var f = await ArrangeAsync(MiningFixtures.JapaneseTask, provider: provider);
        var texts = Enumerable.Range(0, 600).Select(i => $"{MiningFixtures.JapaneseLabelled().ElementAt(i % 36).Text}（{i}）").ToList();
        var corpus = (await f.ImportAsync(string.Join("\n", texts))).Corpus;
        Assert.Equal("ja", corpus.Language);
        Assert.True(corpus.UsesCharNgrams);
        var embedder = f.Host.Services.GetRequiredService<CharNgramEmbedder>();

        // The state a crash right after the first committed batch leaves: batch 0 stored, the corpus says 256 done.
        long firstBatchId;
        await using (var db = await f.Host.Db.CreateDbContextAsync())
        {
            var batch = new CorpusEmbeddingBatch
            {
                CorpusId = corpus.Id, Embedder = embedder.Name, StartOrdinal = 0, Count = 256, Dimensions = embedder.Dimensions,
                Data = EmbeddingBlob.Pack(embedder.Embed(texts.Take(256).ToList()), embedder.Dimensions),
            };
            db.CorpusEmbeddingBatches.Add(batch);
            await db.SaveChangesAsync();
            firstBatchId = batch.Id;
            await db.Corpora.Where(c => c.Id == corpus.Id).ExecuteUpdateAsync(s => s.SetProperty(c => c.EmbeddedCount, 256));
        }

        await f.Host.StartWorkerAsync();
        await f.Host.WaitForJobAsync(corpus.EmbeddingJobId!.Value, j => j.State == JobState.Succeeded, "succeeded");

        var log = await f.Host.GetLogAsync(corpus.EmbeddingJobId.Value);
        Assert.Contains(log, l => l.Message.Contains("Resuming at text 256", StringComparison.Ordinal));
        await using (var db = await f.Host.Db.CreateDbContextAsync())
        {
            var batches = await db.CorpusEmbeddingBatches.AsNoTracking().Where(b => b.CorpusId == corpus.Id).OrderBy(b => b.StartOrdinal).ToListAsync();
            Assert.Equal([(0, 256), (256, 256), (512, 88)], batches.Select(b => (b.StartOrdinal, b.Count)));
            Assert.Equal(firstBatchId, batches[0].Id); // kept, not recomputed
        }
        var view = await f.Corpora.GetAsync(f.Viewer, corpus.Id);
        Assert.True(view.EmbeddingsReady);
        // Stored vectors are the embedder's vectors for the right texts.
        var store = f.Host.Services.GetRequiredService<CorpusStore>();
        var stored = new List<float[]>();
        await foreach (var b in store.StoredVectorsAsync(corpus.Id, embedder.Name)) stored.AddRange(b.Vectors);
        Assert.Equal(600, stored.Count);
        Assert.Equal(embedder.Embed([texts[599]])[0], stored[599]);
    }

    [Fact]
    public async Task An_embeddings_job_paused_mid_corpus_keeps_its_batches_and_resumes_from_the_next_one()
    {
        await using var f = await ArrangeAsync(MiningFixtures.JapaneseTask, s => HookedRunEvents.Install(s));
        var texts = Enumerable.Range(0, 1000).Select(i => $"{MiningFixtures.JapaneseLabelled().ElementAt(i % 36).Text}（番号{i}）").ToList();
        var corpus = (await f.ImportAsync(string.Join("\n", texts))).Corpus;
        var jobId = corpus.EmbeddingJobId!.Value;
        // The job publishes its progress after committing each batch; pausing before that publish returns stops the job
        // right after its first batch.
        var paused = 0;
        f.Host.Services.GetRequiredService<HookedRunEvents>().BeforePublish = async e =>
        {
            if (e is JobChanged { State: JobState.Running, Progress: > 0 and < 1 } j && j.JobId == jobId && Interlocked.Exchange(ref paused, 1) == 0)
                await f.Host.Queue.PauseAsync(f.Author, jobId);
        };
        await f.Host.StartWorkerAsync();
        await f.Host.WaitForJobAsync(jobId, j => j.State == JobState.Paused, "paused");
        long firstBatchId;
        await using (var db = await f.Host.Db.CreateDbContextAsync())
        {
            var stored = await db.CorpusEmbeddingBatches.AsNoTracking().Where(b => b.CorpusId == corpus.Id).ToListAsync();
            Assert.Equal([0], stored.Select(b => b.StartOrdinal));
            firstBatchId = stored[0].Id;
            Assert.Equal(256, await db.Corpora.Where(c => c.Id == corpus.Id).Select(c => c.EmbeddedCount).SingleAsync());
        }
        Assert.False((await f.Corpora.GetAsync(f.Viewer, corpus.Id)).EmbeddingsReady);

        await f.Host.Queue.ResumeAsync(f.Author, jobId);
        await f.Host.WaitForJobAsync(jobId, j => j.State == JobState.Succeeded, "succeeded");
        await using (var db = await f.Host.Db.CreateDbContextAsync())
        {
            var batches = await db.CorpusEmbeddingBatches.AsNoTracking().Where(b => b.CorpusId == corpus.Id).OrderBy(b => b.StartOrdinal).ToListAsync();
            Assert.Equal([(0, 256), (256, 256), (512, 256), (768, 232)], batches.Select(b => (b.StartOrdinal, b.Count)));
            Assert.Equal(firstBatchId, batches[0].Id);
        }
        Assert.Contains(await f.Host.GetLogAsync(jobId), l => l.Message.Contains("Resuming at text 256", StringComparison.Ordinal));
        Assert.True((await f.Corpora.GetAsync(f.Viewer, corpus.Id)).EmbeddingsReady);
    }

    [Fact]
    public async Task A_mining_run_whose_corpus_was_deleted_fails_with_that_as_a_note_the_page_can_translate()
    {
        await using var f = await ArrangeAsync(MiningFixtures.EnglishTask);
        var corpus = (await f.ImportAsync(string.Join("\n", MiningFixtures.Labelled().Select(l => l.Text)))).Corpus;
        var run = await f.Mining.StartAsync(f.Author, f.TaskId, new StartMiningRequest(corpus.Id, 5));
        // The corpus is deleted while the run waits in the queue (the run keeps its name, the link is cleared).
        await f.Host.QueryAsync(db => db.Corpora.Where(c => c.Id == corpus.Id).ExecuteDeleteAsync());
        await f.Host.StartWorkerAsync();
        await f.Host.WaitForJobAsync(run.JobId!.Value, j => j.IsFinished, "finished", TimeSpan.FromMinutes(2));

        var view = Assert.Single(await f.Mining.ListRunsAsync(f.Viewer, f.TaskId));
        Assert.Equal(JobState.Failed, view.JobState);
        // Before: a bare exception whose English message was all the mining page could show.
        Assert.Equal("Mining.Failed.CorpusGone", view.Note?.Code);
    }

    /// <summary>Every failure has a note the page can say in the reader's language, with the error as data — also one the
    /// job did not foresee (here a damaged job row). Before: Failed with no note; the mining page showed the English text
    /// and the corpora page only "Failed", no reason.</summary>
    [Fact]
    public async Task A_mining_run_that_fails_in_a_way_the_job_did_not_foresee_still_has_a_note_with_the_error()
    {
        await using var f = await ArrangeAsync(MiningFixtures.EnglishTask);
        var corpus = (await f.ImportAsync(string.Join("\n", MiningFixtures.Labelled().Select(l => l.Text)))).Corpus;
        var run = await f.Mining.StartAsync(f.Author, f.TaskId, new StartMiningRequest(corpus.Id, 5));
        await f.Host.QueryAsync(db => db.Jobs.Where(j => j.Id == run.JobId).ExecuteUpdateAsync(u => u.SetProperty(j => j.Payload, "null")));
        await f.Host.StartWorkerAsync();
        await f.Host.WaitForJobAsync(run.JobId!.Value, j => j.IsFinished, "finished", TimeSpan.FromMinutes(2));

        var view = Assert.Single(await f.Mining.ListRunsAsync(f.Viewer, f.TaskId));
        Assert.Equal(JobState.Failed, view.JobState);
        Assert.Equal("Mining.Failed.Error", view.Note?.Code);
        Assert.Equal([$"Job {run.JobId} has an empty payload."], view.Note!.Args);
        Assert.Equal(view.Error, view.Note.Message);
    }

    [Fact]
    public async Task An_embeddings_job_that_fails_in_a_way_it_did_not_foresee_leaves_the_corpus_a_note_with_the_error()
    {
        await using var f = await ArrangeAsync(MiningFixtures.EnglishTask);
        var corpus = (await f.ImportAsync(string.Join("\n", MiningFixtures.Labelled().Select(l => l.Text)))).Corpus;
        var jobId = corpus.EmbeddingJobId!.Value;
        await f.Host.QueryAsync(db => db.Jobs.Where(j => j.Id == jobId).ExecuteUpdateAsync(u => u.SetProperty(j => j.Payload, "null")));
        await f.Host.StartWorkerAsync();
        await f.Host.WaitForJobAsync(jobId, j => j.IsFinished, "finished", TimeSpan.FromMinutes(2));

        var view = await f.Corpora.GetAsync(f.Viewer, corpus.Id);
        Assert.Equal(JobState.Failed, view.EmbeddingJobState);
        Assert.Equal("Corpus.Failed.Error", view.EmbeddingNote?.Code);
        Assert.Equal([$"Job {jobId} has an empty payload."], view.EmbeddingNote!.Args);
        Assert.Equal(view.EmbeddingError, view.EmbeddingNote.Message);
    }

    /// <summary>Issue 17's standard: "succeeded" only when the user got what they asked for. Before, each of these runs
    /// ended Succeeded with no note, whatever it found.</summary>
    [Fact]
    public async Task A_mining_run_that_leaves_labels_without_candidates_stops_short_naming_them_and_one_with_nothing_new_fails()
    {
        await using var f = await ArrangeAsync(MiningFixtures.EnglishTask);
        var corpus = (await f.ImportAsync(string.Join("\n", MiningFixtures.Labelled().Select(l => l.Text)))).Corpus;
        await f.Host.StartWorkerAsync();
        async Task<MiningRunView> MineAsync(int perLabel, double margin)
        {
            var run = await f.Mining.StartAsync(f.Author, f.TaskId, new StartMiningRequest(corpus.Id, perLabel, margin));
            await f.Host.WaitForJobAsync(run.JobId!.Value, j => j.IsFinished, "finished", TimeSpan.FromMinutes(2));
            return (await f.Mining.ListRunsAsync(f.Viewer, f.TaskId)).Single(r => r.Id == run.Id);
        }

        // A margin no text reaches: no specific label gets a candidate, the other label (whose rule is not the margin) does.
        var strict = await MineAsync(5, 1.0);
        Assert.Equal(JobState.StoppedShort, strict.JobState);
        Assert.Equal("Mining.Short.NoneFor", strict.Note?.Code);
        Assert.Equal(["billing, shipping, login", strict.CandidatesCreated.ToString(), corpus.TextCount.ToString(), "1", "billing 0, shipping 0, login 0"], strict.Note!.Args);
        Assert.True(strict.CandidatesCreated > 0);

        // Margin 0 gives every text to its best specific label, so the other label gets none.
        var all = await MineAsync(MiningService.MaxPerLabel, 0);
        Assert.Equal(JobState.StoppedShort, all.JobState);
        Assert.Equal(("Mining.Short.NoneFor", "other"), (all.Note?.Code, all.Note?.Args[0]));

        // Every text the miner chooses is already a candidate: nothing new, and the run says so.
        var again = await MineAsync(MiningService.MaxPerLabel, 0);
        Assert.Equal(JobState.Failed, again.JobState);
        Assert.Equal("Mining.Failed.AllQueued", again.Note?.Code);
        Assert.Equal(corpus.TextCount.ToString(), again.Note!.Args[0]);
        Assert.True(int.Parse(again.Note.Args[1]) >= corpus.TextCount - strict.CandidatesCreated);
        Assert.Equal(0, again.CandidatesCreated);
        Assert.StartsWith("Failed: no new candidates.", again.Error);
    }

    [Fact]
    public async Task A_mining_run_that_finds_no_candidate_fails_with_the_texts_read_and_the_margin()
    {
        var task = MiningFixtures.EnglishTask with { Labels = MiningFixtures.EnglishTask.Labels.Where(l => !l.IsOther).ToList() };
        await using var f = await ArrangeAsync(task);
        var corpus = (await f.ImportAsync(string.Join("\n", MiningFixtures.Labelled().Select(l => l.Text)))).Corpus;
        await f.Host.StartWorkerAsync();
        var run = await f.Mining.StartAsync(f.Author, f.TaskId, new StartMiningRequest(corpus.Id, 5, 1.0));
        await f.Host.WaitForJobAsync(run.JobId!.Value, j => j.IsFinished, "finished", TimeSpan.FromMinutes(2));

        var view = Assert.Single(await f.Mining.ListRunsAsync(f.Viewer, f.TaskId));
        Assert.Equal(JobState.Failed, view.JobState);
        Assert.Equal("Mining.Failed.NothingChosen", view.Note?.Code);
        Assert.Equal([corpus.TextCount.ToString(), "1"], view.Note!.Args);
        Assert.Equal(0, view.CandidatesCreated);
    }

    /// <summary>A process that died between the run's last commit and the job's end: the next attempt finds the job's
    /// final checkpoint and ends it from the counts the run wrote. Before: it returned at once and the job ended Succeeded.</summary>
    [Fact]
    public async Task A_run_interrupted_after_its_last_commit_ends_as_its_counts_say()
    {
        await using var f = await ArrangeAsync(MiningFixtures.EnglishTask);
        var corpus = (await f.ImportAsync(string.Join("\n", MiningFixtures.Labelled().Select(l => l.Text)))).Corpus;
        var run = await f.Mining.StartAsync(f.Author, f.TaskId, new StartMiningRequest(corpus.Id, 5, 1.0));
        // What its earlier attempt committed: no candidate, nothing chosen for any label.
        var summary = System.Text.Json.JsonSerializer.Serialize(MiningFixtures.EnglishTask.Labels.Select(l => new { label = l.Name, created = 0, eligible = 0 }));
        await f.Host.QueryAsync(db => db.MiningRuns.Where(r => r.Id == run.Id).ExecuteUpdateAsync(u => u.SetProperty(r => r.SummaryJson, summary)));
        await f.Host.QueryAsync(db => db.Jobs.Where(j => j.Id == run.JobId).ExecuteUpdateAsync(u => u.SetProperty(j => j.Checkpoint, "{\"written\":true}")));
        await f.Host.StartWorkerAsync();
        await f.Host.WaitForJobAsync(run.JobId!.Value, j => j.IsFinished, "finished", TimeSpan.FromMinutes(2));

        var view = Assert.Single(await f.Mining.ListRunsAsync(f.Viewer, f.TaskId));
        Assert.Equal(JobState.Failed, view.JobState);
        Assert.Equal("Mining.Failed.NothingChosenOther", view.Note?.Code);
        Assert.Equal([corpus.TextCount.ToString(), "1"], view.Note!.Args);
    }

    [Theory]
    [MemberData(nameof(TestServers.Providers), MemberType = typeof(TestServers))]
    public async Task Mining_puts_candidates_in_the_review_queue_linked_to_the_run_without_repeating_texts_the_task_has(DatabaseProvider provider)
    {
        await using var f = await ArrangeAsync(MiningFixtures.EnglishTask, provider: provider);
        var corpusText = string.Join("\n", MiningFixtures.Labelled().Select(l => l.Text));
        var corpus = (await f.ImportAsync(corpusText)).Corpus;
        // Already in the task: a generated candidate with the best billing text. Mining must not add it again.
        await f.AddCandidateAsync("billing", MiningFixtures.Billing[0], CandidateStatus.Pending);
        await f.Host.StartWorkerAsync();

        var run = await f.Mining.StartAsync(f.Author, f.TaskId, new StartMiningRequest(corpus.Id, 5));
        await f.Host.WaitForJobAsync(run.JobId!.Value, j => j.State == JobState.Succeeded, "succeeded", TimeSpan.FromMinutes(2));

        var page = await f.Review.QueryAsync(f.Viewer, f.TaskId, new CandidateFilter(RunId: run.Id), 0, 100);
        Assert.All(page.Items, c => Assert.Equal((CandidateSource.Mining, run.Id, CandidateStatus.Pending), (c.Source, c.MiningRunId, c.Status)));
        foreach (var label in new[] { "billing", "shipping", "login" }) Assert.Equal(5, page.Items.Count(c => c.Label == label));
        Assert.Contains(page.Items, c => c.Label == "other");
        Assert.DoesNotContain(page.Items, c => c.Text == MiningFixtures.Billing[0]);
        var truth = MiningFixtures.Labelled().ToDictionary(l => l.Text, l => l.Label);
        var specific = page.Items.Where(c => c.Label != "other").ToList();
        Assert.True(specific.Count(c => truth[c.Text] == c.Label) >= 14, "at least 14 of 15 mined candidates carry their true label");
        var bySource = await f.Review.QueryAsync(f.Viewer, f.TaskId, new CandidateFilter(Source: CandidateSource.Mining), 0, 100);
        Assert.Equal(page.Total, bySource.Total);
        var views = await f.Mining.ListRunsAsync(f.Viewer, f.TaskId);
        Assert.Equal(page.Total, views.Single().CandidatesCreated);

        // A second run finds new texts only.
        var again = await f.Mining.StartAsync(f.Author, f.TaskId, new StartMiningRequest(corpus.Id, 5));
        await f.Host.WaitForJobAsync(again.JobId!.Value, j => j.State == JobState.Succeeded, "succeeded", TimeSpan.FromMinutes(2));
        await using var db = await f.Host.Db.CreateDbContextAsync();
        var all = await db.Candidates.AsNoTracking().Where(c => c.TaskId == f.TaskId).Select(c => c.NormalizedText).ToListAsync();
        Assert.Equal(all.Count, all.Distinct().Count());
        Assert.True(all.Count > page.Total + 1);
    }

    [Fact]
    public async Task A_mining_run_interrupted_while_writing_writes_only_what_its_earlier_attempt_did_not()
    {
        await using var f = await ArrangeAsync(MiningFixtures.EnglishTask);
        var corpus = (await f.ImportAsync(string.Join("\n", MiningFixtures.Labelled().Select(l => l.Text)))).Corpus;
        await f.Host.StartWorkerAsync();
        var first = await f.Mining.StartAsync(f.Author, f.TaskId, new StartMiningRequest(corpus.Id, 5));
        await f.Host.WaitForJobAsync(first.JobId!.Value, j => j.State == JobState.Succeeded, "succeeded", TimeSpan.FromMinutes(2));
        await f.Host.StopWorkerAsync();
        List<Candidate> expected;
        await using (var db = await f.Host.Db.CreateDbContextAsync())
        {
            expected = await db.Candidates.AsNoTracking().Where(c => c.MiningRunId == first.Id).OrderBy(c => c.CreatedAt).ToListAsync();
            await db.Candidates.Where(c => c.MiningRunId == first.Id).ExecuteDeleteAsync(); // the task is as before the first run
        }
        Assert.True(expected.Count > 6);

        // The same run again, of which an earlier attempt wrote the first batch's first rows before its process died.
        var run = await f.Mining.StartAsync(f.Author, f.TaskId, new StartMiningRequest(corpus.Id, 5));
        var earlier = expected.Take(4).Select(c => new Candidate
        {
            Id = Guid.NewGuid(), ProjectId = f.ProjectId, TaskId = f.TaskId, TaskVersionNumber = 1, MiningRunId = run.Id, Label = c.Label, Text = c.Text,
            NormalizedText = c.NormalizedText, Source = CandidateSource.Mining, Stage = CandidateStage.Selected, Status = CandidateStatus.Pending,
            SpreadRank = c.SpreadRank, CreatedAt = JobTestHost.UtcNowMs(),
        }).ToList();
        await using (var db = await f.Host.Db.CreateDbContextAsync())
        {
            db.Candidates.AddRange(earlier);
            await db.SaveChangesAsync();
        }
        await using var restarted = await JobTestHost.CreateAsync(f.Host.DataDirectory, "restarted-worker",
            s => s.AddIncubatorEmbeddings().AddIncubatorReview(JobTestHost.NoSettings).AddIncubatorMining(), f.Host.DatabaseSettings, migrate: false);
        await restarted.StartWorkerAsync();
        await restarted.WaitForJobAsync(run.JobId!.Value, j => j.State == JobState.Succeeded, "succeeded", TimeSpan.FromMinutes(2));

        await using (var db = await f.Host.Db.CreateDbContextAsync())
        {
            var mined = await db.Candidates.AsNoTracking().Where(c => c.MiningRunId == run.Id).ToListAsync();
            Assert.Equal(expected.Select(c => (c.Label, c.Text)).Order(), mined.Select(c => (c.Label, c.Text)).Order()); // each text once, none more
            Assert.Subset(mined.Select(c => c.Id).ToHashSet(), earlier.Select(c => c.Id).ToHashSet()); // the earlier attempt's rows kept as they are
            Assert.Equal(mined.Count, (await db.MiningRuns.AsNoTracking().SingleAsync(r => r.Id == run.Id)).CandidatesCreated);
        }
    }

    [Theory]
    [MemberData(nameof(TestServers.Providers), MemberType = typeof(TestServers))]
    public async Task Active_learning_scores_pending_candidates_and_the_queue_sorts_most_uncertain_first(DatabaseProvider provider)
    {
        await using var f = await ArrangeAsync(MiningFixtures.EnglishTask, provider: provider);
        foreach (var t in MiningFixtures.Billing[..3]) await f.AddCandidateAsync("billing", t, CandidateStatus.Approved);
        var status = await f.Mining.ActiveLearningAsync(f.Viewer, f.TaskId);
        Assert.False(status.CanTrain);
        await Assert.ThrowsAsync<DomainValidationException>(() => f.Mining.StartRescoreAsync(f.Author, f.TaskId));
        foreach (var t in MiningFixtures.Shipping[..3]) await f.AddCandidateAsync("shipping", t, CandidateStatus.Approved);
        var clear = await f.AddCandidateAsync("billing", "Please refund the double charge on my card.", CandidateStatus.Pending);
        var mixed = await f.AddCandidateAsync("billing", "I paid for express shipping but the parcel is late, refund the delivery fee.", CandidateStatus.Pending);
        // A generation's pool (texts diversity selection left out) never reaches the queue; its reserve may, by top-up.
        var pooled = await f.AddCandidateAsync("shipping", "Where is my parcel? It has not arrived yet.", CandidateStatus.Pending, CandidateStage.Pool);
        var reserve = await f.AddCandidateAsync("shipping", "The courier left my package at the wrong door.", CandidateStatus.Pending, CandidateStage.Reserve);
        var before = await f.Mining.ActiveLearningAsync(f.Viewer, f.TaskId);
        Assert.True(before.CanTrain);
        Assert.Equal((2, 0), (before.Pending, before.Scored)); // the queue's pending: selected only, as the review page counts them
        await Assert.ThrowsAsync<ForbiddenException>(() => f.Mining.StartRescoreAsync(f.Viewer, f.TaskId));

        await f.Host.StartWorkerAsync();
        var job = await f.Mining.StartRescoreAsync(f.Author, f.TaskId);
        await f.Host.WaitForJobAsync(job.Id, j => j.State == JobState.Succeeded, "succeeded", TimeSpan.FromMinutes(1));

        var sorted = await f.Review.QueryAsync(f.Viewer, f.TaskId, new CandidateFilter(Status: CandidateStatus.Pending, Stage: CandidateStage.Selected), 0, 10, CandidateSort.MostUncertain);
        Assert.Equal([mixed, clear], sorted.Items.Select(c => c.Id));
        Assert.All(sorted.Items, c => Assert.NotNull(c.Uncertainty));
        Assert.True(sorted.Items[0].Uncertainty > sorted.Items[1].Uncertainty);
        var after = await f.Mining.ActiveLearningAsync(f.Viewer, f.TaskId);
        Assert.Equal((2, 2), (after.Pending, after.Scored));
        await using var db = await f.Host.Db.CreateDbContextAsync();
        Assert.Null((await db.Candidates.AsNoTracking().SingleAsync(c => c.Id == pooled)).Uncertainty); // never shown: not scored
        Assert.NotNull((await db.Candidates.AsNoTracking().SingleAsync(c => c.Id == reserve)).Uncertainty); // scored for when it tops the queue up
    }
}
