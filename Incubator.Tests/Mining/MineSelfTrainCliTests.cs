using System.Text;
using Incubator.Domain.Tasks;
using Incubator.Domain.Training;
using Incubator.Tests.Infrastructure;
using Incubator.Web.Cli;

namespace Incubator.Tests.Mining;

/// <summary>`mine --self-train`: the mined candidates and, beside them, a model bundle trained with no human label.</summary>
public sealed class MineSelfTrainCliTests : IDisposable
{
    private readonly TempFolder _folder = new("incubator-selftrain-cli");

    private string TaskFile => Path.Combine(_folder.Path, "task.json");

    private string PoolFile => Path.Combine(_folder.Path, "texts.txt");

    private string OutFile => Path.Combine(_folder.Path, "candidates.tsv");

    private string ModelFile => Path.Combine(_folder.Path, "model.zip");

    public MineSelfTrainCliTests()
    {
        File.WriteAllText(TaskFile, TaskJson.Serialize(MiningFixtures.EnglishTask));
        File.WriteAllText(PoolFile, string.Join("\n", MiningFixtures.Labelled().Select(l => l.Text)), new UTF8Encoding(false));
    }

    public void Dispose() => _folder.Dispose();

    private static async Task<(int Code, string Out, string Err)> RunAsync(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = await CliApp.RunAsync(["mine", .. args], stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public async Task Writes_candidates_and_a_bundle_that_loads_and_predicts()
    {
        var (code, output, error) = await RunAsync("--task", TaskFile, "--pool", PoolFile, "--per-label", "5", "--out", OutFile,
            "--self-train", "--model-out", ModelFile, "--rounds", "2");
        Assert.True(code == 0, error);
        Assert.True(File.Exists(OutFile));
        Assert.Contains("[self-train] round 0:", error);
        Assert.Contains("no human labels", output);

        await using var zip = File.OpenRead(ModelFile);
        using var bundle = ModelBundle.Read(zip);
        Assert.Equal(["billing", "shipping", "login", "other"], bundle.Labels);
        var predictions = bundle.Classifier.Predict([MiningFixtures.Billing[0], MiningFixtures.Shipping[0], MiningFixtures.Login[0]]);
        Assert.Equal(3, predictions.Count);
        Assert.All(predictions, p => Assert.Contains(p.Label, bundle.Labels));
        var truth = MiningFixtures.Labelled().ToList();
        var all = bundle.Classifier.Predict(truth.Select(t => t.Text).ToList());
        var accuracy = Enumerable.Range(0, truth.Count).Count(i => all[i].Label == truth[i].Label) / (double)truth.Count;
        Assert.True(accuracy > 0.5, $"the self-trained model labels the fixture better than chance over four labels (got {accuracy:0.00})");

        Assert.Contains("**No human labels**", bundle.ModelCard);
        Assert.Matches(@"\d+ mined seeds .* and \d+ pseudo-labels", bundle.ModelCard);
        Assert.Contains("Round 0:", bundle.ModelCard);
        Assert.Contains("Sort customer support messages", bundle.ModelCard);
    }

    [Theory]
    [InlineData(new[] { "--self-train" }, "--self-train needs --model-out model.zip")]
    [InlineData(new[] { "--model-out", "MODEL" }, "--model-out, --rounds and --seed go with --self-train")]
    [InlineData(new[] { "--self-train", "--model-out", "MODEL", "--rounds", "99" }, "--rounds must be a whole number from 0 to 10")]
    [InlineData(new[] { "--self-train", "--model-out", "MODEL", "--seed", "one" }, "--seed must be a whole number")]
    [InlineData(new[] { "--self-train", "--model-out", "OUT" }, "--model-out must be another file than --out")]
    [InlineData(new[] { "--self-train", "--model-out", "/no/such/folder/model.zip" }, "the folder '/no/such/folder' does not exist")]
    public async Task Bad_self_training_arguments_exit_2_with_a_clear_message(string[] extra, string message)
    {
        var args = new List<string> { "--task", TaskFile, "--pool", PoolFile, "--per-label", "5", "--out", OutFile };
        args.AddRange(extra.Select(a => a == "MODEL" ? ModelFile : a == "OUT" ? OutFile : a));
        var (code, _, error) = await RunAsync([.. args]);
        Assert.Equal(2, code);
        Assert.Contains(message, error);
        Assert.False(File.Exists(OutFile));
        Assert.False(File.Exists(ModelFile));
    }
}
