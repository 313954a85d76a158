using Incubator.Domain.Data;
using Incubator.Domain.Embeddings;
using Incubator.Domain.Projects;
using Incubator.Domain.Review;
using Incubator.Domain.Tasks;
using Incubator.Domain.Training;
using Incubator.Web.Accounts;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.Options;

namespace Incubator.Web.Extensions;

public static class DataExtensions
{
    public static WebApplicationBuilder AddData(this WebApplicationBuilder builder)
    {
        builder.Services.AddIncubatorData(builder.Configuration);
        builder.Services.AddIncubatorProjects();
        builder.Services.AddIncubatorTasks();
        builder.Services.AddIncubatorReview(builder.Configuration);
        builder.Services.AddIncubatorTraining();
        builder.Services.AddIncubatorEmbeddings();
        // Migrations and the first administrator happen before the server starts listening (see StartupTasks).
        builder.Services.AddHostedService<StartupTasks>();
        // Keys live in the data folder (SQLite: one instance), or in the database (PostgreSQL: every instance reads the one
        // key ring, so a cookie or a stored LLM key protected on one works on all; docs/decisions/0030-shared-state.md).
        // Cookies survive a restart either way.
        builder.Services.AddDataProtection().SetApplicationName("Incubator");
        builder.Services.AddOptions<KeyManagementOptions>()
            .Configure<IOptions<IncubatorOptions>, IOptions<DatabaseOptions>, IServiceProvider>((o, inc, database, services) =>
            {
                if (database.Value.Provider == DatabaseProvider.Postgres)
                {
                    o.XmlRepository = new EntityFrameworkCoreXmlRepository<IncubatorDbContext>(services, services.GetRequiredService<ILoggerFactory>());
                    return;
                }
                var dir = Path.Combine(inc.Value.ResolveDataDirectory(), "keys");
                Directory.CreateDirectory(dir);
                o.XmlRepository = new Microsoft.AspNetCore.DataProtection.Repositories.FileSystemXmlRepository(new DirectoryInfo(dir), Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance);
            });
        return builder;
    }
}
