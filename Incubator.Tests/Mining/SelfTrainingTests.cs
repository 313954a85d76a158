using Incubator.Domain.Mining;
using Incubator.Domain.Training;
using Incubator.Tests.Infrastructure;

namespace Incubator.Tests.Mining;

/// <summary>The self-training loop on small fixtures (sparse family, no encoder): what each round trains on, the held-out
/// agreement that decides whether it goes on, and the model it keeps.</summary>
public sealed class SelfTrainingTests
{
    private static readonly string[] Labels = ["billing", "shipping"];

    /// <summary>Seeds as mining would give them: the first <paramref name="perLabel"/> texts of each label, some of them
    /// with the wrong label when <paramref name="wrong"/> says so.</summary>
    private static (List<string> Pool, List<MinedCandidate> Seeds) Fixture(int perLabel, Func<int, bool>? wrong = null)
    {
        var rows = TrainingSeed.MailSamples(40);
        var pool = rows.Select(r => r.Text).ToList();
        var seeds = new List<MinedCandidate>();
        foreach (var label in Labels)
        {
            var picked = rows.Select((r, i) => (r, i)).Where(x => x.r.Label == label).Take(perLabel).ToList();
            for (var k = 0; k < picked.Count; k++)
            {
                var assigned = wrong?.Invoke(seeds.Count) == true ? Labels.Single(l => l != label) : label;
                seeds.Add(new MinedCandidate(assigned, picked[k].i, picked[k].r.Text, 0.5, 0.1));
            }
        }
        return (pool, seeds);
    }

    [Fact]
    public void Rounds_stop_when_the_held_out_agreement_stops_improving()
    {
        // Clean, separable seeds: the seed model already agrees with every held-out seed, so round 1 cannot improve on
        // it — the loop records round 1 as no better, stops, and keeps round 0's model.
        var (pool, seeds) = Fixture(10);
        var result = SelfTrainer.Run(Labels, pool, seeds, new SelfTrainingOptions { MaxRounds = 4 });
        Assert.Equal(2, result.Rounds.Count);
        Assert.Equal(1.0, result.Rounds[0].SeedAgreement);
        Assert.True(result.Rounds[0].Improved);
        Assert.False(result.Rounds[1].Improved);
        Assert.True(result.Rounds[1].Agreement <= result.Rounds[0].Agreement);
        Assert.Equal(0, result.BestRound);
        Assert.Equal(0, result.Best.PseudoLabels);
        Assert.Equal(4, result.HeldOutSeeds);
        // Round 1 trained on the seeds plus pseudo-labels, the same number for each label.
        Assert.True(result.Rounds[1].PseudoLabels > 0);
        Assert.Equal(result.Rounds[1].RowsPerLabel["billing"], result.Rounds[1].RowsPerLabel["shipping"]);
    }

    [Fact]
    public void Every_recorded_round_but_the_last_improved_on_the_best_before_it()
    {
        // Noisy seeds (every third one has the wrong label) and the miner's view as a second opinion: however the rounds
        // go, the record must show the rule — each continued round beat the best agreement so far, the loop ended at the
        // round cap or at the first round that did not, and the kept model is the best round's.
        var (pool, seeds) = Fixture(12, i => i % 3 == 2);
        var truth = TrainingSeed.MailSamples(40).ToDictionary(r => r.Text, r => r.Label);
        var prior = pool.Select(t => truth[t] == "billing" ? new[] { 0.7f, 0.3f } : new[] { 0.3f, 0.7f }).ToList();
        var kept = new List<TrainedClassifier>();
        var options = new SelfTrainingOptions { MaxRounds = 3 };
        var result = SelfTrainer.Run(Labels, pool, seeds, options, prior, onRound: (_, model) => kept.Add(model));
        Assert.Equal(result.Rounds.Count, kept.Count);
        Assert.Equal(Enumerable.Range(0, result.Rounds.Count), result.Rounds.Select(r => r.Round));
        var best = double.NegativeInfinity;
        for (var i = 0; i < result.Rounds.Count; i++)
        {
            var r = result.Rounds[i];
            Assert.Equal(r.Agreement > best, r.Improved);
            Assert.Equal(r.ViewAgreement, r.Agreement); // the miner's held-out view decides when there is one
            if (i < result.Rounds.Count - 1) Assert.True(r.Improved, $"round {i} did not improve but the loop went on");
            if (r.Improved) best = r.Agreement;
        }
        var last = result.Rounds[^1];
        Assert.True(!last.Improved || last.Round == options.MaxRounds);
        Assert.Equal(result.Rounds.Where(r => r.Improved).MaxBy(r => r.Agreement)!.Round, result.BestRound);
        Assert.Same(kept[result.BestRound], result.Training.Model);
    }

    [Fact]
    public void Too_few_seeds_for_a_label_is_a_clear_error()
    {
        var (pool, seeds) = Fixture(5);
        var ex = Assert.Throws<TrainingDataException>(() => SelfTrainer.Run(Labels, pool, seeds.Where(s => s.Label == "billing" || s.Ordinal == 1).ToList(), new SelfTrainingOptions()));
        Assert.Contains("at least 2 mined seeds for every label; too few for shipping", ex.Message);
    }

    /// <summary>Loyalty-points texts, a kind the mail fixture does not know: the miner put six of them under billing.</summary>
    private static (List<string> Pool, List<MinedCandidate> Seeds, List<string> Loyalty) WithLoyalty()
    {
        var (pool, seeds) = Fixture(10);
        var loyalty = Enumerable.Range(0, 16).Select(i => $"Loyalty points {i} for order {100 + i} are gone.").ToList();
        pool.AddRange(loyalty);
        seeds.AddRange(loyalty.Take(6).Select((t, i) => new MinedCandidate("billing", pool.IndexOf(t), t, 0.5, 0.1)));
        return (pool, seeds, loyalty);
    }

    private static string Predict(SelfTrainingResult result, string text) => result.Training.Model.Predict([text])[0].Label;

    [Fact]
    public void A_reviewed_correction_outweighs_mined_seeds_and_pseudo_labels()
    {
        // A reviewer corrected two of the six mined loyalty-points seeds to shipping. Without the review the model calls
        // the kind billing; with it, shipping — and the more a reviewed row weighs, the surer. Every round is kept
        // (MinGain −1), so the final model has also trained on the pseudo-labels the seeds bred.
        const string probe = "Loyalty points 42 for order 999 are gone.";
        var (pool, seeds, loyalty) = WithLoyalty();
        var corrected = new List<LabeledText> { new("shipping", loyalty[0]), new("shipping", loyalty[1]) };
        var options = new SelfTrainingOptions { MaxRounds = 2, MinGain = -1 };
        Assert.Equal(5, options.ReviewedWeight);

        var unreviewed = SelfTrainer.Run(Labels, pool, seeds, options);
        Assert.Equal("billing", Predict(unreviewed, probe));
        var weighted = SelfTrainer.Run(Labels, pool, seeds, options, reviewed: corrected);
        Assert.Equal(2, weighted.BestRound);
        Assert.True(weighted.Best.PseudoLabels > 0);
        Assert.Equal("shipping", Predict(weighted, probe));
        var oneVote = SelfTrainer.Run(Labels, pool, seeds, options with { ReviewedWeight = 1 }, reviewed: corrected);
        Assert.True(Shipping(weighted, probe) > Shipping(oneVote, probe), $"×5 {Shipping(weighted, probe):0.00} vs ×1 {Shipping(oneVote, probe):0.00}");
        Assert.All(weighted.Rounds, r => Assert.Equal(2, r.ReviewedRows));
        // The corrected texts are neither mined seeds nor pseudo-labels any more: each is in the training rows once per weight, as shipping.
        Assert.DoesNotContain(weighted.TrainRows.Concat(weighted.ValidationRows), r => (r.Text == loyalty[0] || r.Text == loyalty[1]) && r.Label == "billing");
        Assert.Equal(5, weighted.TrainRows.Count(r => r.Text == loyalty[0] && r.Label == "shipping"));
    }

    private static float Shipping(SelfTrainingResult result, string text)
    {
        var model = result.Training.Model;
        return model.Predict([text])[0].Probabilities[model.Labels.ToList().IndexOf("shipping")];
    }

    [Fact]
    public void Rejected_texts_are_never_seeds_nor_pseudo_labels()
    {
        // The reviewer rejected the first three mined loyalty seeds: nothing says billing for that kind any more.
        var (pool, seeds, loyalty) = WithLoyalty();
        var rejected = loyalty.Take(3).ToHashSet(StringComparer.Ordinal);
        var result = SelfTrainer.Run(Labels, pool, seeds, new SelfTrainingOptions { MaxRounds = 2, MinGain = -1 }, excluded: rejected);
        Assert.DoesNotContain(result.TrainRows.Concat(result.ValidationRows), r => rejected.Contains(r.Text));
        var kept = SelfTrainer.Run(Labels, pool, seeds, new SelfTrainingOptions { MaxRounds = 2, MinGain = -1 });
        Assert.Contains(kept.TrainRows.Concat(kept.ValidationRows), r => rejected.Contains(r.Text));
    }
}
