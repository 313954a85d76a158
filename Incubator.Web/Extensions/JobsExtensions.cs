using Incubator.Domain.Jobs;

namespace Incubator.Web.Extensions;

public static class JobsExtensions
{
    public static WebApplicationBuilder AddJobs(this WebApplicationBuilder builder)
    {
        builder.Services.AddIncubatorJobs(builder.Configuration);
        return builder;
    }
}
