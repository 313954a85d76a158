using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;
using Microsoft.SemanticKernel.Connectors.OpenAI;
using ChatCompletion = OpenAI.Chat.ChatCompletion;
using ChatFinishReason = OpenAI.Chat.ChatFinishReason;
using ChatTokenUsage = OpenAI.Chat.ChatTokenUsage;
using StreamingChatCompletionUpdate = OpenAI.Chat.StreamingChatCompletionUpdate;

namespace Incubator.Domain.Llm;

/// <summary><see cref="ILlmClient"/> over Semantic Kernel's chat-completion service (OpenAI or Azure OpenAI
/// connector). Usage comes from the connector's metadata when the provider reports it; otherwise it is estimated.</summary>
internal sealed class SemanticKernelLlmClient(
    LlmProfile profile,
    IChatCompletionService chat,
    LlmProfileLimiter limiter,
    LlmRetryPolicy policy,
    TimeProvider time,
    ILogger logger) : ILlmClient
{
    public async Task<LlmResponse> CompleteAsync(LlmRequest request, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var slot = await limiter.EnterAsync(ct).ConfigureAwait(false);
        ChatMessageContent message;
        try
        {
            message = await chat.GetChatMessageContentAsync(History(request), Settings(request), kernel: null, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (!ct.IsCancellationRequested && ex is not LlmException)
        {
            throw Translate(ex);
        }
        var text = message.Content ?? "";
        var usage = ReadUsage(message.Metadata, message.InnerContent) ?? Estimate(request, text);
        var finish = ReadFinishReason(message.Metadata, message.InnerContent);
        return new LlmResponse(text, usage, finish, IsLength(finish));
    }

    public async Task<LlmResponse> StreamAsync(LlmRequest request, Func<string, ValueTask> onText, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(onText);
        using var slot = await limiter.EnterAsync(ct).ConfigureAwait(false);
        // Armed once the first chunk arrives (before that the retry handler's per-attempt limit applies), re-armed
        // with every chunk: a stream that goes silent for a whole attempt timeout counts as cut.
        using var silence = new CancellationTokenSource(Timeout.InfiniteTimeSpan, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, silence.Token);
        var text = new StringBuilder();
        LlmUsage? usage = null;
        string? finish = null;
        Exception? cut = null;
        var updates = chat.GetStreamingChatMessageContentsAsync(History(request), Settings(request), kernel: null, linked.Token)
            .GetAsyncEnumerator(linked.Token);
        try
        {
            while (true)
            {
                bool more;
                try
                {
                    more = await updates.MoveNextAsync().ConfigureAwait(false);
                }
                catch (Exception ex) when (!ct.IsCancellationRequested)
                {
                    if (text.Length == 0)
                        throw ex is LlmException ? ex : ex is OperationCanceledException && silence.IsCancellationRequested
                            ? new LlmException($"The LLM stream sent nothing for {policy.AttemptTimeout.TotalSeconds:0.###} s.", inner: ex)
                            : Translate(ex);
                    cut = ex;
                    break;
                }
                if (!more) break;
                silence.CancelAfter(policy.AttemptTimeout);
                var update = updates.Current;
                usage = ReadUsage(update.Metadata, update.InnerContent) ?? usage;
                finish = ReadFinishReason(update.Metadata, update.InnerContent) ?? finish;
                if (!string.IsNullOrEmpty(update.Content))
                {
                    text.Append(update.Content);
                    await onText(update.Content).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            try
            {
                await updates.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (cut is not null || ex is IOException or HttpRequestException or OperationCanceledException)
            {
                // Disposing a broken stream can throw again; the break itself is already handled.
            }
        }

        var result = text.ToString();
        if (cut is not null && logger.IsEnabled(LogLevel.Warning))
            logger.LogWarning("LLM stream for {Connection} broke off after {Chars} characters: {Error}",
                profile.Name, result.Length, LlmSecrets.Redact(cut.Message, profile.ApiKey));
        return new LlmResponse(result, usage ?? Estimate(request, result), finish, cut is not null || IsLength(finish));
    }

    private ChatHistory History(LlmRequest request)
    {
        var history = new ChatHistory();
        if (!string.IsNullOrWhiteSpace(request.System)) history.AddSystemMessage(request.System);
        history.AddUserMessage(request.User ?? "");
        return history;
    }

    private OpenAIPromptExecutionSettings Settings(LlmRequest request)
    {
        var settings = new OpenAIPromptExecutionSettings
        {
            Temperature = request.Temperature ?? profile.Temperature,
            MaxTokens = request.MaxOutputTokens ?? profile.MaxOutputTokens,
        };
        if (request.JsonMode) settings.ResponseFormat = "json_object";
        return settings;
    }

    private static LlmUsage? ReadUsage(IReadOnlyDictionary<string, object?>? metadata, object? inner)
    {
        var usage = metadata is not null && metadata.TryGetValue("Usage", out var u) ? u as ChatTokenUsage : null;
        usage ??= inner switch
        {
            ChatCompletion completion => completion.Usage,
            StreamingChatCompletionUpdate update => update.Usage,
            _ => null,
        };
        return usage is null || (usage.InputTokenCount == 0 && usage.OutputTokenCount == 0)
            ? null
            : new LlmUsage(usage.InputTokenCount, usage.OutputTokenCount, Estimated: false);
    }

    private static string? ReadFinishReason(IReadOnlyDictionary<string, object?>? metadata, object? inner)
    {
        if (metadata is not null && metadata.TryGetValue("FinishReason", out var f) && f is string { Length: > 0 } s) return s;
        return inner switch
        {
            StreamingChatCompletionUpdate { FinishReason: { } r } => r.ToString(),
            _ => null,
        };
    }

    private static bool IsLength(string? finish) => string.Equals(finish, nameof(ChatFinishReason.Length), StringComparison.OrdinalIgnoreCase);

    private static LlmUsage Estimate(LlmRequest request, string output) =>
        new(LlmCost.EstimateTokenCount(request.System) + LlmCost.EstimateTokenCount(request.User), LlmCost.EstimateTokenCount(output), Estimated: true);

    /// <summary>Turns whatever the connector threw into an <see cref="LlmException"/> that says what the provider
    /// answered, without the key.</summary>
    private LlmException Translate(Exception ex)
    {
        for (var e = ex; e is not null; e = e.InnerException)
            if (e is LlmException llm) return llm;

        int? status = null;
        string? body = null;
        switch (ex)
        {
            case HttpOperationException http:
                status = http.StatusCode is { } s ? (int)s : null;
                body = http.ResponseContent;
                if (status is null && http.InnerException is ClientResultException inner) (status, body) = Read(inner);
                break;
            case ClientResultException client:
                (status, body) = Read(client);
                break;
            case HttpRequestException request:
                status = request.StatusCode is { } rs ? (int)rs : null;
                break;
        }
        var key = profile.ApiKey;
        if (status is null or 0)
            return new LlmException($"Could not reach the LLM endpoint: {LlmSecrets.Redact(ex.Message, key)}", inner: null);
        var providerMessage = LlmSecrets.Redact(ProviderMessage(body), key);
        var retried = LlmRetryPolicy.IsRetryable((HttpStatusCode)status.Value) && policy.MaxAttempts > 1
            ? $" after {policy.MaxAttempts} attempts" : "";
        var reason = Enum.IsDefined((HttpStatusCode)status.Value) ? $" ({(HttpStatusCode)status.Value})" : "";
        var message = $"The LLM endpoint answered {status}{reason}{retried}"
            + (string.IsNullOrWhiteSpace(providerMessage) ? "." : $": {providerMessage}");
        return new LlmException(message, status, providerMessage, retried.Length > 0 ? policy.MaxAttempts : 1);
    }

    private static (int? Status, string? Body) Read(ClientResultException ex)
    {
        var raw = ex.GetRawResponse();
        string? body = null;
        try
        {
            body = raw?.Content?.ToString();
        }
        catch (InvalidOperationException)
        {
            // An unbuffered (streamed) error body cannot be read again.
        }
        return (ex.Status == 0 ? null : ex.Status, body);
    }

    /// <summary>The provider's own words: error.message from an OpenAI-style body, else the body itself (shortened).</summary>
    internal static string ProviderMessage(string? body)
    {
        if (string.IsNullOrWhiteSpace(body)) return "";
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            if (root.ValueKind == JsonValueKind.Object)
            {
                if (root.TryGetProperty("error", out var error))
                {
                    if (error.ValueKind == JsonValueKind.String) return error.GetString() ?? "";
                    if (error.ValueKind == JsonValueKind.Object && error.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String)
                        return m.GetString() ?? "";
                }
                if (root.TryGetProperty("message", out var msg) && msg.ValueKind == JsonValueKind.String) return msg.GetString() ?? "";
            }
        }
        catch (JsonException)
        {
        }
        var trimmed = body.Trim();
        return trimmed.Length > 1000 ? trimmed[..1000] + "…" : trimmed;
    }
}
