using Incubator.Domain.Jobs;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Incubator.Domain.Review;

public static class ReviewServiceCollectionExtensions
{
    /// <summary>The review slice: its use cases (decide, bulk decide, settle, claim next, policies), its queries, exports,
    /// presence and spot-checks. Binds section "Review" (<see cref="ReviewOptions"/>) and validates it at start. Needs data,
    /// projects (<see cref="Projects.ProjectAccess"/>) and an <see cref="Common.Events.IRunEvents"/>.</summary>
    public static IServiceCollection AddIncubatorReview(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ReviewOptions>().Bind(configuration.GetSection(ReviewOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<ReviewQueries>();
        services.AddSingleton<DecideCandidate>();
        services.AddSingleton<BulkDecide>();
        services.AddSingleton<SettleConflict>();
        services.AddSingleton<ClaimNextCandidate>();
        services.AddSingleton<SetReviewPolicy>();
        services.AddSingleton<ReviewExports>();
        services.AddJobHandler<ReviewExportJob>(ReviewExportJob.KindName);
        services.AddSingleton<ReviewPresence>();
        services.AddHostedService(sp => sp.GetRequiredService<ReviewPresence>());
        services.TryAddSingleton(_ => new Common.InstanceName(configuration["Instance:Name"]));
        services.AddSingleton<SpotCheckService>();
        services.AddSingleton<LabelDisagreementService>();
        services.TryAddSingleton(TimeProvider.System);
        return services;
    }
}
