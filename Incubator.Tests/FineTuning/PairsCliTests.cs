using System.Text;
using System.Text.Json;
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
    public async Task A_row_given_twice_is_one_sample_and_never_in_both_splits()
    {
        // Two approved files put together: every row twice.
        File.AppendAllText(DataFile, File.ReadAllText(DataFile));
        var (code, output, error) = await RunAsync("--data", DataFile, "--task", TaskFile, "--validation-share", "0.2", "--out", OutFile);
        Assert.True(code == 0, error);
        Assert.Contains("billing 10, shipping 10", output);
        Assert.Contains($"read 40 rows from {DataFile} (utf-8): billing 10, shipping 10; 20 duplicate rows skipped", output);
        Assert.Contains("10 pairs (8 train, 2 validation)", output);
        await using var zip = File.OpenRead(OutFile);
        var files = PairsFiles.Read(zip, ["billing", "shipping"]);
        var samples = files.ChatTrain.Concat(files.ChatValidation)
            .SelectMany(l => JsonDocument.Parse(l.GetProperty("messages")[2].GetProperty("content").GetString()!).RootElement.EnumerateObject().Select(p => p.Value.GetString()))
            .ToList();
        Assert.Equal(20, samples.Count);
        Assert.Equal(samples.Count, samples.Distinct().Count());
    }

    [Fact]
    public async Task A_text_under_two_labels_is_refused_naming_both_lines()
    {
        File.AppendAllText(DataFile, $"shipping\t{File.ReadLines(DataFile).First(l => l.StartsWith("billing\t", StringComparison.Ordinal))[8..]}\n");
        var first = File.ReadLines(DataFile).ToList().FindIndex(l => l.StartsWith("billing\t", StringComparison.Ordinal)) + 1;
        var (code, _, error) = await RunAsync("--data", DataFile, "--task", TaskFile, "--out", OutFile);
        Assert.Equal(2, code);
        Assert.Contains($"approved.tsv, line 21: the same text as line {first} with another label ('billing' there, 'shipping' here)", error);
        Assert.False(File.Exists(OutFile));
    }

    [Fact]
    public async Task An_output_that_is_the_data_file_is_refused_and_the_data_kept()
    {
        var before = File.ReadAllText(DataFile);
        var (code, _, error) = await RunAsync("--data", DataFile, "--task", TaskFile, "--out", DataFile);
        Assert.Equal(2, code);
        Assert.Contains($"--out '{DataFile}' is the --data file", error);
        Assert.Equal(before, File.ReadAllText(DataFile));
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
    [InlineData("--shuffle", "yes", "Unknown option: --shuffle")]
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

    /// <summary>enc22: the read line names the encoding detected (Windows-1252 here) and counts in words.</summary>
    [Fact]
    public async Task The_read_line_names_a_legacy_encoding_and_counts_one_duplicate_in_words()
    {
        var rows = TrainingSeed.MailSamples(10).Select(r => $"{r.Label}\t{r.Text} — café").ToList();
        rows.Add(rows[0]);
        File.WriteAllBytes(DataFile, CodePagesEncodingProvider.Instance.GetEncoding(1252)!.GetBytes(string.Join("\n", rows) + "\n"));
        var (code, output, error) = await RunAsync("--data", DataFile, "--task", TaskFile, "--out", OutFile);
        Assert.True(code == 0, error);
        Assert.Contains($"read 21 rows from {DataFile} (windows-1252: not valid UTF-8 at byte ", output);
        Assert.Contains("billing 10, shipping 10; 1 duplicate row skipped", output);
    }
}
