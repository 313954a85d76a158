using Incubator.Domain.Jobs;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Domain.Mining.Query;

public static class QueryServiceCollectionExtensions
{
    /// <summary>The query feature over the project's corpora. Needs <see cref="MiningServiceCollectionExtensions.AddIncubatorMining"/>
    /// and an <see cref="IQueryModelSource"/> (the model registry's published versions).</summary>
    public static IServiceCollection AddIncubatorQueries(this IServiceCollection services)
    {
        services.AddSingleton<QueryRunService>();
        services.AddSingleton<IQueryCorpusSource, CorpusQuerySource>();
        services.AddJobHandler<QueryRunJob>(QueryRunJob.KindName);
        return services;
    }
}
