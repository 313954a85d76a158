using System.Text;
using Incubator.Domain.Common;
using Incubator.Domain.Common.TextFiles;
using Incubator.Domain.Embeddings;
using Incubator.Domain.Generation;
using Incubator.Domain.Jobs;
using Incubator.Domain.Mining;
using Incubator.Domain.Projects;
using Incubator.Domain.Review;
using Incubator.Domain.Tasks;
using Incubator.Domain.Training;
using Incubator.Tests.Jobs;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.Mining;

/// <summary>Self-training as a portal job on a real SQLite database with the job worker: who may start it, what it
/// writes (an ordinary model version, the uncertain texts in the queue), and how it ends. The Japanese fixture keeps it
/// fast: character n-grams for mining, a sparse model at the end.</summary>
public sealed class SelfTrainingJobTests
{
    private sealed record Fixture(JobTestHost Host, Guid ProjectId, Guid TaskId, string Author, string Viewer, string Outsider, Guid CorpusId) : IAsyncDisposable
    {
        public MiningService Mining => Host.Services.GetRequiredService<MiningService>();

        public SelfTrainingService SelfTraining => Host.Services.GetRequiredService<SelfTrainingService>();

        public ValueTask DisposeAsync() => Host.DisposeAsync();

        public async Task<MiningRunView> MineAsync(int perLabel)
        {
            var run = await Mining.StartAsync(Author, TaskId, new StartMiningRequest(CorpusId, perLabel, 0));
            // Stopped short when some label got no candidate (the other label, on a corpus without off-topic texts).
            await Host.WaitForJobAsync(run.JobId!.Value, j => j.State is JobState.Succeeded or JobState.StoppedShort, "mined", TimeSpan.FromMinutes(2));
            return run;
        }

        public async Task<Job> SelfTrainAsync(Guid miningRunId, int rounds = 2, int uncertain = 6)
        {
            var view = await SelfTraining.StartAsync(Author, miningRunId, new StartSelfTrainingRequest(rounds, uncertain));
            return await Host.WaitForJobAsync(view.JobId!.Value, j => j.IsFinished, "finished", TimeSpan.FromMinutes(2));
        }
    }

    private static async Task<Fixture> ArrangeAsync(TaskSpec? task = null, IEnumerable<string>? texts = null)
    {
        var host = await JobTestHost.CreateAsync(configure: s =>
            s.AddIncubatorEmbeddings().AddIncubatorReview(JobTestHost.NoSettings).AddIncubatorMining().AddIncubatorTraining()
                // As the portal registers it: the notes a card repeats (the rounds), said in the card's language.
                .AddSingleton<ICardNotes>(Incubator.Web.Extensions.ResourceCardNotes.Standalone()));
        var projectId = await host.CreateProjectAsync("self-training");
        var author = await host.CreateUserAsync(projectId, ProjectRole.Author, "author");
        var viewer = await host.CreateUserAsync(projectId, ProjectRole.Viewer, "viewer");
        var outsider = await host.CreateUserAsync(projectId, null, "outsider");
        var taskId = Guid.NewGuid();
        await using (var db = await host.Db.CreateDbContextAsync())
        {
            var spec = task ?? MiningFixtures.JapaneseTask;
            db.Tasks.Add(new ClassifierTask { Id = taskId, ProjectId = projectId, Name = spec.Name, CurrentVersion = 1, CreatedAt = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow });
            db.TaskVersions.Add(new TaskVersion { Id = Guid.NewGuid(), TaskId = taskId, Number = 1, SpecJson = TaskJson.Serialize(spec), ContentHash = Guid.NewGuid().ToString("N"), CreatedAt = DateTimeOffset.UtcNow });
            await db.SaveChangesAsync();
        }
        using var stream = new MemoryStream(new UTF8Encoding(false).GetBytes(string.Join("\n", texts ?? MiningFixtures.JapaneseLabelled().Select(l => l.Text))));
        var corpus = (await host.Services.GetRequiredService<CorpusService>().ImportAsync(author, projectId, null, "ja.txt", stream, new TextFileOptions(TextFileFormat.Txt))).Corpus;
        await host.StartWorkerAsync();
        return new Fixture(host, projectId, taskId, author, viewer, outsider, corpus.Id);
    }

    [Fact]
    public async Task Only_authors_start_it_from_a_finished_mining_run_with_settings_in_range()
    {
        await using var f = await ArrangeAsync();
        var run = await f.MineAsync(4);
        await Assert.ThrowsAsync<ForbiddenException>(() => f.SelfTraining.StartAsync(f.Viewer, run.Id, new StartSelfTrainingRequest()));
        await Assert.ThrowsAsync<ForbiddenException>(() => f.SelfTraining.StartAsync(f.Outsider, run.Id, new StartSelfTrainingRequest()));
        await Assert.ThrowsAsync<ForbiddenException>(() => f.SelfTraining.StartAsync(f.Author, Guid.NewGuid(), new StartSelfTrainingRequest()));
        var bad = await Assert.ThrowsAsync<DomainValidationException>(() => f.SelfTraining.StartAsync(f.Author, run.Id, new StartSelfTrainingRequest(11, -1)));
        Assert.Equal(["SelfTrainingRoundsRange", "SelfTrainingUncertainRange"], bad.Details.Select(d => d.Code));
        await using (var db = await f.Host.Db.CreateDbContextAsync())
        {
            Assert.Equal(1, await db.MiningRuns.CountAsync());
            Assert.Equal(1, await db.Jobs.CountAsync(j => j.Kind == MiningRunJob.KindName));
            Assert.Equal(0, await db.Jobs.CountAsync(j => j.Kind == SelfTrainingJob.KindName));
        }
        // A run still queued has no candidates to start from.
        await f.Host.StopWorkerAsync();
        var queued = await f.Mining.StartAsync(f.Author, f.TaskId, new StartMiningRequest(f.CorpusId, 4, 0));
        var notFinished = await Assert.ThrowsAsync<DomainValidationException>(() => f.SelfTraining.StartAsync(f.Author, queued.Id, new StartSelfTrainingRequest()));
        Assert.Equal("SelfTrainingRunNotFinished", notFinished.Details.Single().Code);
        Assert.Empty(await f.SelfTraining.ListAsync(f.Viewer, f.TaskId));
    }

    /// <summary>A mining run's candidates are written one tick apart in time once; SQLite keeps 0.1 ms and PostgreSQL a
    /// microsecond, so they came back tied, in the order of their random ids, and self-training's seeded split of the
    /// same seeds changed from run to run (seen as a flaky test). Now their order survives, and the same seeds give the
    /// same rounds.</summary>
    [Fact]
    public async Task A_mining_runs_candidates_keep_their_order_in_the_database_and_self_training_repeats_itself()
    {
        await using var f = await ArrangeAsync();
        var run = await f.MineAsync(4);
        await using (var db = await f.Host.Db.CreateDbContextAsync())
        {
            var mined = await db.Candidates.AsNoTracking().Where(c => c.MiningRunId == run.Id).OrderBy(c => c.CreatedAt).ToListAsync();
            Assert.True(mined.Count >= 6, $"{mined.Count} candidates");
            Assert.Equal(mined.Count, mined.Select(c => c.CreatedAt).Distinct().Count());
            // Each label's candidates in the order mining ranked them.
            Assert.All(mined.GroupBy(c => c.Label), g => Assert.Equal(g.Select(c => c.SpreadRank).Order(), g.Select(c => c.SpreadRank)));
        }
        await f.SelfTrainAsync(run.Id, rounds: 2, uncertain: 0);
        await f.SelfTrainAsync(run.Id, rounds: 2, uncertain: 0);
        var views = await f.SelfTraining.ListAsync(f.Viewer, f.TaskId);
        Assert.Equal(2, views.Count);
        Assert.Equal(views[0].Rounds.Select(r => (r.Round, r.Agreement, r.Improved)), views[1].Rounds.Select(r => (r.Round, r.Agreement, r.Improved)));
    }

    [Fact]
    public async Task It_makes_an_ordinary_model_version_and_sends_the_least_certain_texts_to_review_most_uncertain_first()
    {
        await using var f = await ArrangeAsync();
        var run = await f.MineAsync(4);
        // A reviewer approved one mined candidate, corrected another's label and rejected a third.
        await using (var db = await f.Host.Db.CreateDbContextAsync())
        {
            var mined = await db.Candidates.Where(c => c.MiningRunId == run.Id).OrderBy(c => c.CreatedAt).ToListAsync();
            mined[0].Status = CandidateStatus.Approved;
            mined[1].OriginalLabel = mined[1].Label;
            mined[1].Label = MiningFixtures.JapaneseTask.Labels.Select(l => l.Name).First(l => l != mined[1].Label);
            mined[1].Status = CandidateStatus.Approved;
            mined[2].Status = CandidateStatus.Rejected;
            await db.SaveChangesAsync();
        }

        var job = await f.SelfTrainAsync(run.Id, rounds: 2, uncertain: 6);
        // Its title is a note the portal says in the reader's language ("自己学習 · …"), like every other job's.
        var shown = await f.Host.Services.GetRequiredService<JobQueue>().GetAsync(f.Author, job.Id);
        Assert.Equal("Title.SelfTrain", shown.TitleNote?.Code);
        // So is its dataset's name in the activity feed (「… · データセット v1（自己学習）」), not an English name stored once.
        await using (var db = await f.Host.Db.CreateDbContextAsync())
        {
            var frozen = await db.Activity.Where(a => a.Kind == ActivityKinds.DatasetFrozen).SingleAsync();
            var line = ActivityView.From(frozen.Id, frozen.At, frozen.Kind, frozen.Detail, null);
            Assert.Equal("Dataset.SelfTrained", line.DetailNote?.Code);
            Assert.Equal([MiningFixtures.JapaneseTask.Name, "1"], line.DetailNote!.Args);
        }
        // On this fixture the seed model is already the best: the job stops short and says why (the English test below
        // is the one whose rounds help). The same mined run always gives the same rounds (the test above).
        Assert.Equal(JobState.StoppedShort, job.State);
        var view = (await f.SelfTraining.ListAsync(f.Viewer, f.TaskId)).Single();
        Assert.Equal(run.Id, view.SourceRunId);
        Assert.Equal(job.Id, view.JobId);
        // Round 0 (the seed model) and at least one more; the last one either hit the cap or did not improve.
        Assert.InRange(view.Rounds.Count, 2, 3);
        Assert.Equal(Enumerable.Range(0, view.Rounds.Count), view.Rounds.Select(r => r.Round));
        var kept = view.Rounds.Where(r => r.Improved).MaxBy(r => r.Agreement)!;
        // Stopped short exactly when no round beat the seed model, and says so.
        Assert.Equal(kept.Round == 0, job.State == JobState.StoppedShort);
        Assert.Equal(kept.Round == 0 ? "SelfTrain.Short.NoGain" : null, view.Note?.Code);
        // The self-training run is not listed among the mining runs.
        Assert.Equal([run.Id], (await f.Mining.ListRunsAsync(f.Viewer, f.TaskId)).Select(r => r.Id));

        // An ordinary model version: a Draft with family, metrics, card, bundle and in-app model.
        var training = f.Host.Services.GetRequiredService<TrainingService>();
        var model = await training.GetAsync(f.Viewer, view.ModelVersionId!.Value);
        Assert.Equal((ModelVersionState.Draft, "sparse", 1), (model.Summary.State, model.Summary.Family, model.Summary.Number));
        Assert.Equal("none", model.Encoder);
        Assert.Equal(view.ModelNumber, model.Summary.Number);
        Assert.Equal(job.Id, model.Summary.JobId);
        Assert.NotNull(model.Summary.Accuracy);
        Assert.Null(model.Summary.GoldAccuracy); // two reviewed samples do not make a gold set
        Assert.Contains("**No human labels** except 2 reviewed samples", model.ModelCard);
        Assert.Contains("agreement with the model's own pseudo-labels, not accuracy", model.ModelCard);
        // Round 0 is the seed model, not "Round 0 of 2"; the rounds after it count to the two asked for.
        Assert.Contains("- Seed model: held-out agreement", model.ModelCard);
        Assert.Contains("- Round 1 of 2: held-out agreement", model.ModelCard);
        Assert.DoesNotContain("Round 0", model.ModelCard);
        // The card in the other language too (decision 0012, amendment card22), its rounds said in Japanese, and both in the bundle.
        Assert.Equal("en", model.ModelCardLanguage);
        Assert.Contains("レビュー済みサンプル 2 件を除いて**人手のラベルなし**", model.OtherModelCard);
        Assert.Contains("## 評価指標", model.OtherModelCard);
        Assert.DoesNotContain("## Metrics", model.OtherModelCard);
        Assert.DoesNotContain("Round 0 of 2", model.OtherModelCard);
        Assert.Contains("（採用）", model.OtherModelCard);
        var (bundle, _, _) = await training.OpenBundleAsync(f.Author, model.Summary.Id);
        Assert.True(new FileInfo(bundle).Length > 0);
        using (var read = ModelBundle.Read(File.OpenRead(bundle)))
        {
            Assert.Equal(model.ModelCard, read.ModelCard);
            Assert.Equal((CardLanguage?)CardLanguage.Ja, read.OtherCardLanguage);
            Assert.Equal(model.OtherModelCard, read.OtherCard);
        }
        var predictor = f.Host.Services.GetRequiredService<ModelPredictor>();
        var predicted = await predictor.PredictAsync(f.Author, model.Summary.Id, ["荷物がまだ届きません。"], explain: false);
        Assert.Single(predicted.Predictions);
        // Its dataset version holds the rows it was trained on, once each; the rejected text is not among them.
        await using (var db = await f.Host.Db.CreateDbContextAsync())
        {
            var rejected = await db.Candidates.Where(c => c.MiningRunId == run.Id && c.Status == CandidateStatus.Rejected).Select(c => c.Text).SingleAsync();
            var items = await db.DatasetItems.Where(i => i.DatasetVersionId == model.DatasetVersionId).ToListAsync();
            Assert.NotEmpty(items);
            Assert.Equal(items.Count, items.Select(i => (i.Label, i.Text)).Distinct().Count());
            Assert.DoesNotContain(items, i => i.Text == rejected);
        }

        // The uncertain texts: pending candidates of the run, new to the task, most uncertain first; counts from the database.
        var queue = await f.Host.Services.GetRequiredService<ReviewQueries>().QueryAsync(f.Viewer, f.TaskId, new CandidateFilter(RunId: view.Id), 0, 50, CandidateSort.MostUncertain);
        Assert.Equal(6, queue.Total);
        Assert.Equal((6, 6), (view.UncertainQueued, view.UncertainPending));
        Assert.All(queue.Items, c => Assert.Equal((CandidateStatus.Pending, CandidateSource.Mining, view.Id), (c.Status, c.Source, c.MiningRunId)));
        var scores = queue.Items.Select(c => c.Uncertainty!.Value).ToList();
        Assert.Equal(scores.OrderDescending(), scores);
        await using (var db = await f.Host.Db.CreateDbContextAsync())
        {
            var texts = await db.Candidates.Where(c => c.TaskId == f.TaskId).Select(c => c.NormalizedText).ToListAsync();
            Assert.Equal(texts.Count, texts.Distinct().Count());
        }
        Assert.Equal(view.Id, (await f.SelfTraining.ForModelAsync(f.Viewer, model.Summary.Id))!.Id);
        await Assert.ThrowsAsync<ForbiddenException>(() => f.SelfTraining.ForModelAsync(f.Outsider, model.Summary.Id));
    }

    [Fact]
    public async Task Too_few_seeds_for_a_label_fails_with_a_reason_and_writes_no_model()
    {
        await using var f = await ArrangeAsync();
        var run = await f.MineAsync(1);
        var job = await f.SelfTrainAsync(run.Id);
        Assert.Equal(JobState.Failed, job.State);
        var view = (await f.SelfTraining.ListAsync(f.Viewer, f.TaskId)).Single();
        Assert.Equal("SelfTrain.Failed.TooFewSeeds", view.Note?.Code);
        Assert.Null(view.ModelVersionId);
        Assert.Equal(0, view.UncertainQueued);
        await using var db = await f.Host.Db.CreateDbContextAsync();
        Assert.Equal(0, await db.ModelVersions.CountAsync());
        Assert.Equal(0, await db.DatasetVersions.CountAsync());
    }

    /// <summary>A failure the job did not foresee (here the task's stored definition cannot be read) still ends with a
    /// note whose argument is the error, so the page says it in the reader's language. Before: Failed with no note, and
    /// the panel showed the raw English error.</summary>
    [Fact]
    public async Task A_run_that_fails_in_a_way_the_job_did_not_foresee_still_has_a_note_with_the_error()
    {
        await using var f = await ArrangeAsync();
        var run = await f.MineAsync(4);
        await f.Host.QueryAsync(db => db.TaskVersions.Where(v => v.TaskId == f.TaskId).ExecuteUpdateAsync(u => u.SetProperty(v => v.SpecJson, "not json")));
        var job = await f.SelfTrainAsync(run.Id);

        Assert.Equal(JobState.Failed, job.State);
        var view = (await f.SelfTraining.ListAsync(f.Viewer, f.TaskId)).Single();
        Assert.Equal("SelfTrain.Failed.Error", view.Note?.Code);
        Assert.Equal(view.Error, view.Note!.Message);
        Assert.Equal("Failed: " + view.Note.Args.Single(), view.Error);
        Assert.Null(view.ModelVersionId);
    }

    [Fact]
    public async Task Too_few_seeds_for_the_other_label_alone_says_what_helps_there_and_not_a_lower_margin()
    {
        // A corpus of billing, shipping and login texts only: the miner finds seeds for those, but the other label's seeds
        // are texts below the corpus's average for every specific label, and the margin does not apply to them.
        await using var f = await ArrangeAsync(MiningFixtures.EnglishTask, MiningFixtures.Billing.Concat(MiningFixtures.Shipping).Concat(MiningFixtures.Login));
        var run = await f.MineAsync(4);
        var job = await f.SelfTrainAsync(run.Id);
        Assert.Equal(JobState.Failed, job.State);
        var view = (await f.SelfTraining.ListAsync(f.Viewer, f.TaskId)).Single();
        Assert.Equal("SelfTrain.Failed.TooFewOtherSeeds", view.Note?.Code);
        Assert.Equal(["other"], view.Note!.Args);
        Assert.Contains("too few for other, the task's other label", view.Note.Message);
        Assert.Contains("approve a few other samples in the review queue", view.Note.Message);
        Assert.DoesNotContain("lower margin", view.Note.Message);
        Assert.Null(view.ModelVersionId);
    }

    [Fact]
    public async Task An_English_corpus_self_trains_on_its_stored_vectors_runs_every_round_and_ends_with_a_hybrid_model_version()
    {
        // English texts have MiniLM vectors: each round is a logistic regression on the corpus's stored vectors, every
        // asked round runs (no early stop), and the hybrid family trains once on the pool the last round labelled (0032,
        // amendment of 2026-12-06).
        await using var f = await ArrangeAsync(MiningFixtures.EnglishTask, MiningFixtures.Labelled().Select(l => l.Text));
        var run = await f.MineAsync(5);
        var job = await f.SelfTrainAsync(run.Id, rounds: 2, uncertain: 3);
        var view = (await f.SelfTraining.ListAsync(f.Viewer, f.TaskId)).Single();
        Assert.Equal(JobState.Succeeded, job.State);
        Assert.Null(view.Note?.Code);
        Assert.Equal([0, 1, 2], view.Rounds.Select(r => r.Round));
        Assert.All(view.Rounds, r => Assert.True(r.Improved));
        Assert.True(view.Rounds[2].PseudoLabels > view.Rounds[1].PseudoLabels);
        var model = await f.Host.Services.GetRequiredService<TrainingService>().GetAsync(f.Author, view.ModelVersionId!.Value);
        Assert.Equal("hybrid", model.Summary.Family);
        Assert.Equal("float", model.Encoder);
        Assert.Contains("all-MiniLM-L6-v2", model.ModelCard);
        Assert.Contains("each round a logistic regression on the pool's MiniLM embeddings", model.ModelCard);
        Assert.Contains("averaged with the miner's scores; the last round labelled the pool for this model", model.ModelCard);
        // The fixture's labels are even enough: the log says the z-scored view was kept, and why, and that the rounds took
        // curriculum labelling (decision 0032, amendment "st"); the card says so too.
        Assert.Contains("(curriculum labelling: the surest 50%, 100% of the pool by confidence, whatever the label, one step a round)", model.ModelCard);
        var log = await f.Host.GetLogAsync(job.Id);
        Assert.Contains(log, l => l.NoteJson?.Contains("\"SelfTrain.Log.EvenViewCurriculum\"") == true && l.Message.Contains("at most 0.070")
            && l.Message.Contains("curriculum labelling: after each round the surest 50%, 100% of the pool by confidence"));
        Assert.DoesNotContain(log, l => l.NoteJson?.Contains("\"SelfTrain.Log.RawView\"") == true);
        Assert.Equal(3, view.UncertainQueued);
        var predicted = await f.Host.Services.GetRequiredService<ModelPredictor>().PredictAsync(f.Author, model.Summary.Id, ["My parcel never arrived."], explain: false);
        Assert.Contains(predicted.Predictions.Single().Label, MiningFixtures.EnglishTask.Labels.Select(l => l.Name));
    }

    [Fact]
    public async Task An_uneven_English_corpus_takes_the_raw_view_and_counted_shares_by_default_and_the_log_and_card_say_so()
    {
        // Decision 0032, amendments "st-choice" and st19: about 70% of the corpus is billing, so the miner's raw similarity
        // scores lead on billing far more often than on the other labels and the job, with no option, averages those raw
        // scores and shares pseudo-labels out by counted shares, the final model on the surest 85% of the pool. (st19
        // rewrote the expected log and card texts: the signal is the raw view's counts, no longer the seed model's.)
        var texts = MiningFixtures.Billing.Concat(MiningFixtures.Shipping.Take(8)).Concat(MiningFixtures.Login.Take(8)).Concat(MiningFixtures.OtherSupport.Take(6));
        await using var f = await ArrangeAsync(MiningFixtures.EnglishTask, texts);
        var run = await f.MineAsync(5);
        var job = await f.SelfTrainAsync(run.Id, rounds: 2, uncertain: 3);
        Assert.Equal(JobState.Succeeded, job.State);
        var log = await f.Host.GetLogAsync(job.Id);
        var line = Assert.Single(log, l => l.NoteJson?.Contains("\"SelfTrain.Log.RawView\"") == true);
        Assert.Matches(@"lean to some labels over the pool \(their label counts are 0\.\d{3} nats from equal shares, more than 0\.070\).*the surest 85% of the pool", line.Message);
        Assert.DoesNotContain(log, l => l.NoteJson?.Contains("\"SelfTrain.Log.EvenView") == true);
        var view = (await f.SelfTraining.ListAsync(f.Viewer, f.TaskId)).Single();
        var model = await f.Host.Services.GetRequiredService<TrainingService>().GetAsync(f.Author, view.ModelVersionId!.Value);
        Assert.Equal("hybrid", model.Summary.Family);
        Assert.Contains("per label in proportion to how many pool texts lean to it", model.ModelCard);
        Assert.Matches(@"averaged with the miner's raw similarity scores \(their label counts over the pool leaned away from equal shares: 0\.\d{3} nats\); the last round labelled the surest 85% of the pool for this model", model.ModelCard);
    }
}
