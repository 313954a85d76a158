using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Incubator.Domain.Tasks;

public static class TasksServiceCollectionExtensions
{
    /// <summary>Task use cases and the template library. Needs data, projects (<c>ProjectAccess</c>) and an
    /// <c>IRunEvents</c> (registered by the jobs area).</summary>
    public static IServiceCollection AddIncubatorTasks(this IServiceCollection services)
    {
        services.AddSingleton<TaskService>();
        services.AddSingleton<TemplateLibrary>();
        services.AddSingleton<GetTaskProgress>();
        services.TryAddSingleton(TimeProvider.System);
        return services;
    }
}
