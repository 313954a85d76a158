namespace Incubator.Domain.Llm;

internal static class LlmSecrets
{
    /// <summary>Removes the key, and credentials written into URLs, from text that came back from a provider or an exception. Providers do echo keys
    /// (OpenAI's 401 says "Incorrect API key provided: sk-…"), and error text is shown and logged.</summary>
    public static string Redact(string? text, string? apiKey)
    {
        if (string.IsNullOrEmpty(text)) return text ?? "";
        if (!string.IsNullOrEmpty(apiKey) && apiKey.Trim().Length >= 4)
            text = text.Replace(apiKey.Trim(), "***", StringComparison.Ordinal);
        // A URL with user info or a key in its query (an endpoint saved before those were refused) must not be
        // repeated either.
        return EndpointSecrets.Redact(text);
    }
}
