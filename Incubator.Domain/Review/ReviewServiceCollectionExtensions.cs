using Microsoft.Extensions.DependencyInjection;
using Incubator.Domain.Jobs;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Incubator.Domain.Review;

public static class ReviewServiceCollectionExtensions
{
    /// <summary>Needs data, projects (<see cref="Projects.ProjectAccess"/>) and an <see cref="Common.Events.IRunEvents"/>.</summary>
    public static IServiceCollection AddIncubatorReview(this IServiceCollection services)
    {
        services.AddOptions<ReviewOptions>().ValidateDataAnnotations();
        services.AddSingleton<ReviewService>();
        services.AddSingleton<ReviewAssignmentService>();
        services.AddSingleton<ReviewExports>();
        services.AddJobHandler<ReviewExportJob>(ReviewExportJob.KindName);
        services.AddSingleton<ReviewPresence>();
        services.AddSingleton<SpotCheckService>();
        services.AddSingleton<LabelDisagreementService>();
        services.TryAddSingleton(TimeProvider.System);
        return services;
    }
}
