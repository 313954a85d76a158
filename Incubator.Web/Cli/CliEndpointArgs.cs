using System.Globalization;
using Incubator.Domain.Generation;
using Incubator.Domain.Llm;

namespace Incubator.Web.Cli;

/// <summary>The LLM options the verbs that call an endpoint share (`generate`, `label`), read and checked the same way.
/// The API key comes from --api-key or INCUBATOR_LLM_API_KEY.</summary>
internal sealed record CliEndpointArgs(string Endpoint, string Model, LlmProvider Provider, string? ApiKey, long? BudgetTokens, TimeSpan EndpointWait, int? MaxAttempts)
{
    public static readonly string[] Names = ["endpoint", "model", "provider", "api-key", "budget-tokens", "endpoint-wait", "max-attempts"];

    /// <summary>One line on stderr before the first call when the key goes unencrypted to another machine (http://, not
    /// loopback; the rule is <see cref="EndpointSecrets.KeySentInClearTo"/>). Names the host, never the key; the run goes on
    /// and the exit code is the run's.</summary>
    public static void WarnIfKeySentInClear(string endpoint, string? apiKey, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(stderr);
        if (EndpointSecrets.KeySentInClearTo(endpoint, !string.IsNullOrWhiteSpace(apiKey)) is { } host)
            stderr.WriteLine($"warning: --endpoint is http://, so the API key is sent unencrypted to {host}. Use https, or leave the key out if the server needs none.");
    }

    public static CliEndpointArgs Read(CliArgs o)
    {
        var endpoint = o.Required("endpoint");
        // Not echoed: a credential on a command line ends up in shell history, CI logs and this message.
        if (EndpointSecrets.CarriesCredentials(endpoint))
            throw new CliUsageException("--endpoint carries a credential (user:password@, or a key or token in the query); take it out of the URL "
                + "and pass the key with --api-key or INCUBATOR_LLM_API_KEY.");
        if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw new CliUsageException($"--endpoint '{endpoint}' is not an http(s) URL.");
        var provider = (o["provider"] ?? "compatible").ToLowerInvariant() switch
        {
            "openai" => LlmProvider.OpenAI,
            "azure" => LlmProvider.AzureOpenAI,
            "compatible" => LlmProvider.OpenAICompatible,
            var p => throw new CliUsageException($"--provider '{p}' is not one of openai, azure, compatible."),
        };
        long? budget = null;
        if (o["budget-tokens"] is { } bt)
            budget = long.TryParse(bt, NumberStyles.Integer, CultureInfo.InvariantCulture, out var b) && b > 0 ? b : throw new CliUsageException($"--budget-tokens must be a positive whole number (got '{bt}').");
        var wait = GenerationEngine.DefaultEndpointWait;
        if (o["endpoint-wait"] is { } ew)
            wait = double.TryParse(ew, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds is >= 1 and <= 86_400
                ? TimeSpan.FromSeconds(seconds)
                : throw new CliUsageException($"--endpoint-wait must be a number of seconds from 1 to 86400 (got '{ew}').");
        var apiKey = o["api-key"] ?? Environment.GetEnvironmentVariable("INCUBATOR_LLM_API_KEY");
        return new CliEndpointArgs(endpoint, o.Required("model"), provider, apiKey, budget, wait, o.Has("max-attempts") ? o.Int("max-attempts", 1, 10) : null);
    }
}
