using System.Collections.Concurrent;
using System.Text;
using Incubator.Domain.Jobs;
using Incubator.Domain.Projects;
using Incubator.Tests.Infrastructure;
using Incubator.Tests.Jobs;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Incubator.Tests.Integration;

/// <summary>OpenTelemetry is off unless configured; configured, the portal exports its traces and metrics over OTLP
/// (here to a fake collector on loopback); a bad setting stops the start with a clear message.</summary>
public sealed class ObservabilityTests
{
    [Fact]
    public void Without_an_endpoint_no_provider_or_exporter_is_registered()
    {
        // An empty value also overrides an OTEL_EXPORTER_OTLP_ENDPOINT the machine may have set.
        using var portal = new PortalFactory().With("OTEL_EXPORTER_OTLP_ENDPOINT", "");

        Assert.Null(portal.Services.GetService<TracerProvider>());
        Assert.Null(portal.Services.GetService<MeterProvider>());
    }

    [Fact]
    public void A_malformed_endpoint_stops_the_start_and_says_what_is_wrong()
    {
        using var portal = new PortalFactory().With("OpenTelemetry:OtlpEndpoint", "collector:4317").With("OpenTelemetry:Protocol", "udp");

        var ex = Assert.ThrowsAny<OptionsValidationException>(() => portal.Services);

        Assert.Contains("OpenTelemetry:OtlpEndpoint must be an absolute http(s) address", ex.Message);
        Assert.Contains("OpenTelemetry:Protocol must be 'grpc' or 'http/protobuf'", ex.Message);
    }

    /// <summary>The refused endpoint is echoed so the operator can find it, without the credential written into it.
    /// Before: the address as configured, user:password and key included.</summary>
    [Fact]
    public void A_refused_endpoint_is_echoed_without_its_credentials()
    {
        using var portal = new PortalFactory().With("OpenTelemetry:OtlpEndpoint", "grpc://otel:s3cret-pw@collector:4317/?api-key=k3y-value");

        var ex = Assert.ThrowsAny<OptionsValidationException>(() => portal.Services);

        Assert.Contains("got 'grpc://***@collector:4317/?api-key=***'", ex.Message);
        Assert.DoesNotContain("s3cret-pw", ex.Message);
        Assert.DoesNotContain("k3y-value", ex.Message);
    }

    [Fact]
    public async Task With_an_endpoint_requests_jobs_and_their_metrics_reach_the_collector_over_otlp()
    {
        await using var collector = await FakeCollector.StartAsync();
        using var portal = new PortalFactory()
            .With("OpenTelemetry:OtlpEndpoint", collector.Address)
            .With("OpenTelemetry:Protocol", "http/protobuf")
            .With("OpenTelemetry:ServiceName", "incubator-under-test");
        using var http = portal.CreateClient();
        Assert.True((await http.GetAsync("/healthz")).IsSuccessStatusCode);
        var owner = await portal.RegisterAsync(PortalExtensions.UniqueEmail("otel"));
        var project = await portal.InScopeAsync(sp => sp.GetRequiredService<ProjectService>().CreateProjectAsync(owner.Id, "Traced", ""));
        var queue = portal.Services.GetRequiredService<JobQueue>();
        var job = await queue.EnqueueInternalAsync(null, project.Id, DiagnosticsJob.KindName, "traced", new DiagnosticsJob.Payload(1, 0));
        await Poll.UntilAsync(async () => (await queue.GetAsync(owner.Id, job.Id)).State == JobState.Succeeded, TimeSpan.FromSeconds(60),
            () => Task.FromResult("the job did not succeed"));

        Assert.True(portal.Services.GetRequiredService<TracerProvider>().ForceFlush(30_000));
        Assert.True(portal.Services.GetRequiredService<MeterProvider>().ForceFlush(30_000));

        var traces = collector.Received("/v1/traces");
        var metrics = collector.Received("/v1/metrics");
        Assert.Contains("incubator-under-test", traces);
        Assert.Contains($"job {DiagnosticsJob.KindName}", traces);
        Assert.Contains("GET /healthz", traces);
        Assert.Contains("sqlite", traces); // EF Core commands (db.system)
        Assert.Contains("incubator.jobs.finished", metrics);
        Assert.Contains("http.server.request.duration", metrics);
    }

    /// <summary>An OTLP/HTTP receiver on loopback that keeps every request body (protobuf; names inside it are plain
    /// UTF-8, which is all these tests read).</summary>
    private sealed class FakeCollector : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly ConcurrentQueue<(string Path, byte[] Body)> _requests = new();

        private FakeCollector(WebApplication app) => _app = app;

        public string Address => _app.Urls.First();

        public static async Task<FakeCollector> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var app = builder.Build();
            var collector = new FakeCollector(app);
            app.MapPost("/v1/{signal}", async (HttpContext context) =>
            {
                using var body = new MemoryStream();
                await context.Request.Body.CopyToAsync(body);
                collector._requests.Enqueue((context.Request.Path, body.ToArray()));
                context.Response.ContentType = "application/x-protobuf";
            });
            await app.StartAsync();
            return collector;
        }

        /// <summary>Every body posted to <paramref name="path"/>, read as UTF-8 so the names in it can be searched.</summary>
        public string Received(string path) =>
            string.Join("\n", _requests.Where(r => r.Path == path).Select(r => Encoding.UTF8.GetString(r.Body)));

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
