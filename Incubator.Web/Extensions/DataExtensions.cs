using Incubator.Domain.Data;
using Incubator.Domain.Embeddings;
using Incubator.Domain.Projects;
using Incubator.Domain.Review;
using Incubator.Domain.Tasks;
using Incubator.Domain.Training;
using Incubator.Web.Accounts;

namespace Incubator.Web.Extensions;

public static class DataExtensions
{
    public static WebApplicationBuilder AddData(this WebApplicationBuilder builder)
    {
        builder.Services.AddIncubatorData(builder.Configuration);
        builder.Services.AddIncubatorProjects();
        builder.Services.AddIncubatorTasks();
        builder.Services.AddIncubatorReview(builder.Configuration);
        builder.Services.AddHostedService<ExportRetentionSweeper>();
        builder.Services.AddIncubatorTraining();
        builder.Services.AddIncubatorEmbeddings();
        // Migrations and the first administrator happen before the server starts listening (see StartupTasks).
        builder.Services.AddHostedService<StartupTasks>();
        return builder;
    }
}
