using System.Text.Json;
using Incubator.Domain.Common;
using Incubator.Domain.Datasets;
using Incubator.Domain.Tasks;
using Incubator.Tests.Infrastructure;

namespace Incubator.Tests.FineTuning;

/// <summary>The pairs themselves: one approved sample per label per pair, no sample twice, the portal's prompt as input,
/// both formats valid line by line, counts on the data card, and a split that only the seed decides.</summary>
public sealed class FineTuningPairsTests
{
    private static readonly TaskSpec Task3 = new()
    {
        Name = "Support",
        Instruction = "Sort support messages.",
        Labels = [new LabelSpec { Name = "billing", Description = "Money." }, new LabelSpec { Name = "shipping", Description = "Parcels." },
            new LabelSpec { Name = "other", Description = "Anything else.", IsOther = true }],
        Preferences = new TaskPreferences { Language = "en", MaxWords = 30, Tone = "polite" },
    };

    private static List<(string Label, string Text)> Samples(int billing, int shipping, int other) =>
        Enumerable.Range(0, billing).Select(i => ("billing", $"Invoice question {i}, \"quoted\" and\ttabbed."))
            .Concat(Enumerable.Range(0, shipping).Select(i => ("shipping", $"Where is parcel {i}? 配送")))
            .Concat(Enumerable.Range(0, other).Select(i => ("other", $"Something else {i}.")))
            .ToList();

    [Fact]
    public void A_pair_holds_one_sample_of_every_label_and_no_sample_is_used_twice()
    {
        var samples = Samples(14, 20, 11);
        var t = FineTuningPairs.Build(Task3, "test", samples, seed: 5, validationShare: 0.2);
        // The rarest label decides the count; the rest stay out rather than repeating its samples.
        Assert.Equal(11, t.Pairs.Count);
        Assert.Equal(14 + 20 + 11 - 33, t.Unused);
        Assert.Equal(2, t.ValidationCount);
        Assert.Equal(9, t.TrainCount);
        var outputs = t.Pairs.Select(p => JsonSerializer.Deserialize<Dictionary<string, string>>(p.Output)!).ToList();
        Assert.All(outputs, o => Assert.Equal(["billing", "shipping", "other"], o.Keys));
        foreach (var label in new[] { "billing", "shipping", "other" })
        {
            var used = outputs.Select(o => o[label]).ToList();
            Assert.Equal(used.Count, used.Distinct().Count());
            Assert.All(used, u => Assert.Contains((label, u), samples));
        }
        // The input is the portal's own prompt for the task: labels with definitions, preferences, the output contract.
        var p0 = t.Pairs[0];
        Assert.Contains("Sort support messages.", p0.System);
        Assert.Contains("\"other\" (none of the other labels): Anything else.", p0.System);
        Assert.Contains("Tone: polite.", p0.System);
        Assert.Contains("Its keys are exactly these 3 label names", p0.System);
        Assert.EndsWith("Instruction: Sort support messages.\nOutput:", p0.User);
    }

    [Fact]
    public void A_repeated_sample_is_one_sample_and_a_text_under_two_labels_is_in_no_pair()
    {
        // A frozen dataset can hold the same text twice (an edit made two samples alike, a mined text equal to a generated
        // one): the pairs count it once, so it can never sit in both splits; a text under two labels is left out.
        var samples = Samples(3, 3, 3);
        samples.AddRange([samples[0], samples[0], samples[4], ("other", samples[1].Text)]);
        var t = FineTuningPairs.Build(Task3, "test", samples, seed: 5, validationShare: 0.2);
        Assert.Equal(3, t.Repeated);
        Assert.Equal(1, t.Conflicting);
        Assert.Equal(new Dictionary<string, int> { ["billing"] = 2, ["shipping"] = 3, ["other"] = 3 }, t.SamplesPerLabel);
        Assert.Equal(2, t.Pairs.Count);
        var used = t.Pairs.SelectMany(p => JsonSerializer.Deserialize<Dictionary<string, string>>(p.Output)!.Values).ToList();
        Assert.Equal(used.Count, used.Distinct().Count());
        Assert.DoesNotContain(samples[1].Text, used);
        var card = FineTuningPairs.DataCard([t], 5, 0.2, DateTimeOffset.UnixEpoch);
        Assert.Contains("- Support: 3 repeated samples (the same text under the same label) counted once; 1 text approved under more than one label left out", card);
        Assert.DoesNotContain("repeated sample", FineTuningPairs.DataCard([FineTuningPairs.Build(Task3, "test", Samples(3, 3, 3), 5, 0.2)], 5, 0.2, DateTimeOffset.UnixEpoch));
    }

    [Fact]
    public void The_split_and_the_pairs_depend_only_on_the_samples_and_the_seed()
    {
        var samples = Samples(30, 30, 30);
        var a = FineTuningPairs.Build(Task3, "x", samples, 7, 0.1);
        var shuffled = samples.ToArray();
        new Random(99).Shuffle(shuffled);
        var b = FineTuningPairs.Build(Task3, "x", shuffled, 7, 0.1);
        var c = FineTuningPairs.Build(Task3, "x", samples, 8, 0.1);
        Assert.Equal(a.Pairs, b.Pairs);
        Assert.NotEqual(a.Pairs.Select(p => (p.Output, p.Split)), c.Pairs.Select(p => (p.Output, p.Split)));
        Assert.Equal(3, a.ValidationCount);
    }

    [Fact]
    public void The_zip_validates_against_both_formats_and_the_card_has_the_counts()
    {
        var t = FineTuningPairs.Build(Task3, "approved.tsv", Samples(25, 22, 21), 3, 0.2);
        using var zip = new MemoryStream();
        new FineTuningExport("p.zip", [t], 3, 0.2, DateTimeOffset.UnixEpoch).WriteZip(zip);
        zip.Position = 0;
        var files = PairsFiles.Read(zip, ["billing", "shipping", "other"]);
        Assert.Equal(17, files.ChatTrain.Count);
        Assert.Equal(4, files.ChatValidation.Count);
        Assert.Equal(17, files.InstructionTrain.Count);
        Assert.Equal(4, files.InstructionValidation.Count);
        // The two formats carry the same pairs in the same order.
        Assert.Equal(files.ChatTrainOutputs, files.InstructionTrain.Select(l => l.GetProperty("output").GetString()!));
        Assert.Equal(files.ChatTrain.Select(l => l.GetProperty("messages")[0].GetProperty("content").GetString()),
            files.InstructionTrain.Select(l => l.GetProperty("instruction").GetString()));
        Assert.Contains("| Support | approved.tsv | billing 25, shipping 22, other 21 | 21 | 17 | 4 | 5 |", files.DataCard);
        Assert.Contains("Seed 3; validation share 0.20.", files.DataCard);
    }

    [Fact]
    public void A_label_without_samples_gives_no_pairs_and_a_foreign_label_is_refused()
    {
        Assert.Empty(FineTuningPairs.Build(Task3, "x", Samples(5, 5, 0), 1, 0.1).Pairs);
        var ex = Assert.Throws<DomainValidationException>(() => FineTuningPairs.Build(Task3, "x", [.. Samples(2, 2, 2), ("refund", "Give it back.")], 1, 0.1));
        Assert.Equal("PairsLabelNotInTask", ex.Details.Single().Code);
        Assert.Throws<DomainValidationException>(() => FineTuningPairs.Build(Task3, "x", Samples(2, 2, 2), 1, 0.9));
    }
}
