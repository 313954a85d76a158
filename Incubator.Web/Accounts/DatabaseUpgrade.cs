using Incubator.Domain.Common;
using Incubator.Domain.Data;
using Incubator.Domain.Llm;
using Incubator.Web.Extensions;
using Microsoft.Extensions.Options;

namespace Incubator.Web.Accounts;

/// <summary>What the portal's start (<see cref="StartupTasks"/>) and the headless <c>migrate</c> verb both do to a
/// database, in one place: the data folder is usable, the migrations are applied, and LLM connections saved before
/// addresses with a credential were refused get that address encrypted (docs/decisions/0025, amendments sec19 and
/// sec22). The host must have the portal's key ring (<c>AddIncubatorDataProtection</c>), or the portal could not
/// decrypt what was encrypted here. The order is defined here for both: the key ring's own start step
/// (<see cref="KeyRingStartup"/>: old keys encrypted or re-wrapped with the configured ring key) runs before anything
/// is encrypted with the ring (docs/decisions/0025, amendment fix22).</summary>
internal static class DatabaseUpgrade
{
    public sealed record Result(IReadOnlyList<string> Applied, int ProtectedEndpoints);

    public static async Task<Result> RunAsync(IServiceProvider services, CancellationToken ct = default)
    {
        DataFolder.EnsureUsable(services.GetRequiredService<IOptions<IncubatorOptions>>().Value.ResolveDataDirectory());
        services.GetRequiredService<KeyRingStartup>().EnsureDone();
        var applied = await services.GetRequiredService<DatabaseMigrator>().MigrateAsync(ct);
        var protectedEndpoints = await services.GetRequiredService<LlmConnectionService>().ProtectStoredEndpointsAsync(ct);
        return new Result(applied, protectedEndpoints);
    }

    /// <summary>The one line saying what happened to such addresses (never the addresses themselves).</summary>
    public static string ProtectedEndpointsLine(int count) => count == 0
        ? "No LLM connection address holds a credential in the clear."
        : $"Encrypted {EnglishCount.Of(count, "LLM connection address", "LLM connection addresses")} saved with a credential in it: "
            + "shown redacted from now on; edit the connection to move the key to the API key field.";
}
