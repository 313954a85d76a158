using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Incubator.Domain.Common.Observability;
using Incubator.Domain.Llm;
using Incubator.Tests.Fakes;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.Llm;

/// <summary>Every LLM call made through the factory's client is measured: its duration by outcome, and the tokens the
/// provider reported (or that were estimated), over real HTTP against the fake server.</summary>
public sealed class LlmMetricsTests : IAsyncLifetime
{
    private LlmClientHost _host = null!;
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<(string Name, double Value, Dictionary<string, object?> Tags)> _measured = new();

    public async Task InitializeAsync()
    {
        _host = await LlmClientHost.StartAsync(new Dictionary<string, string?> { ["Llm:MaxAttempts"] = "1" });
        var scope = _host.Services.GetRequiredService<IMeterFactory>();
        _listener.InstrumentPublished = (i, l) =>
        {
            if (i.Meter.Scope == scope && i.Meter.Name == IncubatorTelemetry.MeterName) l.EnableMeasurementEvents(i);
        };
        _listener.SetMeasurementEventCallback<long>((i, v, t, _) => _measured.Enqueue((i.Name, v, t.ToArray().ToDictionary(x => x.Key, x => x.Value))));
        _listener.SetMeasurementEventCallback<double>((i, v, t, _) => _measured.Enqueue((i.Name, v, t.ToArray().ToDictionary(x => x.Key, x => x.Value))));
        _listener.Start();
    }

    public async Task DisposeAsync()
    {
        _listener.Dispose();
        await _host.DisposeAsync();
    }

    [Fact]
    public async Task A_call_records_its_duration_and_the_reported_tokens()
    {
        _host.Server.Enqueue(FakeReply.Completion("Where is my parcel?", promptTokens: 23, completionTokens: 6));

        await _host.Client().CompleteAsync(new LlmRequest("sys", "user", JsonMode: false), CancellationToken.None);

        var duration = Assert.Single(_measured, m => m.Name == "incubator.llm.duration");
        Assert.True(duration.Value > 0);
        Assert.Equal(("OpenAICompatible", "fake-model", "ok"), (duration.Tags["provider"], duration.Tags["model"], duration.Tags["outcome"]));
        var tokens = _measured.Where(m => m.Name == "incubator.llm.tokens").ToDictionary(m => (string)m.Tags["direction"]!, m => m);
        Assert.Equal((23.0, false), (tokens["input"].Value, tokens["input"].Tags["estimated"]));
        Assert.Equal(6.0, tokens["output"].Value);
    }

    [Fact]
    public async Task A_failed_call_records_its_duration_as_an_error_and_no_tokens()
    {
        _host.Server.Enqueue(FakeReply.Error(400, "bad request", type: "invalid_request_error"));

        await Assert.ThrowsAsync<LlmException>(() => _host.Client().StreamAsync(new LlmRequest("sys", "user", JsonMode: false), _ => ValueTask.CompletedTask,
            CancellationToken.None));

        Assert.Equal("error", Assert.Single(_measured, m => m.Name == "incubator.llm.duration").Tags["outcome"]);
        Assert.DoesNotContain(_measured, m => m.Name == "incubator.llm.tokens");
    }
}
