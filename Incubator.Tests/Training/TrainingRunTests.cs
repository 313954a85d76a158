using Incubator.Domain.Training;
using Xunit.Abstractions;

namespace Incubator.Tests.Training;

/// <summary>How a training run is organised: refit after the choice, the early-stopping L2 sweep, independent fits
/// side by side, and the encoder-coverage check that decides whether auto tries the encoder families.</summary>
public sealed class TrainingRunTests(ITestOutputHelper output)
{
    /// <summary>The English fixture's labels and a seeded 75/25 split of it.</summary>
    private static (IReadOnlyList<string> Labels, List<LabeledText> Train, List<LabeledText> Validation) EnglishSplit(int seed)
    {
        var rows = TrainingFixtures.English();
        var (train, validation) = StratifiedSplit.Split(rows, 0.25, seed);
        return (TrainingFixtures.LabelsOf(rows), train, validation);
    }

    /// <summary>Two models that should agree within optimiser tolerance: the same label for every text, every probability
    /// within 0.02; returns the largest difference.</summary>
    private static float AssertSameLabelsAndCloseProbabilities(TrainedClassifier expected, TrainedClassifier actual, IReadOnlyList<string> texts, ModelFamily family)
    {
        var a = expected.Predict(texts);
        var b = actual.Predict(texts);
        var largest = a.Zip(b).Max(p => p.First.Probabilities.Zip(p.Second.Probabilities).Max(q => Math.Abs(q.First - q.Second)));
        Assert.True(largest < 0.02, $"{family}: {largest}");
        Assert.Equal(a.Select(p => p.Label), b.Select(p => p.Label));
        return largest;
    }

    /// <summary>The keyword fixture's choice: the log's choose line is <see cref="TrainingResult.Choice"/>, and the model
    /// card's "Choice:" line says the same.</summary>
    private static void AssertChoiceOnTheCard(TrainingResult result, string chooseLine, int trainRows, int validationRows)
    {
        Assert.Equal(chooseLine["choose: ".Length..], result.Choice);
        var card = ModelCardBuilder.Write(ModelCardInput.For("keyword", result, new TrainingOptions(ModelFamily.Auto, 4), null, DateTimeOffset.UnixEpoch,
            new FileCardSource("keyword.tsv", new Dictionary<string, int> { ["a"] = 40, ["b"] = 40 }, trainRows, validationRows)));
        Assert.Contains($"- Choice: {result.Choice}.", card);
    }

    private static byte[] Save(TrainedClassifier model)
    {
        using var ms = new MemoryStream();
        model.Save(ms);
        return ms.ToArray();
    }

    [Fact]
    public void Refit_is_the_chosen_settings_fitted_on_training_and_validation_and_keeps_the_selection_scores()
    {
        var (labels, train, validation) = EnglishSplit(1);
        // Sweep candidates at full tolerance and the refit from zero (the defaults start the refit from the kept
        // candidate's weights: within tolerance of this, see the warm-start test below).
        var result = new ClassifierTrainer { WarmStartRefit = false, SweepTolerance = 1e-7f }.Train(labels, train, validation, null,
            new TrainingOptions(ModelFamily.Sparse, 1), null, CancellationToken.None);
        Assert.True(result.Refitted);
        var kept = result.L2[ModelFamily.Sparse];

        // The same settings trained from scratch on training + validation give the same model, byte for byte.
        var all = train.Concat(validation).ToList();
        var direct = new ClassifierTrainer { SparseL2 = [kept] }.Train(labels, all, validation, null,
            new TrainingOptions(ModelFamily.Sparse, 1) { Refit = false }, null, CancellationToken.None);
        Assert.False(direct.Refitted);
        Assert.Equal(Save(direct.Model), Save(result.Model));
        // The refit vocabulary has n-grams that only the validation texts contain; the selection fit's has not.
        Assert.True(result.Model.Sparse!.NGramCount > result.Models[ModelFamily.Sparse].Sparse!.NGramCount);
        // Reported validation scores are the selection fit's, which never saw the validation rows.
        Assert.Equal(Evaluation.Evaluate(result.Models[ModelFamily.Sparse], validation).MacroF1, result.Validation.MacroF1, 6);

        var noRefit = new ClassifierTrainer().Train(labels, train, validation, null, new TrainingOptions(ModelFamily.Sparse, 1) { Refit = false }, null, CancellationToken.None);
        Assert.Same(noRefit.Models[ModelFamily.Sparse], noRefit.Model);
        Assert.Equal(Save(noRefit.Model), Save(result.Models[ModelFamily.Sparse]));
    }

    [Fact]
    public void Gold_scores_describe_the_refit_model()
    {
        var rows = TrainingFixtures.English();
        var labels = TrainingFixtures.LabelsOf(rows);
        var (train, rest) = StratifiedSplit.Split(rows, 0.4, 2);
        var (validation, gold) = StratifiedSplit.Split(rest, 0.5, 2);
        var result = new ClassifierTrainer().Train(labels, train, validation, gold, new TrainingOptions(ModelFamily.Sparse, 1), null, CancellationToken.None);
        Assert.NotNull(result.Gold);
        Assert.Equal(Evaluation.Evaluate(result.Model, gold).Accuracy, result.Gold!.Accuracy, 6);
        Assert.Equal(Evaluation.Evaluate(result.Models[ModelFamily.Sparse], gold).Accuracy, result.Compared[0].Gold!.Accuracy, 6);
    }

    [Fact]
    public void The_L2_sweep_stops_at_the_first_candidate_that_does_not_improve()
    {
        // Noisy generated support texts (validation macro-F1 well below 1, so candidates can be told apart).
        var rows = Incubator.Domain.Benchmarks.SparseTrainingBenchmark.Synthetic(800, 7);
        var labels = TrainingFixtures.LabelsOf(rows);
        var (train, validation) = StratifiedSplit.Split(rows, 0.25, 1);
        // On this noisy data a very strong L2 weight scores best (0.83 against 0.81 for 0.03): started there, the sweep
        // stops at 0.03 and never fits 0.1 or 0.3.
        var result = new ClassifierTrainer { SparseL2 = [1e5f, 0.03f, 0.1f, 0.3f] }.Train(labels, train, validation, null,
            new TrainingOptions(ModelFamily.Sparse, 1), null, CancellationToken.None);
        output.WriteLine(string.Join(Environment.NewLine, result.Log.Where(l => l.StartsWith("fit:", StringComparison.Ordinal))));
        Assert.Contains(result.Log, l => l.Contains("L2 100000: validation", StringComparison.Ordinal));
        Assert.Contains(result.Log, l => l.Contains("L2 0.03: validation", StringComparison.Ordinal));
        Assert.Contains(result.Log, l => l.Contains("the sweep stops", StringComparison.Ordinal));
        Assert.DoesNotContain(result.Log, l => l.Contains("L2 0.1: validation", StringComparison.Ordinal));
        Assert.DoesNotContain(result.Log, l => l.Contains("L2 0.3: validation", StringComparison.Ordinal));
        Assert.Equal(1e5f, result.L2[ModelFamily.Sparse]);

        // While the score improves, every candidate is tried.
        var climbing = new ClassifierTrainer { SparseL2 = [0.03f, 1e5f] }.Train(labels, train, validation, null,
            new TrainingOptions(ModelFamily.Sparse, 1), null, CancellationToken.None);
        Assert.Equal(1e5f, climbing.L2[ModelFamily.Sparse]);
        Assert.DoesNotContain(climbing.Log, l => l.Contains("the sweep stops", StringComparison.Ordinal));
    }

    [Fact]
    public void Fits_run_side_by_side_give_the_same_models_bit_for_bit_as_one_after_another()
    {
        var (labels, train, validation) = EnglishSplit(3);
        var dense = new DenseFeaturizer(memoize: true);
        TrainingResult Run(int parallelism) => new ClassifierTrainer { Dense = dense, MaxParallelism = parallelism }.Train(labels, train, validation, null,
            new TrainingOptions(ModelFamily.Auto, 3), null, CancellationToken.None);
        var sideBySide = Run(2);
        var sequential = Run(1);
        Assert.Equal(3, sideBySide.Models.Count);
        AssertSameModelsBitForBit(sequential, sideBySide);
    }

    private static void AssertSameModelsBitForBit(TrainingResult expected, TrainingResult actual)
    {
        Assert.Equal(expected.Models.Keys.Order(), actual.Models.Keys.Order());
        foreach (var family in expected.Models.Keys)
            Assert.Equal(Save(expected.Models[family]), Save(actual.Models[family]));
        Assert.Equal(expected.ChosenFamily, actual.ChosenFamily);
        Assert.Equal(Save(expected.Model), Save(actual.Model));
    }

    [Fact]
    public void Hybrid_candidates_fitted_side_by_side_and_the_refit_prepared_ahead_give_the_same_model_and_sweep_bit_for_bit()
    {
        var (labels, train, validation) = EnglishSplit(3);
        var dense = new DenseFeaturizer(memoize: true);
        TrainingResult Run(bool ahead, int parallelism) => new ClassifierTrainer { Dense = dense, SweepSideBySide = ahead, PrepareRefitAhead = ahead, MaxParallelism = parallelism }
            .Train(labels, train, validation, null, new TrainingOptions(ModelFamily.Auto, 3), null, CancellationToken.None);
        var plain = Run(false, 1);
        var ahead = Run(true, 2);
        foreach (var family in plain.Models.Keys)
            Assert.Equal(Save(plain.Models[family]), Save(ahead.Models[family]));
        Assert.Equal(plain.L2, ahead.L2);
        // The sweep reports (and keeps) the same candidates in the same order, and stops at the same one.
        static List<string> Sweep(TrainingResult r) => [.. r.Log.Where(l => l.StartsWith("fit: Hybrid", StringComparison.Ordinal))];
        Assert.Equal(Sweep(plain), Sweep(ahead));
        Assert.Equal(plain.ChosenFamily, ahead.ChosenFamily);
        Assert.True(ahead.Refitted);
        // The refit from features prepared beside the sweeps is the refit made after the choice.
        Assert.Equal(Save(plain.Model), Save(ahead.Model));
        // Chosen or not, a sparse or hybrid refit from prepared features equals one made from scratch.
        foreach (var family in new[] { ModelFamily.Sparse, ModelFamily.Hybrid })
        {
            TrainingResult One(bool ahead) => new ClassifierTrainer { Dense = dense, SweepSideBySide = ahead, PrepareRefitAhead = ahead, MaxParallelism = 2 }
                .Train(labels, train, validation, null, new TrainingOptions(family, 3), null, CancellationToken.None);
            Assert.Equal(Save(One(false).Model), Save(One(true).Model));
        }
    }

    [Fact]
    public void A_looser_sweep_tolerance_and_a_warm_started_refit_keep_the_choice_and_give_a_model_within_tolerance_of_full_cold_fits()
    {
        var (labels, train, validation) = EnglishSplit(1);
        var dense = new DenseFeaturizer(memoize: true);
        var texts = validation.Select(r => r.Text).ToList();
        foreach (var family in new[] { ModelFamily.Sparse, ModelFamily.Hybrid, ModelFamily.Auto })
        {
            TrainingResult Run(ClassifierTrainer trainer) => trainer.Train(labels, train, validation, null, new TrainingOptions(family, 1), null, CancellationToken.None);
            var cold = Run(new ClassifierTrainer { Dense = dense, WarmStartRefit = false, SweepTolerance = 1e-7f });
            var warm = Run(new ClassifierTrainer { Dense = dense });
            // The settings reach the optimiser: the shipped weights differ.
            Assert.NotEqual(Save(cold.Model), Save(warm.Model));
            Assert.Equal(cold.ChosenFamily, warm.ChosenFamily);
            Assert.Equal(cold.L2, warm.L2);
            var largest = AssertSameLabelsAndCloseProbabilities(cold.Model, warm.Model, texts, family);
            output.WriteLine($"{family}: chose {warm.ChosenFamily}, largest probability difference {largest:0.00000}; validation macro-F1 {cold.Validation.MacroF1:0.000} cold, {warm.Validation.MacroF1:0.000} warm");
            // Deterministic: one worker gives the same models as two, bit for bit.
            AssertSameModelsBitForBit(Run(new ClassifierTrainer { Dense = dense, MaxParallelism = 1 }), warm);
        }
    }

    [Fact]
    public void The_refit_starts_from_the_selection_weights_carried_over_by_n_gram()
    {
        var (labels, train, validation) = EnglishSplit(1);
        var result = new ClassifierTrainer().Train(labels, train, validation, null, new TrainingOptions(ModelFamily.Sparse, 1), null, CancellationToken.None);
        var selection = result.Models[ModelFamily.Sparse];
        var from = selection.Sparse!;
        var to = result.Model.Sparse!;
        Assert.True(from.Conjunctions.Count >= 2 && to.Conjunctions.Count >= 2);
        const int embedding = 3;
        var head = new LinearHead([.. selection.Head.Weights.Select(w => w.Concat([1f, 2f, 3f]).ToArray())], selection.Head.Biases);
        var start = ClassifierTrainer.StartFrom(head, from, to, embedding);
        Microsoft.ML.Data.VBuffer<float>[] weights = [];
        start.GetWeights(ref weights, out var classes);
        Assert.Equal(labels.Count, classes);
        Assert.Equal(head.Biases, start.GetBiases());
        static string Key(SparseFeaturizer f, int j) => f.Describe(j);
        var old = Enumerable.Range(0, from.Dimension).GroupBy(j => Key(from, j)).ToDictionary(g => g.Key, g => g.First());
        int carried = 0, fresh = 0;
        for (var c = 0; c < classes; c++)
        {
            var w = weights[c].DenseValues().ToArray();
            Assert.Equal(to.Dimension + embedding, w.Length);
            for (var j = 0; j < to.NGramCount; j++)
            {
                if (old.TryGetValue(Key(to, j), out var o))
                {
                    Assert.Equal(head.Weights[c][o], w[j]);
                    carried++;
                }
                else
                {
                    Assert.Equal(0f, w[j]);
                    fresh++;
                }
            }
            // A populated conjunction slot (a < b) keeps the weight of the same pair of n-grams in the selection fit.
            var k = to.Conjunctions.Count;
            for (var a = 0; a < k; a++)
                for (var b = a + 1; b < k; b++)
                {
                    var j = to.NGramCount + a * k + b;
                    var name = Key(to, j);
                    var swapped = $"{Key(to, to.Conjunctions[b])} & {Key(to, to.Conjunctions[a])}";
                    var expected = 0f;
                    if (old.TryGetValue(name, out var o) && IsPopulated(from, o)) expected = head.Weights[c][o];
                    else if (old.TryGetValue(swapped, out var p) && IsPopulated(from, p)) expected = head.Weights[c][p];
                    Assert.Equal(expected, w[j]);
                }
            Assert.Equal([1f, 2f, 3f], w[^embedding..]);
        }
        // The refit vocabulary has n-grams only the validation texts contain (fresh) and shares the rest (carried).
        Assert.True(carried > 0 && fresh > 0, $"{carried} carried, {fresh} fresh");
    }

    /// <summary>Only the slots a &lt; b of the conjunction grid are ever set.</summary>
    private static bool IsPopulated(SparseFeaturizer f, int feature)
    {
        var pair = feature - f.NGramCount;
        return pair >= 0 && pair / f.Conjunctions.Count < pair % f.Conjunctions.Count;
    }

    [Fact]
    public void A_shorter_lbfgs_history_gives_a_model_within_tolerance_of_the_longer_one()
    {
        var (labels, train, validation) = EnglishSplit(1);
        var dense = new DenseFeaturizer(memoize: true);
        foreach (var family in new[] { ModelFamily.Sparse, ModelFamily.Hybrid })
        {
            TrainingResult Run(int history) => new ClassifierTrainer { Dense = dense, LbfgsHistory = history }
                .Train(labels, train, validation, null, new TrainingOptions(family, 1), null, CancellationToken.None);
            var longer = Run(20);
            var shorter = Run(5);
            // The setting reaches the optimiser: the weights differ.
            Assert.NotEqual(Save(longer.Model), Save(shorter.Model));
            Assert.Equal(longer.L2[family], shorter.L2[family]);
            var largest = AssertSameLabelsAndCloseProbabilities(longer.Model, shorter.Model, validation.Select(r => r.Text).ToList(), family);
            output.WriteLine($"{family}: largest probability difference {largest:0.00000}");
        }
    }

    /// <summary>Long English support texts (well over the encoder's 256 tokens) that end in a keyword, "alpha" or
    /// "omega", which alone decides the label: the encoder never sees it, the sparse family does. The validation rows
    /// have their labels swapped, so on validation alone the family that reads the keyword scores worst.</summary>
    private static (List<LabeledText> Train, List<LabeledText> Validation) KeywordBehindTheEncodersReach() =>
        KeywordBehindTheEncodersReach(8, _ => true);

    /// <summary>The same training rows; <paramref name="validationRows"/> validation rows, those for which
    /// <paramref name="swapped"/> holds with their labels swapped.</summary>
    private static (List<LabeledText> Train, List<LabeledText> Validation) KeywordBehindTheEncodersReach(int validationRows, Func<int, bool> swapped)
    {
        var texts = TrainingFixtures.English().Select(r => r.Text).ToList();
        var random = new Random(5);
        LabeledText Row(int i, bool swapped)
        {
            var keyword = i % 2 == 0 ? "alpha" : "omega";
            var carrier = string.Join(" ", Enumerable.Range(0, 30).Select(_ => texts[random.Next(texts.Count)]));
            var label = (i % 2 == 0) != swapped ? "a" : "b";
            return new LabeledText(label, $"{carrier} {keyword}");
        }
        return ([.. Enumerable.Range(0, 64).Select(i => Row(i, false))], [.. Enumerable.Range(0, validationRows).Select(i => Row(i, swapped(i)))]);
    }

    [Fact]
    public void On_small_data_auto_chooses_by_cross_validation_and_finds_the_family_a_misleading_validation_split_hides()
    {
        var (train, validation) = KeywordBehindTheEncodersReach();
        var dense = new DenseFeaturizer(memoize: true);
        TrainingResult Run(int crossValidateUpTo, int parallelism = 2) => new ClassifierTrainer
            {
                Dense = dense, CrossValidateUpTo = crossValidateUpTo, CrossValidateNearTiesUpTo = crossValidateUpTo, MaxParallelism = parallelism,
            }
            .Train(["a", "b"], train, validation, null, new TrainingOptions(ModelFamily.Auto, 4), null, CancellationToken.None);

        var onValidation = Run(0);
        output.WriteLine(onValidation.Log.Single(l => l.StartsWith("choose:", StringComparison.Ordinal)));
        Assert.Null(onValidation.CrossValidated);
        // Validation's swapped labels punish the families that read the keyword: validation alone picks dense.
        Assert.Equal(ModelFamily.Dense, onValidation.ChosenFamily);

        var result = Run(1000);
        var choice = Assert.Single(result.Log, l => l.StartsWith("choose:", StringComparison.Ordinal));
        output.WriteLine(choice);
        Assert.Contains("5-fold cross-validation over training + validation", choice);
        var cv = Assert.IsAssignableFrom<IReadOnlyDictionary<ModelFamily, double>>(result.CrossValidated);
        Assert.Equal(3, cv.Count);
        // Over all 72 rows the keyword is right 64 times: the families that read it win, and the choice is the best score.
        Assert.NotEqual(ModelFamily.Dense, result.ChosenFamily);
        Assert.Equal(cv.Values.Max(), cv[result.ChosenFamily]);
        Assert.True(cv[result.ChosenFamily] > cv[ModelFamily.Dense] + 0.2, string.Join(", ", cv));
        // Reported validation scores stay those of the selection fit on validation.
        Assert.Same(result.Compared.Single(c => c.Family == result.ChosenFamily).Validation, result.Validation);

        // The same seed gives the same scores and the same model, bit for bit, side by side or one after another.
        var again = Run(1000, parallelism: 1);
        Assert.Equal(cv.OrderBy(c => c.Key), again.CrossValidated!.OrderBy(c => c.Key));
        Assert.Equal(Save(result.Model), Save(again.Model));
    }

    [Fact]
    public void With_sixteen_rows_per_label_auto_takes_the_first_family_in_the_tie_order_within_one_standard_error_of_four_pooled_shuffles()
    {
        // 16 validation rows, 3 of them against their keyword: sparse and hybrid both read the keyword and score a few
        // points apart over the 80 rows (40 per label), sparse ahead; dense cannot see it.
        var (train, validation) = KeywordBehindTheEncodersReach(16, i => i < 3);
        var dense = new DenseFeaturizer(memoize: true);
        TrainingResult Run(ClassifierTrainer trainer) =>
            trainer.Train(["a", "b"], train, validation, null, new TrainingOptions(ModelFamily.Auto, 4), null, CancellationToken.None);

        var result = Run(new ClassifierTrainer { Dense = dense });
        var choice = Assert.Single(result.Log, l => l.StartsWith("choose:", StringComparison.Ordinal));
        output.WriteLine(choice);
        var cv = Assert.IsAssignableFrom<IReadOnlyDictionary<ModelFamily, double>>(result.CrossValidated);
        Assert.Equal(3, cv.Count);
        var (band, error) = ClassifierTrainer.WithinNoise([.. cv.Select(c => (c.Key, c.Value))], train.Count + validation.Count);
        Assert.Equal(new HashSet<ModelFamily> { ModelFamily.Sparse, ModelFamily.Hybrid }, band.ToHashSet());
        // Sparse scores highest, hybrid is within one standard error of it: the tie order takes hybrid.
        Assert.True(cv[ModelFamily.Sparse] > cv[ModelFamily.Hybrid], string.Join(", ", cv));
        Assert.Equal(ModelFamily.Hybrid, result.ChosenFamily);
        Assert.Contains("5-fold cross-validation over training + validation, 4 shuffles pooled", choice);
        Assert.Contains(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"Hybrid: first in the tie order (hybrid, dense, sparse) among the families within one standard error ({error:0.0000} over 80 rows)"), choice);
        Assert.Contains("within it: hybrid, sparse; sparse scores highest, but not by more than that", choice);
        AssertChoiceOnTheCard(result, choice, train.Count, validation.Count);

        // Without the rule (or with one row per label fewer than the threshold asks for): one deal, the best score wins.
        var off = Run(new ClassifierTrainer { Dense = dense, TieRuleFromRowsPerLabel = 0 });
        Assert.Equal(ModelFamily.Sparse, off.ChosenFamily);
        Assert.Equal(off.CrossValidated!.Values.Max(), off.CrossValidated[ModelFamily.Sparse]);
        Assert.DoesNotContain("shuffles", off.Choice!);
        var below = Run(new ClassifierTrainer { Dense = dense, TieRuleFromRowsPerLabel = 41 });
        Assert.Equal(ModelFamily.Sparse, below.ChosenFamily);
        Assert.Equal(off.CrossValidated.OrderBy(c => c.Key), below.CrossValidated!.OrderBy(c => c.Key));
        Assert.Equal(Save(off.Model), Save(below.Model));

        // The first deal is the one-deal choice's: with one shuffle the rule scores exactly as without it.
        var oneDeal = Run(new ClassifierTrainer { Dense = dense, ChoiceShuffles = 1 });
        Assert.Equal(off.CrossValidated.OrderBy(c => c.Key), oneDeal.CrossValidated!.OrderBy(c => c.Key));
        Assert.NotEqual(off.CrossValidated.OrderBy(c => c.Key), cv.OrderBy(c => c.Key));

        // Side by side or one after another: the same pooled scores and model.
        var again = Run(new ClassifierTrainer { Dense = dense, MaxParallelism = 1 });
        Assert.Equal(cv.OrderBy(c => c.Key), again.CrossValidated!.OrderBy(c => c.Key));
        Assert.Equal(Save(result.Model), Save(again.Model));
    }

    [Fact]
    public void Within_noise_keeps_the_families_at_most_one_standard_error_of_the_best_validation_score_behind()
    {
        // SMS spam's full-size validation split (decision 0019): sparse 0.985 on 446 rows, hybrid 0.4 points behind.
        var (near, error) = ClassifierTrainer.WithinNoise([(ModelFamily.Sparse, 0.985), (ModelFamily.Dense, 0.970), (ModelFamily.Hybrid, 0.981)], 446);
        Assert.Equal(Math.Sqrt(0.985 * 0.015 / 446), error, 12);
        Assert.Equal([ModelFamily.Sparse, ModelFamily.Hybrid], near);

        // A clear winner: the others more than one error behind.
        var (alone, wide) = ClassifierTrainer.WithinNoise([(ModelFamily.Sparse, 0.935), (ModelFamily.Dense, 0.941), (ModelFamily.Hybrid, 0.956)], 500);
        Assert.Equal([ModelFamily.Hybrid], alone);
        Assert.True(0.956 - 0.941 > wide, $"{wide}");

        // The same gap is within noise on fewer rows; exactly one error behind is within, a little more is not.
        Assert.Equal(3, ClassifierTrainer.WithinNoise([(ModelFamily.Sparse, 0.935), (ModelFamily.Dense, 0.941), (ModelFamily.Hybrid, 0.956)], 60).Families.Count);
        var e = Math.Sqrt(0.9 * 0.1 / 100);
        Assert.Equal([ModelFamily.Dense, ModelFamily.Hybrid], ClassifierTrainer.WithinNoise([(ModelFamily.Dense, 0.9 - e), (ModelFamily.Hybrid, 0.9)], 100).Families);
        Assert.Equal([ModelFamily.Hybrid], ClassifierTrainer.WithinNoise([(ModelFamily.Dense, 0.9 - e - 1e-6), (ModelFamily.Hybrid, 0.9)], 100).Families);
        // A perfect score has no error band: only exact ties stay.
        Assert.Equal([ModelFamily.Sparse, ModelFamily.Hybrid],
            ClassifierTrainer.WithinNoise([(ModelFamily.Sparse, 1.0), (ModelFamily.Dense, 0.999), (ModelFamily.Hybrid, 1.0)], 1000).Families);
    }

    [Fact]
    public void Above_the_cross_validation_size_a_near_tie_on_validation_is_cross_validated_between_the_tied_families_only()
    {
        // Unswapped validation (one row against its keyword): sparse and hybrid read the keyword and score alike on
        // validation; dense cannot see it and is far behind.
        var (train, validation) = KeywordBehindTheEncodersReach(16, i => i == 0);
        var dense = new DenseFeaturizer(memoize: true);
        TrainingResult Run(int crossValidateUpTo, int parallelism = 2) => new ClassifierTrainer
            {
                Dense = dense, CrossValidateUpTo = crossValidateUpTo, CrossValidateNearTiesUpTo = train.Count + validation.Count, MaxParallelism = parallelism,
                // One deal of the folds, as the near-tie check always uses, also when every family is cross-validated below.
                TieRuleFromRowsPerLabel = 0,
            }
            .Train(["a", "b"], train, validation, null, new TrainingOptions(ModelFamily.Auto, 4), null, CancellationToken.None);

        var result = Run(10);
        var choice = Assert.Single(result.Log, l => l.StartsWith("choose:", StringComparison.Ordinal));
        output.WriteLine(choice);
        var validationScores = result.Compared.Select(c => (c.Family, c.Validation.MacroF1)).ToList();
        var (near, error) = ClassifierTrainer.WithinNoise(validationScores, validation.Count);
        Assert.Equal([ModelFamily.Sparse, ModelFamily.Hybrid], near);
        var cv = Assert.IsAssignableFrom<IReadOnlyDictionary<ModelFamily, double>>(result.CrossValidated);
        Assert.Equal(new HashSet<ModelFamily> { ModelFamily.Sparse, ModelFamily.Hybrid }, cv.Keys.ToHashSet());
        // The choice is the better pooled out-of-fold score of the two (ties go to hybrid).
        Assert.Contains(result.ChosenFamily, cv.Keys);
        Assert.Equal(cv.Values.Max(), cv[result.ChosenFamily]);
        Assert.Contains("5-fold cross-validation over training + validation", choice);
        Assert.Contains(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"only sparse and hybrid were cross-validated: within one standard error ({error:0.0000}) of the best on 16 validation rows"), choice);
        Assert.Contains("dense more than that behind, so out", choice);
        AssertChoiceOnTheCard(result, choice, train.Count, validation.Count);

        // The two are scored exactly as when every family is cross-validated (same folds, same fits).
        var all = Run(1000);
        Assert.Equal(3, all.CrossValidated!.Count);
        Assert.Equal(all.CrossValidated[ModelFamily.Sparse], cv[ModelFamily.Sparse]);
        Assert.Equal(all.CrossValidated[ModelFamily.Hybrid], cv[ModelFamily.Hybrid]);

        // Side by side or one after another: the same scores and model.
        var again = Run(10, parallelism: 1);
        Assert.Equal(cv.OrderBy(c => c.Key), again.CrossValidated!.OrderBy(c => c.Key));
        Assert.Equal(Save(result.Model), Save(again.Model));
    }

    [Fact]
    public void Above_the_cross_validation_size_a_clear_winner_on_validation_is_chosen_without_cross_validation()
    {
        // 32 swapped validation rows: dense, which cannot see the keyword, is far ahead of the families that read it
        // (on 8 rows the gap is within noise).
        var (train, validation) = KeywordBehindTheEncodersReach(32, _ => true);
        var result = new ClassifierTrainer { Dense = new DenseFeaturizer(memoize: true), CrossValidateUpTo = 10 }
            .Train(["a", "b"], train, validation, null, new TrainingOptions(ModelFamily.Auto, 4), null, CancellationToken.None);
        var choice = Assert.Single(result.Log, l => l.StartsWith("choose:", StringComparison.Ordinal));
        output.WriteLine(choice);
        var (near, error) = ClassifierTrainer.WithinNoise([.. result.Compared.Select(c => (c.Family, c.Validation.MacroF1))], validation.Count);
        Assert.Equal([ModelFamily.Dense], near);
        Assert.Null(result.CrossValidated);
        Assert.Equal(ModelFamily.Dense, result.ChosenFamily);
        Assert.Contains("on validation (", choice);
        Assert.Contains(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"no other family within one standard error ({error:0.0000}) of the best on 32 validation rows, so no cross-validation"), choice);
    }

    [Fact]
    public void Releasing_the_encoder_after_embedding_changes_nothing_in_the_model_and_it_still_predicts()
    {
        var (labels, train, validation) = EnglishSplit(2);
        var kept = new DenseFeaturizer();
        var released = new DenseFeaturizer();
        var a = new ClassifierTrainer { Dense = kept }.Train(labels, train, validation, null, new TrainingOptions(ModelFamily.Dense, 2), null, CancellationToken.None);
        var b = new ClassifierTrainer { Dense = released, ReleaseEncoderAfterEmbedding = true }.Train(labels, train, validation, null, new TrainingOptions(ModelFamily.Dense, 2), null, CancellationToken.None);
        Assert.Equal(Save(a.Model), Save(b.Model));
        // The released session is built again on the next prediction.
        var texts = validation.Take(5).Select(r => r.Text).ToList();
        Assert.Equal(a.Model.Predict(texts).Select(p => p.Probabilities), b.Model.Predict(texts).Select(p => p.Probabilities));
        kept.Dispose();
        released.Dispose();
    }

    [Fact]
    public void Above_the_cross_validation_size_or_with_gold_auto_chooses_as_before()
    {
        var (labels, train, validation) = EnglishSplit(1);
        var trainer = new ClassifierTrainer { Dense = new DenseFeaturizer(memoize: true), CrossValidateUpTo = train.Count + validation.Count - 1,
            CrossValidateNearTiesUpTo = train.Count + validation.Count - 1 };
        var large = trainer.Train(labels, train, validation, null, new TrainingOptions(ModelFamily.Auto, 1), null, CancellationToken.None);
        Assert.Null(large.CrossValidated);
        Assert.Contains("on validation (", Assert.Single(large.Log, l => l.StartsWith("choose:", StringComparison.Ordinal)));

        var withGold = new ClassifierTrainer { Dense = trainer.Dense }.Train(labels, train, validation, validation, new TrainingOptions(ModelFamily.Auto, 1), null, CancellationToken.None);
        Assert.Null(withGold.CrossValidated);
        Assert.Contains("on gold", Assert.Single(withGold.Log, l => l.StartsWith("choose:", StringComparison.Ordinal)));
    }

    [Fact]
    public void Encoder_coverage_is_high_for_english_and_low_for_text_it_cannot_represent()
    {
        var coverage = EncoderCoverage.Shared;
        var english = coverage.Share(TrainingFixtures.English().Select(r => r.Text).ToList());
        var japanese = coverage.Share(TrainingFixtures.Japanese().Select(r => r.Text).ToList());
        output.WriteLine($"english {english:0.000}, japanese {japanese:0.000}");
        Assert.True(english > 0.9, $"english {english}");
        Assert.True(japanese < 0.1, $"japanese {japanese}");
        Assert.True(coverage.Share(["My card was charged twice!", "Café au lait, naïve résumé"]) > 0.95);
        // Cyrillic falls apart into single characters or [UNK]; punctuation alone counts as nothing.
        Assert.True(coverage.Share(["Мой пароль не работает, помогите пожалуйста"]) < 0.2);
        Assert.Equal(1.0, coverage.Share(["?!", ""]));
        Assert.InRange(coverage.Share(["hello Привет"]), 5 / 11.0 - 1e-9, 5 / 11.0 + 1e-9); // 5 of 11 letters
    }
}
