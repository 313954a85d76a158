using Incubator.Domain.Common.TextFiles;
using Incubator.Domain.Common.Events;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Incubator.Domain.Accounts;
using Incubator.Domain.Data;
using Incubator.Domain.Embeddings;
using Incubator.Domain.Jobs;
using Incubator.Domain.Mining;
using Incubator.Domain.Projects;
using Incubator.Domain.Tasks;
using Incubator.Domain.Training;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Incubator.Domain.Benchmarks;

/// <summary>Texts per second through the real corpus embeddings job (<see cref="CorpusEmbeddingJob"/>: read a page of
/// texts from SQLite, embed with MiniLM, pack the blob, commit it with the checkpoint) against the bare all-MiniLM-L6-v2
/// encoder on the same texts in batches of 32, in the same run. 50,000 texts by default (about five minutes on two
/// cores for both); set INCUBATOR_BENCH_CORPUS_TEXTS for a quicker look.</summary>
internal sealed class CorpusEmbeddingBenchmark : IBenchmark
{
    private static int TextCount => int.TryParse(Environment.GetEnvironmentVariable("INCUBATOR_BENCH_CORPUS_TEXTS"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : 50_000;

    public string Name => "mining.corpus-embed";

    public string Description => $"corpus embeddings job over {TextCount:N0} texts vs the bare MiniLM encoder (batch 32), texts/s";

    public async Task<IReadOnlyList<BenchmarkRow>> RunAsync(CancellationToken ct)
    {
        var count = TextCount;
        var sentences = EncoderBenchmark.Sentences(4096);
        var texts = Enumerable.Range(0, count).Select(i => $"{sentences[i % sentences.Length]} Ticket {i}.").ToList();
        var dir = Path.Combine(Path.GetTempPath(), "incubator-bench-" + Guid.NewGuid().ToString("N"));
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Incubator:DataDirectory"] = dir }).Build();
        await using var services = new ServiceCollection()
            .AddLogging(b => b.SetMinimumLevel(LogLevel.Warning))
            .AddIncubatorData(config).AddIncubatorProjects().AddIncubatorJobs(config, runWorker: false)
            .AddIncubatorEmbeddings().AddIncubatorMining()
            .BuildServiceProvider();
        try
        {
            await services.GetRequiredService<DatabaseMigrator>().MigrateAsync(ct);
            var factory = services.GetRequiredService<IDbContextFactory<IncubatorDbContext>>();
            var projectId = Guid.NewGuid();
            var userId = Guid.NewGuid().ToString();
            await using (var db = await factory.CreateDbContextAsync(ct))
            {
                db.Projects.Add(new Project { Id = projectId, Name = "mining bench", CreatedAt = DateTimeOffset.UtcNow });
                db.Users.Add(new AppUser { Id = userId, UserName = "bench@example.test", Email = "bench@example.test", DisplayName = "bench", CreatedAt = DateTimeOffset.UtcNow });
                db.ProjectMembers.Add(new ProjectMember { ProjectId = projectId, UserId = userId, Role = ProjectRole.Owner, AddedAt = DateTimeOffset.UtcNow });
                await db.SaveChangesAsync(ct);
            }
            var import = Stopwatch.StartNew();
            CorpusImportResult imported;
            await using (var file = new MemoryStream(Encoding.UTF8.GetBytes(string.Join('\n', texts))))
                imported = await services.GetRequiredService<CorpusService>().ImportAsync(userId, projectId, "bench", "bench.txt", file, new TextFileOptions(TextFileFormat.Txt), ct);
            import.Stop();

            // Warm the model up outside both measurements.
            var miniLm = services.GetRequiredService<MiniLmEmbedder>();
            miniLm.Embed([texts[0]]);
            using var encoder = MiniLmEmbedder.CreateEncoder();
            encoder.Encode([texts[0]], ct);

            var jobId = imported.Corpus.EmbeddingJobId!.Value;
            await using (var db = await factory.CreateDbContextAsync(ct))
                await db.Jobs.Where(j => j.Id == jobId).ExecuteUpdateAsync(s => s.SetProperty(j => j.State, JobState.Running).SetProperty(j => j.LeaseOwner, "bench"), ct);
            Job job;
            await using (var db = await factory.CreateDbContextAsync(ct)) job = await db.Jobs.AsNoTracking().SingleAsync(j => j.Id == jobId, ct);
            await using var scope = services.CreateAsyncScope();
            var context = new JobContext(job, "bench", factory, services.GetRequiredService<IRunEvents>(), TimeProvider.System, scope.ServiceProvider, ct);
            var handler = scope.ServiceProvider.GetRequiredService<CorpusEmbeddingJob>();
            var viaJob = Stopwatch.StartNew();
            await handler.RunAsync(context);
            viaJob.Stop();

            var bare = Stopwatch.StartNew();
            for (var start = 0; start < texts.Count; start += MiniLmEmbedder.DefaultBatchSize)
            {
                ct.ThrowIfCancellationRequested();
                encoder.Encode(texts.GetRange(start, Math.Min(MiniLmEmbedder.DefaultBatchSize, texts.Count - start)).ToArray(), ct);
            }
            bare.Stop();

            long bytes;
            await using (var db = await factory.CreateDbContextAsync(ct))
                bytes = await db.CorpusEmbeddingBatches.Where(b => b.CorpusId == imported.Corpus.Id).SumAsync(b => (long)b.Data.Length, ct);
            var bareRate = count / bare.Elapsed.TotalSeconds;
            return
            [
                new BenchmarkRow(Name, $"import {count:N0} texts (parse, dedup, insert)", count / import.Elapsed.TotalSeconds, "texts/s"),
                new BenchmarkRow(Name, "bare MiniLM encoder, batch 32", bareRate, "texts/s"),
                new BenchmarkRow(Name, "corpus embeddings job (read, embed, store blob, checkpoint)", count / viaJob.Elapsed.TotalSeconds, "texts/s", bareRate,
                    "baseline: bare encoder on the same texts"),
                new BenchmarkRow(Name, "stored vectors", bytes / (1024.0 * 1024), "MB", null, $"{bytes / (double)count:0} bytes a text in blobs of {CorpusStore.EmbeddingBatchSize}"),
            ];
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { /* temp folder */ }
        }
    }
}

/// <summary>Mining on SST-2 (../shared/datasets/sst2): the 6,920 training sentences are the unlabelled pool. Precision of
/// the top mined candidates per label against the true labels; then the test-set accuracy of models trained only on the
/// mined candidates — the product's own <see cref="ClassifierTrainer"/> (sparse family) and a nearest-centroid model on
/// the embeddings — beside the zero-shot baseline (each test sentence → the label whose definition is nearest) and, for
/// scale, the same models trained on the true training labels. Skipped with a note when
/// the dataset folder is absent.</summary>
internal sealed class Sst2MiningBenchmark : IBenchmark
{
    private static readonly int[] TopN = [50, 200, 500];
    private const int TrainOn = 500;

    internal static readonly TaskSpec Spec = new()
    {
        Name = "Movie review sentiment",
        Instruction = "Classify the sentiment of a sentence from a movie review.",
        Labels =
        [
            new LabelSpec { Name = "negative", Description = "The sentence expresses a negative opinion of the movie: it criticises it, is bored or disappointed by it." },
            new LabelSpec { Name = "positive", Description = "The sentence expresses a positive opinion of the movie: it praises it, enjoys it or recommends it." },
        ],
        Preferences = new TaskPreferences { Language = "en" },
    };

    public string Name => "mining.sst2";

    public string Description => "SST-2 train as an unlabelled pool: precision of mined top-N per label; test accuracy of a model trained on them vs zero-shot";

    private static List<(string Label, string Text)> Read(string path) =>
        File.ReadLines(path).Where(l => l.Length > 2).Select(l => (l[0] == '1' ? "positive" : "negative", l[2..].Trim())).ToList();

    public Task<IReadOnlyList<BenchmarkRow>> RunAsync(CancellationToken ct) => Task.Run(() => Run(ct), ct);

    private async Task<IReadOnlyList<BenchmarkRow>> Run(CancellationToken ct)
    {
        var folder = SharedDatasets.Find("sst2");
        if (folder is null)
            return [new BenchmarkRow(Name, "skipped", 0, "", null, "../shared/datasets/sst2 not found (set INCUBATOR_DATASETS)")];
        var train = Read(Path.Combine(folder, "stsa.binary.train"));
        var test = Read(Path.Combine(folder, "stsa.binary.test"));
        using var miniLm = new MiniLmEmbedder();
        var embed = Stopwatch.StartNew();
        var trainVectors = miniLm.Embed(train.Select(t => t.Text).ToList());
        var testVectors = miniLm.Embed(test.Select(t => t.Text).ToList());
        embed.Stop();
        ct.ThrowIfCancellationRequested();

        var rows = new List<BenchmarkRow>
        {
            new(Name, $"embed {train.Count:N0} train + {test.Count:N0} test sentences", embed.Elapsed.TotalSeconds, "s"),
        };
        var scorer = new MiningScorer(Spec, miniLm);
        for (var i = 0; i < train.Count; i++) scorer.Add(i, trainVectors[i]);
        var ranked = scorer.Rank(MiningService.DefaultMargin);
        foreach (var label in Spec.Labels.Select(l => l.Name))
        {
            foreach (var n in TopN)
            {
                var top = ranked[label].Take(n).ToList();
                var precision = top.Count == 0 ? 0 : top.Count(r => train[r.Ordinal].Label == label) / (double)top.Count;
                var prior = train.Count(t => t.Label == label) / (double)train.Count;
                rows.Add(new BenchmarkRow(Name, $"precision of mined top-{n} '{label}'", precision, "ratio", prior,
                    $"baseline: share of '{label}' in the pool; {top.Count} passed margin {MiningService.DefaultMargin}"));
            }
        }

        // Zero-shot: the label whose definition vector is nearest (the scorer's own rule with no margin).
        var zeroShot = new MiningScorer(Spec, miniLm);
        for (var i = 0; i < test.Count; i++) zeroShot.Add(i, testVectors[i]);
        var zeroRanked = zeroShot.Rank(0);
        var zeroCorrect = zeroRanked.Sum(kv => kv.Value.Count(r => test[r.Ordinal].Label == kv.Key));
        var zeroAccuracy = zeroCorrect / (double)test.Count;

        var mined = Spec.Labels.ToDictionary(l => l.Name, l => (IReadOnlyList<float[]>)ranked[l.Name].Take(TrainOn).Select(r => trainVectors[r.Ordinal]).ToList());
        var minedModel = QuickModel.Train(mined)!;
        var minedAccuracy = Accuracy(minedModel, test, testVectors);
        rows.Add(new BenchmarkRow(Name, $"test accuracy, nearest centroid on mined top-{TrainOn}/label", minedAccuracy, "ratio", zeroAccuracy,
            "baseline: zero-shot nearest definition"));

        // The product's own trainer (sparse TF-IDF n-grams + linear head) on the mined candidates only, as a project
        // that reviewed nothing would train: stratified 80/20 train/validation split of the mined rows, scored on the
        // SST-2 test split. Baseline = zero-shot accuracy, so the ratio reads as the gain of mining + training.
        var minedRows = Spec.Labels.SelectMany(l => ranked[l.Name].Take(TrainOn).Select(r => new LabeledText(l.Name, train[r.Ordinal].Text))).ToList();
        var testRows = test.Select(t => new LabeledText(t.Label, t.Text)).ToList();
        var labels = Spec.Labels.Select(l => l.Name).ToList();
        var sparse = TrainSparse(labels, minedRows, testRows, ct);
        rows.Add(new BenchmarkRow(Name, $"test accuracy, ClassifierTrainer sparse on mined top-{TrainOn}/label", sparse.Report.Accuracy, "ratio", zeroAccuracy,
            $"baseline: zero-shot nearest definition; {sparse.TrainCount} train + {sparse.ValidationCount} validation mined rows, validation acc {sparse.ValidationAccuracy:0.000} (vs mined labels), macro-F1 {sparse.Report.MacroF1:0.000}, trained in {sparse.Seconds:0.0} s"));
        var allRows = train.Select(t => new LabeledText(t.Label, t.Text)).ToList();
        var sparseAll = TrainSparse(labels, allRows, testRows, ct);
        rows.Add(new BenchmarkRow(Name, "test accuracy, ClassifierTrainer sparse on all true train labels", sparseAll.Report.Accuracy, "ratio", zeroAccuracy,
            $"for scale: full supervision with the same trainer; {sparseAll.TrainCount} train + {sparseAll.ValidationCount} validation rows, trained in {sparseAll.Seconds:0.0} s"));

        var supervised = QuickModel.Train(Spec.Labels.ToDictionary(l => l.Name,
            l => (IReadOnlyList<float[]>)Enumerable.Range(0, train.Count).Where(i => train[i].Label == l.Name).Select(i => trainVectors[i]).ToList()))!;
        rows.Add(new BenchmarkRow(Name, "test accuracy, nearest centroid on all true train labels", Accuracy(supervised, test, testVectors), "ratio", zeroAccuracy,
            "for scale: what full supervision gives the same model"));
        await Task.CompletedTask;
        return rows;
    }

    private const int Seed = 1;

    private static (EvaluationReport Report, int TrainCount, int ValidationCount, double ValidationAccuracy, double Seconds) TrainSparse(
        IReadOnlyList<string> labels, IReadOnlyList<LabeledText> rows, IReadOnlyList<LabeledText> test, CancellationToken ct)
    {
        var (trainPart, validationPart) = StratifiedSplit.Split(rows, 0.2, Seed);
        var clock = Stopwatch.StartNew();
        var result = new ClassifierTrainer().Train(labels, trainPart, validationPart, gold: null, new TrainingOptions(ModelFamily.Sparse, Seed), null, ct);
        clock.Stop();
        return (Evaluation.Evaluate(result.Model, test), trainPart.Count, validationPart.Count, result.Validation.Accuracy, clock.Elapsed.TotalSeconds);
    }

    private static double Accuracy(QuickModel model, List<(string Label, string Text)> test, float[][] vectors) =>
        Enumerable.Range(0, test.Count).Count(i => model.Predict(vectors[i]).Label == test[i].Label) / (double)test.Count;
}
