using Incubator.Domain.Llm;
using Incubator.Tests.Fakes;

namespace Incubator.Tests.Llm;

/// <summary>The real Semantic Kernel OpenAI connector over real HTTP against the fake server: what is sent, what is
/// read back (text, usage, finish reason), streaming, and broken streams.</summary>
public sealed class LlmClientTests : IAsyncLifetime
{
    private LlmClientHost _host = null!;

    public async Task InitializeAsync() => _host = await LlmClientHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private static readonly LlmRequest Request = new("You write short customer e-mails.", "Write one about a late parcel.", JsonMode: false);

    [Fact]
    public async Task Completion_returns_text_usage_and_finish_reason_and_sends_profile_settings()
    {
        _host.Server.Enqueue(FakeReply.Completion("Where is my parcel?", promptTokens: 23, completionTokens: 6));

        var response = await _host.Client().CompleteAsync(Request, CancellationToken.None);

        Assert.Equal("Where is my parcel?", response.Text);
        Assert.Equal(new LlmUsage(23, 6, Estimated: false), response.Usage);
        Assert.Equal("Stop", response.FinishReason);
        Assert.False(response.Truncated);
        var sent = Assert.Single(_host.Server.ChatRequests);
        Assert.Equal("/v1/chat/completions", sent.Path);
        Assert.Equal($"Bearer {LlmClientHost.Key}", sent.Header("Authorization"));
        var json = sent.Json!;
        Assert.Equal("fake-model", json["model"]!.GetValue<string>());
        Assert.Equal(0.9, json["temperature"]!.GetValue<double>(), 3);
        // SK 1.82 (OpenAI SDK 2.10) sends max_completion_tokens; for OpenAI-compatible servers max_tokens is added.
        Assert.Equal(256, json["max_completion_tokens"]!.GetValue<int>());
        Assert.Equal(256, json["max_tokens"]!.GetValue<int>());
        Assert.Null(json["response_format"]);
        var messages = json["messages"]!.AsArray();
        Assert.Equal(["system", "user"], messages.Select(m => m!["role"]!.GetValue<string>()));
        Assert.Equal("Write one about a late parcel.", messages[1]!["content"]!.ToString());
    }

    [Fact]
    public async Task Json_mode_and_request_overrides_reach_the_wire()
    {
        _host.Server.Enqueue(FakeReply.Completion("{\"text\":\"hi\"}"));

        await _host.Client().CompleteAsync(new LlmRequest("sys", "user", JsonMode: true, Temperature: 0.2, MaxOutputTokens: 77), CancellationToken.None);

        var json = Assert.Single(_host.Server.ChatRequests).Json!;
        Assert.Equal("json_object", json["response_format"]!["type"]!.GetValue<string>());
        Assert.Equal(0.2, json["temperature"]!.GetValue<double>(), 3);
        Assert.Equal(77, MaxTokens(Assert.Single(_host.Server.ChatRequests)));
    }

    [Fact]
    public async Task Length_finish_is_truncated_and_missing_usage_is_estimated()
    {
        _host.Server.Enqueue(FakeReply.Completion("abcdefgh", finishReason: "length", includeUsage: false));

        var response = await _host.Client().CompleteAsync(new LlmRequest("12345678", "1234", JsonMode: false), CancellationToken.None);

        Assert.True(response.Truncated);
        Assert.Equal("Length", response.FinishReason);
        Assert.Equal(new LlmUsage(2 + 1, 2, Estimated: true), response.Usage);
    }

    [Fact]
    public async Task Stream_reports_deltas_while_open_and_returns_whole_text_with_reported_usage()
    {
        var firstSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _host.Server.Enqueue(FakeReply.Stream(["Hel", "lo, ", "world"], chunkDelay: TimeSpan.FromMilliseconds(10),
            gateAfterFirstChunk: firstSeen.Task, promptTokens: 30, completionTokens: 3));
        var deltas = new List<string>();

        var response = await _host.Client().StreamAsync(Request, text =>
        {
            deltas.Add(text);
            // The fake holds the rest of the stream until the client has seen the first delta.
            firstSeen.TrySetResult();
            return ValueTask.CompletedTask;
        }, CancellationToken.None);

        Assert.Equal(["Hel", "lo, ", "world"], deltas);
        Assert.Equal("Hello, world", response.Text);
        Assert.Equal(new LlmUsage(30, 3, Estimated: false), response.Usage);
        Assert.Equal("Stop", response.FinishReason);
        Assert.False(response.Truncated);
        var json = Assert.Single(_host.Server.ChatRequests).Json!;
        Assert.True(json["stream"]!.GetValue<bool>());
        // The OpenAI SDK asks for usage in streams itself; without it the usage above would be estimated.
        Assert.True(json["stream_options"]?["include_usage"]?.GetValue<bool>());
    }

    [Fact]
    public async Task Stream_without_usage_is_estimated()
    {
        _host.Server.Enqueue(FakeReply.Stream(["abcd", "efgh"], includeUsage: false));

        var response = await _host.Client().StreamAsync(new LlmRequest("", "12345678", false), _ => ValueTask.CompletedTask, CancellationToken.None);

        Assert.Equal(new LlmUsage(2, 2, Estimated: true), response.Usage);
        Assert.False(response.Truncated);
    }

    [Fact]
    public async Task Stream_cut_midway_returns_what_arrived_as_truncated()
    {
        _host.Server.Enqueue(FakeReply.Stream(["one ", "two ", "three ", "four"], abortAfterChunks: 2));
        var deltas = new List<string>();

        var response = await _host.Client().StreamAsync(Request, t => { deltas.Add(t); return ValueTask.CompletedTask; }, CancellationToken.None);

        Assert.Equal("one two ", response.Text);
        Assert.Equal(["one ", "two "], deltas);
        Assert.True(response.Truncated);
        Assert.True(response.Usage.Estimated);
        Assert.Contains(_host.Logs.Lines, l => l.Contains("broke off after 8 characters", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Stream_cut_before_any_text_throws()
    {
        _host.Server.Enqueue(FakeReply.Stream(["never"], abortAfterChunks: 0));

        var ex = await Assert.ThrowsAsync<LlmException>(() => _host.Client().StreamAsync(Request, _ => ValueTask.CompletedTask, CancellationToken.None));

        Assert.Null(ex.StatusCode);
    }

    [Fact]
    public async Task Stream_error_status_throws_with_provider_message()
    {
        _host.Server.Enqueue(FakeReply.Error(400, "Unsupported value: 'temperature'.", type: "invalid_request_error"));

        var ex = await Assert.ThrowsAsync<LlmException>(() => _host.Client().StreamAsync(Request, _ => ValueTask.CompletedTask, CancellationToken.None));

        Assert.Equal(400, ex.StatusCode);
        Assert.Contains("Unsupported value: 'temperature'.", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Azure_profile_uses_the_deployment_path_and_api_key_header()
    {
        _host.Server.Enqueue(FakeReply.Completion("azure says hi"));
        var profile = _host.Profile(provider: LlmProvider.AzureOpenAI, endpoint: _host.Server.BaseUrl.ToString());

        var response = await _host.Client(profile).CompleteAsync(Request, CancellationToken.None);

        Assert.Equal("azure says hi", response.Text);
        var sent = Assert.Single(_host.Server.ChatRequests);
        Assert.Equal("/openai/deployments/my-deployment/chat/completions", sent.Path);
        Assert.Contains("api-version=", sent.Query, StringComparison.Ordinal);
        Assert.Equal(LlmClientHost.Key, sent.Header("api-key"));
        // Azure.AI.OpenAI (2.9.0-beta.1) still sends the legacy field by itself.
        Assert.Equal(256, sent.Json!["max_tokens"]!.GetValue<int>());
        Assert.Null(sent.Json!["max_completion_tokens"]);
    }

    [Fact]
    public async Task OpenAI_profiles_send_only_max_completion_tokens()
    {
        _host.Server.Enqueue(FakeReply.Completion("hi"));

        await _host.Client(_host.Profile(provider: LlmProvider.OpenAI)).CompleteAsync(Request, CancellationToken.None);

        var json = Assert.Single(_host.Server.ChatRequests).Json!;
        Assert.Equal(256, json["max_completion_tokens"]!.GetValue<int>());
        Assert.Null(json["max_tokens"]);
    }

    /// <summary>The SDK sends max_completion_tokens or max_tokens depending on its settings; either carries the cap.</summary>
    internal static int? MaxTokens(RecordedRequest request)
    {
        var json = request.Json!;
        return (json["max_completion_tokens"] ?? json["max_tokens"])?.GetValue<int>();
    }
}
