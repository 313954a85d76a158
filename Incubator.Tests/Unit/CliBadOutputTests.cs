using Incubator.Domain.Tasks;
using Incubator.Tests.Infrastructure;
using Incubator.Tests.Mining;

namespace Incubator.Tests.Unit;

/// <summary>A user's mistakes with the verbs' files: an --out folder that refuses new files is a usage error (exit
/// code 2, one line naming --out, no stack trace) found before any work; a run that fails while streaming leaves no
/// half-written output and an earlier output as it was; a folder given as the task file is named as such.</summary>
public sealed class CliBadOutputTests : IClassFixture<QueryModelsFixture>, IDisposable
{
    private readonly QueryModelsFixture _models;
    private readonly TempFolder _folder = new("incubator-cli-bad-output");

    public CliBadOutputTests(QueryModelsFixture models)
    {
        _models = models;
        File.WriteAllText(PathOf("task.json"), TaskJson.Serialize(MiningFixtures.EnglishTask));
        File.WriteAllLines(PathOf("pool.txt"), MiningFixtures.Billing.Concat(MiningFixtures.Shipping));
        File.WriteAllLines(PathOf("approved.tsv"), MiningFixtures.Labelled().Select(r => $"{r.Label}\t{r.Text}"));
    }

    public void Dispose() => _folder.Dispose();

    private string PathOf(string name) => Path.Combine(_folder.Path, name);

    private static void AssertOneLineUsageError((int Code, string Out, string Err) run, string says)
    {
        Assert.Equal(2, run.Code);
        var lines = run.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("error: ", lines[0]);
        Assert.Contains(says, lines[0]);
        Assert.DoesNotContain(" at ", run.Err);
    }

    [Fact]
    public async Task An_out_folder_that_refuses_new_files_is_a_usage_error_before_any_work()
    {
        // /proc exists and is a folder, but no file can be created in it (even by root, as CI runs).
        if (!OperatingSystem.IsLinux()) return;
        AssertOneLineUsageError(await CliRun.VerbAsync("mine", "--task", PathOf("task.json"), "--pool", PathOf("pool.txt"), "--per-label", "2",
            "--out", "/proc/candidates.tsv"), "--out '/proc/candidates.tsv': cannot write a file in the folder '/proc'");
        AssertOneLineUsageError(await CliRun.VerbAsync("pairs", "--data", PathOf("approved.tsv"), "--task", PathOf("task.json"),
            "--out", "/proc/pairs.zip"), "--out '/proc/pairs.zip': cannot write a file");
        AssertOneLineUsageError(await CliRun.VerbAsync("predict", "--model", _models.BundlePaths["urgency"], "--data", PathOf("approved.tsv"),
            "--out", "/proc/predictions.tsv"), "--out '/proc/predictions.tsv': cannot write a file");
    }

    [Fact]
    public async Task A_query_that_fails_while_streaming_leaves_no_output_and_an_earlier_one_as_it_was()
    {
        var corpus = PathOf("corpus.csv");
        File.WriteAllText(corpus, "id,body\n1,The server is down\n2,Thanks for the help\n");
        var hits = PathOf("hits.tsv");

        var run = await CliRun.VerbAsync("query", "--models", _models.BundlePaths["urgency"], "--expr", "urgency:urgent", "--corpus", corpus,
            "--column", "text", "--out", hits);
        Assert.Equal(2, run.Code);
        Assert.Contains("corpus.csv: There is no column 'text'. Columns: id, body.", run.Err);
        Assert.False(File.Exists(hits), "a header-only hits.tsv was left behind");

        File.WriteAllText(hits, "an earlier result\n");
        run = await CliRun.VerbAsync("query", "--models", _models.BundlePaths["urgency"], "--expr", "urgency:urgent", "--corpus", corpus,
            "--column", "text", "--out", hits);
        Assert.Equal(2, run.Code);
        Assert.Equal("an earlier result\n", File.ReadAllText(hits));
        Assert.Empty(Directory.GetFiles(_folder.Path, ".*"));

        run = await CliRun.VerbAsync("query", "--models", _models.BundlePaths["urgency"], "--expr", "urgency:urgent", "--corpus", corpus,
            "--column", "body", "--out", hits);
        Assert.Equal(0, run.Code);
        Assert.StartsWith("text\turgency:urgent\n", File.ReadAllText(hits).ReplaceLineEndings("\n"));
    }

    [Fact]
    public async Task A_folder_given_as_the_task_file_a_model_or_the_corpus_is_named_as_a_folder()
    {
        AssertOneLineUsageError(await CliRun.VerbAsync("mine", "--task", _folder.Path, "--pool", PathOf("pool.txt"), "--per-label", "2",
            "--out", PathOf("candidates.tsv")), "is a folder; give the task JSON file");
        Assert.False(File.Exists(PathOf("candidates.tsv")));
        AssertOneLineUsageError(await CliRun.VerbAsync("query", "--models", $"urgency={_folder.Path}", "--expr", "urgency:urgent", "--corpus", PathOf("pool.txt"),
            "--out", PathOf("hits.tsv")), "(model 'urgency') is a folder; give the model's zip file");
        AssertOneLineUsageError(await CliRun.VerbAsync("query", "--models", _models.BundlePaths["urgency"], "--expr", "urgency:urgent", "--corpus", _folder.Path,
            "--out", PathOf("hits.tsv")), "is a folder; give a file");
    }
}
