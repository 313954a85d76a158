using System.Text.Json;
using Incubator.Domain.Data;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.FileProviders;

namespace Incubator.Web.Extensions;

public static class OperationsExtensions
{
    public const string DefaultUrl = "http://localhost:5080";

    internal const string ReadyTag = "ready";

    /// <summary>Structured logs (JSON lines outside Development), /healthz, the friendly error page.</summary>
    public static WebApplicationBuilder AddOperations(this WebApplicationBuilder builder)
    {
        builder.WebHost.UseStaticWebAssets();
        // The documented default port, used only when nothing else says where to listen (--urls, ASPNETCORE_URLS,
        // Urls in configuration, or ASPNETCORE_HTTP_PORTS as the .NET container images set). Putting it in
        // appsettings.json instead would silently win over ASPNETCORE_URLS.
        if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["http_ports"])
            && string.IsNullOrEmpty(builder.Configuration["https_ports"]))
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }
        if (!builder.Environment.IsDevelopment() && builder.Configuration["Logging:Console:FormatterName"] is null)
        {
            builder.Logging.AddJsonConsole(o =>
            {
                o.IncludeScopes = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
                o.UseUtcTimestamp = true;
            });
        }
        builder.Services.AddOptions<HealthOptions>().Bind(builder.Configuration.GetSection(HealthOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddHealthChecks()
            .AddCheck<DatabaseWriteCheck>("database", tags: [ReadyTag])
            .AddCheck<DataFolderCheck>("data-folder", tags: [ReadyTag]);
        builder.Services.Configure<ForwardedHeadersOptions>(o =>
            o.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto);
        return builder;
    }

    public static WebApplication UseOperations(this WebApplication app)
    {
        app.UseForwardedHeaders();
        if (!app.Environment.IsDevelopment())
        {
            app.UseExceptionHandler("/error", createScopeForErrors: true);
        }
        // The friendly status page is for people navigating. A POST re-executed into the /not-found page is handled
        // as a form post to that page, whose own antiforgery check turns the real 400/401/403 into another 400 or a
        // 500; API and hub clients want the bare status code.
        app.UseStatusCodePagesWithReExecute("/not-found", createScopeForStatusCodePages: true);
        app.Use((context, next) =>
        {
            if (!IsPageNavigation(context) && context.Features.Get<IStatusCodePagesFeature>() is { } statusPages)
                statusPages.Enabled = false;
            return next(context);
        });
        // Readiness (/healthz, also /healthz/ready): the database takes a write and the data folder has room. Liveness
        // (/healthz/live): the process answers; a restart would not fix a full disk or a read-only database.
        app.MapHealthChecks("/healthz", Health(c => c.Tags.Contains(ReadyTag))).DisableHttpMetrics();
        app.MapHealthChecks("/healthz/ready", Health(c => c.Tags.Contains(ReadyTag))).DisableHttpMetrics();
        app.MapHealthChecks("/healthz/live", Health(_ => false)).DisableHttpMetrics();
        return app;
    }

    private static HealthCheckOptions Health(Func<HealthCheckRegistration, bool> predicate) => new()
    {
        Predicate = predicate,
        ResponseWriter = async (ctx, report) =>
        {
            ctx.Response.ContentType = "application/json";
            await JsonSerializer.SerializeAsync(ctx.Response.Body, new
            {
                status = report.Status.ToString(),
                checks = report.Entries.ToDictionary(e => e.Key, e => new { status = e.Value.Status.ToString(), e.Value.Description }),
            });
        },
        ResultStatusCodes =
        {
            [HealthStatus.Healthy] = StatusCodes.Status200OK,
            [HealthStatus.Degraded] = StatusCodes.Status200OK,
            [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable,
        },
    };

    private static bool IsPageNavigation(HttpContext context) =>
        (HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method))
        && !context.Request.Path.StartsWithSegments("/api")
        && !context.Request.Path.StartsWithSegments("/hubs");

    /// <summary>wwwroot-shared/ (theme, small helpers, images) is copied next to the binaries on build and publish and
    /// served under /shared, so it behaves the same from `dotnet run`, a publish folder and the Docker image.</summary>
    public static WebApplication MapSharedAssets(this WebApplication app)
    {
        var folder = SharedAssetsFolder();
        if (!Directory.Exists(folder))
        {
            app.Logger.LogError("Shared static assets folder {Folder} is missing; the portal will look unstyled", folder);
            return app;
        }
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = new PhysicalFileProvider(folder),
            RequestPath = "/shared",
            OnPrepareResponse = ctx => ctx.Context.Response.Headers.CacheControl = "public, max-age=3600",
        });
        return app;
    }

    public static string SharedAssetsFolder() => Path.Combine(AppContext.BaseDirectory, "wwwroot-shared");
}
