using Incubator.Domain.Common;
using Incubator.Domain.Common.Events;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Domain.Jobs;

public static class JobsServiceCollectionExtensions
{
    public static IServiceCollection AddIncubatorJobs(this IServiceCollection services, IConfiguration configuration, bool runWorker = true)
    {
        services.AddOptions<JobOptions>().Bind(configuration.GetSection(JobOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<JobSignals>();
        services.TryAddSingleton(_ => new InstanceName(configuration["Instance:Name"]));
        services.AddMetrics();
        services.AddSingleton<IRunEvents, InProcessRunEvents>();
        services.AddSingleton<JobOwners>();
        services.AddSingleton<JobMetrics>();
        services.AddSingleton<JobQueue>();
        services.AddJobHandler<DiagnosticsJob>(DiagnosticsJob.KindName);
        if (runWorker) services.AddHostedService<JobWorker>();
        return services;
    }
}
