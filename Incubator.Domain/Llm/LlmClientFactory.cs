using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;

namespace Incubator.Domain.Llm;

/// <summary>Makes an <see cref="ILlmClient"/> for a profile: a Semantic Kernel chat-completion service (OpenAI or
/// Azure OpenAI connector) over an HttpClient whose handler chain retries, limits and never logs headers. One
/// connection pool is shared by every client this factory makes.</summary>
public sealed class LlmClientFactory(
    ILoggerFactory loggerFactory,
    TimeProvider time,
    IOptionsMonitor<LlmOptions> options,
    LlmLimiterRegistry limiters,
    LlmDelay delay,
    LlmMetrics metrics) : IDisposable
{
    private readonly SocketsHttpHandler _transport = new()
    {
        // Re-resolve DNS now and then; keep connect failures quick (they are retried).
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        ConnectTimeout = TimeSpan.FromSeconds(30),
    };

    public ILlmClient Create(LlmProfile profile) => Create(profile, maxAttempts: null);

    /// <param name="maxAttempts">Overrides the configured attempts (the connection tester makes exactly one).</param>
    internal ILlmClient Create(LlmProfile profile, int? maxAttempts)
    {
        ArgumentNullException.ThrowIfNull(profile);
        if (!LlmConnectionRules.IsHttpUrl(profile.Endpoint))
            throw new LlmException($"The endpoint of '{profile.Name}' is not an absolute http(s) address.");
        var policy = LlmRetryPolicy.From(options.CurrentValue);
        if (maxAttempts is { } m) policy = policy with { MaxAttempts = Math.Max(1, m) };
        var limiter = limiters.For(profile);
        var logger = loggerFactory.CreateLogger<LlmClientFactory>();
        HttpMessageHandler handler = new LlmRetryHandler(policy, limiter, delay, time, logger, profile.Name) { InnerHandler = _transport };
        if (profile.Provider == LlmProvider.OpenAICompatible) handler = new CompatibleBodyHandler { InnerHandler = handler };
        // Not disposed with the client: the shared transport lives as long as the factory.
        var http = new HttpClient(handler, disposeHandler: false) { Timeout = Timeout.InfiniteTimeSpan };

        var builder = Kernel.CreateBuilder();
        builder.Services.AddSingleton(loggerFactory);
        var apiKey = string.IsNullOrWhiteSpace(profile.ApiKey) ? null : profile.ApiKey.Trim();
        if (profile.Provider == LlmProvider.AzureOpenAI)
        {
            if (apiKey is null) throw new LlmException($"'{profile.Name}' uses Azure OpenAI, which needs an API key.");
            builder.AddAzureOpenAIChatCompletion(deploymentName: profile.Model, endpoint: profile.Endpoint, apiKey: apiKey, httpClient: http);
        }
        else
        {
            builder.AddOpenAIChatCompletion(modelId: profile.Model, endpoint: new Uri(profile.Endpoint), apiKey: apiKey, httpClient: http);
        }
        var chat = builder.Build().GetRequiredService<IChatCompletionService>();
        return new MeteredLlmClient(new SemanticKernelLlmClient(profile, chat, limiter, policy, time, logger), profile, metrics, time);
    }

    public void Dispose() => _transport.Dispose();
}
