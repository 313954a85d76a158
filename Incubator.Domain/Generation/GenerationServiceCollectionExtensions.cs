using Incubator.Domain.Jobs;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Domain.Generation;

public static class GenerationServiceCollectionExtensions
{
    public static IServiceCollection AddIncubatorGeneration(this IServiceCollection services)
    {
        services.AddSingleton<DemonstrationBank>();
        services.AddSingleton<GenerationEngine>();
        services.AddSingleton<GenerationService>();
        services.AddJobHandler<GenerationRunJob>(GenerationRunJob.KindName);
        return services;
    }
}
