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
/// (<see cref="SelfTrainer"/> from the same mined rows): as shipped (rounds on the pool's MiniLM vectors; the pool's own
/// choice between the z-scored view with equal numbers and the raw-cosine view with counted label shares, decision 0032),
/// the z-scored view with equal numbers on every pool (shipped before), the raw view with counted shares on every pool,
/// and the choice with the final model on the whole pool — with each round's held-out agreement and test accuracy in the
/// note (the rounds' logistic regression scored on the test vectors; never used by the loop), and in the zero-shot row's
/// note what each view's argmax counts say of the pool's label shares beside the true shares. Japanese chABSA runs the
/// same way on character n-grams (what mining uses for text MiniLM cannot read), its zero-shot row being the
/// label-description baseline. INCUBATOR_BENCH_DATASETS picks sets; INCUBATOR_BENCH_VECTOR_CACHE (a folder) keeps the
/// embeddings between runs; INCUBATOR_BENCH_ST_VARIANTS (indices) runs only some variants; INCUBATOR_BENCH_ST_SEED
/// another seed for every variant. Each self-training note gives the test recall per label and the share of each
/// round's pseudo-labels that are right (truth printed, never given to the method). English sets also run three
/// measured, not shipped, teacher variants (decision 0032, amendment "the teacher"): seeds and view from the
/// prompt-ensemble miner, the view folded into the final model's weights, and both; the zero-shot row's note gives the
/// prompt-ensemble view's own accuracy.</summary>
internal sealed class SelfTrainingBenchmark : IBenchmark
{
    private const int PerLabel = 100;

    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    public string Name => "mining.self-training";

    public string Description => "no human labels: test accuracy of mining + self-training vs mining only vs zero-shot by label description, per set with an instruction";

    public Task<IReadOnlyList<BenchmarkRow>> RunAsync(CancellationToken ct) => Task.Run(() => Run(ct), ct);

    /// <summary>chABSA as a team would describe it in its task (../shared/datasets/chabsa carries no task.json). Its
    /// texts are Japanese, so mining scores them by character n-grams — the fallback issue 17 asks to measure.</summary>
    internal static readonly TaskSpec ChabsaSpec = new()
    {
        Name = "有価証券報告書の文の評価",
        Instruction = "有価証券報告書の文を、業績や経済環境についての評価で分類してください。",
        Labels =
        [
            new LabelSpec { Name = "positive", Description = "良い評価だけを述べる文：売上や利益の増加、業績の改善、回復、好調、拡大。" },
            new LabelSpec { Name = "negative", Description = "悪い評価だけを述べる文：売上や利益の減少、悪化、低迷、減速、厳しい状況、損失。" },
            new LabelSpec { Name = "neutral", Description = "良し悪しの評価を含まない事実の記述：方針、取り組み、事業内容の説明。" },
            new LabelSpec { Name = "mixed", Description = "良い点と悪い点の両方を述べる文：改善した一方で減少した、回復したが先行きは不透明。" },
        ],
        Preferences = new TaskPreferences { Language = "ja" },
    };

    internal static IEnumerable<(string Name, TaskSpec Spec)> Specs(string root)
    {
        yield return ("sst2", Sst2MiningBenchmark.Spec);
        yield return ("chabsa", ChabsaSpec);
        // The hold-out of decision 0032's amendment st19: a task written once for the mining-order bench, not tuned.
        yield return ("sms_spam", MiningOrderBenchmark.SmsSpamSpec);
        foreach (var name in new[] { "cr", "subj", "tweeteval_emotion", "dbpedia" })
        {
            var path = Path.Combine(root, "more", name, "task.json");
            if (File.Exists(path)) yield return (name, TaskJson.Parse(File.ReadAllText(path)));
        }
    }

    /// <summary>A set with a task, its training split as the unlabelled pool (distinct texts, embedded through
    /// INCUBATOR_BENCH_VECTOR_CACHE) and the truth, printed only: what this bench and <see cref="MiningOrderBenchmark"/> share.</summary>
    internal sealed record BenchPool(string Name, TaskSpec Spec, bool English, ITextEmbedder Embedder, List<LabeledText> Train, List<LabeledText> Test,
        List<string> Texts, float[][] Vectors, Dictionary<string, string> Truth, double EmbedSeconds);

    /// <summary>The sets of <see cref="Specs"/> found under <paramref name="root"/>, in TrainingDatasets' order; what the portal
    /// and `mine` do: MiniLM for English, character n-grams for the rest.</summary>
    internal static IEnumerable<BenchPool> Pools(string root, ITextEmbedder miniLm, ITextEmbedder charNgrams, CancellationToken ct)
    {
        var specs = Specs(root).ToDictionary(s => s.Name, s => s.Spec);
        foreach (var (name, train, test) in TrainingDatasets.Load(root))
        {
            if (!specs.TryGetValue(name, out var spec)) continue;
            ct.ThrowIfCancellationRequested();
            var english = spec.Preferences?.Language is null or "en";
            var embedder = english ? miniLm : charNgrams;
            var clock = Stopwatch.StartNew();
            var texts = train.Select(t => t.Text).Distinct(StringComparer.Ordinal).ToList();
            var vectors = BenchVectorCache.Embed(embedder, texts);
            var truth = train.GroupBy(t => t.Text, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First().Label, StringComparer.Ordinal);
            yield return new BenchPool(name, spec, english, embedder, train, test, texts, vectors, truth, clock.Elapsed.TotalSeconds);
        }
    }

    private async Task<IReadOnlyList<BenchmarkRow>> Run(CancellationToken ct)
    {
        var root = SharedDatasets.Find();
        if (root is null) return [new BenchmarkRow(Name, "skipped", 0, "", null, "../shared/datasets not found (set INCUBATOR_DATASETS)")];
        var rows = new List<BenchmarkRow>();
        using var miniLm = new MiniLmEmbedder();
        var charNgrams = new CharNgramEmbedder();
        foreach (var (name, spec, english, embedder, train, test, pool, poolVectors, truth, poolSeconds) in Pools(root, miniLm, charNgrams, ct))
        {
            var clock = Stopwatch.StartNew();
            var testVectors = BenchVectorCache.Embed(embedder, test.Select(t => t.Text).ToList());
            var embedSeconds = poolSeconds + clock.Elapsed.TotalSeconds;

            var zeroShot = new MiningScorer(spec, embedder);
            for (var i = 0; i < test.Count; i++) zeroShot.Add(i, testVectors[i]);
            var zeroAccuracy = zeroShot.Rank(0).Sum(kv => kv.Value.Count(r => test[r.Ordinal].Label == kv.Key)) / (double)test.Count;
            // The prompt-ensemble view (measured, not shipped): its own zero-shot accuracy, raw and z-scored.
            var ensembleZero = english ? new MiningScorer(spec, embedder, promptEnsemble: true) : null;
            var ensembleNote = "";
            if (ensembleZero is not null)
            {
                for (var i = 0; i < test.Count; i++) ensembleZero.Add(i, testVectors[i]);
                var raw = ensembleZero.Rank(0).Sum(kv => kv.Value.Count(r => test[r.Ordinal].Label == kv.Key)) / (double)test.Count;
                var ep = ensembleZero.Probabilities(spec.Labels.Select(l => l.Name).ToList());
                var z = Enumerable.Range(0, test.Count).Count(i => spec.Labels[Array.IndexOf(ep[i], ep[i].Max())].Name == test[i].Label) / (double)test.Count;
                ensembleNote = string.Create(C, $"; prompt-ensemble view: {raw:0.000} (z-scored {z:0.000})");
            }

            var scorer = new MiningScorer(spec, embedder);
            for (var i = 0; i < pool.Count; i++) scorer.Add(i, poolVectors[i]);
            var mined = await scorer.SelectAsync(PerLabel, MiningService.DefaultMargin,
                ordinals => Task.FromResult<IReadOnlyDictionary<int, string>>(ordinals.ToDictionary(i => i, i => pool[i])), _ => false);
            var ensembleScorer = english ? new MiningScorer(spec, embedder, promptEnsemble: true) : null;
            IReadOnlyList<MinedCandidate> ensembleMined = [];
            if (ensembleScorer is not null)
            {
                for (var i = 0; i < pool.Count; i++) ensembleScorer.Add(i, poolVectors[i]);
                ensembleMined = await ensembleScorer.SelectAsync(PerLabel, MiningService.DefaultMargin,
                    ordinals => Task.FromResult<IReadOnlyDictionary<int, string>>(ordinals.ToDictionary(i => i, i => pool[i])), _ => false);
            }
            var minedPrecision = mined.Count(m => truth[m.Text] == m.Label) / (double)Math.Max(1, mined.Count);
            var labels = spec.Labels.Select(l => l.Name).ToList();

            var minedRows = mined.Select(m => new LabeledText(m.Label, m.Text)).ToList();
            var (mt, mv) = StratifiedSplit.Split(minedRows, 0.2, 1);
            var miningOnly = new ClassifierTrainer().Train(labels, mt, mv, null, new TrainingOptions(ModelFamily.Sparse, 1), null, ct);
            var miningAccuracy = Evaluation.Evaluate(miningOnly.Model, test).Accuracy;

            var prior = scorer.Probabilities(labels);
            var englishView = english ? SelfTrainingOptions.RawView(scorer, labels) : null;
            var testPrior = zeroShot.Probabilities(labels);
            var zAccuracy = Enumerable.Range(0, test.Count).Count(i => labels[Array.IndexOf(testPrior[i], testPrior[i].Max())] == test[i].Label) / (double)test.Count;
            var variants = new List<(string Name, double Accuracy, string Note)>();
            // As the shipped paths do: the final model's encoder takes the pool's vectors instead of embedding the pool again.
            var dense = english ? new DenseFeaturizer(memoize: true) : null;
            dense?.Remember(pool, poolVectors);
            var shipped = SelfTrainingOptions.For(english) with { Dense = dense };
            // Shipped before decision 0032's amendment "st-choice": the z-scored view and equal numbers on every pool.
            var zOnly = shipped with { RawLeanAbove = null, FinalShare = 1.0, EvenCurriculum = false };
            (string, float[][]?, SelfTrainingOptions, bool, bool Ensemble)[] configs = english ?
            [
                // What `mine --self-train` and the portal's job do for English pools (decision 0032, amendments of 2026-12-06):
                // the pool chooses its miner's view and label shares.
                (string.Create(C, $"as shipped: {shipped.MaxRounds} rounds on MiniLM vectors, logistic regression + miner's view + {shipped.Neighbours}-NN smoothing, {ModelFamilies.Name(shipped.FinalFamily!.Value)} final; the pool chooses: raw view + counted shares (final on the surest {shipped.FinalShare:0%}) when the raw view's argmax label counts over the pool are more than {shipped.RawLeanAbove} nats from equal shares, else z-scored view + equal numbers with curriculum labelling ({SelfTrainer.CurriculumSteps(shipped.MaxRounds)} of the pool by confidence)"), prior, shipped, true, false),
                ("shipped before: z-scored miner's view, equal numbers, on every pool", prior, zOnly, true, false),
                (string.Create(C, $"raw-cosine view (T {SelfTrainingOptions.EnglishViewTemperature}), counted label shares, on every pool"), englishView, zOnly with { Shares = LabelShares.Counts }, true, false),
                ("the pool chooses, counted shares' final model on the whole pool", prior, shipped with { FinalShare = 1.0 }, true, false),
                // The teacher (decision 0032, amendment "the teacher"): measured, not shipped.
                ("as shipped, seeds and view from the prompt-ensemble miner", prior, shipped, true, true),
                ("as shipped, the miner's view folded into the final model's weights (x1)", prior, shipped with { TeacherFold = 1 }, true, false),
                ("prompt-ensemble miner + its view folded into the final model (x1)", prior, shipped with { TeacherFold = 1 }, true, true),
                // Shipped before decision 0032's amendment "st": on pools that keep the z-scored view, equal numbers per label
                // doubling each round instead of curriculum labelling.
                ("shipped before: equal numbers per label, doubling each round, on pools that keep the z-scored view (no curriculum labelling)", prior, shipped with { EvenCurriculum = false }, true, false),
                // Each branch of the pool's choice forced on every pool (decision 0032, amendment st19): what any signal would get.
                ("forced z branch: z-scored view, equal numbers, curriculum labelling, on every pool", prior, shipped with { RawLeanAbove = double.PositiveInfinity }, true, false),
                ("forced raw branch: raw view, counted shares, final on the surest 85%, on every pool", prior, shipped with { RawLeanAbove = -1 }, true, false),
            ] :
            [
                // What `mine --self-train` does for other languages: sparse rounds without the miner's view (below
                // chance on character n-grams), the rounds' model is the result.
                ("as shipped: sparse rounds, no miner's view", null, shipped, false, false),
                ("as shipped but never stopping early", null, shipped with { MinGain = -1 }, false, false),
                ("sparse rounds with the miner's view (not shipped here)", prior, shipped, false, false),
            ];
            var diagnostics = "";
            if (english)
            {
                // What the method can see of the pool's label shares (argmax counts of each view), and the truth beside it
                // (printed for checking a rule; never given to the method).
                var seedModel = SoftmaxRegression.Fit(mined.Select(m => poolVectors[m.Ordinal]).ToList(), mined.Select(m => labels.IndexOf(m.Label)).ToList(), labels.Count);
                var seedP = poolVectors.Select(seedModel.Probabilities).ToArray();
                var avgRaw = seedP.Select((p, i) => p.Select((v, j) => (v + englishView![i][j]) / 2).ToArray()).ToArray();
                var avgZ = seedP.Select((p, i) => p.Select((v, j) => (v + prior[i][j]) / 2).ToArray()).ToArray();
                var trueShares = labels.Select(l => pool.Count(t => truth[t] == l) / (double)pool.Count).ToArray();
                double Agree(float[][] a, float[][] b) => Enumerable.Range(0, a.Length).Count(i => Array.IndexOf(a[i], a[i].Max()) == Array.IndexOf(b[i], b[i].Max())) / (double)a.Length;
                double Right(float[][] a) => Enumerable.Range(0, a.Length).Count(i => labels[Array.IndexOf(a[i], a[i].Max())] == truth[pool[i]]) / (double)a.Length;
                diagnostics = string.Create(C, $"; seed model agrees with the raw view on {Agree(seedP, englishView!):0.000} of the pool, with the z view on {Agree(seedP, prior):0.000} (pool accuracy: seed {Right(seedP):0.000}, raw {Right(englishView!):0.000}, z {Right(prior):0.000})");
                var rawMean = labels.Select((_, j) => englishView!.Average(p => (double)p[j])).ToArray();
                double EligibleH(double m) { var r = scorer.Rank(m); var n = labels.Select(l => r.TryGetValue(l, out var x) ? (double)x.Count : 0).ToArray(); var t = Math.Max(1, n.Sum()); return SelfTrainer.Evenness(n.Select(v => v / t).ToArray()); }
                double Tv(double[] a, double[] b) => a.Zip(b, (u, v) => Math.Abs(u - v)).Sum() / 2;
                diagnostics += string.Create(C, $"; the pool's choice: raw view's lean {SelfTrainer.RawLean(englishView!, pool):0.000} nats from equal shares ({(SelfTrainer.RawLean(englishView!, pool) > shipped.RawLeanAbove ? "raw view + counted shares" : "z-scored view + equal numbers")}, threshold {shipped.RawLeanAbove})");
                diagnostics += string.Create(C, $"; SIGNALS raw argmax H {SelfTrainer.Evenness(Counts(englishView!, labels.Count)):0.000}, raw mean-prob H {SelfTrainer.Evenness(rawMean):0.000}, eligible H m0.03 {EligibleH(MiningService.DefaultMargin):0.000} m0.1 {EligibleH(0.1):0.000}, seed model ({scorer.Order}) TV to raw {Tv(Counts(seedP, labels.Count), Counts(englishView!, labels.Count)):0.000} to z {Tv(Counts(seedP, labels.Count), Counts(prior, labels.Count)):0.000}");
                diagnostics += $"; pool shares by argmax — raw view {Evenness(Counts(englishView!, labels.Count))}, z view {Evenness(Counts(prior, labels.Count))}, seed model {Evenness(Counts(seedP, labels.Count))}, seed+raw {Evenness(Counts(avgRaw, labels.Count))}, seed+z {Evenness(Counts(avgZ, labels.Count))}; true {Evenness(trueShares)}";
            }
            // INCUBATOR_BENCH_ST_VARIANTS: comma-separated indices of the variants to run (default: all).
            var only = Environment.GetEnvironmentVariable("INCUBATOR_BENCH_ST_VARIANTS") is { Length: > 0 } list
                ? list.Split(',').Select(v => int.Parse(v, C)).ToHashSet() : null;
            if (only is not null) configs = configs.Where((_, i) => only.Contains(i)).ToArray();
            // INCUBATOR_BENCH_ST_ORDERS: comma-separated seed orders (MiningOrder names: similarity, margin, probability) each
            // variant runs with (default: similarity, the shipped order); decision 0032, amendment rank17.
            var orders = Environment.GetEnvironmentVariable("INCUBATOR_BENCH_ST_ORDERS") is { Length: > 0 } orderList
                ? orderList.Split(',').Select(o => Enum.Parse<MiningOrder>(o.Trim(), ignoreCase: true)).ToArray() : [scorer.Order];
            var minedByOrder = new Dictionary<(bool, MiningOrder), IReadOnlyList<MinedCandidate>>
            {
                [(false, scorer.Order)] = mined,
            };
            if (ensembleScorer is not null) minedByOrder[(true, ensembleScorer.Order)] = ensembleMined;
            foreach (var (configVariant, chosenView, configured, onVectors, seedSource) in configs.SelectMany(c => orders.Select(o =>
                (o == scorer.Order ? c.Item1 : $"{c.Item1}; seeds by {o.ToString().ToLowerInvariant()}", c.Item2, c.Item3, c.Item4, (c.Ensemble, o)))))
            {
                var (isEnsemble, order) = seedSource;
                if (!minedByOrder.TryGetValue((isEnsemble, order), out var seeds))
                    minedByOrder[(isEnsemble, order)] = seeds = await (isEnsemble ? ensembleScorer! : scorer).SelectAsync(PerLabel, MiningService.DefaultMargin,
                        ordinals => Task.FromResult<IReadOnlyDictionary<int, string>>(ordinals.ToDictionary(i => i, i => pool[i])), _ => false, order);
                var variant = string.Create(C, $"{configVariant}{(order == scorer.Order ? "" : $" ({seeds.Count(m => truth[m.Text] == m.Label) / (double)Math.Max(1, seeds.Count):0.000} right)")}");
                var view = isEnsemble ? ensembleScorer!.Probabilities(labels) : chosenView;
                var viewHead = onVectors ? (isEnsemble ? ensembleScorer! : scorer).ViewHead(labels) : ((float[][], float[])?)null;
                if (labels.FirstOrDefault(l => seeds.Count(m => m.Label == l) < 2) is { } starved)
                {
                    variants.Add((variant, double.NaN, $"not run: fewer than 2 mined seeds for '{starved}'"));
                    continue;
                }
                var perRound = new List<string>();
                var pseudoRight = new List<string>();
                // Diagnostic: how many of each round's pseudo-labels are right (truth only printed, never given to the method).
                // INCUBATOR_BENCH_ST_SEED: another seed for every variant (which seeds are held out, the final split).
                var seed = Environment.GetEnvironmentVariable("INCUBATOR_BENCH_ST_SEED") is { Length: > 0 } s ? int.Parse(s, C) : configured.Seed;
                var options = configured with
                {
                    Seed = seed,
                    OnPseudoLabels = (r, chosen) => pseudoRight.Add(string.Create(C, $"{(r < 0 ? "final" : $"r{r}")} {chosen.Count(c => truth[pool[c.Index]] == labels[c.Label]) / (double)Math.Max(1, chosen.Count):0.000} ({string.Join("/", labels.Select((l, j) => chosen.Count(c => c.Label == j)))})")),
                };
                var selfClock = Stopwatch.StartNew();
                var self = SelfTrainer.Run(labels, pool, seeds, options, view, rawPrior: options.RawLeanAbove is null ? null : englishView, onRound: (round, model) =>
                    perRound.Add(string.Create(C, $"r{round.Round} +{round.PseudoLabels} agree {round.SeedAgreement:0.000}/{round.ViewAgreement:0.000}{(model is null ? "" : $" test {Evaluation.Evaluate(model, test).Accuracy:0.000}")}")),
                    ct: ct, poolVectors: onVectors ? poolVectors : null, viewHead: viewHead);
                selfClock.Stop();
                for (var r = 0; r < self.RoundModels.Count; r++)
                {
                    var lr = self.RoundModels[r];
                    var right = Enumerable.Range(0, test.Count).Count(i => lr.Probabilities(testVectors[i]) is var p && labels[Array.IndexOf(p, p.Max())] == test[i].Label);
                    perRound[r] += string.Create(C, $" test {right / (double)test.Count:0.000}");
                }
                var finalRows = self.TrainRows.Concat(self.ValidationRows).ToList();
                var rowsRight = finalRows.Count(r => truth.TryGetValue(r.Text, out var t) && t == r.Label) / (double)Math.Max(1, finalRows.Count);
                var report = Evaluation.Evaluate(self.Training.Model, test);
                var recall = string.Join(", ", report.PerClass.Select(m => string.Create(C, $"{m.Label} {m.Recall:0.00}")));
                variants.Add((variant, report.Accuracy,
                    string.Create(C, $"baseline: zero-shot; test recall per label: {recall}; pseudo-labels right: {string.Join(", ", pseudoRight)}; final rows {rowsRight:0.000} right; {(self.EmbeddingRounds ? $"{(self.RawLean is { } lean ? $"raw view's lean {lean:0.000} nats" : "no raw view")}{(options.RawLeanAbove is null ? "" : self.RawView ? ", chose the raw view and counted shares" : ", kept the z-scored view and equal numbers")}; {self.Rounds.Count - 1} rounds, final model on {self.PseudoLabels} pseudo-labels (rows per label {string.Join("/", labels.Select(l => self.RowsPerLabel[l]))})" : (self.BestRound == 0 ? "kept the seed model" : $"kept round {self.BestRound} of {self.Rounds.Count - 1}"))} ({string.Join("; ", perRound)}); {selfClock.Elapsed.TotalSeconds:0} s")));
            }

            var majority = test.GroupBy(t => t.Label).Max(g => g.Count()) / (double)test.Count;
            var perLabelPrecision = string.Join(", ", labels.Select(l => mined.Count(m => m.Label == l) is var n and > 0
                ? string.Create(C, $"{l} {mined.Count(m => m.Label == l && truth[m.Text] == l) / (double)n:0.00} of {n} (prior {train.Count(t => t.Label == l) / (double)train.Count:0.00})")
                : $"{l} none"));
            rows.Add(new BenchmarkRow(Name, english ? $"{name}: zero-shot MiniLM test accuracy" : $"{name}: zero-shot by label description, character n-grams (label-description baseline)",
                zeroAccuracy, "ratio", majority,
                string.Create(C, $"baseline: majority label; {pool.Count:N0} pool texts, {test.Count:N0} test; {embedder.Name}; embedding {embedSeconds:0} s; z-scored per label: {zAccuracy:0.000}{ensembleNote}; mined precision per label: {perLabelPrecision}{diagnostics}")));
            rows.Add(new BenchmarkRow(Name, $"{name}: mining only (sparse on mined top-{PerLabel}/label)", miningAccuracy, "ratio", zeroAccuracy,
                string.Create(C, $"baseline: zero-shot; default order {scorer.Order.ToString().ToLowerInvariant()}; {mined.Count} mined rows, {minedPrecision:0.000} of them right{(ensembleScorer is null ? "" : string.Create(C, $"; prompt-ensemble miner: {ensembleMined.Count} rows, {ensembleMined.Count(m => truth[m.Text] == m.Label) / (double)Math.Max(1, ensembleMined.Count):0.000} right"))}")));
            foreach (var (variant, accuracy, note) in variants)
                rows.Add(new BenchmarkRow(Name, $"{name}: mining + self-training ({variant})", accuracy, "ratio", zeroAccuracy, note));
        }
        return rows.Count > 0 ? rows : [new BenchmarkRow(Name, "skipped", 0, "", null, "no set with an instruction found")];
    }

    private static double[] Counts(float[][] p, int classes)
    {
        var shares = new double[classes];
        foreach (var row in p) shares[Array.IndexOf(row, row.Max())] += 1.0 / p.Length;
        return shares;
    }

    /// <summary>Shares in label order, their normalised entropy and the largest over the smallest.</summary>
    private static string Evenness(double[] shares)
    {
        var h = -shares.Where(x => x > 0).Sum(x => x * Math.Log(x)) / Math.Log(shares.Length);
        return string.Create(C, $"{string.Join("/", shares.Select(x => x.ToString("0.00", C)))} (H {h:0.000}, max/min {shares.Max() / Math.Max(1e-9, shares.Min()):0.0})");
    }
}
