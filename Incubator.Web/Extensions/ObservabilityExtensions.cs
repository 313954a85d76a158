using Incubator.Domain.Common.Observability;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Incubator.Web.Extensions;

public static class ObservabilityExtensions
{
    /// <summary>OpenTelemetry traces and metrics — ASP.NET Core requests, HttpClient calls (the LLM), EF Core commands,
    /// and Incubator's own spans (one per job) and meter (jobs, queue depth, lease age, LLM latency and tokens, dropped
    /// live events) — exported over OTLP when an endpoint is configured. Without one nothing is registered: no
    /// provider listens, so no span or measurement is even made.</summary>
    public static WebApplicationBuilder AddObservability(this WebApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection(ObservabilityOptions.Section);
        builder.Services.AddOptions<ObservabilityOptions>().Bind(section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ObservabilityOptions>, ObservabilityOptionsValidator>();

        var options = section.Get<ObservabilityOptions>() ?? new ObservabilityOptions();
        var fromEnvironment = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        var configured = options.TryGetEndpoint(out var endpoint);
        // An endpoint that is set but invalid is reported by the validator at start, not silently ignored.
        if (!configured && !fromEnvironment) return builder;

        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(options.ServiceName))
            .WithTracing(t => t
                .AddSource(IncubatorTelemetry.ActivitySourceName)
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddEntityFrameworkCoreInstrumentation())
            .WithMetrics(m => m
                .AddMeter(IncubatorTelemetry.MeterName)
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation());
        // The section wins over the standard variables; with only the variables, the exporter reads them all
        // (endpoint, protocol, headers).
        if (configured) otel.UseOtlpExporter(options.ExportProtocol, endpoint);
        else otel.UseOtlpExporter();
        return builder;
    }
}
