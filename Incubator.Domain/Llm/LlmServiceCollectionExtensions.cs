using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Incubator.Domain.Llm;

public static class LlmServiceCollectionExtensions
{
    /// <summary>Connections (keys under Data Protection), the client factory with its shared limiters and retry
    /// delays, the connection tester and the Ollama detector. Binds section "Llm" (env: Llm__Endpoint, ...).</summary>
    public static IServiceCollection AddIncubatorLlm(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<LlmOptions>()
            .Bind(configuration.GetSection(LlmOptions.Section))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<LlmOptions>, LlmOptionsValidator>();
        // Idempotent; the web host adds the application name and the key folder on top.
        services.AddDataProtection();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<LlmDelay>();
        services.AddSingleton<LlmLimiterRegistry>();
        services.AddMetrics();
        services.AddSingleton<LlmMetrics>();
        services.AddSingleton<LlmClientFactory>();
        services.AddSingleton<LlmConnectionService>();
        // The caps are site settings; the guard reads them wherever the LLM services are used.
        services.TryAddSingleton<Accounts.SiteSettingsService>();
        services.AddSingleton<SpendingGuard>();
        services.AddSingleton<ConnectionTester>();
        services.AddSingleton<OllamaDetector>();
        return services;
    }
}
