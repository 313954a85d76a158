using Incubator.Domain.Llm;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Incubator.Web.Extensions;

/// <summary>Section "Redis". Unset: one instance, nothing shared through Redis. Set: SignalR uses Redis as its
/// backplane and live events travel between instances over Redis pub/sub (docs/decisions/0029-instances.md).</summary>
public sealed class RedisOptions
{
    public const string Section = "Redis";

    /// <summary>A StackExchange.Redis configuration string, e.g. <c>redis:6379</c> or
    /// <c>redis:6379,password=...,ssl=true</c>.</summary>
    public string? Configuration { get; set; }

    /// <summary>Prefixes every channel, so several portals can share one Redis.</summary>
    public string ChannelPrefix { get; set; } = "incubator";

    public bool Enabled => !string.IsNullOrWhiteSpace(Configuration);

    /// <summary>The parsed configuration; never aborts on a failed first connect (Redis may start after the portal).</summary>
    internal ConfigurationOptions Parse()
    {
        var options = ConfigurationOptions.Parse(Configuration!);
        options.AbortOnConnectFail = false;
        return options;
    }
}

internal sealed class RedisOptionsValidator : IValidateOptions<RedisOptions>
{
    public ValidateOptionsResult Validate(string? name, RedisOptions o)
    {
        if (string.IsNullOrWhiteSpace(o.ChannelPrefix) || o.ChannelPrefix.Length > 64)
            return ValidateOptionsResult.Fail("Redis:ChannelPrefix must be 1 to 64 characters.");
        if (!o.Enabled) return ValidateOptionsResult.Success;
        try
        {
            if (o.Parse().EndPoints.Count == 0) return ValidateOptionsResult.Fail($"Redis:Configuration names no server: '{EndpointSecrets.RedactSettings(o.Configuration)}'.");
        }
        catch (ArgumentException ex)
        {
            return ValidateOptionsResult.Fail($"Redis:Configuration is not a valid StackExchange.Redis configuration ('{EndpointSecrets.RedactSettings(o.Configuration)}'): {EndpointSecrets.RedactSettings(ex.Message)}");
        }
        return ValidateOptionsResult.Success;
    }
}
