using System.Text;
using System.Text.Json.Serialization;

namespace Incubator.Domain.Llm;

/// <summary>Everything a client needs to call one LLM, key included. It is handed to <see cref="LlmClientFactory"/> and
/// nowhere else: ToString and JSON never show the key, so a profile that ends up in a log line, an exception or a job
/// payload does not leak it. Jobs store the connection id and ask <see cref="LlmConnectionService"/> again.</summary>
public sealed record LlmProfile(
    Guid? Id,
    string Name,
    LlmProvider Provider,
    string Endpoint,
    string Model,
    [property: JsonIgnore] string? ApiKey,
    double Temperature,
    int MaxOutputTokens,
    int MaxConcurrency,
    int? RequestsPerMinute,
    decimal InputPricePerMillion,
    decimal OutputPricePerMillion)
{
    public bool HasKey => !string.IsNullOrEmpty(ApiKey);

    public override string ToString()
    {
        var builder = new StringBuilder("LlmProfile { ");
        PrintMembers(builder);
        return builder.Append(" }").ToString();
    }

    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append("Id = ").Append(Id)
            .Append(", Name = ").Append(Name)
            .Append(", Provider = ").Append(Provider)
            .Append(", Endpoint = ").Append(EndpointSecrets.Redact(Endpoint))
            .Append(", Model = ").Append(Model)
            .Append(", ApiKey = ").Append(HasKey ? "(set)" : "(none)")
            .Append(", Temperature = ").Append(Temperature)
            .Append(", MaxOutputTokens = ").Append(MaxOutputTokens)
            .Append(", MaxConcurrency = ").Append(MaxConcurrency)
            .Append(", RequestsPerMinute = ").Append(RequestsPerMinute)
            .Append(", InputPricePerMillion = ").Append(InputPricePerMillion)
            .Append(", OutputPricePerMillion = ").Append(OutputPricePerMillion);
        return true;
    }
}

/// <summary>A connection as the UI shows it. The key is write-only: a view only says whether one is set.</summary>
public sealed record LlmConnectionView(
    Guid Id,
    Guid? ProjectId,
    string Name,
    LlmProvider Provider,
    string Endpoint,
    string Model,
    bool HasKey,
    double Temperature,
    int MaxOutputTokens,
    int MaxConcurrency,
    int? RequestsPerMinute,
    decimal InputPricePerMillion,
    decimal OutputPricePerMillion,
    ConnectionTestView? LastTest = null)
{
    /// <summary>The connection from appsettings/environment: shown and usable, not editable here.</summary>
    public bool IsConfigured => Id == LlmConnectionService.ConfiguredConnectionId;

    /// <summary>A key is stored but can no longer be decrypted (the server's key ring changed or its key was lost): it
    /// must be entered again.</summary>
    public bool KeyUnreadable { get; init; }

    /// <summary>The saved endpoint carries a credential (saved before such endpoints were refused): <see cref="Endpoint"/>
    /// shows it redacted, and the connection cannot be saved again until the credential is moved to the API key field.</summary>
    public bool EndpointHasCredentials { get; init; }

    /// <summary>The host the API key goes to unencrypted (http:// to another machine, with a key), or null; see
    /// <see cref="EndpointSecrets.KeySentInClearTo"/>. The list shows a warning chip.</summary>
    public string? KeySentInClearTo { get; init; }

    public bool IsSiteWide => ProjectId is null;
}

/// <summary>What a create or edit form sends. <see cref="ApiKey"/>: null keeps the stored key, "" removes it, anything
/// else replaces it.</summary>
public sealed record LlmConnectionInput(
    string? Name,
    LlmProvider Provider,
    string? Endpoint,
    string? Model,
    string? ApiKey,
    double Temperature,
    int MaxOutputTokens,
    int MaxConcurrency,
    int? RequestsPerMinute,
    decimal InputPricePerMillion,
    decimal OutputPricePerMillion)
{
    public override string ToString() =>
        $"LlmConnectionInput {{ Name = {Name}, Provider = {Provider}, Endpoint = {EndpointSecrets.Redact(Endpoint)}, Model = {Model}, ApiKey = {(ApiKey is null ? "(keep)" : ApiKey.Length == 0 ? "(remove)" : "(new)")} }}";
}

public sealed record LlmRequest(string System, string User, bool JsonMode, double? Temperature = null, int? MaxOutputTokens = null);

/// <summary>Token counts; <see cref="Estimated"/> when the provider did not report usage and we guessed (chars/4).</summary>
public sealed record LlmUsage(int InputTokens, int OutputTokens, bool Estimated);

/// <param name="FinishReason">As the provider reported it (Semantic Kernel's spelling, e.g. "Stop", "Length"); null when none arrived.</param>
/// <param name="Truncated">The text is incomplete: the output hit the token limit or the stream was cut.</param>
public sealed record LlmResponse(string Text, LlmUsage Usage, string? FinishReason, bool Truncated);

public sealed record LlmChunk(string Text);

/// <param name="Error">The exact problem: status code and the provider's own message, with the key redacted.</param>
public sealed record ConnectionTestResult(bool Ok, string? Answer, string? Error, int? StatusCode, TimeSpan Elapsed);

/// <summary>The last test of a connection, as lists show it.</summary>
public sealed record ConnectionTestView(bool Ok, int? StatusCode, string? Error, DateTimeOffset At);
