using System.Text;
using Incubator.Domain.Tasks;
using Incubator.Tests.Infrastructure;

namespace Incubator.Tests.FineTuning;

/// <summary>The `pairs` verb in-process: the TSV `train` reads and the task JSON in, the same zip as the portal out.</summary>
public sealed class PairsCliTests : IDisposable
{
    private readonly TempFolder _folder = new("incubator-pairs-cli");

    private string TaskFile => Path.Combine(_folder.Path, "task.json");

    private string DataFile => Path.Combine(_folder.Path, "approved.tsv");

    private string OutFile => Path.Combine(_folder.Path, "pairs.zip");

    public PairsCliTests()
    {
        File.WriteAllText(TaskFile, TaskJson.Serialize(ReviewSeed.MailTask));
        File.WriteAllText(DataFile, string.Join("\n", TrainingSeed.MailSamples(10).Select(r => $"{r.Label}\t{r.Text}")) + "\n", new UTF8Encoding(false));
    }

    public void Dispose() => _folder.Dispose();

    private static Task<(int Code, string Out, string Err)> RunAsync(params string[] args) => CliRun.VerbAsync("pairs", args);

    [Fact]
    public async Task Writes_the_zip_with_counts_and_a_seeded_split()
    {
        var (code, output, error) = await RunAsync("--data", DataFile, "--task", TaskFile, "--seed", "3", "--validation-share", "0.2", "--out", OutFile);
        Assert.True(code == 0, error);
        Assert.Contains("billing 10, shipping 10", output);
        Assert.Contains("10 pairs (8 train, 2 validation), 0 samples unused", output);
        PairsFiles first;
        await using (var zip = File.OpenRead(OutFile)) first = PairsFiles.Read(zip, ["billing", "shipping"]);
        Assert.Equal(8, first.InstructionTrain.Count);
        Assert.Equal(2, first.InstructionValidation.Count);

        Assert.Equal(0, (await RunAsync("--data", DataFile, "--task", TaskFile, "--seed", "3", "--validation-share", "0.2", "--out", OutFile)).Code);
        await using (var zip = File.OpenRead(OutFile)) Assert.Equal(first.ChatTrainOutputs, PairsFiles.Read(zip, ["billing", "shipping"]).ChatTrainOutputs);
    }

    [Fact]
    public async Task Rows_with_a_label_the_task_lacks_name_the_line()
    {
        File.AppendAllText(DataFile, "refund\tGive me my money back.\n");
        var (code, _, error) = await RunAsync("--data", DataFile, "--task", TaskFile, "--out", OutFile);
        Assert.Equal(2, code);
        Assert.Contains("approved.tsv, line 21: label 'refund' is not one of the task's labels (billing, shipping)", error);
        Assert.False(File.Exists(OutFile));
    }

    [Fact]
    public async Task A_label_without_rows_is_refused()
    {
        File.WriteAllText(DataFile, "billing\tAn invoice.\nbilling\tA refund.\n");
        var (code, _, error) = await RunAsync("--data", DataFile, "--task", TaskFile, "--out", OutFile);
        Assert.Equal(2, code);
        Assert.Contains("no rows for shipping", error);
        Assert.False(File.Exists(OutFile));
    }

    [Theory]
    [InlineData("--seed", "x", "--seed must be a whole number")]
    [InlineData("--validation-share", "0.9", "--validation-share must be a number from 0.05 to 0.5")]
    [InlineData("--data", "/no/such/file.tsv", "file not found")]
    [InlineData("--shuffle", "yes", "Unknown option(s): --shuffle")]
    public async Task Bad_arguments_exit_2_with_a_clear_message(string option, string value, string message)
    {
        var args = new Dictionary<string, string> { ["--data"] = DataFile, ["--task"] = TaskFile, ["--out"] = OutFile };
        args[option] = value;
        var (code, _, error) = await RunAsync(args.SelectMany(kv => new[] { kv.Key, kv.Value }).ToArray());
        Assert.Equal(2, code);
        Assert.Contains(message, error);
        Assert.False(File.Exists(OutFile));
    }

    [Fact]
    public async Task A_missing_task_option_names_it()
    {
        var (code, _, error) = await RunAsync("--data", DataFile, "--out", OutFile);
        Assert.Equal(2, code);
        Assert.Contains("--task is required", error);
    }
}
