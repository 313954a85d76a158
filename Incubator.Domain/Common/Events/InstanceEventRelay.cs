using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Incubator.Domain.Common.Events;

/// <summary>A message channel every instance publishes to and hears from (Redis pub/sub in the portal). Messages from
/// one publisher arrive in the order sent; delivery is at most once (a live view, not a log: the database is the
/// record).</summary>
public interface IInstanceMessageChannel
{
    Task PublishAsync(ReadOnlyMemory<byte> message, CancellationToken ct);

    /// <summary>Calls <paramref name="onMessage"/> for every message, one at a time and in order, until disposed.</summary>
    Task<IAsyncDisposable> SubscribeAsync(Func<ReadOnlyMemory<byte>, Task> onMessage, CancellationToken ct);
}

/// <summary>Makes the one in-process event bus span instances: every event published here goes out on the channel
/// under the catalogue's JSON form (<see cref="RunEventCatalog.JsonOptions"/>, the record's name as its type), and every
/// event another instance sent is handed to this process's subscribers with <see cref="IRunEvents.DeliverRemote"/>.
/// So a Blazor page on instance B hears the samples of a job running on A through the same
/// <see cref="IRunEvents"/> subscription it always had. Outgoing events wait in the relay's own subscriber buffer
/// (bounded, progress coalesced): publishing never waits for the network (docs/decisions/0029-instances.md).</summary>
public sealed class InstanceEventRelay(IRunEvents events, IInstanceMessageChannel channel, InstanceName instance, ILogger<InstanceEventRelay> logger)
    : IHostedService, IAsyncDisposable
{
    private IDisposable? _outgoing;
    private IAsyncDisposable? _incoming;

    /// <summary>What travels: who sent it and the event.</summary>
    public sealed record Envelope(string Origin, RunEvent Event);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _incoming = await channel.SubscribeAsync(ReceiveAsync, cancellationToken);
        _outgoing = events.SubscribeLocal(SendAsync);
        logger.LogInformation("Live events are shared with other instances as {Instance}", instance.Value);
    }

    private async Task SendAsync(RunEvent e)
    {
        if (RunEventCatalog.NameOf(e) is null) return;
        var bytes = JsonSerializer.SerializeToUtf8Bytes(new Envelope(instance.Value, e), RunEventCatalog.JsonOptions);
        try
        {
            await channel.PublishAsync(bytes, CancellationToken.None);
        }
        catch (Exception ex)
        {
            // Other instances miss this one live event; what it reports is in the database, and their pages reload on the next.
            logger.LogWarning(ex, "Could not send {EventType} to the other instances", e.GetType().Name);
        }
    }

    private Task ReceiveAsync(ReadOnlyMemory<byte> message)
    {
        Envelope? envelope;
        try
        {
            envelope = JsonSerializer.Deserialize<Envelope>(message.Span, RunEventCatalog.JsonOptions);
        }
        catch (JsonException ex)
        {
            logger.LogWarning(ex, "Ignored a live event from another instance that could not be read");
            return Task.CompletedTask;
        }
        if (envelope?.Event is null || envelope.Origin == instance.Value) return Task.CompletedTask;
        events.DeliverRemote(envelope.Event);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken) => await DisposeAsync();

    public async ValueTask DisposeAsync()
    {
        Interlocked.Exchange(ref _outgoing, null)?.Dispose();
        if (Interlocked.Exchange(ref _incoming, null) is { } incoming) await incoming.DisposeAsync();
    }
}
