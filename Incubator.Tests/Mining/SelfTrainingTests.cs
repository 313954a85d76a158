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
}
