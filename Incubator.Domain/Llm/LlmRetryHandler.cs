using System.Globalization;
using System.Net;
using Microsoft.Extensions.Logging;
using Incubator.Domain.Common;

namespace Incubator.Domain.Llm;

/// <summary>Retry settings for one client, taken from <see cref="LlmOptions"/>.</summary>
public sealed record LlmRetryPolicy(int MaxAttempts, TimeSpan AttemptTimeout, TimeSpan BaseDelay, TimeSpan MaxDelay)
{
    public static LlmRetryPolicy From(LlmOptions o) => new(
        Math.Max(1, o.MaxAttempts),
        o.AttemptTimeout > TimeSpan.Zero ? o.AttemptTimeout : TimeSpan.FromSeconds(120),
        o.RetryBaseDelay >= TimeSpan.Zero ? o.RetryBaseDelay : TimeSpan.FromSeconds(1),
        o.RetryMaxDelay > TimeSpan.Zero ? o.RetryMaxDelay : TimeSpan.FromSeconds(60));

    public static bool IsRetryable(HttpStatusCode status) =>
        status is HttpStatusCode.TooManyRequests or HttpStatusCode.RequestTimeout
        || ((int)status >= 500 && status is not HttpStatusCode.NotImplemented and not HttpStatusCode.HttpVersionNotSupported);
}

/// <summary>Sits under Semantic Kernel's OpenAI connector (which turns the SDK's own retries off when it is given an
/// HttpClient) and retries what is worth retrying: 429, 408, 5xx, connection failures and attempts that take longer
/// than <see cref="LlmRetryPolicy.AttemptTimeout"/>. Waits exponentially with jitter, or as long as the provider's
/// Retry-After says. The caller's cancellation stops everything at once.</summary>
internal sealed class LlmRetryHandler(
    LlmRetryPolicy policy,
    LlmProfileLimiter limiter,
    LlmDelay delay,
    TimeProvider time,
    ILogger logger,
    string profileName) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
    {
        // The body is re-sent on every attempt. The SDK's own content object can be written only once, so each
        // attempt gets a fresh copy of its bytes and headers.
        byte[]? body = null;
        List<KeyValuePair<string, IEnumerable<string>>>? contentHeaders = null;
        if (request.Content is not null)
        {
            body = await request.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false);
            contentHeaders = [.. request.Content.Headers];
        }

        for (var attempt = 1; ; attempt++)
        {
            ct.ThrowIfCancellationRequested();
            if (body is not null)
            {
                var content = new ByteArrayContent(body);
                foreach (var (name, values) in contentHeaders!) content.Headers.TryAddWithoutValidation(name, values);
                request.Content = content;
            }
            await limiter.WaitForRequestBudgetAsync(ct).ConfigureAwait(false);
            using var timeout = new CancellationTokenSource(policy.AttemptTimeout, time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token);
            HttpResponseMessage? response = null;
            string failure;
            TimeSpan? retryAfter = null;
            try
            {
                response = await base.SendAsync(request, linked.Token).ConfigureAwait(false);
                // A whole (non-streamed) answer is read here, inside the attempt's time limit; a stream is read by
                // the caller, chunk by chunk, with its own silence limit.
                if (!IsEventStream(response)) await response.Content.LoadIntoBufferAsync(linked.Token).ConfigureAwait(false);
                if (!LlmRetryPolicy.IsRetryable(response.StatusCode) || attempt >= policy.MaxAttempts) return response;
                failure = $"{(int)response.StatusCode} ({response.ReasonPhrase})";
                retryAfter = RetryAfter(response, time.GetUtcNow());
                response.Dispose();
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested && timeout.IsCancellationRequested)
            {
                response?.Dispose();
                failure = $"no answer within {policy.AttemptTimeout.TotalSeconds:0.###} s";
                if (attempt >= policy.MaxAttempts)
                    throw new LlmException($"The LLM endpoint gave no answer within {policy.AttemptTimeout.TotalSeconds:0.###} s, {attempt} times.", attempts: attempt);
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException && !ct.IsCancellationRequested)
            {
                response?.Dispose();
                failure = EndpointSecrets.Redact(ex.Message);
                if (attempt >= policy.MaxAttempts)
                    throw new LlmException($"Could not reach the LLM endpoint after {EnglishCount.Of(attempt, "attempt", "attempts")}: {failure}",
                        ex is HttpRequestException { StatusCode: { } s } ? (int)s : null, attempts: attempt, inner: ex);
            }

            var wait = retryAfter is { } ra ? Clamp(ra) : Backoff(attempt);
            if (logger.IsEnabled(LogLevel.Warning))
                logger.LogWarning("LLM request for {Connection} to {Host} failed: {Failure} (attempt {Attempt} of {MaxAttempts}); retrying in {Delay} ms.",
                    profileName, request.RequestUri?.Authority, failure, attempt, policy.MaxAttempts, (int)wait.TotalMilliseconds);
            await delay.DelayAsync(wait, ct).ConfigureAwait(false);
        }
    }

    private TimeSpan Backoff(int attempt)
    {
        var exponential = policy.BaseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt - 1, 20));
        var capped = Math.Min(exponential, policy.MaxDelay.TotalMilliseconds);
        // "Equal jitter": between half and all of the delay, so parallel callers that failed together spread out.
        return TimeSpan.FromMilliseconds(capped / 2 + Random.Shared.NextDouble() * capped / 2);
    }

    private TimeSpan Clamp(TimeSpan value) =>
        value < TimeSpan.Zero ? TimeSpan.Zero : value > policy.MaxDelay ? policy.MaxDelay : value;

    /// <summary>Retry-After in seconds or as an HTTP date, or the millisecond form OpenAI and Azure also send.</summary>
    internal static TimeSpan? RetryAfter(HttpResponseMessage response, DateTimeOffset now)
    {
        if (response.Headers.TryGetValues("retry-after-ms", out var ms)
            && double.TryParse(ms.FirstOrDefault(), NumberStyles.Float, CultureInfo.InvariantCulture, out var millis) && millis >= 0)
            return TimeSpan.FromMilliseconds(millis);
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta) return delta;
        if (header?.Date is { } date) return date - now;
        return null;
    }

    private static bool IsEventStream(HttpResponseMessage response) =>
        string.Equals(response.Content.Headers.ContentType?.MediaType, "text/event-stream", StringComparison.OrdinalIgnoreCase);
}
