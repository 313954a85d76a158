namespace Incubator.Domain.Llm;

/// <summary>"Test connection": one minimal real request, no retries, so the form shows at once either the model's
/// answer or exactly what the provider said was wrong.</summary>
public sealed class ConnectionTester(LlmClientFactory factory, TimeProvider time)
{
    public const string Prompt = "Reply with the single word: ok";

    public async Task<ConnectionTestResult> TestAsync(LlmProfile profile, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(profile);
        var started = time.GetTimestamp();
        try
        {
            var client = factory.Create(profile, maxAttempts: 1);
            var response = await client.CompleteAsync(new LlmRequest("", Prompt, JsonMode: false, MaxOutputTokens: 5), ct);
            return new ConnectionTestResult(true, response.Text.Trim(), null, 200, time.GetElapsedTime(started));
        }
        catch (LlmException ex)
        {
            return new ConnectionTestResult(false, null, LlmSecrets.Redact(ex.Message, profile.ApiKey), ex.StatusCode, time.GetElapsedTime(started));
        }
    }
}
