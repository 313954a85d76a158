using System.Diagnostics;

namespace Incubator.Domain.Common.Observability;

/// <summary>The names under which Incubator reports traces and metrics. Each area creates its instruments on the meter
/// of this name from the host's <see cref="System.Diagnostics.Metrics.IMeterFactory"/> (one meter per host, so two
/// hosts in one test process do not mix their numbers); spans come from the one activity source.</summary>
public static class IncubatorTelemetry
{
    public const string MeterName = "Incubator";

    public const string ActivitySourceName = "Incubator";

    public static readonly ActivitySource ActivitySource = new(ActivitySourceName);
}
