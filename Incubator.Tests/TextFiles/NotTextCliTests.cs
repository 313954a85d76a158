using Incubator.Domain.Tasks;
using Incubator.Tests.Infrastructure;
using Incubator.Tests.Mining;
using Incubator.Web.Cli;

namespace Incubator.Tests.TextFiles;

/// <summary>Every verb that reads a file refuses one that is not text with exit code 2, the file's name, the problem
/// and where it is, and writes nothing.</summary>
public sealed class NotTextCliTests : IClassFixture<QueryModelsFixture>, IDisposable
{
    private readonly QueryModelsFixture _models;
    private readonly TempFolder _folder = new("incubator-nottext-cli");

    public NotTextCliTests(QueryModelsFixture models)
    {
        _models = models;
        File.WriteAllText(PathOf("task.json"), TaskJson.Serialize(MiningFixtures.EnglishTask));
    }

    public void Dispose() => _folder.Dispose();

    private string PathOf(string name) => Path.Combine(_folder.Path, name);

    private string Input(string kind, string name)
    {
        var path = PathOf(name);
        File.WriteAllBytes(path, BinaryFiles.Of(kind));
        return path;
    }

    private static async Task<(int Code, string Err)> RunAsync(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = await CliApp.RunAsync(args, stdout, stderr);
        return (code, stderr.ToString());
    }

    private void AssertRefused((int Code, string Err) run, string file, string says, string output)
    {
        Assert.Equal(2, run.Code);
        Assert.Contains($"error: {file}: ", run.Err);
        Assert.Contains(says, run.Err);
        Assert.False(File.Exists(PathOf(output)), $"{output} was written");
        Assert.Empty(Directory.GetFiles(_folder.Path, "*.tmp"));
    }

    [Theory]
    [MemberData(nameof(BinaryFiles.Kinds), MemberType = typeof(BinaryFiles))]
    public async Task Train_predict_mine_and_query_refuse_inputs_that_are_not_text(string kind, string code, string says)
    {
        _ = code;
        var data = Input(kind, "data.tsv");
        AssertRefused(await RunAsync("train", "--data", data, "--out", PathOf("model.zip")), "data.tsv", says, "model.zip");
        AssertRefused(await RunAsync("predict", "--model", _models.BundlePaths["urgency"], "--data", data, "--out", PathOf("predictions.tsv")),
            "data.tsv", says, "predictions.tsv");

        var pool = Input(kind, "pool.txt");
        AssertRefused(await RunAsync("mine", "--task", PathOf("task.json"), "--pool", pool, "--per-label", "2", "--out", PathOf("candidates.tsv")),
            "pool.txt", says, "candidates.tsv");
        AssertRefused(await RunAsync("query", "--models", _models.BundlePaths["urgency"], "--expr", "urgency:urgent", "--corpus", pool, "--out", PathOf("hits.tsv")),
            "pool.txt", says, "hits.tsv");
    }

    [Fact]
    public async Task A_task_file_that_is_not_text_is_refused_before_anything_runs()
    {
        var task = Input("png", "task.json");
        var pool = PathOf("pool.txt");
        File.WriteAllText(pool, "a text\n");
        AssertRefused(await RunAsync("mine", "--task", task, "--pool", pool, "--per-label", "2", "--out", PathOf("candidates.tsv")),
            "task.json", "PNG image", "candidates.tsv");
        AssertRefused(await RunAsync("generate", "--task", task, "--endpoint", "http://127.0.0.1:9/v1", "--model", "m", "--per-label", "2", "--out", PathOf("samples.tsv")),
            "task.json", "PNG image", "samples.tsv");
    }
}
