using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Domain.Jobs;

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
