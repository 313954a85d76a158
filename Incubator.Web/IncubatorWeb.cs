using Incubator.Domain.Data;
using Incubator.Web.Extensions;

namespace Incubator.Web;

/// <summary>The composition root of the portal. Each area registers itself; this file only lists them.</summary>
public static class IncubatorWeb
{
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            // Content root is where the binaries are, so `dotnet run`, the publish folder and the Docker image find
            // appsettings and wwwroot-shared the same way; the data folder stays relative to the current folder.
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.AddOperations();
        builder.AddSecurity();
        builder.AddObservability();
        builder.AddData();
        builder.AddIncubatorDataProtection();
        builder.AddAccounts();
        builder.AddUiLocalization();
        builder.AddJobs();
        builder.AddRealtime();
        builder.AddScaleOut();
        builder.AddApi();
        builder.AddPortalUi();
        configure?.Invoke(builder);

        var app = builder.Build();
        // Before anything touches the data folder (the pipeline below already reads the key ring's options): an unusable
        // folder is one clear sentence (DataFolderException), not a stack trace from deep inside.
        DataFolder.EnsureUsable(app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<IncubatorOptions>>().Value.ResolveDataDirectory());
        app.UseOperations();
        app.UseSecurity();
        app.UseUiLocalization();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseAntiforgery();
        app.MapSharedAssets();
        app.MapAccountEndpoints();
        app.MapApi();
        app.MapRealtime();
        app.MapPortalUi();
        return app;
    }
}
