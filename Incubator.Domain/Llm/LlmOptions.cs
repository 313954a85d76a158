namespace Incubator.Domain.Llm;

/// <summary>Configuration section "Llm". The connection fields describe the headless "configured" connection
/// (appsettings or environment, e.g. Llm__Endpoint, Llm__Model, Llm__ApiKey); it exists when <see cref="Model"/> is
/// set. The resilience fields apply to every connection.</summary>
public sealed class LlmOptions
{
    public const string Section = "Llm";

    public LlmProvider Provider { get; set; } = LlmProvider.OpenAICompatible;
    public string? Endpoint { get; set; }
    public string? Model { get; set; }
    public string? ApiKey { get; set; }
    public double Temperature { get; set; } = 0.9;
    public int MaxOutputTokens { get; set; } = 1024;
    public int MaxConcurrency { get; set; } = 4;
    public int? RequestsPerMinute { get; set; }
    public decimal InputPricePerMillion { get; set; }
    public decimal OutputPricePerMillion { get; set; }

    /// <summary>Attempts per request, the first included.</summary>
    public int MaxAttempts { get; set; } = 5;

    /// <summary>How long one attempt may take to answer (for a stream: the longest silence between chunks).</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(120);

    /// <summary>First back-off delay; doubled each retry, with jitter, up to <see cref="RetryMaxDelay"/>.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Upper bound for computed back-off and for a provider's Retry-After.</summary>
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(60);

    public bool HasConfiguredConnection => !string.IsNullOrWhiteSpace(Model);
}
