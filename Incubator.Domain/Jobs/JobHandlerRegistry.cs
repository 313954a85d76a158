using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Domain.Jobs;

/// <summary>Maps job kinds to handler types. Filled at start-up by <see cref="JobsRegistration.AddJobHandler{T}"/>.</summary>
public sealed class JobHandlerRegistry
{
    private readonly Dictionary<string, Type> _handlers = new(StringComparer.Ordinal);

    public IReadOnlyCollection<string> Kinds => _handlers.Keys;

    internal void Add(string kind, Type type)
    {
        if (!_handlers.TryAdd(kind, type))
            throw new InvalidOperationException($"Job kind '{kind}' is registered twice.");
    }

    public bool TryGet(string kind, out Type type) => _handlers.TryGetValue(kind, out type!);
}

public static class JobsRegistration
{
    public static IServiceCollection AddJobHandler<T>(this IServiceCollection services, string kind) where T : class, IJobHandler
    {
        services.AddScoped<T>();
        var registry = GetRegistry(services);
        registry.Add(kind, typeof(T));
        return services;
    }

    internal static JobHandlerRegistry GetRegistry(IServiceCollection services)
    {
        var existing = services.FirstOrDefault(d => d.ServiceType == typeof(JobHandlerRegistry))?.ImplementationInstance as JobHandlerRegistry;
        if (existing is not null) return existing;
        var registry = new JobHandlerRegistry();
        services.AddSingleton(registry);
        return registry;
    }
}
