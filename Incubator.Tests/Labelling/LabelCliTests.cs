using Incubator.Domain.Tasks;
using Incubator.Tests.Fakes;
using Incubator.Tests.Infrastructure;
using Incubator.Tests.Mining;
using Incubator.Web.Cli;

namespace Incubator.Tests.Labelling;

/// <summary>The `label` verb in-process (the executable's entry point) against the fake OpenAI-compatible server.</summary>
public sealed class LabelCliTests : IAsyncLifetime
{
    private readonly TempFolder _folder = new("incubator-label-cli");
    private FakeOpenAiServer _server = null!;

    private string TaskFile => Path.Combine(_folder.Path, "task.json");

    private string CorpusFile => Path.Combine(_folder.Path, "texts.txt");

    private string OutFile => Path.Combine(_folder.Path, "labelled.tsv");

    public async Task InitializeAsync()
    {
        _server = await FakeOpenAiServer.StartAsync();
        _server.DefaultResponder = LabellingFixture.Answer;
        await File.WriteAllTextAsync(TaskFile, TaskJson.Serialize(MiningFixtures.EnglishTask));
        await File.WriteAllLinesAsync(CorpusFile, LabellingFixture.Texts);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _folder.Dispose();
    }

    private static Task<(int Code, string Out, string Err)> RunAsync(params string[] args) => CliRun.VerbAsync("label", args);

    private string[] Args(params string[] more) =>
        ["--task", TaskFile, "--corpus", CorpusFile, "--endpoint", _server.OpenAIEndpoint, "--model", "fake", "--out", OutFile, .. more];

    [Fact]
    public async Task Labels_every_text_in_batches_and_writes_the_labelled_rows()
    {
        var (code, stdout, stderr) = await RunAsync(Args("--batch-size", "5"));

        Assert.True(code == 0, stdout + stderr);
        Assert.Equal(3, _server.ChatRequests.Count);
        var rows = (await File.ReadAllLinesAsync(OutFile)).Select(l => l.Split('\t')).ToList();
        Assert.Equal(LabellingFixture.Labelled, rows.Count);
        Assert.All(rows, r => Assert.Equal(LabellingFixture.AnswerFor(r[1])!.ToLowerInvariant(), r[0]));
        Assert.Contains($"labelled {LabellingFixture.Labelled} (", stdout);
        // 12 texts went out in 3 calls, 9 came back labelled: no line may say 12 were labelled.
        Assert.Contains("chose 12 of 12 texts; 12 sent in 3 calls", stdout);
        Assert.DoesNotContain("12 labelled", stdout);
        Assert.Contains("none of these 1", stdout);
        Assert.Contains("rejected 5: UnknownLabel 1, UnknownId 3, MissingId 1", stdout);
    }

    /// <summary>Before: exit 0, "labelled 0 … written" and an empty file over the earlier output.</summary>
    [Fact]
    public async Task Every_text_answered_none_of_these_exits_3_and_keeps_the_earlier_output()
    {
        _server.DefaultResponder = r => FakeReply.Completion(System.Text.Json.JsonSerializer.Serialize(LabellingFixture.TextsOf(r).Keys.ToDictionary(k => k, _ => "none")));
        await File.WriteAllTextAsync(OutFile, "billing\tan earlier row\n");

        var (code, stdout, stderr) = await RunAsync(Args("--batch-size", "5"));

        Assert.Equal(LabelVerb.Failed, code);
        Assert.Contains("failed: the model labelled none of the 12 texts sent: 12 none of these, 0 rejected; nothing written to", stderr);
        Assert.Contains("labelled 0 (0 as the miner, 0 unlike it); nothing written", stdout);
        Assert.Equal("billing\tan earlier row\n", await File.ReadAllTextAsync(OutFile));
    }

    [Fact]
    public async Task A_corpus_in_utf16_without_a_byte_order_mark_or_shift_jis_is_read_and_the_summary_names_the_encoding()
    {
        var corpus = Path.Combine(_folder.Path, "texts-utf16.txt");
        await File.WriteAllBytesAsync(corpus, new System.Text.UnicodeEncoding(false, false).GetBytes(string.Join('\n', LabellingFixture.Texts) + "\n"));
        var args = Args("--batch-size", "5").ToList();
        args[args.IndexOf("--corpus") + 1] = corpus;
        var (code, stdout, stderr) = await RunAsync([.. args]);
        Assert.True(code == 0, stdout + stderr);
        Assert.Contains($"read {LabellingFixture.Texts.Length} rows from {corpus} (utf-16le): {LabellingFixture.Texts.Length} distinct texts", stdout);
        Assert.Equal(LabellingFixture.Labelled, (await File.ReadAllLinesAsync(OutFile)).Length);

        // The same texts after a Japanese one, saved as Shift_JIS: the first byte that is not UTF-8 is where it switched.
        System.Text.Encoding.RegisterProvider(System.Text.CodePagesEncodingProvider.Instance);
        var sjis = System.Text.Encoding.GetEncoding(932).GetBytes(string.Join('\n', LabellingFixture.Texts) + "\n荷物がまだ届きません。\n");
        await File.WriteAllBytesAsync(corpus, sjis);
        (code, stdout, stderr) = await RunAsync([.. args]);
        Assert.True(code == 0, stdout + stderr);
        var at = Array.IndexOf(sjis, (byte)0x89); // 荷
        Assert.Contains($"read {LabellingFixture.Texts.Length + 1} rows from {corpus} (shift_jis: not valid UTF-8 at byte {at}, read as shift_jis)", stdout);
    }

    [Fact]
    public async Task A_jsonl_corpus_is_read_from_the_field_named_and_the_summary_says_what_was_read()
    {
        // Texts under "body", one of them twice, and a row without it.
        var corpus = Path.Combine(_folder.Path, "tickets.jsonl");
        var lines = LabellingFixture.Texts.Select((t, i) => System.Text.Json.JsonSerializer.Serialize(new { id = i, body = t }))
            .Append(System.Text.Json.JsonSerializer.Serialize(new { id = 99, body = LabellingFixture.Texts[0] }))
            .Append("{\"id\": 100}");
        await File.WriteAllLinesAsync(corpus, lines);
        var args = Args("--batch-size", "5").ToList();
        args[args.IndexOf("--corpus") + 1] = corpus;

        var (code, stdout, stderr) = await RunAsync([.. args, "--field", "body"]);

        Assert.True(code == 0, stdout + stderr);
        Assert.Contains("read 14 rows from " + corpus + " (utf-8): 12 distinct texts, 1 duplicate, 1 bad row", stdout);
        Assert.Contains("  line 14: MissingField (no field 'body')", stdout);
        Assert.Contains("chose 12 of 12 texts", stdout);
        Assert.Equal(LabellingFixture.Labelled, (await File.ReadAllLinesAsync(OutFile)).Length);

        // Without --field no row has a text: the error says why, by line, and what to do.
        (code, _, stderr) = await RunAsync([.. args]);
        Assert.Equal(2, code);
        Assert.Contains("error: tickets.jsonl, line 1: no field 'text'", stderr);
        Assert.Contains("--field", stderr);
    }

    [Fact]
    public async Task A_limit_labels_a_stratified_sample_and_a_budget_stops_short()
    {
        var (code, stdout, stderr) = await RunAsync(Args("--limit", "6"));
        Assert.True(code == 0, stdout + stderr);
        var sent = LabellingFixture.TextsOf(Assert.Single(_server.ChatRequests)).Values.ToList();
        Assert.Equal(6, sent.Distinct().Count());
        Assert.Contains("chose 6 of 12 texts (stratified by the miner's labels)", stdout);

        (code, stdout, _) = await RunAsync(Args("--batch-size", "5", "--budget-tokens", "18"));
        Assert.Equal(LabelVerb.StoppedShort, code);
        Assert.Equal(2, _server.ChatRequests.Count); // one more call: the budget was reached by it
        Assert.Contains("Stopped short: the budget was reached after 5 of 12 texts.", stdout);
        Assert.DoesNotContain("stopped short: Stopped short", stdout, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_failure_after_some_batches_keeps_the_rows_already_paid_for_and_exits_3()
    {
        var calls = 0;
        // The first batch is answered; then the endpoint refuses the key (a failure at once, no waiting).
        _server.DefaultResponder = r => Interlocked.Increment(ref calls) == 1 ? LabellingFixture.Answer(r) : FakeReply.Error(401, "key revoked", type: "invalid_request_error");

        var (code, stdout, stderr) = await RunAsync(Args("--batch-size", "5"));

        Assert.True(code == LabelVerb.Failed, stdout + stderr);
        var first = LabellingFixture.TextsOf(_server.ChatRequests[0]).Values.ToList();
        var expected = first.Where(t => LabellingFixture.AnswerFor(t) is { } a && a != "none" && a != "music").ToList();
        var rows = (await File.ReadAllLinesAsync(OutFile)).Select(l => l.Split('\t')).ToList();
        Assert.Equal(expected, rows.Select(r => r[1]));
        Assert.All(rows, r => Assert.Equal(LabellingFixture.AnswerFor(r[1])!.ToLowerInvariant(), r[0]));
        Assert.Contains($"labelled {expected.Count} (", stdout);
        Assert.Contains("failed:", stdout + stderr);
    }

    /// <summary>http:// to another machine with a key: one warning line on stderr naming the host and not the key, before
    /// the first call; the exit code is the run's (the same as the same run without a key).</summary>
    [Fact]
    public async Task A_key_sent_over_http_to_another_machine_is_warned_about_on_stderr_and_the_exit_code_is_unchanged()
    {
        string[] Remote(params string[] more)
        {
            var args = Args("--batch-size", "5", "--endpoint-wait", "1", "--max-attempts", "1").ToList();
            args[args.IndexOf("--endpoint") + 1] = "http://192.0.2.10.invalid:8000/v1";
            return [.. args, .. more];
        }

        var (withKey, _, stderr) = await RunAsync(Remote("--api-key", "sk-cli-secret-777"));
        var (withoutKey, _, stderrWithoutKey) = await RunAsync(Remote());

        Assert.Equal(
            "warning: --endpoint is http://, so the API key is sent unencrypted to 192.0.2.10.invalid. Use https, or leave the key out if the server needs none.",
            stderr.Split('\n')[0].TrimEnd('\r'));
        Assert.Single(stderr.Split('\n'), l => l.StartsWith("warning: --endpoint is http://", StringComparison.Ordinal));
        Assert.DoesNotContain("sk-cli-secret-777", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("unencrypted", stderrWithoutKey, StringComparison.Ordinal);
        Assert.Equal(withoutKey, withKey);
        Assert.Equal(LabelVerb.Failed, withKey);

        // The local fake server is loopback: a key sent there is not warned about.
        var (code, stdout, local) = await RunAsync(Args("--batch-size", "5", "--api-key", "sk-cli-secret-777"));
        Assert.True(code == LabelVerb.Completed, stdout + local);
        Assert.DoesNotContain("unencrypted", local, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_failure_before_any_answer_writes_nothing()
    {
        _server.DefaultResponder = _ => FakeReply.Error(401, "bad key", type: "invalid_request_error");

        var (code, stdout, stderr) = await RunAsync(Args());

        Assert.True(code == LabelVerb.Failed, stdout + stderr);
        Assert.False(File.Exists(OutFile));
        Assert.Contains("nothing written", stdout);
    }

    /// <summary>As a user runs it (the built executable): stdout holds the summary and nothing else, so it can be read by a
    /// script; the LLM client's log lines (a token count per call, a retry) go to stderr, and no Information line is logged.</summary>
    [Fact]
    public async Task The_executable_keeps_log_lines_off_stdout()
    {
        _server.Enqueue(FakeReply.Error(500, "overloaded")); // one retry: a warning worth logging
        using var app = AppProcess.Start("label", ["label", .. Args("--batch-size", "5", "--max-attempts", "3")], new Dictionary<string, string>(), _folder.Path);

        var exit = await app.WaitForExitAsync(TimeSpan.FromSeconds(120));

        Assert.True(exit == 0, app.Output);
        var lines = app.FullOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToList();
        var stdout = lines.Where(l => !l.StartsWith("[stderr] ", StringComparison.Ordinal)).ToList();
        Assert.Contains(stdout, l => l.StartsWith($"labelled {LabellingFixture.Labelled} (", StringComparison.Ordinal));
        Assert.All(stdout, l => Assert.Matches("^(read|chose|labelled|none of these|rejected|tokens) ", l));
        Assert.Contains(lines, l => l.StartsWith("[stderr] warn:", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("info:", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("--limit", "0")]
    [InlineData("--batch-size", "101")]
    [InlineData("--endpoint", "not-a-url")]
    [InlineData("--corpus", "missing.txt")]
    [InlineData("--budget-tokens", "-5")]
    public async Task Bad_arguments_exit_2_with_a_message_and_write_nothing(string option, string value)
    {
        var args = Args().ToList();
        var at = args.IndexOf(option);
        if (at >= 0) args[at + 1] = value;
        else args.AddRange([option, value]);

        var (code, _, stderr) = await RunAsync([.. args]);

        Assert.Equal(2, code);
        Assert.StartsWith("error: --", stderr);
        Assert.Contains(option, stderr);
        Assert.False(File.Exists(OutFile));
        Assert.Empty(_server.ChatRequests);
    }

    [Fact]
    public async Task An_endpoint_carrying_a_key_exits_2_without_echoing_it()
    {
        var args = Args().ToList();
        args[args.IndexOf("--endpoint") + 1] = _server.OpenAIEndpoint + "?access_token=s3cr3t-pw";
        var (code, stdout, stderr) = await RunAsync([.. args]);
        Assert.Equal(2, code);
        Assert.Contains("--api-key", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cr3t-pw", stdout + stderr, StringComparison.Ordinal);
        Assert.Empty(_server.ChatRequests);
        Assert.False(File.Exists(OutFile));
    }

    [Fact]
    public async Task Without_a_model_it_says_so_and_exits_2()
    {
        var (code, _, stderr) = await RunAsync("--task", TaskFile, "--corpus", CorpusFile, "--endpoint", _server.OpenAIEndpoint, "--out", OutFile);
        Assert.Equal(2, code);
        Assert.Contains("--model is required", stderr);
        Assert.False(File.Exists(OutFile));
    }
}
