using Incubator.Domain.Common;

namespace Incubator.Domain.Llm;

/// <summary>Validation shared by stored connections and the configured one. Every rule has a stable code; the UI
/// localises "Error.{Code}".</summary>
public static class LlmConnectionRules
{
    public const int MaxNameLength = 100;
    public const int MaxEndpointLength = 500;
    public const int MaxModelLength = 200;
    public const int MaxApiKeyLength = 1000;
    public const double MinTemperature = 0, MaxTemperature = 2;
    public const int MinOutputTokens = 1, MaxOutputTokensLimit = 32768;
    public const int MinConcurrency = 1, MaxConcurrencyLimit = 64;
    public const int MinRpm = 1, MaxRpm = 100_000;
    public const string OpenAIDefaultEndpoint = "https://api.openai.com/v1";

    public const string EndpointHasCredentialsMessage =
        "The endpoint carries a credential (a user name and password, or a key or token in the query): take it out of the address and put the key in the API key field, it is stored encrypted.";

    /// <summary>The normalised values, or every problem at once.</summary>
    /// <param name="effectiveKeyPresent">Whether the connection will have a key after this change (for AzureNeedsKey).</param>
    public static (string Name, string Endpoint, string Model) Validate(LlmConnectionInput input, bool effectiveKeyPresent)
    {
        var errors = new List<DomainError>();
        var name = (input.Name ?? "").Trim();
        if (name.Length == 0)
            errors.Add(new("name", "ConnectionNameRequired", "Give the connection a name.", []));
        else if (name.Length > MaxNameLength)
            errors.Add(new("name", "ConnectionNameTooLong", $"Use at most {MaxNameLength} characters for the name.", [MaxNameLength]));

        if (!Enum.IsDefined(input.Provider))
            errors.Add(new("provider", "ProviderInvalid", "Choose OpenAI, Azure OpenAI or an OpenAI-compatible server.", []));

        var endpoint = (input.Endpoint ?? "").Trim();
        if (endpoint.Length == 0 && input.Provider == LlmProvider.OpenAI) endpoint = OpenAIDefaultEndpoint;
        // A credential in the URL would be stored, shown and logged in the clear; the API key field is encrypted.
        if (EndpointSecrets.CarriesCredentials(endpoint))
            errors.Add(new("endpoint", "EndpointHasCredentials", EndpointHasCredentialsMessage, []));
        else if (!IsHttpUrl(endpoint) || endpoint.Length > MaxEndpointLength)
            errors.Add(new("endpoint", "EndpointInvalid", "Enter the endpoint as an absolute http:// or https:// address, for example http://localhost:11434/v1.", [endpoint]));

        var model = (input.Model ?? "").Trim();
        if (model.Length == 0)
            errors.Add(new("model", "ModelRequired", input.Provider == LlmProvider.AzureOpenAI ? "Enter the deployment name." : "Enter the model name.", []));
        else if (model.Length > MaxModelLength)
            errors.Add(new("model", "ModelTooLong", $"Use at most {MaxModelLength} characters for the model.", [MaxModelLength]));

        if (double.IsNaN(input.Temperature) || input.Temperature < MinTemperature || input.Temperature > MaxTemperature)
            errors.Add(new("temperature", "TemperatureOutOfRange", $"Temperature must be between {MinTemperature} and {MaxTemperature}.", [MinTemperature, MaxTemperature]));
        if (input.MaxOutputTokens is < MinOutputTokens or > MaxOutputTokensLimit)
            errors.Add(new("maxOutputTokens", "MaxOutputTokensOutOfRange", $"Max output tokens must be between {MinOutputTokens} and {MaxOutputTokensLimit}.", [MinOutputTokens, MaxOutputTokensLimit]));
        if (input.MaxConcurrency is < MinConcurrency or > MaxConcurrencyLimit)
            errors.Add(new("maxConcurrency", "ConcurrencyOutOfRange", $"Parallel requests must be between {MinConcurrency} and {MaxConcurrencyLimit}.", [MinConcurrency, MaxConcurrencyLimit]));
        if (input.RequestsPerMinute is { } rpm && (rpm < MinRpm || rpm > MaxRpm))
            errors.Add(new("requestsPerMinute", "RpmOutOfRange", $"Requests per minute must be between {MinRpm} and {MaxRpm}, or empty for no limit.", [MinRpm, MaxRpm]));
        if (input.InputPricePerMillion < 0)
            errors.Add(new("inputPricePerMillion", "PriceNegative", "Prices cannot be negative.", []));
        if (input.OutputPricePerMillion < 0)
            errors.Add(new("outputPricePerMillion", "PriceNegative", "Prices cannot be negative.", []));
        if (input.ApiKey is { Length: > MaxApiKeyLength })
            errors.Add(new("apiKey", "ApiKeyTooLong", $"An API key of more than {MaxApiKeyLength} characters is not plausible.", [MaxApiKeyLength]));
        if (input.Provider == LlmProvider.AzureOpenAI && !effectiveKeyPresent)
            errors.Add(new("apiKey", "AzureNeedsKey", "Azure OpenAI needs an API key.", []));

        if (errors.Count > 0) throw new DomainValidationException(errors);
        return (name, endpoint, model);
    }

    public static bool IsHttpUrl(string? value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps) && !string.IsNullOrEmpty(uri.Host);
}
