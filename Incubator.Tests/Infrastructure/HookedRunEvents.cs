using Incubator.Domain.Common.Events;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.Infrastructure;

/// <summary>The real event bus behind a test hook that the publisher awaits before publishing. The bus itself never
/// makes a publisher wait; this stands in for a slow step inside a job, so a test can act at an exact point of it (pause
/// a job right after its first batch, cancel a training while it reports its first stage) with no timing involved.</summary>
internal sealed class HookedRunEvents(IRunEvents inner) : IRunEvents
{
    /// <summary>Awaited by the publisher before each event; null: publish straight away.</summary>
    public Func<RunEvent, Task>? BeforePublish { get; set; }

    public async ValueTask PublishAsync(RunEvent e, CancellationToken ct = default)
    {
        if (BeforePublish is { } hook) await hook(e);
        await inner.PublishAsync(e, ct);
    }

    public IDisposable Subscribe(Guid projectId, Func<RunEvent, Task> handler) => inner.Subscribe(projectId, handler);

    public IDisposable SubscribeAll(Func<RunEvent, Task> handler) => inner.SubscribeAll(handler);

    public IDisposable SubscribeLocal(Func<RunEvent, Task> handler) => inner.SubscribeLocal(handler);

    public void DeliverRemote(RunEvent e) => inner.DeliverRemote(e);

    public IDisposable SubscribeBatches(Guid projectId, Func<IReadOnlyList<RunEvent>, Task> handler) => inner.SubscribeBatches(projectId, handler);

    /// <summary>Replaces the registered <see cref="IRunEvents"/> with a hooked <see cref="InProcessRunEvents"/>.</summary>
    public static IServiceCollection Install(IServiceCollection services) => services
        .AddSingleton(sp => new HookedRunEvents(ActivatorUtilities.CreateInstance<InProcessRunEvents>(sp)))
        .AddSingleton<IRunEvents>(sp => sp.GetRequiredService<HookedRunEvents>());
}
