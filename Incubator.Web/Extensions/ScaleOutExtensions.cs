using Incubator.Domain.Common.Events;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Incubator.Web.Extensions;

/// <summary>Several instances behind one load balancer (docs/decisions/0029-instances.md). With <c>Redis:Configuration</c>
/// set: SignalR's Redis backplane (a hub send on one instance reaches clients on every instance), live events shared
/// between instances (<see cref="InstanceEventRelay"/> over Redis pub/sub) and Redis in /healthz. The database carries
/// the rest: job leases, the key ring (PostgreSQL), review presence and leases.</summary>
public static class ScaleOutExtensions
{
    public static WebApplicationBuilder AddScaleOut(this WebApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection(RedisOptions.Section);
        builder.Services.AddOptions<RedisOptions>().Bind(section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<RedisOptions>, RedisOptionsValidator>();
        var redis = section.Get<RedisOptions>() ?? new RedisOptions();
        if (!redis.Enabled) return builder;

        // Validated before the connection is made, so a malformed setting stops the start with its message.
        builder.Services.AddSingleton<IConnectionMultiplexer>(sp =>
            ConnectionMultiplexer.Connect(sp.GetRequiredService<IOptions<RedisOptions>>().Value.Parse()));
        builder.Services.AddSingleton<IInstanceMessageChannel, RedisMessageChannel>();
        builder.Services.AddHostedService<InstanceEventRelay>();
        builder.Services.AddSignalR().AddStackExchangeRedis(o =>
        {
            o.Configuration = redis.Parse();
            o.Configuration.ChannelPrefix = RedisChannel.Literal(redis.ChannelPrefix + ":signalr");
        });
        builder.Services.AddHealthChecks().AddCheck<RedisHealthCheck>("redis", tags: [OperationsExtensions.ReadyTag]);
        return builder;
    }
}

/// <summary>Redis pub/sub on one channel ("{prefix}:events"), read through an ordered queue.</summary>
internal sealed class RedisMessageChannel(IConnectionMultiplexer redis, IOptions<RedisOptions> options) : IInstanceMessageChannel
{
    private readonly RedisChannel _channel = RedisChannel.Literal(options.Value.ChannelPrefix + ":events");

    public Task PublishAsync(ReadOnlyMemory<byte> message, CancellationToken ct) =>
        redis.GetSubscriber().PublishAsync(_channel, message);

    public async Task<IAsyncDisposable> SubscribeAsync(Func<ReadOnlyMemory<byte>, Task> onMessage, CancellationToken ct)
    {
        var queue = await redis.GetSubscriber().SubscribeAsync(_channel);
        queue.OnMessage(m => onMessage((byte[])m.Message!));
        return new Subscription(queue);
    }

    private sealed class Subscription(ChannelMessageQueue queue) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await queue.UnsubscribeAsync();
    }
}

internal sealed class RedisHealthCheck(IConnectionMultiplexer redis) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var latency = await redis.GetDatabase().PingAsync();
            return HealthCheckResult.Healthy($"Redis answered in {latency.TotalMilliseconds:0} ms");
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            return HealthCheckResult.Unhealthy("Redis does not answer", ex);
        }
    }
}
