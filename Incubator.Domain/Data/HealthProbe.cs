namespace Incubator.Domain.Data;

/// <summary>One row that the readiness check writes on every probe: proof that the database accepts writes, not only
/// reads (a read-only database file answers queries and refuses everything else).</summary>
public sealed class HealthProbe
{
    public const int SingletonId = 1;

    public int Id { get; set; } = SingletonId;
    public DateTimeOffset At { get; set; }
}
