using Incubator.Domain.Benchmarks;
using Incubator.Domain.Training;

namespace Incubator.Tests.Training;

/// <summary>The sample sizes of the training benchmarks (training.datasets, training.peers) and the knobs that restrict
/// them to some sizes and draw several independent samples per size (decision 0019, amendment of branch cells).</summary>
public sealed class TrainingDatasetsSizesTests
{
    /// <summary>20 rows of "a", 80 of "b" and 100 of "c", each text unique.</summary>
    private static List<LabeledText> Rows() =>
        [.. Enumerable.Range(0, 200).Select(i => new LabeledText(i < 20 ? "a" : i < 100 ? "b" : "c", $"text {i}"))];

    [Fact]
    public void Without_the_knobs_the_sizes_are_8_and_64_per_class_with_seed_1_and_the_whole_split()
    {
        var train = Rows();
        var sizes = TrainingDatasets.Sizes(train, null, null);
        Assert.Equal(["8/class", "64/class", "full"], sizes.Select(s => s.Size));
        Assert.Equal(TrainingDatasets.PerClass(train, 8, 1), sizes[0].Sample);
        Assert.Equal(TrainingDatasets.PerClass(train, 64, 1), sizes[1].Sample);
        Assert.Same(train, sizes[2].Sample);
        // 8 of every label; 64 of b and c and all 20 of a.
        Assert.Equal(24, sizes[0].Sample.Count);
        Assert.Equal(20 + 64 + 64, sizes[1].Sample.Count);
        // Empty or unparsable values are the same as unset.
        Assert.Equal(sizes.Select(s => s.Size), TrainingDatasets.Sizes(train, "", "x").Select(s => s.Size));
    }

    [Fact]
    public void The_knobs_keep_the_named_sizes_and_draw_one_sample_per_seed_the_first_being_the_default_one()
    {
        var train = Rows();
        var sizes = TrainingDatasets.Sizes(train, "8, 64", "3");
        Assert.Equal(["8/class", "8/class s2", "8/class s3", "64/class", "64/class s2", "64/class s3"], sizes.Select(s => s.Size));
        Assert.Equal(TrainingDatasets.PerClass(train, 8, 1), sizes[0].Sample);
        Assert.Equal(TrainingDatasets.PerClass(train, 8, 3), sizes[2].Sample);
        // Independent samples: each seed draws other rows, with 8 of every label.
        Assert.Equal(3, sizes.Take(3).Select(s => string.Join("|", s.Sample.Select(r => r.Text))).Distinct().Count());
        Assert.All(sizes.Take(3), s => Assert.All(s.Sample.GroupBy(r => r.Label), g => Assert.Equal(8, g.Count())));

        // A range of seeds gives fresh samples beside an earlier run's; "full" is drawn once whatever the samples.
        var later = TrainingDatasets.Sizes(train, "8,full", "4-5");
        Assert.Equal(["8/class s4", "8/class s5", "full"], later.Select(s => s.Size));
        Assert.Equal(TrainingDatasets.PerClass(train, 8, 5), later[1].Sample);
        Assert.Equal((1, 1), TrainingDatasets.SampleSeeds(null));
        Assert.Equal((1, 6), TrainingDatasets.SampleSeeds("6"));
        Assert.Equal((7, 12), TrainingDatasets.SampleSeeds("7-12"));
        Assert.Equal((1, 1), TrainingDatasets.SampleSeeds("5-2"));
    }
}
