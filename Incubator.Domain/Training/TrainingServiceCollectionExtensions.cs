using Incubator.Domain.Accounts;
using Incubator.Domain.Datasets;
using Incubator.Domain.Jobs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Incubator.Domain.Training;

public static class TrainingServiceCollectionExtensions
{
    /// <summary>Datasets, training, the model store, API tokens. Needs data, projects, jobs and an IRunEvents.</summary>
    public static IServiceCollection AddIncubatorTraining(this IServiceCollection services)
    {
        services.AddSingleton<DatasetService>();
        services.AddSingleton<ExportFineTuningPairs>();
        services.AddSingleton<ModelStore>();
        services.AddSingleton<TrainingService>();
        services.AddSingleton<ApiTokenService>();
        services.AddSingleton<ModelPredictor>();
        services.TryAddSingleton(new ClassifierTrainer());
        services.AddJobHandler<TrainingJob>(TrainingJob.KindName);
        services.TryAddSingleton(TimeProvider.System);
        return services;
    }
}
