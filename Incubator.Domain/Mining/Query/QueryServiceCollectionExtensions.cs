using Incubator.Domain.Jobs;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Domain.Mining.Query;

public static class QueryServiceCollectionExtensions
{
    /// <summary>The query feature. The model and corpus sources are registered by the features that own them
    /// (the registry and corpora); see <see cref="IQueryModelSource"/> and <see cref="IQueryCorpusSource"/>.</summary>
    public static IServiceCollection AddIncubatorQueries(this IServiceCollection services)
    {
        services.AddSingleton<QueryRunService>();
        services.AddJobHandler<QueryRunJob>(QueryRunJob.KindName);
        return services;
    }
}
