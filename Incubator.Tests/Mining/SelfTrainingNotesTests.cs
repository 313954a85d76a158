using Incubator.Domain.Jobs;
using Incubator.Domain.Mining;
using Incubator.Tests.Infrastructure;
using Incubator.Web;

namespace Incubator.Tests.Mining;

/// <summary>What the portal shows of a self-training run's rounds (decision 0036; 0039, amendment words22): round 0 is
/// the model trained on the seeds alone, so three rounds asked for read "Seed model", "Round 1 of 3" … "Round 3 of 3"
/// — not four lines "Round 0 of 3" … "Round 3 of 3" — in English and Japanese, and a kept seed model is said as such.</summary>
public sealed class SelfTrainingNotesTests
{
    private static string Say(string culture, JobNote note) => Localized.In(culture, () => Localized.L.JobNote(note));

    [Fact]
    public void Three_rounds_read_seed_model_then_round_1_to_3_of_3_in_both_languages()
    {
        var notes = Enumerable.Range(0, 4).Select(r => new SelfTrainingRoundView(r, 3, 0.8 + r / 100.0, true, 10 * r).Note).ToList();
        string[] english =
        [
            "Seed model: held-out agreement 0.800",
            "Round 1 of 3: held-out agreement 0.810",
            "Round 2 of 3: held-out agreement 0.820",
            "Round 3 of 3: held-out agreement 0.830",
        ];
        Assert.Equal(english, notes.Select(n => n.Message));
        Assert.Equal(english, notes.Select(n => Say("en", n)));
        Assert.Equal(
        [
            "シードモデル: 検証用に取り分けたテキストとの一致率 0.800",
            "ラウンド 1/3: 検証用に取り分けたテキストとの一致率 0.810",
            "ラウンド 2/3: 検証用に取り分けたテキストとの一致率 0.820",
            "ラウンド 3/3: 検証用に取り分けたテキストとの一致率 0.830",
        ], notes.Select(n => Say("ja", n)));

        // A round that did not improve stops the loop, numbered the same way.
        var stop = new SelfTrainingRoundView(2, 3, 0.79, false, 20).Note;
        Assert.Equal("Round 2 of 3: held-out agreement 0.790, no better: stopping", Say("en", stop));
        Assert.StartsWith("ラウンド 2/3: ", Say("ja", stop), StringComparison.Ordinal);
        Assert.Equal("seed model", SelfTrainingNotes.RoundName(0, 3));
        Assert.Equal("round 3 of 3", SelfTrainingNotes.RoundName(3, 3));
    }

    [Fact]
    public void A_kept_seed_model_is_said_as_the_seed_model_and_one_uncertain_text_is_one_text()
    {
        var seed = SelfTrainingNotes.KeptAgreement(0, 3, 12, 0, 2, "sparse", 0.9, 1);
        const string english = "Kept the seed model (12 seeds + 0 pseudo-labels + 2 reviewed); sparse model, agreement with pseudo-labels 0.900 (not accuracy); 1 uncertain text sent to review.";
        Assert.Equal(english, seed.Message);
        Assert.Equal(english, Say("en", seed));
        Assert.Equal("シードモデルを採用（シード 12 件 + 疑似ラベル 0 件 + レビュー済み 2 件）。n-gram 特徴（sparse）モデル、疑似ラベルとの一致率 0.900（正解率ではありません）。不確かなテキスト 1 件をレビューへ送りました。",
            Say("ja", seed));

        var gold = SelfTrainingNotes.KeptHeldOut(0, 3, 12, 0, 2, "sparse", 0.75, 2);
        Assert.Equal("Kept the seed model (12 seeds + 0 pseudo-labels + 2 reviewed); sparse model, accuracy on approved samples held out from training 0.750; 2 uncertain texts sent to review.",
            Say("en", gold));
        Assert.StartsWith("シードモデルを採用", Say("ja", gold), StringComparison.Ordinal);

        var round = SelfTrainingNotes.KeptAgreement(2, 3, 12, 1, 0, "hybrid", 0.8, 5);
        Assert.StartsWith("Kept round 2 of 3 (12 seeds + 1 pseudo-label + 0 reviewed); hybrid model", round.Message, StringComparison.Ordinal);
        Assert.Equal(round.Message, Say("en", round));
        Assert.StartsWith("ラウンド 3 回中 2 回目を採用", Say("ja", round), StringComparison.Ordinal);

        Assert.Equal("Model ready: the seed model kept; 1 uncertain text to review", Say("en", SelfTrainingNotes.Ready(0, 1)));
        Assert.Equal("Model ready: round 2 kept; 5 uncertain texts to review", Say("en", SelfTrainingNotes.Ready(2, 5)));
        Assert.Equal("モデル完成: シードモデルを採用、不確かなテキスト 1 件をレビューへ", Say("ja", SelfTrainingNotes.Ready(0, 1)));
    }
}
