namespace Incubator.Domain.Llm;

/// <summary>One LLM, as the run loop sees it. Implementations are safe to call in parallel; the profile's concurrency
/// and rate limits are applied inside.</summary>
public interface ILlmClient
{
    /// <exception cref="LlmException">The provider refused or could not be reached (after retries).</exception>
    Task<LlmResponse> CompleteAsync(LlmRequest request, CancellationToken ct);

    /// <summary>Reports text deltas through <paramref name="onText"/> as they arrive and returns the whole text. A
    /// stream that breaks off after some text returns that text with <see cref="LlmResponse.Truncated"/> set instead
    /// of throwing; one that breaks before any text throws <see cref="LlmException"/>.</summary>
    Task<LlmResponse> StreamAsync(LlmRequest request, Func<string, ValueTask> onText, CancellationToken ct);
}
