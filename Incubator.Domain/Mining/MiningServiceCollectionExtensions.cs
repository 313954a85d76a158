using Incubator.Domain.Jobs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Incubator.Domain.Mining;

public static class MiningServiceCollectionExtensions
{
    /// <summary>Corpora (storage, import, embeddings job) and candidate mining. Needs data, projects, jobs and embeddings.
    /// Self-training's model versions are read through AddIncubatorTraining's registry.</summary>
    public static IServiceCollection AddIncubatorMining(this IServiceCollection services)
    {
        services.AddSingleton<CorpusEmbedders>();
        services.AddSingleton<CorpusStore>();
        services.AddSingleton<CorpusService>();
        services.AddSingleton<MiningService>();
        services.AddSingleton<SelfTrainingService>();
        services.AddSingleton<CorpusImportSweeper>();
        services.AddHostedService(sp => sp.GetRequiredService<CorpusImportSweeper>());
        services.AddJobHandler<CorpusEmbeddingJob>(CorpusEmbeddingJob.KindName);
        services.AddJobHandler<MiningRunJob>(MiningRunJob.KindName);
        services.AddJobHandler<RescoreJob>(RescoreJob.KindName);
        services.AddJobHandler<SelfTrainingJob>(SelfTrainingJob.KindName);
        // Self-training writes its model into the model store (stateless: a path under the shared folder).
        services.TryAddSingleton<Training.ModelStore>();
        services.TryAddSingleton(TimeProvider.System);
        return services;
    }
}
