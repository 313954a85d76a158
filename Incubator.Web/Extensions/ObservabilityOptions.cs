using Incubator.Domain.Llm;
using Microsoft.Extensions.Options;
using OpenTelemetry.Exporter;

namespace Incubator.Web.Extensions;

/// <summary>Section "OpenTelemetry". Nothing is collected or exported unless an OTLP endpoint is configured here (or
/// through the standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> variable).</summary>
public sealed class ObservabilityOptions
{
    public const string Section = "OpenTelemetry";

    /// <summary>The collector's base address, e.g. <c>http://otel-collector:4317</c> (gRPC) or <c>http://otel-collector:4318</c>
    /// (HTTP; <c>/v1/traces</c> and <c>/v1/metrics</c> are appended).</summary>
    public string? OtlpEndpoint { get; set; }

    /// <summary><c>grpc</c> (the OTLP default) or <c>http/protobuf</c>.</summary>
    public string Protocol { get; set; } = "grpc";

    /// <summary>The <c>service.name</c> every span and metric carries.</summary>
    public string ServiceName { get; set; } = "incubator";

    internal bool TryGetEndpoint(out Uri endpoint) =>
        Uri.TryCreate(OtlpEndpoint, UriKind.Absolute, out endpoint!) && endpoint.Scheme is "http" or "https";

    internal OtlpExportProtocol ExportProtocol => Protocol == "http/protobuf" ? OtlpExportProtocol.HttpProtobuf : OtlpExportProtocol.Grpc;
}

internal sealed class ObservabilityOptionsValidator : IValidateOptions<ObservabilityOptions>
{
    public ValidateOptionsResult Validate(string? name, ObservabilityOptions o)
    {
        var failures = new List<string>();
        if (!string.IsNullOrWhiteSpace(o.OtlpEndpoint) && !o.TryGetEndpoint(out _))
            failures.Add($"OpenTelemetry:OtlpEndpoint must be an absolute http(s) address, for example http://otel-collector:4317; got '{EndpointSecrets.Redact(o.OtlpEndpoint)}'.");
        if (o.Protocol is not ("grpc" or "http/protobuf"))
            failures.Add($"OpenTelemetry:Protocol must be 'grpc' or 'http/protobuf'; got '{o.Protocol}'.");
        if (string.IsNullOrWhiteSpace(o.ServiceName) || o.ServiceName.Length > 100)
            failures.Add("OpenTelemetry:ServiceName must be 1 to 100 characters.");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
