using Incubator.Domain.Jobs;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Domain.Generation;

public static class GenerationServiceCollectionExtensions
{
    /// <summary>The engine, the run use cases and the run job. Binds section "Generation" (<see cref="GenerationOptions"/>)
    /// and validates it at start.</summary>
    public static IServiceCollection AddIncubatorGeneration(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<GenerationOptions>().Bind(configuration.GetSection(GenerationOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<DemonstrationBank>();
        services.AddSingleton<GenerationEngine>();
        services.AddSingleton<GenerationService>();
        services.AddJobHandler<GenerationRunJob>(GenerationRunJob.KindName);
        return services;
    }
}
