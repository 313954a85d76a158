using System.Text.Json;
using Incubator.Domain.Llm;
using Incubator.Tests.Fakes;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.Llm;

/// <summary>The connection tester, the Ollama detector, cost arithmetic, and the rule that the API key never shows up
/// in text: not in ToString, JSON, exceptions or any log line (captured at Trace, SK's own logging included).</summary>
public sealed class ConnectionToolsTests : IAsyncLifetime
{
    private LlmClientHost _host = null!;

    public async Task InitializeAsync() => _host = await LlmClientHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private ConnectionTester Tester => _host.Services.GetRequiredService<ConnectionTester>();

    [Fact]
    public async Task Tester_shows_the_answer_of_one_minimal_request()
    {
        _host.Server.Enqueue(FakeReply.Completion(" ok\n"));

        var result = await Tester.TestAsync(_host.Profile());

        Assert.True(result.Ok, result.Error);
        Assert.Equal("ok", result.Answer);
        Assert.Null(result.Error);
        Assert.Equal(200, result.StatusCode);
        Assert.True(result.Elapsed > TimeSpan.Zero);
        var sent = Assert.Single(_host.Server.ChatRequests);
        Assert.Equal(5, LlmClientTests.MaxTokens(sent));
        var message = Assert.Single(sent.Json!["messages"]!.AsArray());
        Assert.Equal(ConnectionTester.Prompt, message!["content"]!.ToString());
    }

    [Fact]
    public async Task Tester_shows_the_exact_401_error_with_the_key_redacted()
    {
        // OpenAI echoes (part of) a wrong key in its 401; this fake echoes all of it.
        _host.Server.Enqueue(FakeReply.Error(401, $"Incorrect API key provided: {LlmClientHost.Key}. You can find your API key at https://platform.openai.com/account/api-keys.", type: "invalid_request_error"));

        var result = await Tester.TestAsync(_host.Profile());

        Assert.False(result.Ok);
        Assert.Null(result.Answer);
        Assert.Equal(401, result.StatusCode);
        Assert.Equal("The LLM endpoint answered 401 (Unauthorized): Incorrect API key provided: ***. You can find your API key at https://platform.openai.com/account/api-keys.", result.Error);
        Assert.Single(_host.Server.ChatRequests);
    }

    [Fact]
    public async Task Tester_makes_one_attempt_and_reports_a_closed_port()
    {
        var profile = _host.Profile(endpoint: $"http://127.0.0.1:{LlmResilienceTests.ClosedPort()}/v1");

        var result = await Tester.TestAsync(profile);

        Assert.False(result.Ok);
        Assert.Null(result.StatusCode);
        Assert.Contains("Could not reach the LLM endpoint after 1 attempt:", result.Error, StringComparison.Ordinal);
        Assert.Empty(_host.Delays.Waits);
    }

    [Fact]
    public async Task Key_never_appears_in_logs_exceptions_or_text_forms()
    {
        var profile = _host.Profile();
        _host.Server.Enqueue(
            FakeReply.Error(500, $"upstream failed for key {LlmClientHost.Key}"),
            FakeReply.Completion("fine"),
            FakeReply.Stream(["a", "b"], abortAfterChunks: 1),
            FakeReply.Error(401, $"Incorrect API key provided: {LlmClientHost.Key}"));
        var client = _host.Client(profile);

        await client.CompleteAsync(new LlmRequest("s", "u", false), CancellationToken.None);
        await client.StreamAsync(new LlmRequest("s", "u", false), _ => ValueTask.CompletedTask, CancellationToken.None);
        var ex = await Assert.ThrowsAsync<LlmException>(() => client.CompleteAsync(new LlmRequest("s", "u", false), CancellationToken.None));

        // The key did go over the wire (as the bearer token), so its absence below means something.
        Assert.Equal($"Bearer {LlmClientHost.Key}", _host.Server.ChatRequests[0].Header("Authorization"));
        Assert.NotEmpty(_host.Logs.Lines);
        Assert.DoesNotContain(LlmClientHost.Key, _host.Logs.AllText, StringComparison.Ordinal);
        Assert.DoesNotContain(LlmClientHost.Key, ex.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(LlmClientHost.Key, ex.ProviderMessage ?? "", StringComparison.Ordinal);
        Assert.DoesNotContain(LlmClientHost.Key, profile.ToString(), StringComparison.Ordinal);
        Assert.Contains("ApiKey = (set)", profile.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(LlmClientHost.Key, $"{profile with { Name = "copy" }}", StringComparison.Ordinal);
        Assert.DoesNotContain(LlmClientHost.Key, JsonSerializer.Serialize(profile), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ollama_detector_lists_models_from_api_tags()
    {
        var detector = _host.Services.GetRequiredService<OllamaDetector>();

        var models = await detector.DetectAsync(_host.Server.BaseUrl);
        var viaOpenAIPath = await detector.DetectAsync(new Uri(_host.Server.OpenAIEndpoint));

        Assert.Equal(["llama3.2:latest", "qwen2.5:7b"], models);
        Assert.Equal(models, viaOpenAIPath);
        Assert.Contains(_host.Server.Requests, r => r is { Method: "GET", Path: "/api/tags" });
    }

    [Fact]
    public async Task Ollama_detector_returns_nothing_when_nothing_answers_or_the_answer_is_not_ollama()
    {
        var detector = _host.Services.GetRequiredService<OllamaDetector>();

        var closed = await detector.DetectAsync(new Uri($"http://127.0.0.1:{LlmResilienceTests.ClosedPort()}"));
        _host.Server.OllamaModels = null;
        var notFound = await detector.DetectAsync(_host.Server.BaseUrl);

        Assert.Empty(closed);
        Assert.Empty(notFound);
    }

    [Fact]
    public void Cost_uses_prices_per_million_and_estimates_use_four_chars_per_token()
    {
        var profile = _host.Profile() with { InputPricePerMillion = 0.15m, OutputPricePerMillion = 0.60m };

        Assert.Equal(0.000_15m * 2 + 0.000_6m, LlmCost.Cost(new LlmUsage(2000, 1000, false), profile));
        Assert.Equal(0m, LlmCost.Cost(new LlmUsage(0, 0, true), profile));
        Assert.Equal(new LlmUsage(3, 50, Estimated: true), LlmCost.EstimateTokens("123456789", 50));
        Assert.Equal(new LlmUsage(0, 0, Estimated: true), LlmCost.EstimateTokens("", -5));
    }
}
