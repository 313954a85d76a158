using Microsoft.Extensions.Configuration;

namespace Incubator.Domain.Common;

/// <summary>This process's name among the instances sharing one database: job leases, live events relayed between
/// instances and review presence carry it. <c>Instance:Name</c> when set (a compose service sets its replica's name),
/// otherwise machine name, process id and a random suffix — unique even for two processes on one machine.</summary>
public sealed class InstanceName
{
    public InstanceName(IConfiguration configuration)
        : this(configuration["Instance:Name"])
    {
    }

    public InstanceName(string? configured) =>
        Value = string.IsNullOrWhiteSpace(configured)
            ? $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid().ToString("N")[..8]}"
            : configured.Trim();

    public string Value { get; }

    public override string ToString() => Value;
}
