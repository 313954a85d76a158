using Incubator.Domain.Accounts;
using Incubator.Domain.Datasets;
using Incubator.Domain.Jobs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Incubator.Domain.Training;

public static class RegistryServiceCollectionExtensions
{
    /// <summary>Datasets, the model registry and store, API tokens. Needs data, projects, jobs and an IRunEvents.</summary>
    public static IServiceCollection AddIncubatorRegistry(this IServiceCollection services)
    {
        services.AddSingleton<DatasetService>();
        services.AddSingleton<ModelStore>();
        services.AddSingleton<RegistryService>();
        services.AddSingleton<ApiTokenService>();
        services.AddSingleton<RegistryPrediction>();
        services.TryAddSingleton(new ClassifierTrainer());
        services.AddJobHandler<RegistryTrainingJob>(TrainingRunJobKind.Name);
        services.TryAddSingleton(TimeProvider.System);
        return services;
    }
}
