using System.Text.Json;
using Incubator.Domain.Tasks;
using Incubator.Tests.Fakes;
using Incubator.Tests.Infrastructure;
using Incubator.Web.Cli;

namespace Incubator.Tests.Generation;

/// <summary>The `generate` verb in-process (CliApp.RunAsync, the same entry point as the executable) against the fake
/// OpenAI-compatible server: rows written, the summary printed, and argument errors.</summary>
public sealed class GenerateCliTests : IAsyncLifetime
{
    private static readonly string[] Labels = ["請求", "配送", "解約"];
    private readonly TempFolder _folder = new("incubator-generate-cli");
    private FakeOpenAiServer _server = null!;
    private int _calls;

    private string TaskFile => Path.Combine(_folder.Path, "task.json");

    private string OutFile => Path.Combine(_folder.Path, "samples.tsv");

    public async Task InitializeAsync()
    {
        _server = await FakeOpenAiServer.StartAsync();
        // Call n (after any scripted replies) writes sample n for every label.
        _server.DefaultResponder = r => FakeSamples.Reply(r, FakeSamples.Answer(Interlocked.Increment(ref _calls) + 100, Labels), promptTokens: 50, completionTokens: 30);
        await File.WriteAllTextAsync(TaskFile, TaskJson.Serialize(FakeSamples.Spec(Labels)));
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _folder.Dispose();
    }

    private async Task<(int Code, string Out, string Err)> RunAsync(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = await CliApp.RunAsync(["generate", .. args], stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private string[] Args(string perLabel = "3", string oversample = "1") =>
        ["--task", TaskFile, "--endpoint", _server.OpenAIEndpoint, "--model", "fake", "--per-label", perLabel, "--oversample", oversample,
            "--concurrency", "1", "--out", OutFile];

    [Fact]
    public async Task Writes_label_tab_text_rows_and_prints_the_summary()
    {
        // 1: no JSON at all; 2: an unknown key beside the three labels, with a line break and a tab inside one text;
        // then two ordinary answers. Oversampling 1 keeps every accepted sample, so the odd one is written.
        var odd = "一行目の文です\n二行目\tタブの後です。";
        _server.Enqueue(
            FakeReply.Stream(["すみません、JSONは書けません。"], promptTokens: 50, completionTokens: 30),
            FakeReply.Stream([JsonSerializer.Serialize(new Dictionary<string, string>
            {
                [Labels[0]] = odd, [Labels[1]] = FakeSamples.Sentence(1, 1), [Labels[2]] = FakeSamples.Sentence(1, 2), ["返品"] = "返品したいです。",
            })], promptTokens: 50, completionTokens: 30));

        var (code, stdout, stderr) = await RunAsync(Args());

        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        var lines = await File.ReadAllLinesAsync(OutFile);
        Assert.Equal(9, lines.Length);
        var rows = lines.Select(l => l.Split('\t')).ToList();
        Assert.All(rows, r => Assert.Equal(2, r.Length));
        Assert.All(rows, r => Assert.Contains(r[0], Labels));
        Assert.All(rows, r => Assert.False(string.IsNullOrWhiteSpace(r[1])));
        foreach (var label in Labels) Assert.Equal(3, rows.Count(r => r[0] == label));
        // Rows come grouped in the task's label order.
        Assert.Equal(Labels.SelectMany(l => Enumerable.Repeat(l, 3)), rows.Select(r => r[0]));
        Assert.Contains(rows, r => r[1] == "一行目の文です 二行目 タブの後です。");
        Assert.Equal(rows.Count, rows.Select(r => r[1]).Distinct().Count());

        Assert.Equal(4, _server.ChatRequests.Count);
        var summary = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal($"accepted 9 (9 written to {OutFile}, 0 in reserve)", summary[0]);
        Assert.StartsWith("rejected 2: ", summary[1]);
        Assert.Equal(["UnknownLabel 1", "Unparseable 1"], summary[1]["rejected 2: ".Length..].Split(", ").Order());
        Assert.Equal("tokens 200 in, 120 out; 4 calls (0 failed)", summary[2]);
        Assert.Matches(@"^seconds \d+\.\d$", summary[3]);
        Assert.Equal(4, summary.Length);
        Assert.Equal("", stderr);
    }

    /// <summary>http:// to another machine with a key: one warning line on stderr, first, naming the host and not the key;
    /// the exit code is the run's (here the host cannot be reached: the same code as the same run without a key).
    /// With a key to the local fake server (loopback), or with no key, no warning.</summary>
    [Fact]
    public async Task A_key_sent_over_http_to_another_machine_is_warned_about_on_stderr_and_the_exit_code_is_unchanged()
    {
        string[] Remote(params string[] more)
        {
            var args = Args().ToList();
            args[args.IndexOf("--endpoint") + 1] = "http://llm-box.invalid:8000/v1";
            return [.. args, "--endpoint-wait", "1", "--max-attempts", "1", .. more];
        }

        var (withKey, _, stderr) = await RunAsync(Remote("--api-key", "sk-cli-secret-777"));
        var (withoutKey, _, stderrWithoutKey) = await RunAsync(Remote());

        Assert.Equal(
            "warning: --endpoint is http://, so the API key is sent unencrypted to llm-box.invalid. Use https, or leave the key out if the server needs none.",
            stderr.Split('\n')[0].TrimEnd('\r'));
        Assert.Single(stderr.Split('\n'), l => l.StartsWith("warning: --endpoint is http://", StringComparison.Ordinal));
        Assert.DoesNotContain("sk-cli-secret-777", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("unencrypted", stderrWithoutKey, StringComparison.Ordinal);
        Assert.Equal(withoutKey, withKey);
        Assert.Equal(GenerateVerb.Failed, withKey);

        var (code, stdout, local) = await RunAsync([.. Args(), "--api-key", "sk-cli-secret-777"]);
        Assert.True(code == 0, $"exit {code}\n{stdout}\n{local}");
        Assert.Equal("", local);
    }

    [Fact]
    public async Task Json_flag_prints_a_parseable_summary()
    {
        var (code, stdout, stderr) = await RunAsync([.. Args(perLabel: "2", oversample: "2"), "--json"]);

        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        // Goal 4 per label, one sample per label per call: 4 calls, 12 accepted, 2 per label written, 6 in reserve.
        Assert.Equal(12, root.GetProperty("accepted").GetInt32());
        Assert.Equal(6, root.GetProperty("written").GetInt32());
        Assert.Equal(6, root.GetProperty("reserve").GetInt32());
        Assert.Equal(JsonValueKind.Object, root.GetProperty("rejected").ValueKind);
        Assert.Empty(root.GetProperty("rejected").EnumerateObject());
        Assert.Equal(200, root.GetProperty("inputTokens").GetInt64());
        Assert.Equal(120, root.GetProperty("outputTokens").GetInt64());
        Assert.Equal(4, root.GetProperty("calls").GetInt32());
        Assert.Equal(0, root.GetProperty("failedCalls").GetInt32());
        Assert.True(root.GetProperty("seconds").GetDouble() >= 0);
        Assert.Equal(JsonValueKind.Null, root.GetProperty("stopReason").ValueKind);
        Assert.Equal(Path.GetFullPath(OutFile), root.GetProperty("output").GetString());
        Assert.Equal(6, (await File.ReadAllLinesAsync(OutFile)).Length);
    }

    /// <summary>A credential in --endpoint (user:password@, or a key or token in the query) is refused before any call,
    /// and the refusal does not print it (it would land in shell logs and CI output).</summary>
    [Theory]
    [InlineData("http://user:s3cr3t-pw@HOST/v1")]
    [InlineData("http://HOST/v1?api-key=s3cr3t-pw")]
    [InlineData("http://HOST/v1?api-version=1&Token=s3cr3t-pw")]
    [InlineData("http://HOST/v1?SIG=s3cr3t-pw")]
    [InlineData("ftp://user:s3cr3t-pw@HOST/v1")]
    public async Task An_endpoint_carrying_a_credential_exits_2_without_echoing_it(string endpoint)
    {
        var args = Args().ToList();
        args[args.IndexOf("--endpoint") + 1] = endpoint.Replace("HOST", new Uri(_server.OpenAIEndpoint).Authority, StringComparison.Ordinal);

        var (code, stdout, stderr) = await RunAsync([.. args]);

        Assert.Equal(2, code);
        Assert.Contains("--api-key", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cr3t-pw", stdout + stderr, StringComparison.Ordinal);
        Assert.Equal(0, _calls);
        Assert.False(File.Exists(OutFile));
    }

    public static TheoryData<string, string> BadArguments => new()
    {
        { "no-endpoint", "--endpoint is required" },
        { "per-label-zero", "--per-label must be a whole number from 1 to 10000 (got '0')" },
        { "per-label-word", "--per-label must be a whole number from 1 to 10000 (got 'many')" },
        { "unknown-option", "Unknown option: --colour" },
        { "missing-task-file", "Cannot read the task file" },
        { "task-is-a-folder", "is a folder; give the task JSON file" },
        { "malformed-json", "The task JSON is not valid JSON" },
        { "one-label", "is not valid" },
        { "out-folder-missing", "does not exist" },
        { "out-is-a-folder", "is a folder" },
        { "endpoint-wait-zero", "--endpoint-wait must be a number of seconds from 1 to 86400 (got '0')" },
        { "max-attempts-too-many", "--max-attempts must be a whole number from 1 to 10 (got '11')" },
    };

    [Theory]
    [MemberData(nameof(BadArguments))]
    public async Task Bad_arguments_exit_2_with_a_clear_message_and_write_nothing(string problem, string message)
    {
        var args = Args().ToList();
        void Set(string option, string value) => args[args.IndexOf(option) + 1] = value;
        switch (problem)
        {
            case "no-endpoint":
                args.RemoveRange(args.IndexOf("--endpoint"), 2);
                break;
            case "per-label-zero":
                Set("--per-label", "0");
                break;
            case "per-label-word":
                Set("--per-label", "many");
                break;
            case "unknown-option":
                args.AddRange(["--colour", "red"]);
                break;
            case "missing-task-file":
                Set("--task", Path.Combine(_folder.Path, "nowhere.json"));
                break;
            case "task-is-a-folder":
                Set("--task", _folder.Path);
                break;
            case "malformed-json":
                await File.WriteAllTextAsync(TaskFile, "{ \"name\": \"broken\", ");
                break;
            case "out-folder-missing":
                Set("--out", Path.Combine(_folder.Path, "missing", "samples.tsv"));
                break;
            case "out-is-a-folder":
                Directory.CreateDirectory(Path.Combine(_folder.Path, "samples.tsv"));
                break;
            case "endpoint-wait-zero":
                args.AddRange(["--endpoint-wait", "0"]);
                break;
            case "max-attempts-too-many":
                args.AddRange(["--max-attempts", "11"]);
                break;
            case "one-label":
                await File.WriteAllTextAsync(TaskFile, TaskJson.Serialize(FakeSamples.Spec("請求")));
                break;
        }

        var (code, stdout, stderr) = await RunAsync([.. args]);

        Assert.True(code == 2, $"exit {code}\n{stdout}\n{stderr}");
        Assert.Contains(message, stderr);
        Assert.StartsWith("error: ", stderr);
        Assert.False(File.Exists(OutFile));
        Assert.False(Directory.Exists(Path.Combine(_folder.Path, "missing")));
        // Nothing was paid for: the arguments are checked before the first call.
        Assert.Empty(_server.ChatRequests);
    }
}
