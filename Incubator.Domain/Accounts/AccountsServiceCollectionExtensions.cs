using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Incubator.Domain.Accounts;

public static class AccountsServiceCollectionExtensions
{
    /// <summary>Site settings (registration mode, spending caps) and sign-in throttling. Binds section "Accounts"
    /// (<see cref="AccountsOptions"/>) and validates it at start.</summary>
    public static IServiceCollection AddIncubatorAccounts(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<AccountsOptions>().Bind(configuration.GetSection(AccountsOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton<SiteSettingsService>();
        services.AddSingleton<SignInThrottle>();
        services.TryAddSingleton(TimeProvider.System);
        return services;
    }
}
