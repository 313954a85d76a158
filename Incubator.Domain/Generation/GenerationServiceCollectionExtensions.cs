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
        // A review use case, registered here because it needs the embedders (as the engine does) and the review slice's
        // registration does not: it tops up short labels from the runs' reserve.
        services.AddSingleton<Review.TopUpFromReserve>();
        return services;
    }
}
