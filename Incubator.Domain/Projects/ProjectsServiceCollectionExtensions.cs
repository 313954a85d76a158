using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Incubator.Domain.Projects;

public static class ProjectsServiceCollectionExtensions
{
    public static IServiceCollection AddIncubatorProjects(this IServiceCollection services)
    {
        services.AddSingleton<ProjectAccess>();
        services.AddSingleton<ProjectService>();
        services.AddSingleton<InvitationService>();
        services.TryAddSingleton(TimeProvider.System);
        return services;
    }
}
