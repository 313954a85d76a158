using System.Collections.Concurrent;
using Incubator.Domain.Llm;
using Incubator.Tests.Fakes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Incubator.Tests.Llm;

/// <summary>Records every wait the LLM layer asks for and, by default, does not wait at all, so retry tests are fast
/// and can check the delays chosen instead of measuring wall time.</summary>
public sealed class RecordingDelay() : LlmDelay(TimeProvider.System)
{
    public ConcurrentQueue<TimeSpan> Waits { get; } = new();

    /// <summary>What a wait does; null returns at once.</summary>
    public Func<TimeSpan, CancellationToken, Task>? Behaviour { get; set; }

    public override Task DelayAsync(TimeSpan delay, CancellationToken ct)
    {
        Waits.Enqueue(delay);
        return Behaviour?.Invoke(delay, ct) ?? Task.CompletedTask;
    }
}

/// <summary>The LLM services as <see cref="LlmServiceCollectionExtensions.AddIncubatorLlm"/> registers them, with a
/// recording delay and a logger that keeps every line, pointed at a <see cref="FakeOpenAiServer"/> on loopback.</summary>
internal sealed class LlmClientHost : IAsyncDisposable
{
    public const string Key = "sk-test-SECRET-0123456789abcdef";

    private LlmClientHost(FakeOpenAiServer server, ServiceProvider services, ListLoggerProvider logs, RecordingDelay delays)
    {
        Server = server;
        Services = services;
        Logs = logs;
        Delays = delays;
    }

    public FakeOpenAiServer Server { get; }

    public ServiceProvider Services { get; }

    public ListLoggerProvider Logs { get; }

    public RecordingDelay Delays { get; }

    public LlmClientFactory Factory => Services.GetRequiredService<LlmClientFactory>();

    public static async Task<LlmClientHost> StartAsync(IReadOnlyDictionary<string, string?>? settings = null)
    {
        var server = await FakeOpenAiServer.StartAsync();
        var config = new ConfigurationBuilder().AddInMemoryCollection(settings ?? new Dictionary<string, string?>()).Build();
        var logs = new ListLoggerProvider();
        var delays = new RecordingDelay();
        var services = new ServiceCollection()
            .AddLogging(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(logs))
            .AddSingleton<LlmDelay>(delays)
            .AddIncubatorLlm(config)
            .BuildServiceProvider();
        return new LlmClientHost(server, services, logs, delays);
    }

    public LlmProfile Profile(int maxConcurrency = 4, LlmProvider provider = LlmProvider.OpenAICompatible, string? endpoint = null, string? key = Key) =>
        new(Guid.NewGuid(), "fake", provider, endpoint ?? Server.OpenAIEndpoint, provider == LlmProvider.AzureOpenAI ? "my-deployment" : "fake-model",
            key, Temperature: 0.9, MaxOutputTokens: 256, MaxConcurrency: maxConcurrency, RequestsPerMinute: null,
            InputPricePerMillion: 1m, OutputPricePerMillion: 2m);

    public ILlmClient Client(LlmProfile? profile = null) => Factory.Create(profile ?? Profile());

    public async ValueTask DisposeAsync()
    {
        await Services.DisposeAsync();
        await Server.DisposeAsync();
    }
}
