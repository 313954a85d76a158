using Incubator.Domain.Generation;
using Incubator.Domain.Jobs;
using Incubator.Domain.Labelling;
using Incubator.Domain.Llm;
using Incubator.Domain.Mining;
using Incubator.Domain.Mining.Query;

namespace Incubator.Web.Extensions;

public static class JobsExtensions
{
    public static WebApplicationBuilder AddJobs(this WebApplicationBuilder builder)
    {
        builder.Services.AddIncubatorJobs(builder.Configuration);
        builder.Services.AddIncubatorLlm(builder.Configuration);
        builder.Services.AddIncubatorGeneration(builder.Configuration);
        builder.Services.AddIncubatorMining();
        builder.Services.AddIncubatorQueries();
        builder.Services.AddIncubatorLabelling();
        return builder;
    }
}
