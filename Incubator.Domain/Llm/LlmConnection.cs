namespace Incubator.Domain.Llm;

public enum LlmProvider
{
    OpenAI,
    AzureOpenAI,
    OpenAICompatible,
}

/// <summary>A saved way to reach an LLM: for one project, or for the whole site when <see cref="ProjectId"/> is null.
/// The API key is stored only in its Data Protection form and is never read back into a view.</summary>
public sealed class LlmConnection
{
    public Guid Id { get; set; }
    public Guid? ProjectId { get; set; }
    public string Name { get; set; } = "";
    public LlmProvider Provider { get; set; }
    /// <summary>The address requests go to. For a row saved before credentials in an address were refused, the
    /// redacted address (what pages show); the address as saved is then in <see cref="EndpointProtected"/>.</summary>
    public string Endpoint { get; set; } = "";
    /// <summary>An address saved with a credential in it (<c>user:password@</c>, a key in the query) before such addresses
    /// were refused, in its Data Protection form, or null. Set once at start by
    /// <see cref="LlmConnectionService.ProtectStoredEndpointsAsync"/>; cleared when the connection is saved again.</summary>
    public string? EndpointProtected { get; set; }
    /// <summary>Model name; for Azure OpenAI, the deployment name.</summary>
    public string Model { get; set; } = "";
    public string? ApiKeyProtected { get; set; }
    public double Temperature { get; set; } = 0.9;
    public int MaxOutputTokens { get; set; } = 1024;
    public int MaxConcurrency { get; set; } = 4;
    public int? RequestsPerMinute { get; set; }
    public decimal InputPricePerMillion { get; set; }
    public decimal OutputPricePerMillion { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public string? CreatedById { get; set; }
}

/// <summary>The last "Test connection" of a connection (stored, configured or site-wide alike, so the key is its id and
/// not a foreign key), and the test a failing run makes of its own: the Generate page marks a connection whose last
/// test failed and asks before starting a run with it.</summary>
public sealed class LlmConnectionTest
{
    public Guid ConnectionId { get; set; }
    public bool Ok { get; set; }
    public int? StatusCode { get; set; }
    /// <summary>The provider's answer with the key redacted, or null when the test succeeded.</summary>
    public string? Error { get; set; }
    public DateTimeOffset At { get; set; }
}
