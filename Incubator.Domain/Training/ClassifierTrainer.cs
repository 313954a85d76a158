using System.Diagnostics;
using System.Globalization;
using Incubator.Domain.Jobs;
using Incubator.Domain.Training.Onnx;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;
using Incubator.Domain.Common;

namespace Incubator.Domain.Training;

public sealed class TrainingResult
{
    /// <summary>The model to ship: the chosen family refit on training + validation when <see cref="Refitted"/>,
    /// otherwise its selection fit.</summary>
    public required TrainedClassifier Model { get; init; }

    public required ModelFamily ChosenFamily { get; init; }

    /// <summary>Validation scores of the chosen family's selection fit (trained on the training part only): the
    /// refit model has seen the validation rows, so its own validation scores would be no estimate.</summary>
    public required EvaluationReport Validation { get; init; }

    /// <summary>True when <see cref="Model"/> is the log-linear pool of sparse, dense and hybrid
    /// (<see cref="ClassifierTrainer.PoolBelowRowsPerLabel"/>); <see cref="ChosenFamily"/> is then hybrid, the pool's
    /// shape, and <see cref="Validation"/> the pool of the selection fits on validation.</summary>
    public bool Pooled { get; init; }

    /// <summary>Gold scores of <see cref="Model"/> (gold rows are never trained on, refit or not).</summary>
    public EvaluationReport? Gold { get; init; }

    /// <summary>Every family trained in this run, with the scores of its selection fit.</summary>
    public required IReadOnlyList<(ModelFamily Family, EvaluationReport Validation, EvaluationReport? Gold)> Compared { get; init; }

    public required IReadOnlyList<string> Log { get; init; }

    /// <summary>Wall-clock seconds spent training each family: its L2 sweep (head fits and their scoring on cached
    /// validation features) and, for sparse, fitting the featuriser. Embedding is counted once, in
    /// <see cref="EmbeddingSeconds"/>; families trained side by side overlap in time.</summary>
    public IReadOnlyDictionary<ModelFamily, double> Seconds { get; init; } = new Dictionary<ModelFamily, double>();

    /// <summary>The selection fit of every family trained (auto keeps the losers too, for comparison).</summary>
    public IReadOnlyDictionary<ModelFamily, TrainedClassifier> Models { get; init; } = new Dictionary<ModelFamily, TrainedClassifier>();

    /// <summary>The L2 weight each family's sweep kept.</summary>
    public IReadOnlyDictionary<ModelFamily, float> L2 { get; init; } = new Dictionary<ModelFamily, float>();

    /// <summary>True when <see cref="Model"/> was refit on training + validation after the choice.</summary>
    public bool Refitted { get; init; }

    public double RefitSeconds { get; init; }

    /// <summary>Seconds spent embedding the training, validation and gold texts (once, for every encoder family).</summary>
    public double EmbeddingSeconds { get; init; }

    /// <summary>Pooled out-of-fold macro-F1 of each family auto cross-validated over training + validation: every family
    /// up to <see cref="ClassifierTrainer.CrossValidateUpTo"/> rows, above that (up to
    /// <see cref="ClassifierTrainer.CrossValidateNearTiesUpTo"/>) only those within noise of the best on validation; null
    /// when it chose on validation or gold. Under the tie rule (<see cref="ClassifierTrainer.TieRuleFromRowsPerLabel"/>)
    /// the out-of-fold predictions of <see cref="ClassifierTrainer.ChoiceShuffles"/> deals of the folds are pooled.</summary>
    public IReadOnlyDictionary<ModelFamily, double>? CrossValidated { get; init; }

    /// <summary>Why <see cref="ChosenFamily"/> was chosen, in English (the log's choose line): the basis, the scores and,
    /// above <see cref="ClassifierTrainer.CrossValidateUpTo"/>, which families were cross-validated and why.</summary>
    public string? Choice { get; init; }

    /// <summary><see cref="Choice"/> as its note (code and arguments), for a model card in the reader's language.</summary>
    public Incubator.Domain.Jobs.JobNote? ChoiceNote { get; init; }

    /// <summary>Share of the training text's letters the encoder represents (<see cref="EncoderCoverage"/>); null when
    /// no encoder family was asked for.</summary>
    public double? EncoderShare { get; init; }
}

/// <summary>Trains the sparse, dense and/or hybrid family with ML.NET (L-BFGS maximum entropy on our own feature
/// vectors, single-threaded so a seed reproduces the model bit for bit), chooses on validation (or gold) and refits
/// the chosen model on training + validation. Features are computed once per run and shared: the sparse vectors of
/// training, validation and gold rows, and the embeddings of every text. Independent work (sparse features and fits
/// beside the embedding; the dense and hybrid sweeps) runs side by side on two cores; each fit stays single-threaded
/// with its own seeded context, so the models do not depend on the schedule.</summary>
public sealed class ClassifierTrainer
{
    /// <summary>Candidate L2 weights of the sparse maximum-entropy head (sum of weighted log-losses + L2/2·‖w‖²), in
    /// the order they are tried. Each is fitted on the training rows and scored on validation macro-F1; the sweep
    /// stops at the first candidate that does not improve on the best so far (ties keep the earlier one), so only
    /// training and validation data are used and it stays deterministic.</summary>
    public IReadOnlyList<float> SparseL2 { get; init; } = [0.03f, 0.1f, 0.3f];

    public IReadOnlyList<float> DenseL2 { get; init; } = [0.003f, 0.01f, 0.03f, 0.1f];

    /// <summary>Longest character n-gram for text in scripts without spaces (1..CharMaxGram).</summary>
    public int CharMaxGram { get; init; } = 3;

    /// <summary>Longest word n-gram (1..WordMaxGram).</summary>
    public int WordMaxGram { get; init; } = 2;

    /// <summary>Token mode for every text; null: chosen from the training text (<see cref="SparseFeaturizer.ChooseMode"/>).</summary>
    public TokenMode? SparseMode { get; init; }

    /// <summary>N-grams in fewer training texts than this are left out of the vocabulary.</summary>
    public int MinDocumentFrequency { get; init; } = 1;

    /// <summary>N-grams in more than this share of the training texts are left out of the vocabulary.</summary>
    public double MaxDocumentShare { get; init; } = 1.0;

    /// <summary>How many of the most decisive n-grams get pairwise conjunction features ("A and B both occur"; see
    /// <see cref="SparseFeaturizer.Conjunctions"/>). They are ranked by a first head fitted on the n-grams alone:
    /// spread of the class weights × √(document frequency). 0 or 1 turns conjunctions off.</summary>
    public int ConjunctionCount { get; init; } = 60;

    /// <summary>Conjunction count for word-mode text (space-separated scripts); null: <see cref="ConjunctionCount"/>.
    /// Character mode always uses <see cref="ConjunctionCount"/>.</summary>
    public int? WordConjunctionCount { get; init; }

    /// <summary>The conjunction count this trainer uses for text featurised in <paramref name="mode"/>.</summary>
    public int ConjunctionCountFor(TokenMode mode) => mode == TokenMode.Word && WordConjunctionCount is { } w ? w : ConjunctionCount;

    /// <summary>Value of an active conjunction feature (the TF-IDF part has unit length).</summary>
    public float ConjunctionValue { get; init; } = 0.05f;

    /// <summary>L2 weight of the first head that ranks n-grams for conjunctions.</summary>
    public float ConjunctionRankingL2 { get; init; } = 0.1f;

    /// <summary>Sparse features use sublinear term frequency (1 + ln count).</summary>
    public bool SparseSublinear { get; init; } = true;

    /// <summary>The encoder of the dense family (a memoising instance lets a benchmark embed each text once).</summary>
    public DenseFeaturizer Dense { get; init; } = DenseFeaturizer.Shared;

    public int MaxIterations { get; init; } = 400;

    /// <summary>L-BFGS stops when the objective's mean relative improvement over the last 5 iterations is below this.</summary>
    public float OptimizationTolerance { get; init; } = 1e-7f;

    /// <summary>The same for the candidates of the sparse and hybrid L2 sweeps when a refit follows: they only rank the
    /// weights, and the refit (at <see cref="OptimizationTolerance"/>) becomes the model. Without a refit, with one candidate and for the dense sweep (cheap fits, most end at the iteration cap)
    /// <see cref="OptimizationTolerance"/> applies. Decision 0019, amendment of branch auto-warm.</summary>
    public float SweepTolerance { get; init; } = 1e-5f;

    /// <summary>The refit of sparse or hybrid starts from the kept candidate's weights, carried over to the refit
    /// vocabulary by n-gram (new n-grams start at zero).</summary>
    public bool WarmStartRefit { get; init; } = true;

    /// <summary>Correction pairs L-BFGS keeps (ML.NET's default is 20). Each pair is two vectors of classes × features
    /// weights, so on a large vocabulary the history is most of a fit's memory and of each iteration's two-loop work
    /// (20,000 short texts: 186k n-grams × 10 labels, 15 MB per pair). 5 scored the same on validation as 20 (decision
    /// 0019, amendment of branch auto-20k).</summary>
    public int LbfgsHistory { get; init; } = 5;

    /// <summary>With a second worker, the hybrid sweep fits its first two candidates side by side (the sweep always fits
    /// both; which is kept is still decided in order afterwards, so the result is the same as one after another). The
    /// sparse sweep does not: it already runs beside the embedding.</summary>
    public bool SweepSideBySide { get; init; } = true;

    /// <summary>With a second worker, the refit's sparse featuriser (vocabulary, idf, conjunction ranking fit on training +
    /// validation) is prepared beside the encoder families' sweeps instead of after the choice on one core. It does not
    /// depend on the choice; the work is thrown away only when dense wins.</summary>
    public bool PrepareRefitAhead { get; init; } = true;

    /// <summary>Auto chooses the family by <see cref="ChoiceFolds"/>-fold cross-validation over training + validation
    /// when they have at most this many rows together (0: never) and no gold set decides: a small validation split is
    /// too noisy to tell families apart (30 rows make one row worth 3 points), while the cached features make the extra
    /// fits cheap at this size. Each family is fitted with the L2 weight its sweep kept.</summary>
    public int CrossValidateUpTo { get; init; } = 1000;

    /// <summary>Above <see cref="CrossValidateUpTo"/> and up to this many training + validation rows, auto cross-validates
    /// only the families whose validation macro-F1 is within one standard error of the best (<see cref="WithinNoise"/>)
    /// and chooses among them by the pooled out-of-fold score; the others are out. With one family within noise it
    /// chooses on validation, as above this size. 0 (or at most <see cref="CrossValidateUpTo"/>): never. Decision 0019,
    /// amendment of branch cvtie.</summary>
    public int CrossValidateNearTiesUpTo { get; init; } = 10_000;

    /// <summary>Folds of the cross-validated choice (stratified, seeded by <see cref="TrainingOptions.Seed"/>).</summary>
    public int ChoiceFolds { get; init; } = 5;

    /// <summary>Where every label has at least this many training + validation rows and auto cross-validates every family
    /// (at most <see cref="CrossValidateUpTo"/> rows), the choice uses the tie rule: <see cref="ChoiceShuffles"/> deals of
    /// the folds pooled, and among the families whose pooled out-of-fold macro-F1 is within one standard error
    /// (<see cref="WithinNoise"/> over the rows scored) of the best, the first in the tie order (hybrid, dense, sparse).
    /// Below it (and with 0: never) the best pooled score of one deal decides. Decision 0019, amendment of branch tie.</summary>
    public int TieRuleFromRowsPerLabel { get; init; } = 16;

    /// <summary>Deals of the stratified folds pooled by the tie rule (<see cref="TieRuleFromRowsPerLabel"/>): every row is
    /// scored once per deal; the first deal is the one-deal choice's.</summary>
    public int ChoiceShuffles { get; init; } = 4;

    /// <summary>Where auto cross-validates every family (at most <see cref="CrossValidateUpTo"/> rows, no gold), the text
    /// looks English and some label has fewer than this many training + validation rows, auto does not choose: it refits
    /// sparse, dense and hybrid and ships their log-linear pool (<see cref="TrainedClassifier.Pool"/>), a hybrid-shaped
    /// model. 0: never. Decision 0019, amendment of branch pool.</summary>
    public int PoolBelowRowsPerLabel { get; init; } = 16;

    /// <summary>Drop the encoder's ONNX Runtime session once every text is embedded (the fits, scoring and refit read the
    /// cached vectors), so its ~250 MB are not held beside the head fits; a later in-app prediction builds it again. For
    /// a process that trains once, like the train command; the portal keeps its session.</summary>
    public bool ReleaseEncoderAfterEmbedding { get; init; }

    /// <summary>How many independent pieces of work run at once (1: one after another). The models are the same
    /// either way.</summary>
    public int MaxParallelism { get; init; } = Math.Min(2, Environment.ProcessorCount);

    public TrainingResult Train(IReadOnlyList<string> labels, IReadOnlyList<LabeledText> train, IReadOnlyList<LabeledText> validation,
        IReadOnlyList<LabeledText>? gold, TrainingOptions options, IProgress<TrainingProgress>? progress, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(validation);
        ArgumentNullException.ThrowIfNull(options);
        Validate(labels, train, validation, gold);
        var log = new List<string>();
        var gate = new Lock();
        void Report(string stage, JobNote note, int? it = null, int? total = null)
        {
            lock (gate)
            {
                log.Add($"{stage}: {note.Message}");
                progress?.Report(new TrainingProgress(stage, it, total, note.Message) { Note = note });
            }
        }
        Report(TrainingStages.Prepare, TrainingNotes.Prepare(train.Count, validation.Count, gold?.Count ?? 0, string.Join(", ", labels)));
        if (gold is { Count: 0 }) gold = null;

        var dense = options.Encoder is { } e && e != Dense.Encoder ? DenseFeaturizer.For(e) : Dense;
        var families = options.Family == ModelFamily.Auto ? new List<ModelFamily> { ModelFamily.Sparse, ModelFamily.Dense, ModelFamily.Hybrid } : [options.Family];
        double? share = null;
        // Auto on text the encoder cannot read: why only sparse is trained, which is also why it is "chosen".
        JobNote? sparseOnly = null;
        if (families.Any(UsesEncoder))
        {
            share = EncoderCoverage.Shared.Share(train.Select(r => r.Text).ToList());
            if (options.Family == ModelFamily.Auto && share < EncoderCoverage.MinimumShare)
            {
                families.RemoveAll(UsesEncoder);
                sparseOnly = TrainingNotes.SparseOnly(share.Value, EncoderGraph.DisplayName(dense.Encoder));
                Report(TrainingStages.Prepare, sparseOnly);
            }
            else if (share < EncoderCoverage.MinimumShare)
                Report(TrainingStages.Prepare, TrainingNotes.CoverageWarning(share.Value, families[0].ToString().ToLowerInvariant()));
        }

        var index = LabelIndex(labels);
        var features = new Features(labels, train, validation, gold, index);
        var total = families.Count;
        var compared = new Dictionary<ModelFamily, (EvaluationReport Validation, EvaluationReport? Gold)>();
        var models = new Dictionary<ModelFamily, TrainedClassifier>();
        var seconds = new Dictionary<ModelFamily, double>();
        var chosenL2 = new Dictionary<ModelFamily, float>();
        var clock = Stopwatch.StartNew();

        void Finish(ModelFamily family, int position, (TrainedClassifier Model, float L2, EvaluationReport Validation, EvaluationReport? Gold) r, double started)
        {
            lock (gate)
            {
                seconds[family] = clock.Elapsed.TotalSeconds - started;
                models[family] = r.Model;
                chosenL2[family] = r.L2;
                compared[family] = (r.Validation, r.Gold);
            }
            Report(TrainingStages.Evaluate, TrainingNotes.Evaluated(family.ToString(), clock.Elapsed.TotalSeconds - started, r.Validation.Accuracy, r.Validation.MacroF1,
                r.Gold?.Accuracy, r.Gold?.MacroF1), position, total);
        }
        int Position(ModelFamily f) => families.IndexOf(f) + 1;

        // Stage 1: the sparse features (and the sparse family) beside the embedding of every text.
        var needSparse = families.Any(f => f != ModelFamily.Dense);
        var needEmbeddings = families.Any(UsesEncoder);
        var sparseStart = clock.Elapsed.TotalSeconds;
        var stage1 = new List<Action<CancellationToken>>();
        if (needSparse)
            stage1.Add(token =>
            {
                var p = Position(ModelFamily.Sparse);
                SparseFeatures(features, options, (s, m) => Report(s, m, p > 0 ? p : 1, total), token);
                if (families.Contains(ModelFamily.Sparse))
                    Finish(ModelFamily.Sparse, p, TrainSparse(features, options, (s, m) => Report(s, m, p, total), token), sparseStart);
            });
        var embeddingSeconds = 0.0;
        if (needEmbeddings)
            stage1.Add(token =>
            {
                var sw = Stopwatch.StartNew();
                Embed(features, dense, (s, m) => Report(s, m, Position(families.First(UsesEncoder)), total), token);
                embeddingSeconds = sw.Elapsed.TotalSeconds;
            });
        RunAll(stage1, ct);
        if (needEmbeddings && ReleaseEncoderAfterEmbedding)
        {
            dense.Dispose();
            GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        }

        // Stage 2: the encoder families, on the cached features.
        var stage2 = new List<Action<CancellationToken>>();
        foreach (var family in families.Where(UsesEncoder))
        {
            stage2.Add(token =>
            {
                var p = Position(family);
                var started = clock.Elapsed.TotalSeconds;
                var r = family == ModelFamily.Dense
                    ? TrainDense(features, dense, options, (s, m) => Report(s, m, p, total), token)
                    : TrainHybrid(features, dense, options, (s, m) => Report(s, m, p, total), token);
                Finish(family, p, r, started);
            });
        }
        // The refit of sparse or hybrid fits the featuriser again on training + validation whatever the choice's L2: with a
        // second worker it is prepared beside the sweeps (work thrown away only when dense wins), not after them on one core.
        if (options.Refit && PrepareRefitAhead && MaxParallelism >= 2 && stage2.Count > 0 && families.Any(f => f != ModelFamily.Dense))
            stage2.Add(token =>
            {
                var texts = features.Train.Concat(features.Validation).Select(r => r.Text).ToList();
                features.RefitSparse = FitSparse(labels, texts, [.. features.TrainLabels, .. features.ValidationLabels], options, (_, _) => { }, token);
            });
        RunAll(stage2, ct);
        ct.ThrowIfCancellationRequested();

        var comparedList = families.Select(f => (f, compared[f].Validation, compared[f].Gold)).ToList();
        Dictionary<ModelFamily, double>? crossValidated = null;
        NearTie? nearTie = null;
        TieRule? tieRule = null;
        var pool = false;
        var fewestPerLabel = 0;
        if (families.Count > 1 && !comparedList.All(c => c.Gold is not null) && ChoiceFolds >= 2)
        {
            var rows = train.Count + validation.Count;
            if (rows <= CrossValidateUpTo)
            {
                // A label without rows counts as 0.
                var perLabel = new int[labels.Count];
                foreach (var t in features.TrainLabels.Concat(features.ValidationLabels)) perLabel[t]++;
                fewestPerLabel = perLabel.DefaultIfEmpty(0).Min();
                // Below PoolBelowRowsPerLabel no choice: the folds cannot tell the families apart (decision 0019, amendment
                // pool). Below the tie rule's threshold without the pool (text that is not English, fewer families), the
                // one-deal best score decides: there the band is 9-12 points wide and the rule hurt tweets (amendments
                // cells and tie).
                pool = PoolBelowRowsPerLabel > 0 && fewestPerLabel < PoolBelowRowsPerLabel && families.Count == 3
                    && !LanguageHint.LooksNonEnglish(train.Select(r => r.Text));
                if (!pool && TieRuleFromRowsPerLabel > 0 && fewestPerLabel >= TieRuleFromRowsPerLabel)
                    tieRule = new TieRule(Math.Max(1, ChoiceShuffles), rows, TieRuleFromRowsPerLabel);
                crossValidated = CrossValidate(families, chosenL2, features, options, ct, tieRule?.Shuffles ?? 1);
            }
            else if (rows <= CrossValidateNearTiesUpTo)
            {
                var (near, error) = WithinNoise([.. comparedList.Select(c => (c.f, c.Validation.MacroF1))], validation.Count);
                nearTie = new NearTie(error, validation.Count);
                if (near.Count > 1)
                    crossValidated = CrossValidate([.. families.Where(near.Contains)], chosenL2, features, options, ct);
            }
        }
        ModelFamily chosen;
        JobNote reason;
        if (pool)
        {
            // The pool has the hybrid shape (TrainedClassifier.Pool); nothing is chosen.
            chosen = ModelFamily.Hybrid;
            var scores = string.Join(", ", families.Select(f => string.Create(CultureInfo.InvariantCulture, $"{f.ToString().ToLowerInvariant()} {crossValidated![f]:0.000}")));
            reason = TrainingNotes.ChosenPool(fewestPerLabel, PoolBelowRowsPerLabel, ChoiceFolds, scores);
        }
        else
            chosen = Choose(comparedList, train, crossValidated, ChoiceFolds, nearTie, tieRule, out reason);
        if (sparseOnly is not null && comparedList.Count == 1) reason = sparseOnly;
        Report(TrainingStages.Choose, reason);

        var model = models[chosen];
        var validationReport = compared[chosen].Validation;
        var goldReport = compared[chosen].Gold;
        var refitSeconds = 0.0;
        var refitted = false;
        if (pool)
        {
            // The members' selection fits share the featuriser of the training part; their pool is scored on validation.
            var members = PoolFamilies;
            var selection = TrainedClassifier.Pool([.. members.Select(f => models[f])]);
            var v = HybridRows(features.SparseValidation!, features.EmbValidation!, features.Sparse!.Dimension);
            validationReport = Score(labels, validation, i => selection.Head.Probabilities(v[i].Indices, v[i].Values));
            model = selection;
            goldReport = null;
            if (options.Refit)
            {
                var sw = Stopwatch.StartNew();
                // One featuriser of training + validation for the sparse and hybrid refits, so their weights add up feature by feature.
                features.RefitSparse ??= FitSparse(labels, [.. features.Train.Concat(features.Validation).Select(r => r.Text)],
                    [.. features.TrainLabels, .. features.ValidationLabels], options, (_, _) => { }, ct);
                var refits = new List<TrainedClassifier>();
                foreach (var f in members)
                {
                    Report(TrainingStages.Refit, TrainingNotes.Refitting(f.ToString(), train.Count + validation.Count, chosenL2[f]));
                    refits.Add(Refit(f, chosenL2[f], features, dense, options, models[f], out _, ct));
                }
                model = TrainedClassifier.Pool(refits);
                refitSeconds = sw.Elapsed.TotalSeconds;
                refitted = true;
                Report(TrainingStages.Refit, TrainingNotes.Refitted("Pool", refitSeconds, null, null));
            }
        }
        else if (options.Refit)
        {
            var sw = Stopwatch.StartNew();
            Report(TrainingStages.Refit, TrainingNotes.Refitting(chosen.ToString(), train.Count + validation.Count, chosenL2[chosen]));
            model = Refit(chosen, chosenL2[chosen], features, dense, options, models[chosen], out var refitGold, ct);
            goldReport = refitGold ?? goldReport;
            refitSeconds = sw.Elapsed.TotalSeconds;
            refitted = true;
            Report(TrainingStages.Refit, TrainingNotes.Refitted(chosen.ToString(), refitSeconds, refitGold?.Accuracy, refitGold?.MacroF1));
        }
        return new TrainingResult
        {
            Model = model,
            ChosenFamily = chosen,
            Pooled = pool,
            Validation = validationReport,
            Gold = goldReport,
            Compared = comparedList,
            Log = log,
            Models = models,
            Seconds = seconds,
            L2 = chosenL2,
            Refitted = refitted,
            RefitSeconds = refitSeconds,
            EncoderShare = share,
            EmbeddingSeconds = embeddingSeconds,
            CrossValidated = crossValidated,
            Choice = reason.Message,
            ChoiceNote = reason,
        };
    }

    /// <summary>Fits <paramref name="family"/> with the L2 weight its sweep kept in <paramref name="result"/> on training +
    /// validation (what <see cref="Train"/> does for the chosen family; the benchmark uses it for the others).</summary>
    public TrainedClassifier Refit(TrainingResult result, ModelFamily family, IReadOnlyList<string> labels, IReadOnlyList<LabeledText> train,
        IReadOnlyList<LabeledText> validation, TrainingOptions options, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(result);
        var features = new Features(labels, train, validation, null, LabelIndex(labels));
        var dense = result.Models[family].Encoder is { } e ? (e == Dense.Encoder ? Dense : DenseFeaturizer.For(e)) : Dense;
        if (UsesEncoder(family)) Embed(features, dense, (_, _) => { }, ct);
        return Refit(family, result.L2[family], features, dense, options, result.Models[family], out _, ct);
    }

    /// <summary>The members of the log-linear pool (<see cref="PoolBelowRowsPerLabel"/>).</summary>
    internal static readonly IReadOnlyList<ModelFamily> PoolFamilies = [ModelFamily.Sparse, ModelFamily.Dense, ModelFamily.Hybrid];

    private static bool UsesEncoder(ModelFamily f) => f is ModelFamily.Dense or ModelFamily.Hybrid;

    /// <summary>Runs independent pieces of work side by side (or one after another with <see cref="MaxParallelism"/> 1).
    /// The first failure cancels the others and is rethrown as itself; nothing still runs when this returns.</summary>
    private void RunAll(List<Action<CancellationToken>> work, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        if (MaxParallelism <= 1 || work.Count <= 1)
        {
            foreach (var w in work)
            {
                ct.ThrowIfCancellationRequested();
                w(ct);
            }
            return;
        }
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct);
        // At most MaxParallelism workers, each taking the next piece in order until none is left.
        var next = -1;
        var tasks = Enumerable.Range(0, Math.Min(MaxParallelism, work.Count)).Select(_ => Task.Factory.StartNew(() =>
        {
            try
            {
                for (var i = Interlocked.Increment(ref next); i < work.Count; i = Interlocked.Increment(ref next))
                {
                    linked.Token.ThrowIfCancellationRequested();
                    work[i](linked.Token);
                }
            }
            catch
            {
                linked.Cancel();
                throw;
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray();
        try
        {
            Task.WaitAll(tasks);
        }
        catch (AggregateException ex)
        {
            var errors = ex.Flatten().InnerExceptions;
            ct.ThrowIfCancellationRequested();
            var first = errors.FirstOrDefault(e => e is not OperationCanceledException) ?? errors[0];
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(first).Throw();
        }
    }

    /// <summary>Below this many validation rows for some label, the choice of family comes with a caution in the log.</summary>
    public const int MinValidationPerLabelForChoice = 5;

    /// <summary>The families whose validation macro-F1 is within one standard error of the best family's, in the order
    /// given, and that standard error: sqrt(p(1 − p)/n) with p the best validation macro-F1 and n the validation rows.
    /// p is macro-F1 because that is what <see cref="Choose"/> compares; the binomial error of a proportion is exact for
    /// accuracy and an approximation for macro-F1 (on a rare label each row moves macro-F1 more than accuracy, so the
    /// band is if anything narrow). A score exactly one error behind is within.</summary>
    public static (IReadOnlyList<ModelFamily> Families, double StandardError) WithinNoise(IReadOnlyList<(ModelFamily Family, double Score)> scores, int validationRows)
    {
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentOutOfRangeException.ThrowIfLessThan(validationRows, 1);
        if (scores.Count == 0) return ([], 0);
        var best = scores.Max(s => s.Score);
        var p = Math.Clamp(best, 0, 1);
        var error = Math.Sqrt(p * (1 - p) / validationRows);
        return ([.. scores.Where(s => best - s.Score <= error + 1e-12).Select(s => s.Family)], error);
    }

    /// <summary>The near-tie check's standard error and the validation rows it was measured on (the families within noise
    /// are the keys of the cross-validated scores), for the choice's reason.</summary>
    private sealed record NearTie(double StandardError, int ValidationRows);

    /// <summary>The tie rule's inputs (<see cref="TieRuleFromRowsPerLabel"/>): the deals pooled, the rows scored per deal
    /// (the band's n) and the per-label threshold, for the choice's reason.</summary>
    private sealed record TieRule(int Shuffles, int Rows, int FromRowsPerLabel);

    /// <summary>The best macro-F1 on gold (when every family has it), else cross-validated over training + validation
    /// (when <paramref name="crossValidated"/> is given: every family, or with <paramref name="nearTie"/> only the families
    /// within noise of the best on validation, the others being out), else on validation; ties go to hybrid, then dense,
    /// then sparse. With <paramref name="tieRule"/> (every family cross-validated, enough rows per label), differences
    /// within one standard error of the best pooled score count as ties. For text that is not English, a family using the English-only encoder (dense, hybrid) is
    /// kept only when it also beats sparse on that basis (on validation when sparse was not cross-validated), and the
    /// basis has at least <see cref="MinValidationPerLabelForChoice"/> rows of every label to say so.</summary>
    private static ModelFamily Choose(List<(ModelFamily Family, EvaluationReport Validation, EvaluationReport? Gold)> compared, IReadOnlyList<LabeledText> train,
        Dictionary<ModelFamily, double>? crossValidated, int folds, NearTie? nearTie, TieRule? tieRule, out JobNote reason)
    {
        if (compared.Count == 1)
        {
            reason = TrainingNotes.OnlyFamily(compared[0].Family.ToString());
            return compared[0].Family;
        }
        var englishText = !LanguageHint.LooksNonEnglish(train.Select(r => r.Text));
        var onGold = compared.All(c => c.Gold is not null);
        var onFolds = !onGold && crossValidated is not null;
        // Near-tie: only some families were cross-validated; the ones more than the noise behind on validation are out.
        var candidates = onFolds ? compared.Where(c => crossValidated!.ContainsKey(c.Family)).ToList() : compared;
        var partial = candidates.Count < compared.Count;
        var basis = onGold ? "gold" : onFolds ? $"{folds}-fold cross-validation over training + validation" : "validation";
        double Score((ModelFamily Family, EvaluationReport Validation, EvaluationReport? Gold) c) =>
            onGold ? c.Gold!.MacroF1 : onFolds ? crossValidated![c.Family] : c.Validation.MacroF1;
        var sparse = compared.First(c => c.Family == ModelFamily.Sparse);
        // A win over sparse is confirmed on the folds when sparse was cross-validated, else on validation.
        var confirmOnFolds = onFolds && crossValidated!.ContainsKey(ModelFamily.Sparse);
        // A win can only be confirmed with a few rows of every label; two rows per label cannot. Cross-validation
        // scores every training and validation row once.
        var fewest = confirmOnFolds
            ? sparse.Validation.PerClass.Select(c => c.Support + train.Count(r => r.Label == c.Label)).Min()
            : sparse.Validation.PerClass.Min(c => c.Support);
        var canConfirm = fewest >= MinValidationPerLabelForChoice;
        var eligible = candidates.Where(c => c.Family == ModelFamily.Sparse || englishText
            || (canConfirm && (confirmOnFolds ? Score(c) > Score(sparse) : c.Validation.MacroF1 > sparse.Validation.MacroF1))).ToList();
        // Ties go to the family with more to go on (hybrid has both feature sets): at a few rows per label pooled scores
        // tie, and hybrid was the best family on test most often (decision 0019, 2026-12-06 amendment).
        var order = new[] { ModelFamily.Hybrid, ModelFamily.Dense, ModelFamily.Sparse };
        var topOverall = candidates.OrderByDescending(Score).ThenBy(c => Array.IndexOf(order, c.Family)).First();
        // Empty only for text that is not English when sparse is out and no encoder family's win can be confirmed.
        var best = eligible.Count > 0 ? eligible.OrderByDescending(Score).ThenBy(c => Array.IndexOf(order, c.Family)).First() : sparse;
        var top = best;
        IReadOnlyList<ModelFamily> band = [];
        var bandError = 0.0;
        var useTieRule = onFolds && !partial && tieRule is not null && eligible.Count > 0;
        if (useTieRule)
        {
            // Differences within one standard error of the pooled score count as ties: the first in the tie order wins.
            (band, bandError) = WithinNoise([.. eligible.Select(c => (c.Family, Score(c)))], tieRule!.Rows);
            best = eligible.Where(c => band.Contains(c.Family)).OrderBy(c => Array.IndexOf(order, c.Family)).First();
        }
        if (useTieRule) basis = $"{folds}-fold cross-validation over training + validation, {tieRule!.Shuffles} shuffles pooled";
        string Scores(IEnumerable<(ModelFamily Family, EvaluationReport Validation, EvaluationReport? Gold)> of, Func<(ModelFamily Family, EvaluationReport Validation, EvaluationReport? Gold), double> score) =>
            string.Join(", ", of.Select(c => $"{c.Family.ToString().ToLowerInvariant()} {score(c):0.000}"));
        var scores = Scores(candidates, Score);
        var confirmBasis = confirmOnFolds ? "cross-validation" : "validation";
        var bandNames = string.Join(", ", order.Where(band.Contains).Select(f => f.ToString().ToLowerInvariant()));
        var english = useTieRule
            ? string.Create(CultureInfo.InvariantCulture,
                $"{best.Family}: first in the tie order (hybrid, dense, sparse) among the families within one standard error ({bandError:0.0000} over {tieRule!.Rows} rows) of the best macro-F1 on {basis} ({scores}); within it: {bandNames}")
                + (top.Family != best.Family ? $"; {top.Family.ToString().ToLowerInvariant()} scores highest, but not by more than that" : "")
            : $"{best.Family}: best macro-F1 on {basis} ({scores})";
        string? validationScores = null;
        if (partial)
        {
            validationScores = Scores(compared, c => c.Validation.MacroF1);
            var outNames = string.Join(" and ", compared.Where(c => !candidates.Contains(c)).Select(c => c.Family.ToString().ToLowerInvariant()));
            english += string.Create(CultureInfo.InvariantCulture,
                $"; only {string.Join(" and ", candidates.Select(c => c.Family.ToString().ToLowerInvariant()))} were cross-validated: within one standard error ({nearTie!.StandardError:0.0000}) of the best on {nearTie.ValidationRows} validation rows (validation macro-F1 {validationScores}); {outNames} more than that behind, so out");
        }
        else if (!onGold && !onFolds && nearTie is not null)
            english += string.Create(CultureInfo.InvariantCulture,
                $"; no other family within one standard error ({nearTie.StandardError:0.0000}) of the best on {nearTie.ValidationRows} validation rows, so no cross-validation");
        if (!englishText)
            english += best.Family == ModelFamily.Sparse
                ? topOverall.Family != ModelFamily.Sparse
                    ? $"; {topOverall.Family.ToString().ToLowerInvariant()} scores higher on {basis} but the text is not English, which the encoder does not know, and {confirmBasis} does not confirm it" +
                        (canConfirm ? "" : $" (it has only {Incubator.Domain.Common.EnglishCount.Of(fewest, "row", "rows")} for some label, too few to confirm anything)")
                    : "; the text is not English, which the encoder does not know"
                : $" (the text is not English; {confirmBasis} agrees that it beats sparse)";
        if (!onGold && !canConfirm)
            english += $". Caution: {confirmBasis} has only {Incubator.Domain.Common.EnglishCount.Of(fewest, "row", "rows")} for some label, so this choice rests on very few examples; a gold set or more samples would make it reliable";
        reason = onGold || !onFolds
            ? TrainingNotes.Chosen(best.Family.ToString(), onGold, scores, english)
            : useTieRule
                ? TrainingNotes.ChosenTieRule(best.Family.ToString(), folds, tieRule!.Shuffles, bandError, tieRule.Rows, scores, bandNames, english)
            : partial
                ? TrainingNotes.ChosenNearTie(best.Family.ToString(), folds, nearTie!.StandardError, nearTie.ValidationRows, scores, validationScores!, english)
                : TrainingNotes.ChosenCrossValidation(best.Family.ToString(), folds, scores, english);
        return best.Family;
    }

    /// <summary>Pooled out-of-fold macro-F1 of each family over training + validation: stratified folds (each label's
    /// rows shuffled by the seed and dealt round-robin), every family fitted with its kept L2 weight on the other folds,
    /// on the cached features (the sparse vectors of the featuriser fitted on the training part, the embeddings).
    /// Fits run side by side, each single-threaded and seeded, so the scores do not depend on the schedule.</summary>
    private Dictionary<ModelFamily, double> CrossValidate(List<ModelFamily> families, Dictionary<ModelFamily, float> l2, Features x, TrainingOptions options, CancellationToken ct, int shuffles = 1)
    {
        var rows = x.Train.Concat(x.Validation).ToList();
        var targets = x.TrainLabels.Concat(x.ValidationLabels).ToArray();
        // Each deal shuffles every label's rows with one seeded generator and deals them round-robin; the first deal is
        // the same whatever the number of deals.
        var random = new Random(options.Seed);
        var deals = new List<int[]>();
        for (var d = 0; d < shuffles; d++)
        {
            var fold = new int[rows.Count];
            foreach (var group in Enumerable.Range(0, rows.Count).GroupBy(i => targets[i]).OrderBy(g => g.Key))
            {
                var members = group.ToArray();
                random.Shuffle(members);
                for (var k = 0; k < members.Length; k++) fold[members[k]] = k % ChoiceFolds;
            }
            deals.Add(fold);
        }
        (int Dimension, (int[] Indices, float[] Values)[] Rows) Vectors(ModelFamily f)
        {
            var sparse = x.SparseTrain is null ? null : x.SparseTrain.Concat(x.SparseValidation!).ToArray();
            var embeddings = x.EmbTrain is null ? null : x.EmbTrain.Concat(x.EmbValidation!).ToArray();
            return f switch
            {
                ModelFamily.Sparse => (x.Sparse!.Dimension, sparse!),
                ModelFamily.Dense => (DenseFeaturizer.Dimension, [.. embeddings!.Select(e => (Enumerable.Range(0, e.Length).ToArray(), e))]),
                _ => (x.Sparse!.Dimension + DenseFeaturizer.Dimension, HybridRows(sparse!, embeddings!, x.Sparse!.Dimension)),
            };
        }
        var vectors = families.ToDictionary(f => f, Vectors);
        var probabilities = families.ToDictionary(f => f, _ => new float[deals.Count * rows.Count][]);
        var work = new List<Action<CancellationToken>>();
        foreach (var f in families)
            for (var d = 0; d < deals.Count; d++)
                for (var k = 0; k < ChoiceFolds; k++)
                {
                    var (family, fold, deal, held) = (f, deals[d], d, k);
                    work.Add(token =>
                    {
                        var (dimension, v) = vectors[family];
                        var fit = Enumerable.Range(0, rows.Count).Where(i => fold[i] != held)
                            .Select(i => (targets[i], new VBuffer<float>(dimension, v[i].Indices.Length, v[i].Values, v[i].Indices))).ToList();
                        if (fit.Count == 0) return;
                        var head = FitHead(fit, x.Labels.Count, dimension, options, l2[family], token);
                        for (var i = 0; i < rows.Count; i++)
                            if (fold[i] == held) probabilities[family][deal * rows.Count + i] = head.Probabilities(v[i].Indices, v[i].Values);
                    });
                }
        RunAll(work, ct);
        var pooled = deals.Count == 1 ? rows : [.. Enumerable.Range(0, deals.Count).SelectMany(_ => rows)];
        return families.ToDictionary(f => f, f => Score(x.Labels, pooled, i => probabilities[f][i]).MacroF1);
    }

    internal static void Validate(IReadOnlyList<string> labels, IReadOnlyList<LabeledText> train, IReadOnlyList<LabeledText> validation, IReadOnlyList<LabeledText>? gold)
    {
        if (labels.Any(string.IsNullOrWhiteSpace))
            throw new TrainingDataException("A label is empty; every label needs a name.");
        if (labels.Distinct(StringComparer.Ordinal).Count() != labels.Count)
            throw new TrainingDataException("The label list has duplicates.");
        if (labels.Count < 2)
            throw new TrainingDataException(TrainingNotes.TooFewLabels(labels.Count));
        var known = new HashSet<string>(labels, StringComparer.Ordinal);
        void Check(IReadOnlyList<LabeledText> rows, string part)
        {
            for (var i = 0; i < rows.Count; i++)
            {
                if (string.IsNullOrWhiteSpace(rows[i].Label))
                    throw new TrainingDataException($"{part} row {i + 1} has an empty label.");
                if (!known.Contains(rows[i].Label))
                    throw new TrainingDataException($"{part} row {i + 1} has the label '{rows[i].Label}', which is not one of the labels ({string.Join(", ", labels)}).");
            }
        }
        Check(train, "Training");
        Check(validation, "Validation");
        if (gold is not null) Check(gold, "Gold");
        var present = train.Select(r => r.Label).Distinct(StringComparer.Ordinal).Count();
        if (present < 2)
            throw new TrainingDataException(TrainingNotes.TooFewLabelsCovered(present));
        if (validation.Count == 0)
            throw new TrainingDataException(TrainingNotes.NoValidation());
    }

    /// <summary>Features computed once per training run and shared by the families: sparse vectors and embeddings of
    /// the training, validation and gold rows.</summary>
    private sealed class Features(IReadOnlyList<string> labels, IReadOnlyList<LabeledText> train, IReadOnlyList<LabeledText> validation,
        IReadOnlyList<LabeledText>? gold, Dictionary<string, int> index)
    {
        public IReadOnlyList<string> Labels { get; } = labels;

        public IReadOnlyList<LabeledText> Train { get; } = train;

        public IReadOnlyList<LabeledText> Validation { get; } = validation;

        public IReadOnlyList<LabeledText>? Gold { get; } = gold;

        public int[] TrainLabels { get; } = [.. train.Select(r => index[r.Label])];

        public int[] ValidationLabels { get; } = [.. validation.Select(r => index[r.Label])];

        public SparseFeaturizer? Sparse;
        public (int[] Indices, float[] Values)[]? SparseTrain, SparseValidation, SparseGold;
        public float[][]? EmbTrain, EmbValidation, EmbGold;

        /// <summary>The refit's sparse featuriser and vectors of training + validation, when they were prepared ahead.</summary>
        public (SparseFeaturizer Featurizer, (int[] Indices, float[] Values)[] Rows)? RefitSparse;
    }

    private void SparseFeatures(Features x, TrainingOptions options, Action<string, JobNote> report, CancellationToken ct)
    {
        var (featurizer, rows) = FitSparse(x.Labels, x.Train.Select(r => r.Text).ToList(), x.TrainLabels, options, report, ct);
        x.Sparse = featurizer;
        x.SparseTrain = rows;
        x.SparseValidation = Featurize(featurizer, x.Validation, ct);
        if (x.Gold is not null) x.SparseGold = Featurize(featurizer, x.Gold, ct);
    }

    private static (int[] Indices, float[] Values)[] Featurize(SparseFeaturizer featurizer, IReadOnlyList<LabeledText> rows, CancellationToken ct)
    {
        var result = new (int[] Indices, float[] Values)[rows.Count];
        for (var i = 0; i < rows.Count; i++)
        {
            if ((i & 255) == 0) ct.ThrowIfCancellationRequested();
            result[i] = featurizer.Featurize(rows[i].Text);
        }
        return result;
    }

    /// <summary>Vocabulary and idf from <paramref name="texts"/>, their vectors, then the conjunctions of the most
    /// decisive n-grams (ranked by a first head on these rows).</summary>
    private (SparseFeaturizer Featurizer, (int[] Indices, float[] Values)[] Rows) FitSparse(IReadOnlyList<string> labels, IReadOnlyList<string> texts,
        int[] targets, TrainingOptions options, Action<string, JobNote> report, CancellationToken ct)
    {
        var mode = SparseMode ?? SparseFeaturizer.ChooseMode(texts);
        var longest = mode == TokenMode.Char ? CharMaxGram : WordMaxGram;
        var weighting = SparseSublinear ? "sublinear TF-IDF" : "TF-IDF";
        report(TrainingStages.Featurize, mode == TokenMode.Word
            ? TrainingNotes.SparseWords(longest, weighting)
            : TrainingNotes.SparseCharacters(longest, weighting, chosenForScript: SparseMode is null));
        var featurizer = SparseFeaturizer.Fit(texts, mode, SparseSublinear, longest, MinDocumentFrequency, MaxDocumentShare);
        if (featurizer.Dimension == 0) throw new TrainingDataException(TrainingNotes.NoWords());
        var rows = new (int[] Indices, float[] Values)[texts.Count];
        for (var i = 0; i < texts.Count; i++)
        {
            if ((i & 255) == 0) ct.ThrowIfCancellationRequested();
            rows[i] = featurizer.Featurize(texts[i]);
        }
        var conjunctions = ConjunctionCountFor(mode);
        if (conjunctions >= 2 && featurizer.Dimension >= 2)
        {
            ct.ThrowIfCancellationRequested();
            var top = RankForConjunctions(labels, targets, featurizer, rows, conjunctions, options, ct);
            featurizer = featurizer.WithConjunctions(top, ConjunctionValue);
            report(TrainingStages.Featurize, TrainingNotes.Conjunctions(top.Count, string.Join(", ", top.Take(8).Select(featurizer.Describe))));
            for (var i = 0; i < rows.Length; i++) rows[i] = featurizer.AddConjunctions(rows[i]);
        }
        return (featurizer, rows);
    }

    /// <summary>Fits a head on the n-grams alone and returns the <see cref="ConjunctionCount"/> n-grams with the
    /// largest spread of class weights × √(document frequency): decisive and common enough to co-occur. Ties: lower
    /// feature id, so the choice is deterministic.</summary>
    private List<int> RankForConjunctions(IReadOnlyList<string> labels, int[] targets, SparseFeaturizer featurizer,
        (int[] Indices, float[] Values)[] rows, int count, TrainingOptions options, CancellationToken ct)
    {
        var data = rows.Select((r, i) => (targets[i], new VBuffer<float>(featurizer.Dimension, r.Indices.Length, r.Values, r.Indices))).ToList();
        var head = FitHead(data, labels.Count, featurizer.Dimension, options, ConjunctionRankingL2, ct);
        var df = new int[featurizer.Dimension];
        foreach (var row in rows) foreach (var i in row.Indices) df[i]++;
        var k = Math.Min(Math.Min(count, SparseFeaturizer.MaxConjunctions), featurizer.Dimension);
        return Enumerable.Range(0, featurizer.Dimension)
            .Select(j =>
            {
                float lo = float.MaxValue, hi = float.MinValue;
                for (var c = 0; c < head.Classes; c++)
                {
                    lo = Math.Min(lo, head.Weights[c][j]);
                    hi = Math.Max(hi, head.Weights[c][j]);
                }
                return (Feature: j, Score: (hi - lo) * Math.Sqrt(df[j]));
            })
            .OrderByDescending(t => t.Score)
            .ThenBy(t => t.Feature)
            .Take(k)
            .Select(t => t.Feature)
            .ToList();
    }

    /// <summary>Embeds every training, validation and gold text once; the L2 sweeps, the evaluations and the refit all
    /// read these vectors.</summary>
    private static void Embed(Features x, DenseFeaturizer dense, Action<string, JobNote> report, CancellationToken ct)
    {
        var texts = x.Train.Concat(x.Validation).Concat(x.Gold ?? []).Select(r => r.Text).ToList();
        report(TrainingStages.Featurize, TrainingNotes.Embedding(texts.Count, x.Gold is not null, EncoderGraph.DisplayName(dense.Encoder)));
        var result = new float[texts.Count][];
        const int chunk = 512;
        for (var start = 0; start < texts.Count; start += chunk)
        {
            ct.ThrowIfCancellationRequested();
            var count = Math.Min(chunk, texts.Count - start);
            dense.Embed(texts.GetRange(start, count)).CopyTo(result, start);
            report(TrainingStages.Featurize, TrainingNotes.Embedded(start + count, texts.Count));
        }
        x.EmbTrain = result[..x.Train.Count];
        x.EmbValidation = result[x.Train.Count..(x.Train.Count + x.Validation.Count)];
        if (x.Gold is not null) x.EmbGold = result[(x.Train.Count + x.Validation.Count)..];
    }

    private (TrainedClassifier, float, EvaluationReport, EvaluationReport?) TrainSparse(Features x, TrainingOptions options, Action<string, JobNote> report, CancellationToken ct)
    {
        var featurizer = x.Sparse!;
        var rows = x.SparseTrain!.Select((r, i) => (x.TrainLabels[i], new VBuffer<float>(featurizer.Dimension, r.Indices.Length, r.Values, r.Indices))).ToList();
        report(TrainingStages.Fit, TrainingNotes.FitSparse(featurizer.Dimension));
        var validation = x.SparseValidation!;
        var (head, l2, v) = FitBest(x, rows, featurizer.Dimension, options, SparseL2, "Sparse", h => i => h.Probabilities(validation[i].Indices, validation[i].Values), report, ct);
        var gold = x.SparseGold is { } g ? Score(x.Labels, x.Gold!, i => head.Probabilities(g[i].Indices, g[i].Values)) : null;
        return (new TrainedClassifier(x.Labels, featurizer, head), l2, v, gold);
    }

    private (TrainedClassifier, float, EvaluationReport, EvaluationReport?) TrainDense(Features x, DenseFeaturizer dense, TrainingOptions options, Action<string, JobNote> report, CancellationToken ct)
    {
        var rows = x.EmbTrain!.Select((v, i) => (x.TrainLabels[i], new VBuffer<float>(DenseFeaturizer.Dimension, v))).ToList();
        report(TrainingStages.Fit, TrainingNotes.FitDense());
        var validation = x.EmbValidation!;
        var (head, l2, v) = FitBest(x, rows, DenseFeaturizer.Dimension, options, DenseL2, "Dense", h => i => h.Probabilities(validation[i]), report, ct);
        var gold = x.EmbGold is { } g ? Score(x.Labels, x.Gold!, i => head.Probabilities(g[i])) : null;
        return (new TrainedClassifier(x.Labels, dense, head), l2, v, gold);
    }

    private (TrainedClassifier, float, EvaluationReport, EvaluationReport?) TrainHybrid(Features x, DenseFeaturizer dense, TrainingOptions options, Action<string, JobNote> report, CancellationToken ct)
    {
        var featurizer = x.Sparse!;
        var dimension = featurizer.Dimension + DenseFeaturizer.Dimension;
        var rows = HybridRows(x.SparseTrain!, x.EmbTrain!, featurizer.Dimension).Select((r, i) => (x.TrainLabels[i], new VBuffer<float>(dimension, r.Indices.Length, r.Values, r.Indices))).ToList();
        report(TrainingStages.Fit, TrainingNotes.FitHybrid(featurizer.Dimension, DenseFeaturizer.Dimension));
        var validation = HybridRows(x.SparseValidation!, x.EmbValidation!, featurizer.Dimension);
        var (head, l2, v) = FitBest(x, rows, dimension, options, SparseL2, "Hybrid", h => i => h.Probabilities(validation[i].Indices, validation[i].Values), report, ct);
        EvaluationReport? gold = null;
        if (x.SparseGold is { } sg && x.EmbGold is { } eg)
        {
            var g = HybridRows(sg, eg, featurizer.Dimension);
            gold = Score(x.Labels, x.Gold!, i => head.Probabilities(g[i].Indices, g[i].Values));
        }
        return (new TrainedClassifier(x.Labels, featurizer, dense, head), l2, v, gold);
    }

    private static (int[] Indices, float[] Values)[] HybridRows((int[] Indices, float[] Values)[] sparse, float[][] embeddings, int sparseDimension) =>
        [.. sparse.Select((s, i) => TrainedClassifier.HybridFeatures(s, embeddings[i], sparseDimension))];

    /// <summary>The chosen family with its kept L2 weight, fitted on training + validation: the sparse vocabulary, idf
    /// and conjunctions are fitted again on all those texts; embeddings are reused. Also scores gold when there is any.</summary>
    private TrainedClassifier Refit(ModelFamily family, float l2, Features x, DenseFeaturizer dense, TrainingOptions options, TrainedClassifier selection,
        out EvaluationReport? gold, CancellationToken ct)
    {
        var all = x.Train.Concat(x.Validation).ToList();
        var targets = x.TrainLabels.Concat(x.ValidationLabels).ToArray();
        gold = null;
        if (family == ModelFamily.Dense)
        {
            var vectors = x.EmbTrain!.Concat(x.EmbValidation!).ToArray();
            var rows = vectors.Select((v, i) => (targets[i], new VBuffer<float>(DenseFeaturizer.Dimension, v))).ToList();
            var head = FitHead(rows, x.Labels.Count, DenseFeaturizer.Dimension, options, l2, ct);
            if (x.EmbGold is { } eg) gold = Score(x.Labels, x.Gold!, i => head.Probabilities(eg[i]));
            return new TrainedClassifier(x.Labels, dense, head);
        }
        var (featurizer, sparse) = x.RefitSparse ?? FitSparse(x.Labels, all.Select(r => r.Text).ToList(), targets, options, (_, _) => { }, ct);
        var goldSparse = x.Gold is null ? null : Featurize(featurizer, x.Gold, ct);
        var start = WarmStartRefit ? StartFrom(selection.Head, selection.Sparse!, featurizer, family == ModelFamily.Sparse ? 0 : DenseFeaturizer.Dimension) : null;
        if (family == ModelFamily.Sparse)
        {
            var rows = sparse.Select((r, i) => (targets[i], new VBuffer<float>(featurizer.Dimension, r.Indices.Length, r.Values, r.Indices))).ToList();
            var head = FitHead(rows, x.Labels.Count, featurizer.Dimension, options, l2, ct, start);
            if (goldSparse is not null) gold = Score(x.Labels, x.Gold!, i => head.Probabilities(goldSparse[i].Indices, goldSparse[i].Values));
            return new TrainedClassifier(x.Labels, featurizer, head);
        }
        var dimension = featurizer.Dimension + DenseFeaturizer.Dimension;
        var hybrid = HybridRows(sparse, x.EmbTrain!.Concat(x.EmbValidation!).ToArray(), featurizer.Dimension)
            .Select((r, i) => (targets[i], new VBuffer<float>(dimension, r.Indices.Length, r.Values, r.Indices))).ToList();
        var hybridHead = FitHead(hybrid, x.Labels.Count, dimension, options, l2, ct, start);
        if (goldSparse is not null && x.EmbGold is { } emb)
        {
            var g = HybridRows(goldSparse, emb, featurizer.Dimension);
            gold = Score(x.Labels, x.Gold!, i => hybridHead.Probabilities(g[i].Indices, g[i].Values));
        }
        return new TrainedClassifier(x.Labels, featurizer, dense, hybridHead);
    }

    private static EvaluationReport Score(IReadOnlyList<string> labels, IReadOnlyList<LabeledText> rows, Func<int, float[]> probabilities)
    {
        var predictions = new Prediction[rows.Count];
        for (var i = 0; i < rows.Count; i++)
        {
            var p = probabilities(i);
            var best = LinearHead.ArgMax(p);
            predictions[i] = new Prediction(labels[best], p[best], p);
        }
        return Evaluation.FromPredictions(labels, rows, predictions);
    }

    /// <summary>Fits one head per candidate L2 weight, in order, scoring each on the cached validation features, and
    /// stops at the first that does not beat the best so far (ties keep the earlier candidate).</summary>
    private (LinearHead Head, float L2, EvaluationReport Validation) FitBest(Features x, List<(int Label, VBuffer<float> Features)> rows, int dimension,
        TrainingOptions options, IReadOnlyList<float> grid, string family, Func<LinearHead, Func<int, float[]>> validationProbabilities,
        Action<string, JobNote> report, CancellationToken ct)
    {
        if (grid.Count == 0) throw new InvalidOperationException("At least one L2 weight is needed.");
        (LinearHead Head, float L2, EvaluationReport Validation)? best = null;
        // Looser only where a later fit becomes the model: the refit (the dense sweep keeps its own, its fits are cheap).
        var tolerance = grid.Count == 1 || family == "Dense" || !options.Refit ? OptimizationTolerance : SweepTolerance;
        // Every candidate starts from zero: started from the previous candidate's weights with the looser tolerance, a
        // candidate far from it can stop early and score far below its own optimum (decision 0019, auto-warm).
        var early = new LinearHead?[grid.Count];
        var sideBySide = SweepSideBySide && family == "Hybrid" && grid.Count >= 2;
        if (sideBySide)
            RunAll([token => early[0] = FitHead(rows, x.Labels.Count, dimension, options, grid[0], token, tolerance: tolerance),
                token => early[1] = FitHead(rows, x.Labels.Count, dimension, options, grid[1], token, tolerance: tolerance)], ct);
        for (var k = 0; k < grid.Count; k++)
        {
            var l2 = grid[k];
            ct.ThrowIfCancellationRequested();
            var head = early[k] ?? FitHead(rows, x.Labels.Count, dimension, options, l2, ct, tolerance: tolerance);
            early[k] = null;
            var scored = Score(x.Labels, x.Validation, validationProbabilities(head));
            if (grid.Count == 1) return (head, l2, scored);
            report(TrainingStages.Fit, TrainingNotes.L2Tried(family, l2, scored.MacroF1));
            if (best is null || scored.MacroF1 > best.Value.Validation.MacroF1) best = (head, l2, scored);
            else
            {
                report(TrainingStages.Fit, TrainingNotes.L2Stop(family, best.Value.L2));
                break;
            }
        }
        report(TrainingStages.Fit, TrainingNotes.L2Kept(family, best!.Value.L2));
        return best.Value;
    }

    internal static Dictionary<string, int> LabelIndex(IReadOnlyList<string> labels)
    {
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < labels.Count; i++) index[labels[i]] = i;
        return index;
    }

    private sealed class Row
    {
        public uint Label { get; set; }

        public VBuffer<float> Features { get; set; }

        public float Weight { get; set; }
    }

    /// <summary>One L-BFGS fit of the maximum-entropy head, single-threaded with its own seeded context; from
    /// <paramref name="start"/>'s weights when given (same features and classes), otherwise from zero; to
    /// <paramref name="tolerance"/>, by default <see cref="OptimizationTolerance"/>.</summary>
    internal LinearHead FitHead(List<(int Label, VBuffer<float> Features)> rows, int classes, int dimension, TrainingOptions options, float l2, CancellationToken ct,
        MaximumEntropyModelParameters? start = null, float? tolerance = null)
    {
        var counts = new int[classes];
        foreach (var r in rows) counts[r.Label]++;
        var present = counts.Count(c => c > 0);
        var data = rows.Select(r => new Row
        {
            Label = (uint)r.Label, // LoadFromEnumerable takes key values 0-based
            Features = r.Features,
            Weight = options.ClassWeighting ? (float)rows.Count / (present * counts[r.Label]) : 1f,
        }).ToList();
        var ml = new MLContext(options.Seed);
        var schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Label)].ColumnType = new KeyDataViewType(typeof(uint), (ulong)classes);
        schema[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, dimension);
        var view = ml.Data.LoadFromEnumerable(data, schema);
        var trainer = ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy(new LbfgsMaximumEntropyMulticlassTrainer.Options
        {
            LabelColumnName = nameof(Row.Label),
            FeatureColumnName = nameof(Row.Features),
            ExampleWeightColumnName = nameof(Row.Weight),
            L1Regularization = 0,
            L2Regularization = l2,
            OptimizationTolerance = tolerance ?? OptimizationTolerance,
            MaximumNumberOfIterations = MaxIterations,
            HistorySize = LbfgsHistory,
            NumberOfThreads = 1,
        });
        var transformer = start is null ? trainer.Fit(view) : trainer.Fit(view, start);
        VBuffer<float>[] weights = [];
        transformer.Model.GetWeights(ref weights, out var numClasses);
        var biases = transformer.Model.GetBiases().ToArray();
        var dense = new float[classes][];
        for (var c = 0; c < classes; c++)
        {
            dense[c] = new float[dimension];
            if (c < numClasses) weights[c].CopyTo(dense[c]);
        }
        var b = new float[classes];
        for (var c = 0; c < Math.Min(classes, biases.Length); c++) b[c] = biases[c];
        return new LinearHead(dense, b);
    }

    /// <summary>The selection fit's weights carried into the refit's feature space: an n-gram keeps its weight when the
    /// refit vocabulary has it too (matched by its tokens), a conjunction when both its n-grams are conjunctions in
    /// both; new features start at zero; the embedding part and the biases are copied.</summary>
    internal static MaximumEntropyModelParameters StartFrom(LinearHead head, SparseFeaturizer from, SparseFeaturizer to, int embedding)
    {
        var old = new Dictionary<string, int>(from.NGramCount, StringComparer.Ordinal);
        for (var j = 0; j < from.NGramCount; j++) old[string.Join('\u0001', from.NGrams[j])] = j;
        var map = new int[to.Dimension + embedding];
        Array.Fill(map, -1);
        var oldId = new int[to.NGramCount];
        for (var j = 0; j < to.NGramCount; j++)
            map[j] = oldId[j] = old.TryGetValue(string.Join('\u0001', to.NGrams[j]), out var o) ? o : -1;
        var oldPosition = new Dictionary<int, int>();
        for (var a = 0; a < from.Conjunctions.Count; a++) oldPosition[from.Conjunctions[a]] = a;
        int? Position(int n) => oldId[n] >= 0 && oldPosition.TryGetValue(oldId[n], out var p) ? p : null;
        var k = to.Conjunctions.Count;
        for (var a = 0; a < k; a++)
            for (var b = a + 1; b < k; b++)
                if (Position(to.Conjunctions[a]) is { } pa && Position(to.Conjunctions[b]) is { } pb)
                    map[to.NGramCount + a * k + b] = from.NGramCount + Math.Min(pa, pb) * from.Conjunctions.Count + Math.Max(pa, pb);
        for (var d = 0; d < embedding; d++) map[to.Dimension + d] = from.Dimension + d;
        var weights = new VBuffer<float>[head.Classes];
        for (var c = 0; c < head.Classes; c++)
        {
            var w = new float[map.Length];
            for (var j = 0; j < map.Length; j++) if (map[j] >= 0) w[j] = head.Weights[c][map[j]];
            weights[c] = new VBuffer<float>(w.Length, w);
        }
        return Parameters(weights, [.. head.Biases], map.Length);
    }

    /// <summary>ML.NET takes a warm start only as its own model type, whose constructor from weights is internal (5.0.1).</summary>
    private static MaximumEntropyModelParameters Parameters(VBuffer<float>[] weights, float[] biases, int dimension)
    {
        var ctor = typeof(MaximumEntropyModelParameters).GetConstructors(System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic)
            .Single(c => c.GetParameters() is { Length: 7 } p && p[1].ParameterType == typeof(VBuffer<float>[]) && p[2].ParameterType == typeof(float[]));
        return (MaximumEntropyModelParameters)ctor.Invoke([new MLContext(0), weights, biases, biases.Length, dimension, null, null]);
    }
}

/// <summary>A cheap language hint: text counts as not English when under 60% of its letters are basic Latin.</summary>
public static class LanguageHint
{
    public static bool LooksNonEnglish(IEnumerable<string> texts)
    {
        long letters = 0, latin = 0;
        foreach (var t in texts)
            foreach (var r in t.EnumerateRunes())
            {
                if (!System.Text.Rune.IsLetter(r)) continue;
                letters++;
                if (r.Value < 0x250) latin++;
            }
        return letters > 0 && latin < 0.6 * letters;
    }
}
