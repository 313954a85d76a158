using Incubator.Domain.Jobs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Incubator.Domain.Mining.Query;

public static class QueryServiceCollectionExtensions
{
    /// <summary>The query feature over the project's corpora and the registry's published models. Needs
    /// <see cref="MiningServiceCollectionExtensions.AddIncubatorMining"/> and the registry (AddIncubatorTraining).</summary>
    public static IServiceCollection AddIncubatorQueries(this IServiceCollection services)
    {
        services.AddSingleton<QueryRunService>();
        services.AddSingleton<IQueryCorpusSource, CorpusQuerySource>();
        services.TryAddSingleton<IQueryModelSource, PublishedModelSource>();
        services.AddJobHandler<QueryRunJob>(QueryRunJob.KindName);
        return services;
    }
}
