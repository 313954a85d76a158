namespace Incubator.Domain.Llm;

/// <summary>A call to the LLM failed for good (after retries where retrying made sense). The message says what the
/// provider answered; it never contains the API key.</summary>
public sealed class LlmException : Exception
{
    public LlmException(string message, int? statusCode = null, string? providerMessage = null, int attempts = 1, Exception? inner = null)
        : base(message, inner)
    {
        StatusCode = statusCode;
        ProviderMessage = providerMessage;
        Attempts = attempts;
    }

    /// <summary>The HTTP status of the last answer; null when no answer came (timeout, connection refused).</summary>
    public int? StatusCode { get; }

    /// <summary>The provider's own error text (its JSON error.message when it sent one, else the body).</summary>
    public string? ProviderMessage { get; }

    public int Attempts { get; }
}
