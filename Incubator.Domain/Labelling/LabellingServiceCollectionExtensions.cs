using Incubator.Domain.Jobs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Incubator.Domain.Labelling;

public static class LabellingServiceCollectionExtensions
{
    /// <summary>The LLM labels a corpus. Needs data, projects, jobs, LLM connections and mining (corpora, the miner).</summary>
    public static IServiceCollection AddIncubatorLabelling(this IServiceCollection services)
    {
        services.AddSingleton<LabellingService>();
        services.AddJobHandler<LabellingRunJob>(LabellingRunJob.KindName);
        services.TryAddSingleton(TimeProvider.System);
        return services;
    }
}
