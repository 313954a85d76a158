using Incubator.Domain.Data;
using Incubator.Domain.Llm;

namespace Incubator.Web.Accounts;

/// <summary>Runs in the host's "starting" phase — before the server listens and before the job worker claims
/// anything: applies migrations and encrypts credentials that connections saved before decision 0025's amendment still
/// hold in their address (<see cref="DatabaseUpgrade"/>, shared with the `migrate` verb), then seeds the administrator from INCUBATOR_ADMIN_EMAIL / INCUBATOR_ADMIN_PASSWORD.</summary>
internal sealed class StartupTasks(IServiceProvider services, IConfiguration configuration, ILogger<StartupTasks> logger) : IHostedLifecycleService
{
    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        // The same step as the `migrate` verb's (DatabaseUpgrade): the key ring's start step, migrations, then old addresses
        // with a credential encrypted. StartupTasks is registered before KeyRingStartup; DatabaseUpgrade runs the ring first.
        var upgrade = await DatabaseUpgrade.RunAsync(services, cancellationToken);
        if (upgrade.ProtectedEndpoints > 0)
            logger.LogWarning("LLM connections that had a credential in their address (saved before such addresses were refused): {Count}; each address is now " +
                "stored encrypted and shown redacted; edit them to move the key to the API key field", upgrade.ProtectedEndpoints);
        services.GetRequiredService<LlmConnectionService>().WarnIfConfiguredKeySentInClear(logger);
        var email = configuration["INCUBATOR_ADMIN_EMAIL"];
        var password = configuration["INCUBATOR_ADMIN_PASSWORD"];
        if (string.IsNullOrWhiteSpace(email) && string.IsNullOrWhiteSpace(password)) return;
        if (string.IsNullOrWhiteSpace(email) || string.IsNullOrWhiteSpace(password))
            throw new InvalidOperationException("Set both INCUBATOR_ADMIN_EMAIL and INCUBATOR_ADMIN_PASSWORD to seed an administrator, or neither.");
        await using var scope = services.CreateAsyncScope();
        var accounts = scope.ServiceProvider.GetRequiredService<AccountService>();
        var created = await accounts.EnsureAdministratorAsync(email, password, cancellationToken);
        logger.LogInformation(created ? "Seeded site administrator {Email}" : "Site administrator {Email} already exists", email);
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
