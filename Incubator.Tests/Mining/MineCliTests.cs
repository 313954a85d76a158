using System.Text;
using Incubator.Domain.Tasks;
using Incubator.Tests.Infrastructure;
using Incubator.Web.Cli;

namespace Incubator.Tests.Mining;

/// <summary>The `mine` verb in-process (the executable's entry point): offline candidates from a pool file.</summary>
public sealed class MineCliTests : IDisposable
{
    private readonly TempFolder _folder = new("incubator-mine-cli");

    private string TaskFile => Path.Combine(_folder.Path, "task.json");

    private string PoolFile => Path.Combine(_folder.Path, "texts.txt");

    private string OutFile => Path.Combine(_folder.Path, "candidates.tsv");

    public MineCliTests()
    {
        File.WriteAllText(TaskFile, TaskJson.Serialize(MiningFixtures.EnglishTask));
        var lines = MiningFixtures.Labelled().Select(l => l.Text).Concat(["", MiningFixtures.Billing[0]]);
        File.WriteAllText(PoolFile, string.Join("\n", lines), new UTF8Encoding(false));
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
    public async Task Writes_label_tab_text_rows_and_a_summary()
    {
        var (code, output, error) = await RunAsync("--task", TaskFile, "--pool", PoolFile, "--per-label", "4", "--out", OutFile);
        Assert.True(code == 0, error);
        var rows = (await File.ReadAllLinesAsync(OutFile)).Select(l => l.Split('\t')).ToList();
        Assert.All(rows, r => Assert.Equal(2, r.Length));
        foreach (var label in new[] { "billing", "shipping", "login" }) Assert.Equal(4, rows.Count(r => r[0] == label));
        Assert.InRange(rows.Count(r => r[0] == "other"), 1, 4);
        var truth = MiningFixtures.Labelled().ToDictionary(l => l.Text, l => l.Label);
        Assert.True(rows.Where(r => r[0] != "other").Count(r => truth[r[1]] == r[0]) >= 11, "at least 11 of 12 rows carry their true label");
        Assert.Contains("1 duplicates", output);
        Assert.Contains("1 bad rows", output);
        Assert.Contains("embedder all-MiniLM-L6-v2", output);
        Assert.Contains("billing 4, shipping 4, login 4", output);
    }

    [Theory]
    [InlineData("--per-label", "0", "--per-label must be a whole number")]
    [InlineData("--per-label", "many", "--per-label must be a whole number")]
    [InlineData("--margin", "2", "--margin must be a number from 0 to 1")]
    [InlineData("--pool", "/no/such/file.txt", "does not exist")]
    [InlineData("--colour", "red", "Unknown option(s): --colour")]
    public async Task Bad_arguments_exit_2_with_a_clear_message(string option, string value, string message)
    {
        var args = new Dictionary<string, string> { ["--task"] = TaskFile, ["--pool"] = PoolFile, ["--per-label"] = "3", ["--out"] = OutFile };
        args[option] = value;
        var (code, _, error) = await RunAsync(args.SelectMany(kv => new[] { kv.Key, kv.Value }).ToArray());
        Assert.Equal(2, code);
        Assert.Contains(message, error);
        Assert.False(File.Exists(OutFile));
    }

    [Fact]
    public async Task A_missing_required_option_names_it()
    {
        var (code, _, error) = await RunAsync("--task", TaskFile, "--per-label", "3", "--out", OutFile);
        Assert.Equal(2, code);
        Assert.Contains("--pool is required", error);
    }
}
