using System.Diagnostics;
using System.Globalization;
using Incubator.Domain.Embeddings;
using Incubator.Domain.Mining;
using Incubator.Domain.Tasks;
using Incubator.Domain.Training;

namespace Incubator.Domain.Benchmarks;

/// <summary>Classifiers with no human label, on the English sets of ../shared/datasets that have an instruction (SST-2
/// with the mining benchmark's task; cr, subj, tweeteval_emotion, dbpedia with their task.json): the training split is
/// the unlabelled pool, the test split scores. In one run per set: MiniLM zero-shot (each test text → the nearest label
/// definition), mining only (`mine --per-label 100`, then the sparse trainer on the mined rows) and mining + self-training
/// (<see cref="SelfTrainer"/> from the same mined rows), with each round's held-out agreement and its test accuracy in
/// the note so the stopping rule can be checked against the truth. INCUBATOR_BENCH_DATASETS picks sets.</summary>
internal sealed class SelfTrainingBenchmark : IBenchmark
{
    private const int PerLabel = 100;
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    public string Name => "mining.self-training";

    public string Description => "no human labels: test accuracy of mining + self-training vs mining only vs MiniLM zero-shot, per English set";

    public Task<IReadOnlyList<BenchmarkRow>> RunAsync(CancellationToken ct) => Task.Run(() => Run(ct), ct);

    private static IEnumerable<(string Name, TaskSpec Spec)> Specs(string root)
    {
        yield return ("sst2", Sst2MiningBenchmark.Spec);
        foreach (var name in new[] { "cr", "subj", "tweeteval_emotion", "dbpedia" })
        {
            var path = Path.Combine(root, "more", name, "task.json");
            if (File.Exists(path)) yield return (name, TaskJson.Parse(File.ReadAllText(path)));
        }
    }

    private async Task<IReadOnlyList<BenchmarkRow>> Run(CancellationToken ct)
    {
        var root = SharedDatasets.Find();
        if (root is null) return [new BenchmarkRow(Name, "skipped", 0, "", null, "../shared/datasets not found (set INCUBATOR_DATASETS)")];
        var specs = Specs(root).ToDictionary(s => s.Name, s => s.Spec);
        var rows = new List<BenchmarkRow>();
        using var miniLm = new MiniLmEmbedder();
        foreach (var (name, train, test) in TrainingDatasets.Load(root))
        {
            if (!specs.TryGetValue(name, out var spec)) continue;
            ct.ThrowIfCancellationRequested();
            var clock = Stopwatch.StartNew();
            var pool = train.Select(t => t.Text).Distinct(StringComparer.Ordinal).ToList();
            var poolVectors = miniLm.Embed(pool);
            var testVectors = miniLm.Embed(test.Select(t => t.Text).ToList());
            var embedSeconds = clock.Elapsed.TotalSeconds;

            var zeroShot = new MiningScorer(spec, miniLm);
            for (var i = 0; i < test.Count; i++) zeroShot.Add(i, testVectors[i]);
            var zeroAccuracy = zeroShot.Rank(0).Sum(kv => kv.Value.Count(r => test[r.Ordinal].Label == kv.Key)) / (double)test.Count;

            var scorer = new MiningScorer(spec, miniLm);
            for (var i = 0; i < pool.Count; i++) scorer.Add(i, poolVectors[i]);
            var mined = await scorer.SelectAsync(PerLabel, MiningService.DefaultMargin,
                ordinals => Task.FromResult<IReadOnlyDictionary<int, string>>(ordinals.ToDictionary(i => i, i => pool[i])), _ => false);
            var truth = train.GroupBy(t => t.Text, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First().Label, StringComparer.Ordinal);
            var minedPrecision = mined.Count(m => truth[m.Text] == m.Label) / (double)Math.Max(1, mined.Count);
            var labels = spec.Labels.Select(l => l.Name).ToList();

            var minedRows = mined.Select(m => new LabeledText(m.Label, m.Text)).ToList();
            var (mt, mv) = StratifiedSplit.Split(minedRows, 0.2, 1);
            var miningOnly = new ClassifierTrainer().Train(labels, mt, mv, null, new TrainingOptions(ModelFamily.Sparse, 1), null, ct);
            var miningAccuracy = Evaluation.Evaluate(miningOnly.Model, test).Accuracy;

            var prior = scorer.Probabilities(labels);
            var testPrior = zeroShot.Probabilities(labels);
            var zAccuracy = Enumerable.Range(0, test.Count).Count(i => labels[Array.IndexOf(testPrior[i], testPrior[i].Max())] == test[i].Label) / (double)test.Count;
            var variants = new List<(string Name, double Accuracy, string Note)>();
            (string, bool, SelfTrainingOptions)[] configs =
            [
                ("sparse", false, new SelfTrainingOptions()),
                ("sparse, pseudo-labels with the miner's view", true, new SelfTrainingOptions()),
                // What `mine --self-train` does for English pools.
                ("as shipped: sparse rounds with the miner's view, hybrid final", true, new SelfTrainingOptions { FinalFamily = SelfTrainingOptions.EnglishFinalFamily }),
                ("as shipped but never stopping early", true, new SelfTrainingOptions { FinalFamily = SelfTrainingOptions.EnglishFinalFamily, MinGain = -1 }),
            ];
            foreach (var (variant, usePrior, options) in configs)
            {
                var perRound = new List<string>();
                var selfClock = Stopwatch.StartNew();
                var self = SelfTrainer.Run(labels, pool, mined, options, usePrior ? prior : null, onRound: (round, model) =>
                    perRound.Add(string.Create(C, $"r{round.Round} +{round.PseudoLabels} agree {round.SeedAgreement:0.000}/{round.ViewAgreement:0.000} test {Evaluation.Evaluate(model, test).Accuracy:0.000}")), ct: ct);
                selfClock.Stop();
                variants.Add((variant, Evaluation.Evaluate(self.Training.Model, test).Accuracy,
                    string.Create(C, $"baseline: zero-shot; best round {self.BestRound} of {self.Rounds.Count} ({string.Join("; ", perRound)}); {selfClock.Elapsed.TotalSeconds:0} s")));
            }

            rows.Add(new BenchmarkRow(Name, $"{name}: zero-shot MiniLM test accuracy", zeroAccuracy, "ratio", null,
                string.Create(C, $"{pool.Count:N0} pool texts, {test.Count:N0} test; embedding {embedSeconds:0} s; z-scored per label: {zAccuracy:0.000}")));
            rows.Add(new BenchmarkRow(Name, $"{name}: mining only (sparse on mined top-{PerLabel}/label)", miningAccuracy, "ratio", zeroAccuracy,
                string.Create(C, $"baseline: zero-shot; {mined.Count} mined rows, {minedPrecision:0.000} of them right")));
            foreach (var (variant, accuracy, note) in variants)
                rows.Add(new BenchmarkRow(Name, $"{name}: mining + self-training ({variant})", accuracy, "ratio", zeroAccuracy, note));
        }
        return rows.Count > 0 ? rows : [new BenchmarkRow(Name, "skipped", 0, "", null, "no English set with an instruction found")];
    }
}
